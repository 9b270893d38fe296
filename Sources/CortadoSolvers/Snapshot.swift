import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import Foundation

/// Weights and solver state in Caffe's HDF5 layout, written atomically (temporary file beside
/// the target, flushed, then rename(2)), so a kill mid-write leaves the previous file whole.
public enum Snapshot {
    // MARK: weights

    /// `data/<layer name>/<i>` for every parameter a layer owns; every layer gets a group.
    public static func saveWeights(_ net: Net, to path: String) throws {
        try SnapshotFile.atomicWrite(path) { file in
            try file.createGroup("data")
            // Weights trained in another precision than Caffe's say so; Caffe reads only data/.
            if Precision.current != .fp32 { try file.write("cortado_precision", string: Precision.current.rawValue) }
            var owned: Set<ObjectIdentifier> = []
            for layer in net.layers {
                let group = "data/\(layer.name)"
                try file.createGroup(group)
                for (j, b) in layer.blobs.enumerated() where owned.insert(ObjectIdentifier(b)).inserted {
                    try file.write("\(group)/\(j)", shape: b.shape, floats: b.data)
                }
            }
        }
    }

    /// Copies weights by layer name from a weights file of either format (Caffe's
    /// CopyTrainedLayersFrom): read whole into memory, then copied by `copy`. Layers the file
    /// lacks keep their fillers and are returned; a blob whose shape does not fit is an error
    /// that names the layer and both shapes.
    @discardableResult
    public static func loadWeights(_ net: Net, from path: String) throws -> (missing: [String], ignored: [String]) {
        try copy(WeightsFile.read(path).layers, into: net, from: path)
    }

    /// Copies stored layers into the net by name: a later layer of the same name overrides an
    /// earlier one; each of the layer's blobs must be in the file unless it is shared from
    /// another layer (Caffe's HDF5 files store only owners); shapes must match exactly or in the
    /// old 4-D form.
    static func copy(_ stored: [StoredLayer], into net: Net, from path: String) throws -> (missing: [String], ignored: [String]) {
        var byName: [String: StoredLayer] = [:]
        for l in stored { byName[l.name] = l }
        var missing: [String] = []
        for (layerID, entry) in net.entries.enumerated() where !entry.layer.blobs.isEmpty {
            let layer = entry.layer
            guard let source = byName[layer.name] else { missing.append(layer.name); continue }
            guard source.blobs.count <= layer.blobs.count else {
                throw NetError("incompatible number of blobs for layer \"\(layer.name)\": \(path) has \(source.blobs.count), the net has \(layer.blobs.count)", layer: layer.name)
            }
            for (j, blob) in layer.blobs.enumerated() {
                guard j < source.blobs.count, !source.absent.contains(j) else {
                    if isShared(net, layerID, j) { continue }
                    throw NetError("incompatible number of blobs for layer \"\(layer.name)\": \(path) lacks param \(j) (it has \(source.blobs.count - source.absent.count), the net has \(layer.blobs.count))", layer: layer.name)
                }
                let s = source.blobs[j]
                guard s.fits(blob.shape) else {
                    throw NetError("cannot copy param \(j) of layer \"\(layer.name)\" from \(path): shape mismatch. The file has \(shapeText(s.shape))\(s.legacy ? " (old num/channels/height/width form)" : ""); the net needs \(shapeText(blob.shape)). To learn this layer's parameters from scratch rather than copying them, rename the layer.", layer: layer.name)
                }
                blob.setData(s.values)
            }
        }
        let ignored = stored.map(\.name).filter { net.layer(named: $0) == nil }
        return (missing, ignored)
    }

    static func isShared(_ net: Net, _ layerID: Int, _ j: Int) -> Bool {
        net.params.first { $0.layer == layerID && $0.index == j }?.owner != nil
    }
    static func shapeText(_ s: [Int]) -> String {
        s.map(String.init).joined(separator: " ") + " (\(s.reduce(1, *)))"
    }

    // MARK: solver state

    /// Caffe's datasets (`iter`, `learned_net`, `current_step`, `history/<i>`) plus Cortado's
    /// own under `cortado/` (data positions and random streams), which Caffe ignores.
    static func saveState(_ solver: Solver, to path: String, learnedNet: String) throws {
        try SnapshotFile.atomicWrite(path) { file in
            try file.write("iter", int: solver.iter)
            try file.write("learned_net", string: learnedNet)
            try file.write("current_step", int: solver.currentStep)
            try file.createGroup("history")
            for (i, h) in solver.history.enumerated() {
                try file.write("history/\(i)", shape: h.shape, floats: h.data)
            }
            for (key, net) in solver.statefulNets {
                for layer in net.layers {
                    let state = layer.saveState()
                    if !state.isEmpty { try file.write("cortado/\(key)/\(SnapshotFile.escape(layer.name))", int64s: state) }
                }
            }
        }
    }

    /// A binary NetParameter with every layer and its blobs, as Caffe's Net::ToProto.
    public static func saveWeightsBinary(_ net: Net, to path: String) throws {
        let layers = net.layers.map { ($0.name, $0.type, $0.param.bottom, $0.param.top, $0.blobs) }
        try CaffeBinary.atomicWrite(CaffeBinary.encodeNet(name: net.name, layers: layers), to: path)
    }

    static func saveStateBinary(_ solver: Solver, to path: String, learnedNet: String) throws {
        var states: [(String, [Int64])] = []
        for (key, net) in solver.statefulNets {
            for layer in net.layers {
                let s = layer.saveState()
                if !s.isEmpty { states.append(("\(key)/\(layer.name)", s)) }
            }
        }
        let bytes = CaffeBinary.encodeSolverState(iter: solver.iter, learnedNet: learnedNet, currentStep: solver.currentStep,
                                                  history: solver.history, layerStates: states)
        try CaffeBinary.atomicWrite(bytes, to: path)
    }

    /// Resumes `solver` from a state file of either format: history, the weights it names, and
    /// where each data layer and random stream stood. Returns the iteration and lr step.
    static func loadState(_ path: String, into solver: Solver) throws -> (iter: Int, currentStep: Int) {
        let state = try SnapshotFile.readState(path)
        guard state.history.count == solver.history.count else {
            throw TrainingError("\(path) holds \(state.history.count) history blobs but this solver (\(solver.param.type)) needs \(solver.history.count); was it written for another net or solver type?")
        }
        for (i, h) in solver.history.enumerated() {
            guard state.history[i].values.count == h.count else {
                throw TrainingError("history blob \(i) in \(path) has shape \(state.history[i].shape), but the parameter has shape \(h.shape)")
            }
            h.setData(state.history[i].values)
        }
        if !state.learnedNet.isEmpty {
            let weights = try SnapshotFile.locate(state.learnedNet, besides: path)
            Log.info("Restoring weights from \(weights)", "solver")
            try loadWeights(solver.net, from: weights)
        }
        for (key, net) in solver.statefulNets {
            for layer in net.layers {
                if let s = state.layerStates["\(key)/\(layer.name)"] { try layer.restoreState(s) }
            }
        }
        return (state.iter, state.currentStep)
    }


}

extension Net {
    /// What to do about layers that none of the weight files has weights for.
    public enum MissingWeights: Sendable {
        /// They keep their fillers, and a warning names them (test, classify, extract-features).
        case warn
        /// An error names them (an export must not ship fillers).
        case refuse
    }

    /// The net of `model` in `state` (TEST by default) with the weight files applied in order,
    /// as `test`, `classify`, `extract-features` and `export-onnx` run it. A layer counts as
    /// missing only when no file has it (a later file may fill what an earlier one lacks).
    public static func withWeights(model: String, weights: [String], state: NetState = NetState(phase: .test),
                                   missing: MissingWeights = .warn, verbose: Bool = false) throws -> Net {
        var rng = RNG(seed: 1701)
        let net = try Net(try NetParameter.load(file: model), state: state, rng: &rng, verbose: verbose)
        var uncovered: Set<String>? = nil
        for file in weights {
            let lacking = Set(try Snapshot.loadWeights(net, from: file).missing)
            uncovered = uncovered.map { $0.intersection(lacking) } ?? lacking
        }
        let names = net.layers.map(\.name).filter { uncovered?.contains($0) == true }
        guard !names.isEmpty else { return net }
        let files = weights.joined(separator: ", ")
        switch missing {
        case .warn: Log.warning("layers not in \(files) keep their initial values: \(names.joined(separator: ", "))", "net")
        case .refuse: throw NetError("\(files) has no weights for \(names.joined(separator: ", ")); an export needs every layer's")
        }
        return net
    }
}
