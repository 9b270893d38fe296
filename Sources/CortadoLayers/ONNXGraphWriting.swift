import CortadoBase

/// What a layer needs to write itself into an ONNX graph (`cortado export-onnx`):
/// CortadoExport's graph builder implements it, and each layer's `writeONNX` override uses
/// it, so a layer's export lives in the layer's own file. Shapes are the built net's, so the
/// nodes never recompute what Caffe decided.
public protocol ONNXGraphWriting {
    /// The shapes of the layer's bottoms and tops in the built net.
    var bottomShapes: [[Int]] { get }
    var topShapes: [[Int]] { get }
    /// Fresh value names for the layer's tops, in order; ask once, for the values the layer's
    /// last nodes produce.
    mutating func tops() -> [String]
    /// A value name no other value or constant has, from `base`.
    mutating func unique(_ base: String) -> String
    /// A node: an ONNX operator from value names to value names.
    mutating func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String], _ attributes: [(String, ONNXAttribute)])
    /// A float constant (weights, slopes), named after `base`; returns its value name.
    mutating func constant(_ base: String, floats: [Float], dims: [Int]) -> String
    /// An int64 vector constant (shapes, axes, pads).
    mutating func constant(_ base: String, int64s: [Int64]) -> String
}

/// An ONNX node attribute.
public enum ONNXAttribute: Sendable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case string(String)
}

/// Helpers the layers' exports share, built on the requirements.
extension ONNXGraphWriting {
    /// A node without attributes.
    public mutating func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String]) {
        node(op, name, inputs, outputs, [])
    }

    /// The layer's last node: `op` from `inputs` to the layer's tops.
    public mutating func single(_ op: String, _ name: String, _ inputs: [String], _ attributes: [(String, ONNXAttribute)] = []) {
        let tops = tops()
        node(op, name, inputs, tops, attributes)
    }

    /// A float scalar constant.
    public mutating func scalar(_ name: String, _ v: Float) -> String { constant(name, floats: [v], dims: []) }

    /// Caffe's axis (negative from the end) for a blob of rank `rank`.
    public func axis(_ a: Int, rank: Int) throws -> Int {
        guard a >= -rank && a < rank else { throw ExportError("axis \(a) is out of range for a \(rank)-D input") }
        return a < 0 ? a + rank : a
    }

    /// A two-input node writing a fresh value (`into` a given one when it is the layer's top).
    public mutating func binary(_ op: String, _ a: String, _ b: String, _ name: String, into out: String? = nil) -> String {
        let result = out ?? unique("\(name)_\(op.lowercased())")
        node(op, out == nil ? "\(name)/\(op)" : name, [a, b], [result])
        return result
    }

    /// shift + scale·x, with only the nodes that change something.
    public mutating func affine(_ x: String, scale: Float, shift: Float, _ name: String) -> String {
        var v = x
        if scale != 1 { v = binary("Mul", v, scalar("\(name)_scale", scale), name) }
        if shift != 0 { v = binary("Add", v, scalar("\(name)_shift", shift), name) }
        return v
    }

    /// Caffe's pooling with the output size Caffe chose (ceil rounding, last window clipped):
    /// the end pads are whatever makes ONNX's floor rounding give that size. MAX ignores pads
    /// in both. AVE divides by the window clipped to the padded image: the pads are written
    /// out as zeros (they count), and the extra end pads are left out of the count.
    public mutating func pool(_ x: String, max isMax: Bool, kernel: (h: Int, w: Int), pad: (h: Int, w: Int), stride: (h: Int, w: Int),
                              input: (h: Int, w: Int), output out: (h: Int, w: Int), _ name: String, into result: String) throws {
        let endH = (out.h - 1) * stride.h + kernel.h - input.h - pad.h, endW = (out.w - 1) * stride.w + kernel.w - input.w - pad.w
        guard endH >= 0, endW >= 0 else { throw ExportError("the pooling windows do not reach the image's end; no ONNX padding gives Caffe's \(out.h)×\(out.w) output") }
        let attributes: [(String, ONNXAttribute)] = [("kernel_shape", .ints([kernel.h, kernel.w])), ("strides", .ints([stride.h, stride.w]))]
        if isMax {
            node("MaxPool", name, [x], [result], attributes + [("pads", .ints([pad.h, pad.w, endH, endW]))])
            return
        }
        var source = x
        if pad.h > 0 || pad.w > 0 {
            source = unique("\(name)_padded")
            node("Pad", "\(name)/Pad", [x, constant("\(name)_pads", int64s: [0, 0, pad.h, pad.w, 0, 0, pad.h, pad.w].map(Int64.init))], [source])
        }
        let extraH = Swift.max(0, endH - pad.h), extraW = Swift.max(0, endW - pad.w)
        guard (input.h + 2 * pad.h + extraH - kernel.h) / stride.h + 1 == out.h, (input.w + 2 * pad.w + extraW - kernel.w) / stride.w + 1 == out.w else {
            throw ExportError("no ONNX average pooling gives Caffe's \(out.h)×\(out.w) output here")
        }
        node("AveragePool", name, [source], [result], attributes + [("pads", .ints([0, 0, extraH, extraW])), ("count_include_pad", .int(0))])
    }
}

extension ONNXGraphWriting {
    /// Scale (× gamma, + beta) and Bias (+ beta): a parameter, or the second bottom, spans
    /// axes axis…axis+k−1 of the first and broadcasts over the rest.
    mutating func scaleOrBias(_ layer: Layer, _ x: [String], isScale: Bool, axis axisGiven: Int, numAxes: Int, biasTerm: Bool) throws {
        let name = layer.name
        let rank = bottomShapes[0].count
        let a = try axis(axisGiven, rank: rank)
        var blobs = layer.blobs[...]
        let operand: String
        if x.count > 1 {
            // The second bottom: give it trailing axes of length 1 so it lines up from axis a.
            let k = bottomShapes[1].count, extra = rank - a - k
            if extra > 0 {
                operand = unique("\(name)_unsqueezed")
                node("Unsqueeze", "\(name)/Unsqueeze", [x[1], constant("\(name)_axes", int64s: (k..<(k + extra)).map(Int64.init))], [operand])
            } else {
                operand = x[1]
            }
        } else {
            let p = blobs.removeFirst()
            let k = numAxes == -1 ? rank - a : numAxes
            operand = constant("\(name)_\(isScale ? "gamma" : "beta")", floats: p.dataArray, dims: p.shape + Array(repeating: 1, count: max(0, rank - a - k)))
        }
        if isScale && biasTerm, let beta = blobs.first {
            let k = beta.shape.count
            let scaled = binary("Mul", x[0], operand, name)
            let shift = constant("\(name)_beta", floats: beta.dataArray, dims: beta.shape + Array(repeating: 1, count: max(0, rank - a - k)))
            let tops = tops()
            _ = binary("Add", scaled, shift, name, into: tops[0])
        } else {
            let tops = tops()
            _ = binary(isScale ? "Mul" : "Add", x[0], operand, name, into: tops[0])
        }
    }

    /// Flatten and Reshape: to the top's shape, the batch dimension kept as 0 ("copy") when
    /// the layer leaves axis 0 alone, so the batch stays free.
    mutating func reshapeToTop(_ name: String, _ x: String, keepsBatch: Bool) throws {
        var dims = topShapes[0].map(Int64.init)
        if !dims.isEmpty { dims[0] = keepsBatch ? 0 : -1 }
        let shape = constant("\(name)_shape", int64s: dims)
        let tops = tops()
        node("Reshape", name, [x, shape], tops)
    }
}
