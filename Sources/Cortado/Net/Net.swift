import Foundation

/// A net built for one state (phase, level, stages): layers filtered by their include/exclude
/// rules, Split layers inserted, blobs wired by name, and the learnable parameter table.
public final class Net {
    public let name: String
    public let state: NetState
    public private(set) var layers: [Layer] = []
    public private(set) var blobs: [Blob] = []
    public private(set) var blobNames: [String] = []
    private var blobIndex: [String: Int] = [:]
    private(set) var bottomIDs: [[Int]] = []
    private(set) var topIDs: [[Int]] = []
    private(set) var bottomVecs: [[Blob]] = []
    private(set) var topVecs: [[Blob]] = []
    private(set) var bottomNeedBackward: [[Bool]] = []
    public private(set) var layerNeedBackward: [Bool] = []
    /// Loss weight of each (layer, top); the net's loss is Σ weight · Σ top.
    private(set) var topLossWeights: [[Float]] = []
    public private(set) var outputBlobIDs: [Int] = []

    /// Every parameter blob in layer order; a shared one appears once per user.
    public private(set) var params: [Blob] = []
    /// (layer index, blob index) of each entry of `params`.
    public private(set) var paramLayerIndices: [(layer: Int, index: Int)] = []
    /// For each entry of `params`: the index of its owner in `params`, or nil when it owns itself.
    public private(set) var paramOwners: [Int?] = []
    /// The parameters the solver updates: owners only, once each.
    public private(set) var learnableParams: [Blob] = []
    public private(set) var lrMults: [Float] = []
    public private(set) var decayMults: [Float] = []
    private var paramNames: [String: Int] = [:]

    public var debugInfo = false
    /// The set-up lines Caffe prints (`Top shape: 64 20 24 24 (737280)`, `Memory required for data: …`),
    /// kept so callers can show or check them without parsing the log.
    public private(set) var setupLog: [String] = []
    private var verbose = true

    private func note(_ line: String) {
        setupLog.append(line)
        if verbose { Log.info(line, "net") }
    }

    public convenience init(_ param: NetParameter, state: NetState, rng: inout RNG, verbose: Bool = true) throws {
        try self.init(param, state: state, rng: &rng, verbose: verbose, collecting: false)
    }

    /// A net built only to know its shapes and parameter counts: fillers are skipped, so even
    /// large nets build quickly; it must not be run.
    public static func shapesOnly(_ param: NetParameter, state: NetState) throws -> Net {
        var rng = RNG(seed: 1)
        return try Net(param, state: state, rng: &rng, verbose: false, collecting: false, fill: false)
    }

    /// Builds the net; with `collecting`, a failing layer is recorded in `problems` and the
    /// build goes on without it (layers that depend on it are skipped), so `validate` can
    /// report every mistake at once. A collecting net is for checking only, never for running.
    init(_ param: NetParameter, state: NetState, rng: inout RNG, verbose: Bool, collecting: Bool, fill: Bool = true) throws {
        name = param.name
        self.state = state
        self.verbose = verbose
        let context = LayerContext(rng: rng, phase: state.phase)
        context.fillParameters = fill
        let filtered = param.layers.filter { $0.isIncluded(in: state) }
        if verbose { checkNames(filtered) }
        let layerParams = insertSplits(filtered)
        note("Initializing net \"\(name)\" for phase \(state.phase.rawValue)")

        var available: Set<String> = []
        var memory = 0
        var unknown: Set<String> = []
        for lp in layerParams {
            if collecting && lp.bottom.contains(where: unknown.contains) {
                // Its input is unknown, so only what needs no input can be checked: the type.
                do { _ = try LayerRegistry.create(lp, phase: state.phase) } catch let e as ConfigError { problems += e.problems }
                unknown.formUnion(lp.top)
                continue
            }
            let mark = Mark(self)
            do {
                try addLayer(lp, context: context, available: &available, memory: &memory)
            } catch let e as ConfigError where collecting {
                rollback(to: mark)
                unknown.formUnion(lp.top)
                if Self.dataTypes.contains(lp.type) && !lp.top.isEmpty {
                    warnings.append("\(lp.location): layer \"\(lp.name)\": \(e.problems.map(\.message).joined(separator: "; ")) (layers that read its tops were not checked)")
                } else {
                    problems += e.problems
                }
            }
        }
        rng = context.rng
        outputBlobIDs = blobNames.indices.filter { available.contains(blobNames[$0]) }
        decideBackward(forceBackward: param.forceBackward)
        for id in outputBlobIDs { note("This network produces output \(blobNames[id])") }
        note("Network initialization done.")
    }

    /// Problems found by a collecting build (see `check`).
    public private(set) var problems: [ConfigError.Problem] = []
    /// Things a collecting build could not check, such as data files that are absent here.
    public private(set) var warnings: [String] = []

    static let dataTypes: Set<String> = ["HDF5Data", "Data", "ImageData", "WindowData", "MemoryData"]

    /// Builds `param` in `state` without running it and returns every problem found.
    public static func check(_ param: NetParameter, state: NetState) -> (problems: [ConfigError.Problem], warnings: [String]) {
        var rng = RNG(seed: 1)
        do {
            let net = try Net(param, state: state, rng: &rng, verbose: false, collecting: true, fill: false)
            return (net.problems, net.warnings)
        } catch let e as ConfigError {
            return (e.problems, [])
        } catch {
            return ([ConfigError.Problem(location: nil, path: "", message: "\(error)")], [])
        }
    }

    private func addLayer(_ lp: LayerParameter, context: LayerContext, available: inout Set<String>, memory: inout Int) throws {
        let layer = try LayerRegistry.create(lp, phase: lp.phase ?? state.phase)
        let layerID = layers.count
        layers.append(layer)
        note("Creating Layer \(lp.name)")
        try wireBottoms(lp, layerID, &available)
        try wireTops(lp, layerID, &available)
        try checkArity(layer)
        note("Setting up \(lp.name)")
        do {
            try layer.setUp(bottom: bottomVecs[layerID], top: topVecs[layerID], context: context)
            try layer.reshape(bottom: bottomVecs[layerID], top: topVecs[layerID])
        } catch let e as CortadoError {
            throw layer.error(e.description)
        }
        try setLossWeights(layer, lp)
        for (j, t) in topVecs[layerID].enumerated() {
            memory += t.count
            note("Top shape: \(t.shapeString)")
            if topLossWeights[layerID][j] != 0 {
                note("    with loss weight \(caffeFloat(topLossWeights[layerID][j]))")
            }
        }
        note("Memory required for data: \(memory * MemoryLayout<Float>.size)")
        try appendParams(layer, layerID)
    }

    /// The lengths of the per-layer tables, to undo a layer that failed half-way.
    private struct Mark {
        var layers, bottoms, tops, losses, params, learnable: Int
        init(_ n: Net) {
            layers = n.layers.count; bottoms = n.bottomIDs.count; tops = n.topIDs.count
            losses = n.topLossWeights.count; params = n.params.count; learnable = n.learnableParams.count
        }
    }

    private func rollback(to m: Mark) {
        layers.removeLast(layers.count - m.layers)
        bottomIDs.removeLast(bottomIDs.count - m.bottoms)
        bottomVecs.removeLast(bottomVecs.count - m.bottoms)
        bottomNeedBackward.removeLast(bottomNeedBackward.count - m.bottoms)
        topIDs.removeLast(topIDs.count - m.tops)
        topVecs.removeLast(topVecs.count - m.tops)
        topLossWeights.removeLast(topLossWeights.count - m.losses)
        params.removeLast(params.count - m.params)
        paramLayerIndices.removeLast(paramLayerIndices.count - m.params)
        paramOwners.removeLast(paramOwners.count - m.params)
        learnableParams.removeLast(learnableParams.count - m.learnable)
        lrMults.removeLast(lrMults.count - m.learnable)
        decayMults.removeLast(decayMults.count - m.learnable)
    }

    /// Caffe accepts two layers of one name (the later one wins when weights are matched),
    /// but it is almost always a mistake, so say so.
    private func checkNames(_ layers: [LayerParameter]) {
        var seen: [String: LayerParameter] = [:]
        for l in layers {
            if let first = seen[l.name] {
                Log.warning("\(l.location): two layers are named \"\(l.name)\" (the first at \(first.location)); weights are matched by layer name, so the later one receives them", "net")
            }
            seen[l.name] = l
        }
    }

    private func wireBottoms(_ lp: LayerParameter, _ layerID: Int, _ available: inout Set<String>) throws {
        var ids: [Int] = [], vec: [Blob] = [], need: [Bool] = []
        if !lp.propagateDown.isEmpty && lp.propagateDown.count != lp.bottom.count {
            throw lp.error("propagate_down is given \(lp.propagateDown.count) time(s) for \(lp.bottom.count) bottom(s); give one per bottom or none")
        }
        for (j, name) in lp.bottom.enumerated() {
            guard let id = blobIndex[name], available.contains(name) else {
                let known = Array(available).sorted()
                let hint = nearestName(to: name, in: known).map { "; did you mean \"\($0)\"?" } ?? (known.isEmpty ? "" : "; blobs available here: \(known.joined(separator: ", "))")
                let why = blobIndex[name] == nil ? "no earlier layer produces it" : "it was already consumed by an earlier layer"
                throw lp.error("unknown bottom blob \"\(name)\" (bottom \(j)): \(why)\(hint)")
            }
            note("\(lp.name) <- \(name)")
            ids.append(id)
            vec.append(blobs[id])
            need.append(lp.propagateDown.isEmpty ? false : lp.propagateDown[j])
            available.remove(name)
        }
        bottomIDs.append(ids)
        bottomVecs.append(vec)
        bottomNeedBackward.append(need)
    }

    private func wireTops(_ lp: LayerParameter, _ layerID: Int, _ available: inout Set<String>) throws {
        var ids: [Int] = [], vec: [Blob] = []
        for (j, name) in lp.top.enumerated() {
            if j < lp.bottom.count && lp.bottom[j] == name {
                note("\(lp.name) -> \(name) (in-place)")
                ids.append(bottomIDs[layerID][j])
            } else if blobIndex[name] != nil {
                throw lp.error("top blob \"\(name)\" is produced by more than one layer; rename one of them (only in-place layers, whose top equals their bottom, may reuse a name)")
            } else {
                note("\(lp.name) -> \(name)")
                let id = blobs.count
                blobs.append(Blob())
                blobNames.append(name)
                blobIndex[name] = id
                ids.append(id)
            }
            vec.append(blobs[ids.last!])
            available.insert(name)
        }
        topIDs.append(ids)
        topVecs.append(vec)
    }

    private func checkArity(_ layer: Layer) throws {
        let b = layer.param.bottom.count, t = layer.param.top.count
        func check(_ what: String, _ n: Int, exact: Int?, min: Int?, max: Int?) throws {
            if let exact, n != exact { throw layer.error("\(layer.type) takes exactly \(exact) \(what) blob(s), found \(n)") }
            if let min, n < min { throw layer.error("\(layer.type) takes at least \(min) \(what) blob(s), found \(n)") }
            if let max, n > max { throw layer.error("\(layer.type) takes at most \(max) \(what) blob(s), found \(n)") }
        }
        try check("bottom", b, exact: layer.exactNumBottoms, min: layer.minBottoms, max: layer.maxBottoms)
        try check("top", t, exact: layer.exactNumTops, min: layer.minTops, max: layer.maxTops)
    }

    private func setLossWeights(_ layer: Layer, _ lp: LayerParameter) throws {
        var weights = [Float](repeating: 0, count: lp.top.count)
        if !lp.lossWeight.isEmpty {
            guard lp.lossWeight.count == lp.top.count else {
                throw lp.error("loss_weight is given \(lp.lossWeight.count) time(s) for \(lp.top.count) top(s); give one per top")
            }
            weights = lp.lossWeight
        } else if layer.isLoss && !weights.isEmpty {
            weights[0] = 1
        }
        topLossWeights.append(weights)
    }

    /// Caffe's AppendParam: owners become learnable; a `param { name }` seen before shares
    /// the owner's blob (data and diff), with shapes checked by share_mode.
    private func appendParams(_ layer: Layer, _ layerID: Int) throws {
        let specs = layer.param.param
        guard specs.count <= layer.blobs.count else {
            throw layer.error("\(specs.count) param specs given but the layer has only \(layer.blobs.count) parameter blob(s)")
        }
        var propagate: [Bool] = []
        for j in layer.blobs.indices {
            var spec = j < specs.count ? specs[j] : ParamSpec()
            if layer.fixedParams {
                if j < specs.count && specs[j].lrMult != 0 && layer.param.node.children("param")[j].has("lr_mult") {
                    throw layer.error("\(layer.type) keeps statistics, not weights, in its blobs; their lr_mult must be 0 (found \(specs[j].lrMult))")
                }
                spec.lrMult = 0
            }
            let netID = params.count
            if !spec.name.isEmpty, let ownerID = paramNames[spec.name] {
                let owner = params[ownerID]
                let mine = layer.blobs[j]
                if spec.permissive {
                    guard owner.count == mine.count else {
                        throw layer.error("shared parameter \"\(spec.name)\" has \(mine.count) values here but \(owner.count) in its owner (PERMISSIVE sharing needs equal counts)")
                    }
                } else if owner.shape != mine.shape {
                    throw layer.error("shared parameter \"\(spec.name)\" has shape \(mine.shape) here but \(owner.shape) in its owner; use share_mode: PERMISSIVE to share blobs of equal size")
                }
                layer.blobs[j] = owner
                params.append(owner)
                paramOwners.append(ownerID)
            } else {
                if !spec.name.isEmpty { paramNames[spec.name] = netID }
                params.append(layer.blobs[j])
                paramOwners.append(nil)
                learnableParams.append(layer.blobs[j])
                lrMults.append(spec.lrMult)
                decayMults.append(spec.decayMult)
            }
            paramLayerIndices.append((layerID, j))
            propagate.append(spec.lrMult != 0)
        }
        layer.paramPropagateDown = propagate
    }

    /// Caffe's rules for which layers and bottoms need a gradient: anything upstream of a
    /// learnable parameter, pruned to what contributes to a loss; propagate_down and
    /// force_backward override.
    private func decideBackward(forceBackward: Bool) {
        var blobNeedsBackward = [Bool](repeating: false, count: blobs.count)
        layerNeedBackward = []
        for (i, layer) in layers.enumerated() {
            var need = false
            for (j, id) in bottomIDs[i].enumerated() {
                if layer.param.propagateDown.isEmpty { bottomNeedBackward[i][j] = blobNeedsBackward[id] }
                need = need || blobNeedsBackward[id]
            }
            need = need || layer.paramPropagateDown.contains(true)
            need = need && layer.hasBackward
            for id in topIDs[i] where need { blobNeedsBackward[id] = true }
            layerNeedBackward.append(need)
        }
        var underLoss: Set<Int> = [], skip: Set<Int> = []
        for i in layers.indices.reversed() {
            var contributes = false, skipPropagate = true
            for (j, id) in topIDs[i].enumerated() {
                if topLossWeights[i][j] != 0 || underLoss.contains(id) { contributes = true }
                if !skip.contains(id) { skipPropagate = false }
                if contributes && !skipPropagate { break }
            }
            if layerNeedBackward[i] && skipPropagate {
                layerNeedBackward[i] = false
                for j in bottomIDs[i].indices { bottomNeedBackward[i][j] = false }
            }
            if !contributes { layerNeedBackward[i] = false }
            note("\(layers[i].name) \(layerNeedBackward[i] ? "needs" : "does not need") backward computation.")
            for (j, id) in bottomIDs[i].enumerated() {
                if contributes { underLoss.insert(id) } else { bottomNeedBackward[i][j] = false }
                if !bottomNeedBackward[i][j] { skip.insert(id) }
            }
        }
        guard forceBackward else { return }
        for (i, layer) in layers.enumerated() where layer.hasBackward {
            layerNeedBackward[i] = true
            for j in bottomIDs[i].indices {
                bottomNeedBackward[i][j] = bottomNeedBackward[i][j] || layer.allowForceBackward(j)
            }
            layer.paramPropagateDown = layer.paramPropagateDown.map { _ in true }
        }
    }

    // MARK: running

    public func blob(named name: String) -> Blob? { blobIndex[name].map { blobs[$0] } }

    public func layer(named name: String) -> Layer? { layers.first { $0.name == name } }

    public var outputBlobs: [Blob] { outputBlobIDs.map { blobs[$0] } }

    /// Runs layers start...end forward and returns their part of the loss.
    @discardableResult
    public func forward(from start: Int = 0, to end: Int? = nil) throws -> Float {
        var loss: Float = 0
        for i in start...(end ?? layers.count - 1) {
            try layers[i].forward(bottom: bottomVecs[i], top: topVecs[i])
            for (j, w) in topLossWeights[i].enumerated() where w != 0 {
                let t = topVecs[i][j]
                var s: Float = 0
                for k in 0..<t.count { s += t.data[k] }
                loss += w * s
            }
            if debugInfo { logForward(i) }
        }
        return loss
    }

    /// Seeds each loss top's diff with its weight and runs backward from the last layer.
    public func backward() {
        for i in layers.indices {
            for (j, w) in topLossWeights[i].enumerated() where w != 0 {
                topVecs[i][j].diff.update(repeating: w, count: topVecs[i][j].count)
            }
        }
        for i in layers.indices.reversed() where layerNeedBackward[i] {
            backwardLayer(i)
            if debugInfo { logBackward(i) }
        }
    }

    func backwardLayer(_ i: Int) {
        layers[i].backward(top: topVecs[i], propagateDown: bottomNeedBackward[i], bottom: bottomVecs[i])
    }

    func forwardLayer(_ i: Int) throws {
        try layers[i].forward(bottom: bottomVecs[i], top: topVecs[i])
    }

    public func forwardBackward() throws -> Float {
        let loss = try forward()
        backward()
        return loss
    }

    /// Reshapes every layer after input shapes changed.
    public func reshape() throws {
        for i in layers.indices { try layers[i].reshape(bottom: bottomVecs[i], top: topVecs[i]) }
    }

    public func clearParamDiffs() {
        for p in learnableParams { p.zeroDiff() }
    }

    /// Makes each layer of this net use the parameter blobs of the same-named layer in
    /// `other` (test nets share the train net's weights this way).
    public func shareTrainedLayers(with other: Net) throws {
        for layer in layers where !layer.blobs.isEmpty {
            guard let source = other.layer(named: layer.name) else { continue }
            guard source.blobs.count == layer.blobs.count else {
                throw CortadoError("layer \"\(layer.name)\" has \(layer.blobs.count) parameter blobs in one net and \(source.blobs.count) in the other")
            }
            for j in layer.blobs.indices {
                guard source.blobs[j].shape == layer.blobs[j].shape else {
                    throw CortadoError("layer \"\(layer.name)\" param \(j) has shape \(layer.blobs[j].shape) in the test net but \(source.blobs[j].shape) in the train net")
                }
                layer.blobs[j] = source.blobs[j]
            }
        }
    }

    private func logForward(_ i: Int) {
        for (j, t) in topVecs[i].enumerated() {
            Log.info("    [Forward] Layer \(layers[i].name), top blob \(blobNames[topIDs[i][j]]) data: \(caffeFloat(t.asumData / Float(max(t.count, 1))))", "net")
        }
        for (j, p) in layers[i].blobs.enumerated() {
            Log.info("    [Forward] Layer \(layers[i].name), param blob \(j) data: \(caffeFloat(p.asumData / Float(max(p.count, 1))))", "net")
        }
    }

    private func logBackward(_ i: Int) {
        for (j, b) in bottomVecs[i].enumerated() where bottomNeedBackward[i][j] {
            Log.info("    [Backward] Layer \(layers[i].name), bottom blob \(blobNames[bottomIDs[i][j]]) diff: \(caffeFloat(b.asumDiff / Float(max(b.count, 1))))", "net")
        }
        for (j, p) in layers[i].blobs.enumerated() {
            Log.info("    [Backward] Layer \(layers[i].name), param blob \(j) diff: \(caffeFloat(p.asumDiff / Float(max(p.count, 1))))", "net")
        }
    }
}
