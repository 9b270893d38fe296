import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import Foundation

/// One layer of a built net: the layer, the blobs it reads and writes, which of them need a
/// gradient, and the loss weight of each top.
public struct LayerEntry {
    public let layer: Layer
    /// Indices into the net's blob table.
    public let bottomIDs: [Int]
    public let topIDs: [Int]
    public let bottoms: [Blob]
    public let tops: [Blob]
    /// Which bottoms receive a gradient (decided after the whole net is wired).
    public internal(set) var bottomNeedsBackward: [Bool]
    public internal(set) var needsBackward = false
    /// Loss weight of each top; the net's loss is Σ weight · Σ top.
    public let lossWeights: [Float]
}

/// One parameter blob as one layer uses it. A blob shared by `param { name }` appears once per
/// user; only its owner (owner == nil) is learnable and updated by the solver.
public struct ParamEntry {
    public let blob: Blob
    /// The layer (index into `entries`) and the blob's place among its blobs.
    public let layer: Int
    public let index: Int
    /// The index in `params` of the entry that owns this blob, nil when it owns itself.
    public let owner: Int?
    public let lrMult: Float
    public let decayMult: Float
}

/// A blob of the net with the name the file gives it.
public struct NamedBlob {
    public let name: String
    public let blob: Blob
}

/// A net built for one state (phase, level, stages): layers filtered by their include/exclude
/// rules, Split layers inserted, blobs wired by name, and the learnable parameter table.
/// Each layer is built whole before anything is added to the net, so a layer that fails leaves
/// no trace (`validate` builds on past it).
public final class Net {
    public let name: String
    public let state: NetState
    public private(set) var entries: [LayerEntry] = []
    public private(set) var namedBlobs: [NamedBlob] = []
    private var blobIndex: [String: Int] = [:]
    public private(set) var outputBlobIDs: [Int] = []
    /// Every parameter blob in layer order; a shared one appears once per user.
    public private(set) var params: [ParamEntry] = []
    /// The parameters the solver updates: owners only, once each, in `params` order.
    public private(set) var learnable: [ParamEntry] = []
    private var paramNames: [String: Int] = [:]
    /// Per-call buffers shared by every layer of this net (layers run one at a time).
    private let callScratch = CallScratch()

    public var layers: [Layer] { entries.map(\.layer) }
    public var blobs: [Blob] { namedBlobs.map(\.blob) }
    public var blobNames: [String] { namedBlobs.map(\.name) }
    public var learnableParams: [Blob] { learnable.map(\.blob) }

    public var debugInfo = false
    /// Called after each layer's backward with its index (GradientSync starts sending that
    /// layer's gradients while the layers below run).
    public var afterBackward: ((Int) -> Void)?
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
    /// build goes on without it (layers that depend on it are only checked on their own), so
    /// `validate` can report every mistake at once. A collecting net is for checking only.
    init(_ param: NetParameter, state: NetState, rng: inout RNG, verbose: Bool, collecting: Bool, fill: Bool = true) throws {
        name = param.name
        self.state = state
        self.verbose = verbose
        let context = LayerContext(rng: rng, phase: state.phase)
        context.fillParameters = fill
        let filtered = param.layers.filter { $0.isIncluded(in: state) }
        guard !filtered.isEmpty else { throw Self.emptyNet(param, state: state) }
        if verbose { checkNames(filtered) }
        let layerParams = insertSplits(filtered)
        note("Initializing net \"\(name)\" for phase \(state.phase.rawValue)")

        var available: Set<String> = []
        var memory = 0
        var unknown: Set<String> = []
        for lp in layerParams {
            guard collecting else {
                do { try addLayer(lp, context: context, available: &available, memory: &memory) } catch let e as LayerSetUpError { throw e.error }
                continue
            }
            if lp.bottom.contains(where: unknown.contains) {
                // Its input is unknown, so check what needs no input: the type and the settings.
                do { _ = try LayerRegistry.create(lp, phase: state.phase) } catch let e as ConfigError { problems += e.problems }
                unknown.formUnion(lp.top)
                continue
            }
            do {
                try addLayer(lp, context: context, available: &available, memory: &memory)
            } catch let e as LayerSetUpError where e.sourceAbsent && !lp.top.isEmpty {
                unknown.formUnion(lp.top)
                warnings.append("\(lp.location): layer \"\(lp.name)\": \(e.error.problems.map(\.message).joined(separator: "; ")) (layers that read its tops were checked on their own)")
            } catch let e as LayerSetUpError {
                unknown.formUnion(lp.top)
                problems += e.error.problems
            } catch let e as ConfigError {
                unknown.formUnion(lp.top)
                problems += e.problems
            }
        }
        rng = context.rng
        if let tooLarge = memoryProblem(param) {
            guard collecting else { throw ConfigError(location: tooLarge.location, path: tooLarge.path, message: tooLarge.message) }
            problems.append(tooLarge)
        }
        outputBlobIDs = namedBlobs.indices.filter { available.contains(namedBlobs[$0].name) }
        learnable = params.filter { $0.owner == nil }
        decideBackward(forceBackward: param.forceBackward)
        findFusedBlocks()
        for id in outputBlobIDs { note("This network produces output \(namedBlobs[id].name)") }
        note("Network initialization done.")
    }

    /// A net with no layer in the running phase cannot run; say why, at the file.
    package static func emptyNet(_ param: NetParameter, state: NetState) -> ConfigError {
        let at = TextLocation(file: param.file, line: 1, column: 1)
        let stages = state.stages.isEmpty ? "" : ", stages \(state.stages.joined(separator: ", "))"
        let why = param.layers.isEmpty
            ? "the net has no layers"
            : "none of the net's \(param.layers.count) layers is included in phase \(state.phase.rawValue) (level \(state.level)\(stages)); check their include/exclude rules"
        return ConfigError(location: at, path: param.name.isEmpty ? "net" : "net \"\(param.name)\"", message: why)
    }

    /// Single blobs are limited when shaped (`Blob.byteLimit`), but a net of many large blobs
    /// can still need more than the machine has; shape-only nets (validate, summary) touch no
    /// page, so the sum is checked here: data and gradient of every blob and parameter.
    private func memoryProblem(_ param: NetParameter) -> ConfigError.Problem? {
        var seen: Set<ObjectIdentifier> = []
        var floats = 0.0
        for b in namedBlobs.map(\.blob) + params.map(\.blob) where seen.insert(ObjectIdentifier(b)).inserted { floats += Double(b.count) }
        let bytes = floats * Double(2 * MemoryLayout<Float>.stride)
        let machine = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > machine else { return nil }
        return ConfigError.Problem(location: TextLocation(file: param.file, line: 1, column: 1), path: param.name.isEmpty ? "net" : "net \"\(param.name)\"",
                                   message: "the net's blobs and parameters need \(formatBytes(bytes)) for their data and gradients, more than this machine's \(formatBytes(machine)) of memory; lower the batch size or the input size")
    }

    /// Problems found by a collecting build (see `check`).
    public private(set) var problems: [ConfigError.Problem] = []
    /// Things a collecting build could not check, such as data files that are absent here.
    public private(set) var warnings: [String] = []

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

    /// A layer that was created but failed in set-up, so the caller knows what kind it was.
    struct LayerSetUpError: Error {
        /// A data layer whose source is absent here: only a warning in `validate`, which may run
        /// where the data is not (data that exists but is broken is a problem).
        let sourceAbsent: Bool
        let error: ConfigError
    }

    /// Builds one layer against the blobs available so far and adds it to the net only when
    /// everything succeeded: the net's tables never hold a half-built layer.
    private func addLayer(_ lp: LayerParameter, context: LayerContext, available: inout Set<String>, memory: inout Int) throws {
        let layer = try LayerRegistry.create(lp, phase: lp.phase ?? state.phase)
        layer.callScratch = callScratch
        note("Creating Layer \(lp.name)")
        var newBlobs: [NamedBlob] = []
        let (bottomIDs, propagate) = try wireBottoms(lp, available)
        let topIDs = try wireTops(lp, bottomIDs, &newBlobs)
        let blobAt = { (id: Int) -> Blob in id < self.namedBlobs.count ? self.namedBlobs[id].blob : newBlobs[id - self.namedBlobs.count].blob }
        let bottoms = bottomIDs.map(blobAt), tops = topIDs.map(blobAt)
        do {
            try checkArity(layer)
            note("Setting up \(lp.name)")
            do {
                try layer.setUp(bottom: bottoms, top: tops, context: context)
                try layer.reshape(bottom: bottoms, top: tops)
            } catch let e as any CortadoFailure {
                throw layer.error(e.description)
            }
        } catch let e as ConfigError {
            throw LayerSetUpError(sourceAbsent: layer.dataIsAbsent, error: e)
        }
        let weights = try lossWeights(layer, lp)
        let (newParams, newNames) = try paramEntries(layer, layerID: entries.count)
        // Commit: from here on nothing throws.
        namedBlobs += newBlobs
        for (k, b) in newBlobs.enumerated() { blobIndex[b.name] = namedBlobs.count - newBlobs.count + k }
        for name in lp.bottom { available.remove(name) }
        available.formUnion(lp.top)
        params += newParams
        paramNames.merge(newNames) { a, _ in a }
        entries.append(LayerEntry(layer: layer, bottomIDs: bottomIDs, topIDs: topIDs, bottoms: bottoms, tops: tops,
                                  bottomNeedsBackward: propagate, lossWeights: weights))
        for (j, t) in tops.enumerated() {
            memory += t.count
            note("Top shape: \(t.shapeString)")
            if weights[j] != 0 { note("    with loss weight \(caffeFloat(weights[j]))") }
        }
        note("Memory required for data: \(memory * MemoryLayout<Float>.size)")
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

    /// The ids of the layer's bottoms, and what propagate_down says of each (false when not given).
    private func wireBottoms(_ lp: LayerParameter, _ available: Set<String>) throws -> ([Int], [Bool]) {
        if !lp.propagateDown.isEmpty && lp.propagateDown.count != lp.bottom.count {
            throw lp.error("propagate_down is given \(lp.propagateDown.count) time(s) for \(lp.bottom.count) bottom(s); give one per bottom or none")
        }
        var ids: [Int] = [], need: [Bool] = [], consumed: Set<String> = []
        for (j, name) in lp.bottom.enumerated() {
            guard let id = blobIndex[name], available.contains(name), !consumed.contains(name) else {
                let known = Array(available.subtracting(consumed)).sorted()
                let hint = nearestName(to: name, in: known).map { "; did you mean \"\($0)\"?" } ?? (known.isEmpty ? "" : "; blobs available here: \(known.joined(separator: ", "))")
                let why = blobIndex[name] == nil ? "no earlier layer produces it" : "it was already consumed by an earlier layer"
                throw lp.error("unknown bottom blob \"\(name)\" (bottom \(j)): \(why)\(hint)")
            }
            note("\(lp.name) <- \(name)")
            ids.append(id)
            need.append(lp.propagateDown.isEmpty ? false : lp.propagateDown[j])
            consumed.insert(name)
        }
        return (ids, need)
    }

    /// The ids of the layer's tops: the bottom's for in-place tops, new blobs (added to
    /// `newBlobs`, numbered after the net's) otherwise.
    private func wireTops(_ lp: LayerParameter, _ bottomIDs: [Int], _ newBlobs: inout [NamedBlob]) throws -> [Int] {
        var ids: [Int] = []
        // A set, not a scan of newBlobs: a Split before a blob with 20,000 readers has 20,000 tops.
        var newNames = Set(newBlobs.map(\.name))
        for (j, name) in lp.top.enumerated() {
            if j < lp.bottom.count && lp.bottom[j] == name {
                note("\(lp.name) -> \(name) (in-place)")
                ids.append(bottomIDs[j])
            } else if blobIndex[name] != nil || !newNames.insert(name).inserted {
                throw lp.error("top blob \"\(name)\" is produced by more than one layer; rename one of them (only in-place layers, whose top equals their bottom, may reuse a name)")
            } else {
                note("\(lp.name) -> \(name)")
                ids.append(namedBlobs.count + newBlobs.count)
                newBlobs.append(NamedBlob(name: name, blob: Blob()))
            }
        }
        return ids
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

    private func lossWeights(_ layer: Layer, _ lp: LayerParameter) throws -> [Float] {
        var weights = [Float](repeating: 0, count: lp.top.count)
        if !lp.lossWeight.isEmpty {
            guard lp.lossWeight.count == lp.top.count else {
                throw lp.error("loss_weight is given \(lp.lossWeight.count) time(s) for \(lp.top.count) top(s); give one per top")
            }
            weights = lp.lossWeight
        } else if layer.isLoss && !weights.isEmpty {
            weights[0] = 1
        }
        return weights
    }

    /// Caffe's AppendParam: owners become learnable; a `param { name }` seen before shares
    /// the owner's blob (data and diff), with shapes checked by share_mode. Returns the new
    /// entries and the names they introduce; the layer's blobs are swapped for shared ones.
    private func paramEntries(_ layer: Layer, layerID: Int) throws -> ([ParamEntry], [String: Int]) {
        let specs = layer.param.param
        guard specs.count <= layer.blobs.count else {
            throw layer.error("\(specs.count) param specs given but the layer has only \(layer.blobs.count) parameter blob(s)")
        }
        var entries: [ParamEntry] = [], names: [String: Int] = [:], blobs = layer.blobs
        for j in layer.blobs.indices {
            var spec = j < specs.count ? specs[j] : ParamSpec()
            if layer.fixedParams {
                if j < specs.count && specs[j].lrMult != 0 && specs[j].lrMultGiven {
                    throw layer.error("\(layer.type) keeps statistics, not weights, in its blobs; their lr_mult must be 0 (found \(specs[j].lrMult))")
                }
                spec.lrMult = 0
            }
            let netID = params.count + entries.count
            var owner: Int? = nil
            if !spec.name.isEmpty, let ownerID = paramNames[spec.name] ?? names[spec.name] {
                let source = ownerID < params.count ? params[ownerID].blob : entries[ownerID - params.count].blob
                let mine = blobs[j]
                if spec.permissive {
                    guard source.count == mine.count else {
                        throw layer.error("shared parameter \"\(spec.name)\" has \(mine.count) values here but \(source.count) in its owner (PERMISSIVE sharing needs equal counts)")
                    }
                } else if source.shape != mine.shape {
                    throw layer.error("shared parameter \"\(spec.name)\" has shape \(mine.shape) here but \(source.shape) in its owner; use share_mode: PERMISSIVE to share blobs of equal size")
                }
                blobs[j] = source
                owner = ownerID
            } else if !spec.name.isEmpty {
                names[spec.name] = netID
            }
            entries.append(ParamEntry(blob: blobs[j], layer: layerID, index: j, owner: owner, lrMult: spec.lrMult, decayMult: spec.decayMult))
        }
        layer.blobs = blobs
        layer.paramPropagateDown = entries.map { $0.lrMult != 0 }
        return (entries, names)
    }

    /// Caffe's rules for which layers and bottoms need a gradient: anything upstream of a
    /// learnable parameter, pruned to what contributes to a loss; propagate_down and
    /// force_backward override.
    private func decideBackward(forceBackward: Bool) {
        var blobNeedsBackward = [Bool](repeating: false, count: namedBlobs.count)
        for i in entries.indices {
            let layer = entries[i].layer
            var need = false
            for (j, id) in entries[i].bottomIDs.enumerated() {
                if layer.param.propagateDown.isEmpty { entries[i].bottomNeedsBackward[j] = blobNeedsBackward[id] }
                need = need || blobNeedsBackward[id]
            }
            need = (need || layer.paramPropagateDown.contains(true)) && layer.hasBackward
            for id in entries[i].topIDs where need { blobNeedsBackward[id] = true }
            entries[i].needsBackward = need
        }
        var underLoss: Set<Int> = [], skip: Set<Int> = []
        for i in entries.indices.reversed() {
            var contributes = false, skipPropagate = true
            for (j, id) in entries[i].topIDs.enumerated() {
                if entries[i].lossWeights[j] != 0 || underLoss.contains(id) { contributes = true }
                if !skip.contains(id) { skipPropagate = false }
                if contributes && !skipPropagate { break }
            }
            if entries[i].needsBackward && skipPropagate {
                entries[i].needsBackward = false
                for j in entries[i].bottomIDs.indices { entries[i].bottomNeedsBackward[j] = false }
            }
            if !contributes { entries[i].needsBackward = false }
            note("\(entries[i].layer.name) \(entries[i].needsBackward ? "needs" : "does not need") backward computation.")
            for (j, id) in entries[i].bottomIDs.enumerated() {
                if contributes { underLoss.insert(id) } else { entries[i].bottomNeedsBackward[j] = false }
                if !entries[i].bottomNeedsBackward[j] { skip.insert(id) }
            }
        }
        guard forceBackward else { return }
        for i in entries.indices where entries[i].layer.hasBackward {
            let layer = entries[i].layer
            entries[i].needsBackward = true
            for j in entries[i].bottomIDs.indices {
                entries[i].bottomNeedsBackward[j] = entries[i].bottomNeedsBackward[j] || layer.allowForceBackward(j)
            }
            layer.paramPropagateDown = layer.paramPropagateDown.map { _ in true }
        }
    }

    // MARK: running

    public func blob(named name: String) -> Blob? { blobIndex[name].map { namedBlobs[$0].blob } }

    public func layer(named name: String) -> Layer? { entries.first { $0.layer.name == name }?.layer }

    public var outputBlobs: [Blob] { outputBlobIDs.map { namedBlobs[$0].blob } }

    /// Which layers need a gradient, in layer order.
    public var layerNeedBackward: [Bool] { entries.map(\.needsBackward) }

    /// Runs layers start...end forward (each reshaped first, as Caffe's Layer::Forward does, so
    /// shapes that change per batch flow through) and returns their part of the loss.
    @discardableResult
    public func forward(from start: Int = 0, to end: Int? = nil) throws -> Float {
        var loss: Float = 0
        let last = end ?? entries.count - 1
        guard start <= last else { return 0 }
        try checkRange(start, last)
        var i = start
        while i <= last {
            if let ran = try fusedForward(at: i, through: last) { i += ran; continue }
            defer { i += 1 }
            try forwardLayer(i)
            let e = entries[i]
            for (j, w) in e.lossWeights.enumerated() where w != 0 {
                let t = e.tops[j]
                var s: Float = 0
                for k in 0..<t.count { s += t.data[k] }
                loss += w * s
            }
            if debugInfo { logForward(i) }
        }
        return loss
    }

    /// Seeds each loss top's diff with its weight and runs backward from the last layer.
    public func backward() throws {
        try backward(from: entries.count - 1, to: 0)
    }

    /// Runs layers start, start−1, …, end backward, as Caffe's BackwardFromTo; loss layers in
    /// that range first get their weight as top diff, as Caffe sets it once at set-up (a
    /// range without loss layers reads whatever top diffs the caller wrote).
    public func backward(from start: Int, to end: Int) throws {
        guard start >= end else { return }
        try checkRange(end, start)
        for e in entries[end...start] {
            for (j, w) in e.lossWeights.enumerated() where w != 0 {
                e.tops[j].diff.update(repeating: w, count: e.tops[j].count)
            }
        }
        var i = start
        while i >= end {
            if let first = fusedBackward(endingAt: i, downTo: end) {
                for k in (first...i).reversed() { afterBackward?(k) }
                i = first - 1
                continue
            }
            defer { i -= 1 }
            guard entries[i].needsBackward else { continue }
            try backwardLayer(i)
            if debugInfo { logBackward(i) }
            afterBackward?(i)
        }
    }

    // MARK: fused blocks

    /// Whether BatchNorm + Scale (+ ReLU) blocks run as one pass (`FusedBatchNorm`): on unless
    /// `CORTADO_FUSE=0`; tests turn it off to compare. debug_info runs the layers one by one.
    public var fusesBatchNorm = Net.fusionByDefault { didSet { findFusedBlocks() } }
    package static let fusionByDefault = ProcessInfo.processInfo.environment["CORTADO_FUSE"] != "0"
    /// The blocks, by their first layer's index; and each block's first index by its last.
    private var fused: [Int: FusedBatchNorm] = [:]
    private var fusedFirst: [Int: Int] = [:]

    private func findFusedBlocks() {
        (fused, fusedFirst) = ([:], [:])
        guard fusesBatchNorm else { return }
        var i = 0
        while i + 1 < entries.count {
            let window = entries[i..<min(i + 3, entries.count)]
            guard window.allSatisfy({ $0.lossWeights.allSatisfy { $0 == 0 } }),
                  let block = FusedBatchNorm(window.map(\.layer), bottoms: window.map(\.bottoms), tops: window.map(\.tops)) else { i += 1; continue }
            fused[i] = block
            fusedFirst[i + block.count - 1] = i
            i += block.count
        }
    }

    /// Runs the fused block that starts at layer i, when the range runs through all of it;
    /// returns how many layers it stood for, or nil when layer i is to run on its own.
    package func fusedForward(at i: Int, through last: Int) throws -> Int? {
        guard !debugInfo, let block = fused[i], i + block.count - 1 <= last else { return nil }
        for k in i..<(i + block.count) { try reshapeLayer(k) }
        block.forward(bottom: entries[i].bottoms[0], top: entries[i].tops[0])
        return block.count
    }

    /// Runs the backward pass of the fused block that ends at layer i, when the range and
    /// every gradient the block's layers pass down include all of it; returns its first layer.
    package func fusedBackward(endingAt i: Int, downTo end: Int) -> Int? {
        guard !debugInfo, let first = fusedFirst[i], first >= end, let block = fused[first], block.ranForward,
              (first...i).allSatisfy({ entries[$0].needsBackward && entries[$0].bottomNeedsBackward[0] }) else { return nil }
        block.backward(bottom: entries[first].bottoms[0], top: entries[first].tops[0])
        return first
    }

    /// Layers first...last of a caller's range (the Python API's start and end) must exist.
    private func checkRange(_ first: Int, _ last: Int) throws {
        guard first >= 0, last < entries.count else {
            throw UsageError("layers \(first)...\(last) are not all in \(name), which has \(entries.count) layers")
        }
    }

    func backwardLayer(_ i: Int) throws {
        let e = entries[i]
        e.layer.backward(top: e.tops, propagateDown: e.bottomNeedsBackward, bottom: e.bottoms)
        if let failure = e.layer.backwardFailure {
            e.layer.backwardFailure = nil
            throw failure
        }
    }

    /// Reshapes layer i to its bottoms (cheap when nothing changed), then runs it forward.
    func forwardLayer(_ i: Int) throws {
        try reshapeLayer(i)
        try entries[i].layer.forward(bottom: entries[i].bottoms, top: entries[i].tops)
    }

    private func reshapeLayer(_ i: Int) throws {
        let e = entries[i]
        do {
            try e.layer.reshape(bottom: e.bottoms, top: e.tops)
        } catch let error as any CortadoFailure {
            throw e.layer.error(error.description)
        }
    }

    public func forwardBackward() throws -> Float {
        let loss = try forward()
        try backward()
        return loss
    }

    /// Reshapes every layer after input shapes changed.
    public func reshape() throws {
        for e in entries { try e.layer.reshape(bottom: e.bottoms, top: e.tops) }
    }

    /// For a net its caller only runs forward (`test`, `classify`, `extract-features`, the
    /// solver's test nets; a backward pass would read clobbered bottoms): blobs that are never
    /// needed at the same time take their data from the same memory, so the net holds about
    /// its widest few layers at once instead of all of them. A blob is needed from the layer
    /// that writes it to the last layer that reads it. Kept apart: the outputs, the blobs
    /// named in `keeping` (what a caller reads after a forward), and the tops of layers
    /// without bottoms (data layers fill them ahead of time, or once). Returns the bytes no
    /// longer held.
    @discardableResult
    public func shareActivationMemory(keeping: Set<String> = []) throws -> Int {
        let plan = ActivationPlan(self, keeping: keeping)
        var saved = 0
        for group in plan.groups where group.members.count > 1 {
            guard let shared = SharedFloats(count: group.count) else {
                throw NetError("out of memory sharing activation memory (\(formatBytes(Double(group.count * 4))))")
            }
            for b in group.members { b.useSharedData(shared) }
            saved += (group.members.reduce(0) { $0 + $1.capacity } - group.count) * MemoryLayout<Float>.stride
        }
        return saved
    }

    /// Makes every data layer read only this rank's batches (see DataShard).
    package func shardData(_ shard: DataShard) {
        for e in entries { e.layer.shard = shard }
    }

    public func clearParamDiffs() {
        for p in learnable { p.blob.zeroDiff() }
    }

    /// The loss weight carried by blob `id` (from the top that produced it).
    public func lossWeight(of id: Int) -> Float {
        for e in entries {
            for (j, t) in e.topIDs.enumerated() where t == id && e.lossWeights[j] != 0 { return e.lossWeights[j] }
        }
        return 0
    }

    /// Makes each layer of this net use the parameter blobs of the same-named layer in
    /// `other` (test nets share the train net's weights this way).
    public func shareTrainedLayers(with other: Net) throws {
        for layer in layers where !layer.blobs.isEmpty {
            guard let source = other.layer(named: layer.name) else { continue }
            guard source.blobs.count == layer.blobs.count else {
                throw NetError("layer \"\(layer.name)\" has \(layer.blobs.count) parameter blobs in one net and \(source.blobs.count) in the other", layer: layer.name)
            }
            for j in layer.blobs.indices {
                guard source.blobs[j].shape == layer.blobs[j].shape else {
                    throw NetError("layer \"\(layer.name)\" param \(j) has shape \(layer.blobs[j].shape) in the test net but \(source.blobs[j].shape) in the train net", layer: layer.name)
                }
                layer.blobs[j] = source.blobs[j]
            }
        }
        params = params.map { p in
            ParamEntry(blob: entries[p.layer].layer.blobs[p.index], layer: p.layer, index: p.index, owner: p.owner, lrMult: p.lrMult, decayMult: p.decayMult)
        }
        learnable = params.filter { $0.owner == nil }
    }

    private func logForward(_ i: Int) {
        let e = entries[i]
        for (j, t) in e.tops.enumerated() {
            Log.info("    [Forward] Layer \(e.layer.name), top blob \(namedBlobs[e.topIDs[j]].name) data: \(caffeFloat(t.asumData / Float(max(t.count, 1))))", "net")
        }
        for (j, p) in e.layer.blobs.enumerated() {
            Log.info("    [Forward] Layer \(e.layer.name), param blob \(j) data: \(caffeFloat(p.asumData / Float(max(p.count, 1))))", "net")
        }
    }

    private func logBackward(_ i: Int) {
        let e = entries[i]
        for (j, b) in e.bottoms.enumerated() where e.bottomNeedsBackward[j] {
            Log.info("    [Backward] Layer \(e.layer.name), bottom blob \(namedBlobs[e.bottomIDs[j]].name) diff: \(caffeFloat(b.asumDiff / Float(max(b.count, 1))))", "net")
        }
        for (j, p) in e.layer.blobs.enumerated() {
            Log.info("    [Backward] Layer \(e.layer.name), param blob \(j) diff: \(caffeFloat(p.asumDiff / Float(max(p.count, 1))))", "net")
        }
    }
}

/// Which activation blobs of a forward-only net can share memory: each blob's span of layers
/// (written first .. read last), then a greedy pass in order of first use that gives each blob
/// the free group (every member's span already over) closest above its size, or else the
/// largest free group, or else a new one.
struct ActivationPlan {
    struct Group {
        var members: [Blob] = []
        /// Floats: the largest member's storage.
        var count = 0
        /// The last layer that reads any member.
        var busyUntil = -1
    }
    private(set) var groups: [Group] = []

    init(_ net: Net, keeping: Set<String>) {
        var pinned = Set(net.outputBlobs.map(ObjectIdentifier.init))
        for b in net.namedBlobs where keeping.contains(b.name) { pinned.insert(ObjectIdentifier(b.blob)) }
        // Each blob with the layers that first and last use it, in order of first use.
        var spans: [(blob: Blob, first: Int, last: Int)] = [], index: [ObjectIdentifier: Int] = [:]
        for (i, e) in net.entries.enumerated() {
            if e.bottoms.isEmpty { pinned.formUnion(e.tops.map(ObjectIdentifier.init)) }
            for b in e.bottoms + e.tops {
                if let k = index[ObjectIdentifier(b)] { spans[k].last = i; continue }
                index[ObjectIdentifier(b)] = spans.count
                spans.append((b, i, i))
            }
        }
        for (b, first, last) in spans where !pinned.contains(ObjectIdentifier(b)) {
            let need = b.capacity
            let free = groups.indices.filter { groups[$0].busyUntil < first }
            let fitting = free.filter { groups[$0].count >= need }.min { groups[$0].count < groups[$1].count }
            if let g = fitting ?? free.max(by: { groups[$0].count < groups[$1].count }) {
                groups[g].members.append(b)
                groups[g].count = max(groups[g].count, need)
                groups[g].busyUntil = last
            } else {
                groups.append(Group(members: [b], count: need, busyUntil: last))
            }
        }
    }
}
