import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// Where nets made from Python draw their fillers: a clock seed, or `set_random_seed`'s.
enum Seeds {
    nonisolated(unsafe) private static var stream = RNG(seed: RNG.clockSeed())
    nonisolated(unsafe) private static var fixed: Int64?
    private static let lock = NSLock()

    static func set(_ seed: Int64) {
        lock.lock(); defer { lock.unlock() }
        fixed = seed
        stream = RNG(seed: UInt64(bitPattern: seed))
    }

    /// The seed `set_random_seed` gave, if it was called.
    static func fixedSeed() -> Int64? {
        lock.lock(); defer { lock.unlock() }
        return fixed
    }

    /// A stream of its own for the next net.
    static func next() -> RNG {
        lock.lock(); defer { lock.unlock() }
        return RNG(seed: stream.next())
    }
}

@_cdecl("cortado_set_random_seed")
public func cortado_set_random_seed(_ seed: Int64) { Seeds.set(seed) }

/// `caffe.Net(model, phase, level=, stages=, weights=)`: phase 0 is TRAIN, 1 TEST, as in
/// caffe.proto; `stages` is a JSON list of names; `weights` may be null.
@_cdecl("cortado_net_new")
public func cortado_net_new(_ model: UnsafePointer<CChar>, _ phase: Int32, _ level: Int32, _ stages: UnsafePointer<CChar>?,
                            _ weights: UnsafePointer<CChar>?) -> UnsafeMutableRawPointer? {
    made {
        let param = try NetParameter.load(file: String(cString: model))
        var state = param.state(in: phase == 0 ? .train : .test)
        state.level = Int(level)
        state.stages += try stageList(string(stages))
        var rng = Seeds.next()
        let net = try Net(param, state: state, rng: &rng, verbose: false)
        if let w = string(weights) { try Snapshot.loadWeights(net, from: w) }
        return net
    }
}

private func stageList(_ json: String?) throws -> [String] {
    guard let json, !json.isEmpty else { return [] }
    guard let list = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] else {
        throw UsageError("stages must be a list of names")
    }
    return list
}

/// The net's structure as JSON: name; layers (name, type, bottoms, tops as blob indices, and
/// how many parameter blobs); blob names and loss weights; input and output blob indices.
@_cdecl("cortado_net_describe")
public func cortado_net_describe(_ n: UnsafeMutableRawPointer) -> UnsafeMutablePointer<CChar> {
    let net: Net = object(n)
    let layers: [[String: Any]] = net.entries.map { e in
        ["name": e.layer.name, "type": e.layer.type, "bottoms": e.bottomIDs, "tops": e.topIDs,
         "blobs": e.layer.blobs.count, "python": (e.layer as? PythonLayer)?.pythonInstance ?? -1]
    }
    let inputs = net.entries.filter { $0.layer.type == "Input" }.flatMap(\.topIDs)
    return cJSON(["name": net.name, "layers": layers, "blobs": net.blobNames,
                  "loss_weights": net.namedBlobs.indices.map { Double(net.lossWeight(of: $0)) },
                  "inputs": inputs, "outputs": net.outputBlobIDs])
}

@_cdecl("cortado_net_blob")
public func cortado_net_blob(_ n: UnsafeMutableRawPointer, _ i: Int32) -> UnsafeMutableRawPointer? {
    made { try element(object(n, as: Net.self).blobs, i, "blob") }
}

@_cdecl("cortado_net_layer")
public func cortado_net_layer(_ n: UnsafeMutableRawPointer, _ i: Int32) -> UnsafeMutableRawPointer? {
    made { try element(object(n, as: Net.self).layers, i, "layer") }
}

@_cdecl("cortado_layer_blob_count")
public func cortado_layer_blob_count(_ l: UnsafeMutableRawPointer) -> Int32 {
    Int32(object(l, as: Layer.self).blobs.count)
}

@_cdecl("cortado_layer_blob")
public func cortado_layer_blob(_ l: UnsafeMutableRawPointer, _ j: Int32) -> UnsafeMutableRawPointer? {
    made { try element(object(l, as: Layer.self).blobs, j, "parameter blob") }
}

/// Blob handles from Python (`bottom` and `top` lists of `layer.setup`/`layer.reshape`).
private func blobList(_ handles: UnsafePointer<UnsafeMutableRawPointer?>?, _ n: Int32) throws -> [Blob] {
    guard n > 0 else { return [] }
    guard let handles else { throw UsageError("no blobs given") }
    return try (0..<Int(n)).map { i in
        guard let h = handles[i] else { throw UsageError("blob \(i) is None") }
        return object(h, as: Blob.self)
    }
}

/// pycaffe's `layer.setup(bottom, top)` (Caffe's LayerSetUp). A layer that has parameter
/// blobs keeps them, as Caffe then skips their initialization, and their shapes must still fit.
@_cdecl("cortado_layer_setup")
public func cortado_layer_setup(_ l: UnsafeMutableRawPointer, _ bottoms: UnsafePointer<UnsafeMutableRawPointer?>?, _ nb: Int32,
                                _ tops: UnsafePointer<UnsafeMutableRawPointer?>?, _ nt: Int32) -> Int32 {
    status {
        let layer = object(l, as: Layer.self)
        let kept = layer.blobs
        let context = LayerContext(rng: Seeds.next(), phase: layer.phase)
        context.fillParameters = kept.isEmpty
        defer { if !kept.isEmpty { layer.blobs = kept } }
        try layer.setUp(bottom: blobList(bottoms, nb), top: blobList(tops, nt), context: context)
        if !kept.isEmpty && kept.map(\.shape) != layer.blobs.map(\.shape) {
            throw UsageError("layer \"\(layer.name)\": these bottoms need parameter shapes \(layer.blobs.map(\.shape)), "
                             + "but the layer holds \(kept.map(\.shape))")
        }
    }
}

/// pycaffe's `layer.reshape(bottom, top)`: the tops take the shapes the bottoms imply.
@_cdecl("cortado_layer_reshape")
public func cortado_layer_reshape(_ l: UnsafeMutableRawPointer, _ bottoms: UnsafePointer<UnsafeMutableRawPointer?>?, _ nb: Int32,
                                  _ tops: UnsafePointer<UnsafeMutableRawPointer?>?, _ nt: Int32) -> Int32 {
    status { try object(l, as: Layer.self).reshape(bottom: blobList(bottoms, nb), top: blobList(tops, nt)) }
}

/// `self.blobs.add_blob(*shape)` inside a Python layer's setup.
@_cdecl("cortado_layer_add_blob")
public func cortado_layer_add_blob(_ l: UnsafeMutableRawPointer, _ dims: UnsafePointer<Int64>?, _ n: Int32) -> UnsafeMutableRawPointer? {
    made {
        guard let layer = object(l, as: Layer.self) as? PythonLayer else { throw UsageError("only Python layers add blobs") }
        return try layer.addBlob(shape(dims, n))
    }
}

/// Layers start...end forward (Caffe's ForwardFromTo); the loss goes to `loss`.
@_cdecl("cortado_net_forward")
public func cortado_net_forward(_ n: UnsafeMutableRawPointer, _ start: Int32, _ end: Int32, _ loss: UnsafeMutablePointer<Float>) -> Int32 {
    status { loss.pointee = try object(n, as: Net.self).forward(from: Int(start), to: Int(end)) }
}

/// Layers start down to end backward (Caffe's BackwardFromTo).
@_cdecl("cortado_net_backward")
public func cortado_net_backward(_ n: UnsafeMutableRawPointer, _ start: Int32, _ end: Int32) -> Int32 {
    status { try object(n, as: Net.self).backward(from: Int(start), to: Int(end)) }
}

@_cdecl("cortado_net_reshape")
public func cortado_net_reshape(_ n: UnsafeMutableRawPointer) -> Int32 {
    status { try object(n, as: Net.self).reshape() }
}

@_cdecl("cortado_net_clear_param_diffs")
public func cortado_net_clear_param_diffs(_ n: UnsafeMutableRawPointer) {
    object(n, as: Net.self).clearParamDiffs()
}

/// Weights by layer name from a `.caffemodel` or `.caffemodel.h5` (CopyTrainedLayersFrom).
@_cdecl("cortado_net_copy_from")
public func cortado_net_copy_from(_ n: UnsafeMutableRawPointer, _ path: UnsafePointer<CChar>) -> Int32 {
    status { try Snapshot.loadWeights(object(n), from: String(cString: path)) }
}

/// `share_with`: this net's layers use the parameter blobs of the same-named layers of `other`.
@_cdecl("cortado_net_share_with")
public func cortado_net_share_with(_ n: UnsafeMutableRawPointer, _ other: UnsafeMutableRawPointer) -> Int32 {
    status { try object(n, as: Net.self).shareTrainedLayers(with: object(other)) }
}

/// Writes the weights: a binary NetParameter (`save`), or Caffe's HDF5 layout (hdf5 1).
@_cdecl("cortado_net_save")
public func cortado_net_save(_ n: UnsafeMutableRawPointer, _ path: UnsafePointer<CChar>, _ hdf5: Int32) -> Int32 {
    status {
        let net: Net = object(n), file = String(cString: path)
        if hdf5 != 0 { try Snapshot.saveWeights(net, to: file) } else { try Snapshot.saveWeightsBinary(net, to: file) }
    }
}
