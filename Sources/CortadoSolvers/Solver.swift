import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import Foundation

/// Caffe's solver loop (solver.cpp + sgd_solver.cpp): clear diffs → maybe test → iter_size
/// forward/backward passes → smoothed loss and display → lr → clip → normalise → regularise
/// → update rule → W −= diff → iter++ → snapshot when due.
public final class Solver {
    public let param: SolverParameter
    public let net: Net
    public let testNets: [Net]
    package let rule: UpdateRule
    public private(set) var iter = 0
    public private(set) var currentStep = 0
    /// One or two history blobs per learnable parameter (see UpdateRule).
    public private(set) var history: [Blob] = []
    private var losses: [Float] = []
    private var smoothedLoss: Float = 0
    private var startIter = 0
    private var lastSnapshotIter: Int? = nil
    private var signCache: [Float] = []

    /// Called between iterations; return `.stop` or `.snapshot` to act like Caffe's signals.
    /// In a data-parallel run rank 0's answer is sent to every rank with the gradients, so
    /// all ranks act at the same iteration.
    public var requestedAction: () -> SolverAction = { .none }

    public enum SolverAction: Int {
        case none, stop, snapshot

        /// What a signal's configured effect asks of the solver.
        package init(_ effect: SignalEffect) {
            switch effect {
            case .none: self = .none
            case .stop: self = .stop
            case .snapshot: self = .snapshot
            }
        }
    }

    /// Sums gradients over the ranks of a data-parallel run (nil: one process).
    package var sync: (any GradientReducer)?
    /// False on ranks other than 0, which train in step with it but write nothing.
    public var writesSnapshots = true
    /// Sums of the sub-batch gradients when iter_size > 1, one blob per learnable parameter.
    private var gradientSums: [Blob] = []

    /// Forward/backward passes that make one update: iter_size on each rank, times the ranks.
    public var passesPerUpdate: Int { param.iterSize * (sync?.size ?? 1) }

    /// What the solver reports to observers (live status line, JSON log) besides its log lines.
    public enum Event {
        /// After every update: the iteration just completed, the smoothed loss and the rate used.
        case iteration(iter: Int, maxIter: Int, smoothedLoss: Float, lr: Float)
        /// At display steps: the smoothed loss, the rate and every train-net output.
        case display(iter: Int, loss: Float, lr: Float, outputs: [(name: String, value: Float)])
        /// After each test: the mean of every output of test net `net`.
        case test(iter: Int, net: Int, outputs: [(name: String, value: Float)], loss: Float?)
    }

    /// Observers of training events; none by default.
    public var observers: [(Event) -> Void] = []
    private var pendingDisplay: [(name: String, value: Float)]? = nil

    public init(_ param: SolverParameter, verbose: Bool = true) throws {
        self.param = param
        rule = try UpdateRule(param)
        var rng = RNG(seed: param.randomSeed >= 0 ? UInt64(param.randomSeed) : RNG.clockSeed())
        if verbose { Log.info("Creating training net from \(param.trainNet.file)", "solver") }
        net = try Net(param.trainNet, state: param.trainState, rng: &rng, verbose: verbose)
        var tests: [Net] = []
        for (i, tp) in param.testNets.enumerated() {
            if verbose { Log.info("Creating test net (#\(i)) from \(tp.file)", "solver") }
            let t = try Net(tp, state: param.testStates[i], rng: &rng, verbose: verbose)
            try t.shareTrainedLayers(with: net)
            try t.shareActivationMemory()
            tests.append(t)
        }
        testNets = tests
        for _ in 0..<rule.historyPerParam {
            history += try net.learnableParams.map { try Blob(checked: $0.shape) }
        }
        if param.testInterval > 0 && testNets.isEmpty {
            Log.warning("test_interval is set but there is no test net (no test_iter), so no test will run", "solver")
        }
        if verbose { Log.info("Solver scaffolding done.", "solver") }
    }

    // MARK: the loop

    /// Trains until max_iter (or a stop request), then snapshots and tests as Caffe does.
    /// Returns false when a request stopped it early.
    @discardableResult
    public func solve() throws -> Bool {
        Log.info("Solving \(net.name)", "solver")
        Log.info("Learning Rate Policy: \(param.lrPolicy.name)", "solver")
        let stopped = try step(param.maxIter - iter)
        if writesSnapshots && param.snapshotAfterTrain && lastSnapshotIter != iter { try snapshot() }
        if stopped {
            Log.info("Optimization stopped early.", "solver")
            return false
        }
        if param.display > 0 && iter % param.display == 0 {
            let loss = try net.forward()
            updateSmoothedLoss(loss)
            Log.info("Iteration \(iter), loss = \(caffeFloat(smoothedLoss))", "solver")
            // The last point of the curves (the JSON log and the dashboard end at max_iter).
            var outputs = TestScores()
            try outputs.add(net)
            var step = currentStep
            notify(.display(iter: iter, loss: smoothedLoss, lr: param.lrPolicy.rate(iter: iter, currentStep: &step),
                            outputs: outputs.means.map { ($0.name, $0.value) }))
        }
        if param.testInterval > 0 && iter % param.testInterval == 0 { _ = try testAll() }
        Log.info("Optimization Done.", "solver")
        return true
    }

    /// Runs `iters` iterations; returns true when stopped early by a request.
    @discardableResult
    public func step(_ iters: Int) throws -> Bool {
        let stopIter = iter + iters
        startIter = iter
        losses.removeAll(keepingCapacity: true)
        smoothedLoss = 0
        var timer = Date()
        var itersSinceDisplay = 0
        while iter < stopIter {
            net.clearParamDiffs()
            if param.testInterval > 0 && iter % param.testInterval == 0 && (iter > 0 || param.testInitialization) {
                if try testAll() { return true }
            }
            let display = param.display > 0 && iter % param.display == 0
            net.debugInfo = display && param.debugInfo
            var loss = try computeGradients()
            var request = SolverAction.none
            if let sync {
                // Rank 0's request travels with the losses, so every rank acts on it.
                let summed = try sync.finish(loss: loss, action: sync.rank == 0 ? requestedAction().rawValue : 0)
                loss = summed.loss
                request = SolverAction(rawValue: summed.action) ?? .none
            }
            loss /= Float(passesPerUpdate)
            guard loss.isFinite else { throw divergence(loss) }
            updateSmoothedLoss(loss)
            if display {
                let lapse = Float(Date().timeIntervalSince(timer))
                let perSecond = Float(itersSinceDisplay) / (lapse > 0 ? lapse : 1)
                Log.info("Iteration \(iter) (\(caffeFloat(perSecond)) iter/s, \(caffeFloat(lapse))s/\(param.display) iters), loss = \(caffeFloat(smoothedLoss))", "solver")
                timer = Date()
                itersSinceDisplay = 0
                var outputs = TestScores()
                try outputs.add(net)
                pendingDisplay = logOutputs(outputs, label: "Train")
            }
            applyUpdate(display: display)
            iter += 1
            itersSinceDisplay += 1
            if sync == nil { request = requestedAction() }
            if writesSnapshots && ((param.snapshot > 0 && iter % param.snapshot == 0) || request == .snapshot) { try snapshot() }
            if request == .stop { return true }
        }
        return false
    }

    /// Runs iter_size forward/backward passes and leaves the sum of their gradients in the
    /// diffs (summed over ranks too, once `sync.finish` ran); returns the sum of their losses.
    /// With iter_size > 1 each sub-batch's gradient is computed into clean diffs and then
    /// added in sub-batch order (Caffe adds into the diffs as it goes), so that one process
    /// with iter_size N sums exactly as N ranks do in rank order: bitwise the same weights.
    private func computeGradients() throws -> Float {
        let passes = param.iterSize
        if passes == 1 {
            sync?.begin(overlapping: true)
            return try net.forwardBackward()
        }
        if gradientSums.isEmpty { gradientSums = try net.learnable.map { try Blob(checked: $0.blob.shape) } }
        var loss: Float = 0
        for pass in 0..<passes {
            if pass > 0 { net.clearParamDiffs() }
            loss += try net.forwardBackward()
            for (p, sum) in zip(net.learnable, gradientSums) {
                if pass == 0 {
                    sum.data.update(from: p.blob.diff, count: sum.count)
                } else {
                    addFloats(sum.data, p.blob.diff, sum.count)
                }
            }
        }
        for (p, sum) in zip(net.learnable, gradientSums) { p.blob.diff.update(from: sum.data, count: sum.count) }
        sync?.begin(overlapping: false)
        return loss
    }

    /// True once the loss became NaN or infinite (training then stops with an error).
    public private(set) var diverged = false

    private func divergence(_ loss: Float) -> TrainingError {
        diverged = true
        let last = lastSnapshotIter.map { "; the last good snapshot is \(snapshotName($0, weights: true))" } ?? "; no snapshot was written"
        return TrainingError("the loss became \(loss.isNaN ? "NaN" : "infinite") at iteration \(iter), so training stopped\(last). Lower base_lr (now \(caffeFloat(param.baseLR))), add clip_gradients, or check the input data for NaN or huge values")
    }

    private func updateSmoothedLoss(_ loss: Float) {
        if losses.count < param.averageLoss {
            losses.append(loss)
            let n = Float(losses.count)
            smoothedLoss = (smoothedLoss * (n - 1) + loss) / n
        } else {
            let idx = (iter - startIter) % param.averageLoss
            smoothedLoss += (loss - losses[idx]) / Float(param.averageLoss)
            losses[idx] = loss
        }
    }

    // MARK: update

    public func learningRate() -> Float {
        param.lrPolicy.rate(iter: iter, currentStep: &currentStep)
    }

    /// One update from the gradients the net holds now (pycaffe's `apply_update`).
    public func applyUpdate() { applyUpdate(display: false) }

    func applyUpdate(display: Bool) {
        let rate = learningRate()
        if display { Log.info("Iteration \(iter), lr = \(caffeFloat(rate))", "solver") }
        if let outputs = pendingDisplay {
            notify(.display(iter: iter, loss: smoothedLoss, lr: rate, outputs: outputs))
            pendingDisplay = nil
        }
        defer { notify(.iteration(iter: iter + 1, maxIter: param.maxIter, smoothedLoss: smoothedLoss, lr: rate)) }
        clipGradients()
        let params = net.learnable
        let count = params.count
        // Plain SGD with L2 decay, Caffe's default and the common case, takes one pass over
        // memory (UpdateRule.sgdInOnePass) instead of four; debug_info logs between the steps.
        if case .sgd(let momentum) = rule, param.regularizationType == .l2, !net.debugInfo {
            for (i, p) in params.enumerated() {
                UpdateRule.sgdInOnePass(p.blob, history: history[i], rate: rate * p.lrMult, momentum: momentum,
                                        decay: param.weightDecay * p.decayMult, scale: 1 / Float(passesPerUpdate))
            }
            return
        }
        for (i, p) in params.enumerated() {
            let w = p.blob
            if passesPerUpdate > 1 { scal(w.count, 1 / Float(passesPerUpdate), w.diff) }
            regularize(w, decayMult: p.decayMult)
            rule.apply(w, history[i], rule.historyPerParam == 2 ? history[count + i] : nil,
                       rate: rate * p.lrMult, iter: iter)
        }
        if net.debugInfo { logUpdates() }
        for p in params { axpy(p.blob.count, -1, p.blob.diff, p.blob.data) }
    }

    /// `    [Update] Layer conv1, param 0 data: 0.08; diff: 0.0003` for each learnable parameter, as Caffe's debug_info.
    private func logUpdates() {
        for p in net.learnable {
            let b = p.blob, n = Float(max(b.count, 1))
            Log.info("    [Update] Layer \(net.entries[p.layer].layer.name), param \(p.index) data: \(caffeFloat(b.asumData / n)); diff: \(caffeFloat(b.asumDiff / n))", "net")
        }
    }

    /// Scales all gradients down when their global L2 norm exceeds clip_gradients.
    private func clipGradients() {
        guard param.clipGradients >= 0 else { return }
        var sumsq: Float = 0
        for p in net.learnable { sumsq += dot(p.blob.count, p.blob.diff, p.blob.diff) }
        let norm = sumsq.squareRoot()
        guard norm > param.clipGradients else { return }
        let factor = param.clipGradients / norm
        Log.info("Gradient clipping: scaling down gradients (L2 norm \(caffeFloat(norm)) > \(caffeFloat(param.clipGradients))) by scale factor \(caffeFloat(factor))", "solver")
        for p in net.learnable { scal(p.blob.count, factor, p.blob.diff) }
    }

    private func regularize(_ w: Blob, decayMult: Float) {
        let decay = param.weightDecay * decayMult
        guard decay != 0 else { return }
        if param.regularizationType == .l2 {
            axpy(w.count, decay, w.data, w.diff)
        } else {
            let d = w.data, g = w.diff
            for i in 0..<w.count { g[i] += decay * (d[i] > 0 ? 1 : (d[i] < 0 ? -1 : 0)) }
        }
    }

    // MARK: testing

    /// Tests every test net; returns true when a stop was requested meanwhile.
    public func testAll() throws -> Bool {
        for i in testNets.indices {
            if try test(i) { return true }
        }
        return false
    }

    /// Runs test_iter forward passes of test net `index` and logs each output's mean.
    /// Returns true when interrupted.
    @discardableResult
    public func test(_ index: Int) throws -> Bool {
        Log.info("Iteration \(iter), Testing net (#\(index))", "solver")
        let t = testNets[index]
        try t.shareTrainedLayers(with: net)
        var scores = TestScores()
        var loss: Float = 0
        let iterations = param.testIter[index]
        for _ in 0..<iterations {
            // Ranks of a data-parallel run test in step and act on requests between iterations.
            switch sync == nil ? requestedAction() : .none {
            case .stop: Log.info("Test interrupted.", "solver"); return true
            case .snapshot: try snapshot()
            case .none: break
            }
            let l = try t.forward()
            if param.testComputeLoss { loss += l }
            try scores.add(t)
        }
        let meanLoss: Float? = param.testComputeLoss ? loss / Float(max(iterations, 1)) : nil
        if let meanLoss { Log.info("Test loss: \(caffeFloat(meanLoss))", "solver") }
        let outputs = logOutputs(scores, label: "Test")
        notify(.test(iter: iter, net: index, outputs: outputs, loss: meanLoss))
        lastTestScores[index] = scores.means.map(\.value)
        return false
    }

    /// The mean outputs of each test net at its last test, in output order.
    public private(set) var lastTestScores: [Int: [Float]] = [:]

    private func notify(_ event: Event) {
        for o in observers { o(event) }
    }

    /// `    Train net output #0: loss = 0.3 (* 1 = 0.3 loss)`, one line per output element;
    /// returns the (name, value) pairs it printed.
    private func logOutputs(_ scores: TestScores, label: String) -> [(name: String, value: Float)] {
        for (k, line) in scores.lines.enumerated() { Log.info("    \(label) net output #\(k): \(line)", "solver") }
        return scores.means.map { ($0.name, $0.value) }
    }

    // MARK: snapshots

    func snapshotName(_ iteration: Int, weights: Bool) -> String {
        let ext = weights ? ".caffemodel" : ".solverstate"
        return "\(param.snapshotPrefix)_iter_\(iteration)\(ext)\(param.snapshotFormat == .hdf5 ? ".h5" : "")"
    }

    /// Before the first iteration: removes temporaries that killed runs left beside the
    /// snapshots, and proves that a snapshot can be saved (folder created and writable, room
    /// for one weights file and one state), so a run never trains for hours to fail at its
    /// first snapshot.
    public func prepareSnapshots() throws {
        for path in AtomicFile.removeStaleTemporaries(prefix: param.snapshotPrefix) {
            Log.info("Removed \(path), left by a run that was killed while writing it", "solver")
        }
        // The values, and about 4 KB of HDF5 bookkeeping per blob and file.
        let floats = net.learnable.reduce(0) { $0 + $1.blob.count } + history.reduce(0) { $0 + $1.count }
        let overhead = 4096 * (net.entries.count + net.learnable.count + history.count + 4)
        try AtomicFile.preflight(prefix: param.snapshotPrefix, bytes: floats * MemoryLayout<Float>.size + overhead)
    }

    /// Writes `<prefix>_iter_N.caffemodel[.h5]` and `.solverstate[.h5]`, each atomically.
    public func snapshot() throws {
        let model = snapshotName(iter, weights: true)
        let state = snapshotName(iter, weights: false)
        let kind = param.snapshotFormat == .hdf5 ? "HDF5" : "binary proto"
        Log.info("Snapshotting to \(kind) file \(model)", "solver")
        Log.info("Snapshotting solver state to \(kind) file \(state)", "solver")
        if param.snapshotFormat == .hdf5 {
            try Snapshot.saveWeights(net, to: model)
            try Snapshot.saveState(self, to: state, learnedNet: model)
        } else {
            try Snapshot.saveWeightsBinary(net, to: model)
            try Snapshot.saveStateBinary(self, to: state, learnedNet: model)
        }
        lastSnapshotIter = iter
    }

    /// Resumes from a `.solverstate.h5`: iteration, lr step, history, weights, and where each
    /// data layer and random stream stood.
    public func restore(from path: String) throws {
        let restored = try Snapshot.loadState(path, into: self)
        iter = restored.iter
        currentStep = restored.currentStep
        lastSnapshotIter = iter
    }

    /// Takes the iteration and learning-rate step of another rank (rank 0's, at start).
    package func adopt(iter: Int, currentStep: Int) {
        self.iter = iter
        self.currentStep = currentStep
    }

    /// Nets whose layer states go into solverstates, with the key each is stored under.
    package var statefulNets: [(String, Net)] {
        [("train", net)] + testNets.enumerated().map { ("test\($0.offset)", $0.element) }
    }
}
