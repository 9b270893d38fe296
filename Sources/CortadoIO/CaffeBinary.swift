import CortadoBase
import CCaffeProto
import Foundation

/// A parameter blob as a weights or state file stores it.
package struct StoredBlob: Sendable, Equatable {
    package var shape: [Int]
    /// True when the file gave the old num/channels/height/width form instead of `shape`.
    package var legacy: Bool
    package var values: [Float]

    package init(shape: [Int], legacy: Bool = false, values: [Float]) {
        self.shape = shape
        self.legacy = legacy
        self.values = values
    }

    /// A Blob holding these values (the shape checked like any shape from a file).
    package func blob() throws -> Blob {
        let blob = try Blob(checked: shape)
        guard blob.count == values.count else { throw DataError("a stored blob of shape \(shape) has \(values.count) values") }
        blob.setData(values)
        return blob
    }

    /// Caffe's Blob::ShapeEquals: exact, or for the legacy form the target right-aligned in 4 axes.
    package func fits(_ target: [Int]) -> Bool {
        guard legacy else { return shape == target }
        guard target.count <= 4 else { return false }
        return Array(repeating: 1, count: 4 - target.count) + target == shape
    }
}

/// One layer of a weights file: its name, type and parameter blobs.
package struct StoredLayer: Sendable {
    package var name: String
    package var type: String
    package var bottom: [String] = []
    package var top: [String] = []
    package var blobs: [StoredBlob]
    /// Places among `blobs` that the file does not have (HDF5 files keep only the owners of
    /// shared parameters); their entries in `blobs` are empty.
    package var absent: Set<Int> = []
}

/// A solver state in memory, whichever format it was read from.
package struct StoredSolverState: Sendable {
    package var iter: Int
    package var learnedNet: String
    package var currentStep: Int
    package var history: [StoredBlob]
    /// Cortado's own: `<net key>/<layer name>` → the layer's saved state.
    package var layerStates: [String: [Int64]]
}

/// Caffe's binary protobuf files (`.caffemodel`, `.solverstate`, `.binaryproto`, LMDB Datum)
/// read and written through protobuf-c with proto/caffe_subset.proto.
package enum CaffeBinary {
    // MARK: reading

    /// The whole file, its checksum verified when it has one (see `Checksum`).
    static func readBytes(_ path: String, what: String, verify: Bool = true) throws -> Data {
        try FileBytes.requireFile(path, what: what)
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maxBytes {
            throw DataError("\(what) \(path) is \(size) bytes; binary protobuf files are limited to 2 GB (as in Caffe and protobuf): convert it to HDF5")
        }
        let data = try FileBytes.read(path, what: what)
        guard verify else { return data }
        let payload = try data.withUnsafeBytes { try Checksum.checkBinary($0, path: path).payload }
        return payload == data.count ? data : data.prefix(payload)
    }

    /// Caffe's kProtoReadBytesLimit: protobuf messages cannot be larger.
    static let maxBytes = Int(Int32.max)


    /// Reads a binary NetParameter: modern `layer` records, or old V1 `layers` (types given
    /// as V1 enum numbers are turned into today's names).
    /// `bytes`: the file's message when the caller has read and verified it already.
    package static func readNet(_ path: String, bytes: Data? = nil) throws -> (name: String, layers: [StoredLayer]) {
        let data = try bytes ?? readBytes(path, what: "weights file")
        let parsed: UnsafeMutablePointer<Caffe__NetParameter>? = data.withUnsafeBytes {
            caffe__net_parameter__unpack(nil, $0.count, $0.bindMemory(to: UInt8.self).baseAddress)
        }
        guard let net = parsed else {
            throw DataError("\(path) is not a Caffe weights file: it is neither HDF5 nor a binary NetParameter (it may be truncated or damaged)")
        }
        defer { caffe__net_parameter__free_unpacked(net, nil) }
        var layers: [StoredLayer] = []
        let n = net.pointee
        for i in 0..<n.n_layer {
            let l = n.layer[i]!.pointee
            layers.append(StoredLayer(name: string(l.name), type: string(l.type), bottom: strings(l.bottom, l.n_bottom),
                                      top: strings(l.top, l.n_top), blobs: try blobs(l.blobs, l.n_blobs, path)))
        }
        for i in 0..<n.n_layers {
            let l = n.layers[i]!.pointee
            if let v0 = l.layer {
                let v = v0.pointee
                layers.append(StoredLayer(name: string(v.name), type: string(v.type), blobs: try blobs(v.blobs, v.n_blobs, path)))
                continue
            }
            let type = l.has_type != 0 ? V1LayerType.typeName(forEnum: Int(l.type)) : ""
            layers.append(StoredLayer(name: string(l.name), type: type, bottom: strings(l.bottom, l.n_bottom),
                                      top: strings(l.top, l.n_top), blobs: try blobs(l.blobs, l.n_blobs, path)))
        }
        guard !layers.isEmpty else {
            throw DataError("\(path) holds no layers, so it is not a Caffe weights file (or it is damaged)")
        }
        return (string(n.name), layers)
    }

    static func string(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

    static func strings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ n: Int) -> [String] {
        (0..<n).map { string(p![$0]) }
    }

    static func blobs(_ p: UnsafeMutablePointer<UnsafeMutablePointer<Caffe__BlobProto>?>?, _ n: Int, _ path: String) throws -> [StoredBlob] {
        try (0..<n).map { try blob(p![$0]!.pointee, path) }
    }

    static func blob(_ b: Caffe__BlobProto, _ path: String) throws -> StoredBlob {
        var shape: [Int], legacy = false
        if let s = b.shape {
            shape = (0..<s.pointee.n_dim).map { Int(s.pointee.dim[$0]) }
        } else {
            shape = [Int(b.num), Int(b.channels), Int(b.height), Int(b.width)]
            legacy = true
        }
        guard let count = checkedCount(shape) else { throw DataError("\(path) has a blob with an impossible shape \(shape): the file is damaged") }
        var values: [Float]
        if b.n_data > 0 {
            values = Array(UnsafeBufferPointer(start: b.data, count: b.n_data))
        } else if b.n_double_data > 0 {
            values = UnsafeBufferPointer(start: b.double_data, count: b.n_double_data).map { Float($0) }
        } else {
            values = []
        }
        guard values.count == count else {
            throw DataError("\(path) has a blob of shape \(shape) with \(values.count) values instead of \(count): the file is damaged")
        }
        return StoredBlob(shape: shape, legacy: legacy, values: values)
    }

    /// A `.binaryproto` BlobProto (a mean file).
    package static func readBlob(_ path: String, bytes: Data? = nil) throws -> StoredBlob {
        let data = try bytes ?? readBytes(path, what: "blob file")
        let parsed: UnsafeMutablePointer<Caffe__BlobProto>? = data.withUnsafeBytes {
            caffe__blob_proto__unpack(nil, $0.count, $0.bindMemory(to: UInt8.self).baseAddress)
        }
        guard let b = parsed else { throw DataError("\(path) is not a binary BlobProto (mean file): it is damaged or of another kind") }
        defer { caffe__blob_proto__free_unpacked(b, nil) }
        let stored = try blob(b.pointee, path)
        guard !stored.values.isEmpty else { throw DataError("\(path) holds a blob with no values, so it is not a mean file (or it is damaged)") }
        return stored
    }

    package static func readSolverState(_ path: String, bytes: Data? = nil) throws -> StoredSolverState {
        let data = try bytes ?? readBytes(path, what: "solver state")
        let parsed: UnsafeMutablePointer<Caffe__SolverState>? = data.withUnsafeBytes {
            caffe__solver_state__unpack(nil, $0.count, $0.bindMemory(to: UInt8.self).baseAddress)
        }
        guard let s = parsed, s.pointee.has_iter != 0 else {
            if let s = parsed { caffe__solver_state__free_unpacked(s, nil) }
            throw DataError("\(path) is not a Caffe solver state (.solverstate): it is damaged or of another kind")
        }
        defer { caffe__solver_state__free_unpacked(s, nil) }
        let v = s.pointee
        var states: [String: [Int64]] = [:]
        for i in 0..<v.n_cortado_layer_state {
            let e = v.cortado_layer_state[i]!.pointee
            states[string(e.key)] = Array(UnsafeBufferPointer(start: e.values, count: e.n_values))
        }
        return StoredSolverState(iter: Int(v.iter), learnedNet: string(v.learned_net), currentStep: Int(v.current_step),
                               history: try blobs(v.history, v.n_history, path), layerStates: states)
    }

    // MARK: writing

    /// Keeps C allocations alive until the message is packed, then frees them.
    final class Arena {
        private var allocations: [UnsafeMutableRawPointer] = []
        private var cStrings: [UnsafeMutablePointer<CChar>] = []

        func alloc<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }

        func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = strdup(s)!
            cStrings.append(p)
            return p
        }

        func cStrings(_ list: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
            let p = alloc(UnsafeMutablePointer<CChar>?.self, count: list.count)
            for (i, s) in list.enumerated() { p[i] = cString(s) }
            return p
        }

        /// A BlobProto with `shape` pointing at `values` (which must outlive the pack).
        func blob(shape: [Int], values: UnsafePointer<Float>, count: Int) -> UnsafeMutablePointer<Caffe__BlobProto> {
            let b = alloc(Caffe__BlobProto.self)
            caffe__blob_proto__init(b)
            let s = alloc(Caffe__BlobShape.self)
            caffe__blob_shape__init(s)
            let dims = alloc(Int64.self, count: shape.count)
            for (i, d) in shape.enumerated() { dims[i] = Int64(d) }
            s.pointee.n_dim = shape.count
            s.pointee.dim = dims
            b.pointee.shape = s
            b.pointee.n_data = count
            b.pointee.data = UnsafeMutablePointer(mutating: values)
            return b
        }

        deinit {
            for p in allocations { p.deallocate() }
            for p in cStrings { free(p) }
        }
    }

    static func pack(_ message: UnsafeMutablePointer<ProtobufCMessage>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: protobuf_c_message_get_packed_size(message))
        _ = out.withUnsafeMutableBufferPointer { protobuf_c_message_pack(message, $0.baseAddress) }
        return out
    }

    /// A binary NetParameter with every layer and all its blobs, as Caffe's Net::ToProto.
    package static func encodeNet(name: String, layers: [(name: String, type: String, bottom: [String], top: [String], blobs: [Blob])]) -> [UInt8] {
        let arena = Arena()
        let net = arena.alloc(Caffe__NetParameter.self)
        caffe__net_parameter__init(net)
        net.pointee.name = arena.cString(name)
        let list = arena.alloc(UnsafeMutablePointer<Caffe__LayerParameter>?.self, count: layers.count)
        for (i, l) in layers.enumerated() {
            let p = arena.alloc(Caffe__LayerParameter.self)
            caffe__layer_parameter__init(p)
            p.pointee.name = arena.cString(l.name)
            p.pointee.type = arena.cString(l.type)
            p.pointee.n_bottom = l.bottom.count
            p.pointee.bottom = arena.cStrings(l.bottom)
            p.pointee.n_top = l.top.count
            p.pointee.top = arena.cStrings(l.top)
            let blobs = arena.alloc(UnsafeMutablePointer<Caffe__BlobProto>?.self, count: l.blobs.count)
            for (j, b) in l.blobs.enumerated() { blobs[j] = arena.blob(shape: b.shape, values: b.data, count: b.count) }
            p.pointee.n_blobs = l.blobs.count
            p.pointee.blobs = blobs
            list[i] = p
        }
        net.pointee.n_layer = layers.count
        net.pointee.layer = list
        return net.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { pack($0) }
    }

    /// Encodes stored layers (e.g. read from HDF5) as a binary NetParameter.
    package static func encodeNet(name: String, stored: [StoredLayer]) throws -> [UInt8] {
        if let gap = stored.first(where: { !$0.absent.isEmpty }) {
            throw DataError("layer \"\(gap.name)\" stores only some of its parameters (shared ones are kept by their owner), which a binary caffemodel cannot express; convert a net's own snapshot instead")
        }
        let blobs = try stored.map { l in try l.blobs.map { try $0.blob() } }
        return encodeNet(name: name, layers: stored.enumerated().map { i, l in (l.name, l.type, l.bottom, l.top, blobs[i]) })
    }

    package static func encodeSolverState(iter: Int, learnedNet: String, currentStep: Int, history: [Blob], layerStates: [(String, [Int64])]) -> [UInt8] {
        let arena = Arena()
        let s = arena.alloc(Caffe__SolverState.self)
        caffe__solver_state__init(s)
        s.pointee.has_iter = 1
        s.pointee.iter = Int32(truncatingIfNeeded: iter)
        s.pointee.learned_net = arena.cString(learnedNet)
        s.pointee.has_current_step = 1
        s.pointee.current_step = Int32(truncatingIfNeeded: currentStep)
        let h = arena.alloc(UnsafeMutablePointer<Caffe__BlobProto>?.self, count: history.count)
        for (i, b) in history.enumerated() { h[i] = arena.blob(shape: b.shape, values: b.data, count: b.count) }
        s.pointee.n_history = history.count
        s.pointee.history = h
        let states = arena.alloc(UnsafeMutablePointer<Caffe__CortadoLayerState>?.self, count: layerStates.count)
        for (i, (key, values)) in layerStates.enumerated() {
            let e = arena.alloc(Caffe__CortadoLayerState.self)
            caffe__cortado_layer_state__init(e)
            e.pointee.key = arena.cString(key)
            let v = arena.alloc(Int64.self, count: values.count)
            for (k, x) in values.enumerated() { v[k] = x }
            e.pointee.n_values = values.count
            e.pointee.values = v
            states[i] = e
        }
        s.pointee.n_cortado_layer_state = layerStates.count
        s.pointee.cortado_layer_state = states
        return s.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { pack($0) }
    }

    /// A BlobProto with the old 4-D fields as well as `shape`, as Caffe's compute_image_mean writes.
    package static func encodeBlob(_ blob: Blob, legacy4D: Bool = false) -> [UInt8] {
        let arena = Arena()
        let b = arena.blob(shape: blob.shape, values: blob.data, count: blob.count)
        if legacy4D && blob.numAxes == 4 {
            b.pointee.shape = nil
            (b.pointee.has_num, b.pointee.num) = (1, Int32(blob.shape[0]))
            (b.pointee.has_channels, b.pointee.channels) = (1, Int32(blob.shape[1]))
            (b.pointee.has_height, b.pointee.height) = (1, Int32(blob.shape[2]))
            (b.pointee.has_width, b.pointee.width) = (1, Int32(blob.shape[3]))
        }
        return b.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { pack($0) }
    }

    /// Writes bytes atomically: a temporary file beside the target, fsync, rename(2).
    /// Writes a binary protobuf file with its checksum field appended, atomically.
    package static func atomicWrite(_ bytes: [UInt8], to path: String) throws {
        try AtomicFile.write(Checksum.sealed(bytes), to: path)
    }

}
