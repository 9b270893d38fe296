import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ArgMaxParameter.
package struct ArgMaxParameter: LayerSettings {
    package static let field = "argmax_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "out_max_val:bool top_k:int axis:int"
    package var outMaxVal = false
    package var topK = 1
    /// nil: over all values of each example, Caffe's default.
    package var axis: Int? = nil

    package init(_ p: ConfigNode) throws {
        outMaxVal = p.bool("out_max_val") ?? outMaxVal
        topK = p.int("top_k") ?? topK
        axis = p.int("axis")
        guard topK >= 1 else { throw p.error("top_k must be at least 1", field: "top_k") }
    }
}

/// ArgMax: the indices (and with out_max_val the values) of the top_k largest entries, per
/// example over all its values, or along `axis`. It has no gradient.
final class ArgMaxLayer: Layer {
    private let settings: ArgMaxParameter
    private var topK: Int { settings.topK }
    private var outMaxVal: Bool { settings.outMaxVal }
    private var axis: Int?
    private var outer = 1, dim = 1, inner = 1
    private var order: [Int] = []

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    override var hasBackward: Bool { false }

    /// ArgMax along the axis, or Caffe's index in each example's flattened values (N×1×1), as float.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s = settings, x = inputs[0]
        guard s.topK == 1, !s.outMaxVal else { throw ExportError("only top_k 1 without out_max_val is exported (ONNX's ArgMax gives one index)") }
        let index = graph.unique("\(name)_index")
        if let given = s.axis {
            graph.node("ArgMax", "\(name)/ArgMax", [x], [index], [("axis", .int(try graph.axis(given, rank: graph.bottomShapes[0].count))), ("keepdims", .int(1))])
        } else {
            let flat = graph.unique("\(name)_flat"), found = graph.unique("\(name)_found")
            graph.node("Flatten", "\(name)/Flatten", [x], [flat], [("axis", .int(1))])
            graph.node("ArgMax", "\(name)/ArgMax", [flat], [found], [("axis", .int(1)), ("keepdims", .int(1))])
            graph.node("Reshape", "\(name)/Reshape", [found, graph.constant("\(name)_shape", int64s: [0, 1, 1])], [index])
        }
        graph.single("Cast", name, [index], [("to", .int(1))])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        if let requested = settings.axis {
            let a = try canonicalAxis(requested, of: b)
            axis = a
            (outer, dim, inner) = (b.count(0, a), b.shape[a], b.count(a + 1))
            var shape = b.shape
            shape[a] = topK
            try top[0].reshape(shape)
        } else {
            axis = nil
            (outer, dim, inner) = (b.shape.first ?? 1, b.count(1), 1)
            try top[0].reshape([outer, outMaxVal ? 2 : 1, topK])
        }
        guard topK >= 1, topK <= dim else { throw error("top_k \(topK) must be between 1 and the \(dim) values it chooses from") }
        if order.count != dim { order = Array(0..<dim) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * dim * inner + i
                for k in 0..<dim { order[k] = k }
                // Largest first; ties keep the lower index first, as std::partial_sort on pairs does not promise.
                order.sort { x[base + $0 * inner] > x[base + $1 * inner] || (x[base + $0 * inner] == x[base + $1 * inner] && $0 < $1) }
                for k in 0..<topK {
                    let index = order[k], value = x[base + index * inner]
                    if axis == nil {
                        y[o * (outMaxVal ? 2 : 1) * topK + k] = Float(index)
                        if outMaxVal { y[o * 2 * topK + topK + k] = value }
                    } else {
                        y[(o * topK + k) * inner + i] = outMaxVal ? value : Float(index)
                    }
                }
            }
        }
    }
}
