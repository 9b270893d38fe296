import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// One Caffe layer as ONNX nodes. Shapes come from the built net (Caffe's own rounding), so
/// the nodes never recompute what Caffe decided.
extension ONNXGraphBuilder {
    /// Caffe layer types this table writes (besides Input, Split and Dropout, and the layers
    /// that write themselves through `Layer.writeONNX`: ReLU, ELU, Clip, Sigmoid, TanH, AbsVal, BNLL).
    package static let exportedTypes = ["Convolution", "Deconvolution", "InnerProduct", "Pooling", "LRN", "BatchNorm", "Scale",
                                       "Bias", "Eltwise", "Concat", "Slice", "Flatten", "Reshape", "Softmax", "PReLU",
                                       "Power", "Exp", "Log", "Swish",
                                       "Crop", "ArgMax"]

    mutating func emit(_ e: LayerEntry) throws {
        let layer = e.layer, name = layer.name
        let x = try e.bottomIDs.map { try input($0) }
        switch layer.type {
        case "Convolution", "Deconvolution": try convolution(e, x[0])
        case "InnerProduct": try innerProduct(e, x[0])
        case "Pooling": try pooling(e, x[0])
        case "LRN": try lrn(e, x[0])
        case "BatchNorm": try batchNorm(e, x[0])
        case "Scale", "Bias": try scaleOrBias(e, x)
        case "Eltwise": try eltwise(e, x)
        case "Concat":
            let s: ConcatParameter = try layer.param.settings()
            node("Concat", name, x, [output(e.topIDs[0])], [("axis", .int(try axis(s.axis, e.bottoms[0])))])
        case "Slice": try slice(e, x[0])
        case "Flatten", "Reshape": try reshape(e, x[0])
        case "Softmax":
            let s: SoftmaxParameter = try layer.param.settings()
            node("Softmax", name, x, [output(e.topIDs[0])], [("axis", .int(try axis(s.axis, e.bottoms[0])))])
        case "PReLU":
            let slope = layer.blobs[0], rank = e.bottoms[0].shape.count
            let dims = slope.count == 1 ? [1] : [slope.count] + Array(repeating: 1, count: max(0, rank - 2))
            node("PRelu", name, [x[0], constant("\(name)_slope", floats: slope.dataArray, dims: dims)], [output(e.topIDs[0])])
        case "Power":
            let s: PowerParameter = try layer.param.settings()
            let v = affine(x[0], scale: s.scale, shift: s.shift, name)
            if s.power != 1 { _ = binary("Pow", v, scalar("\(name)_power", s.power), name, into: output(e.topIDs[0])) }
            else { node("Identity", name, [v], [output(e.topIDs[0])]) }
        case "Exp":
            // base^(shift + scale·x) = e^(ln(base)·shift + ln(base)·scale·x)
            let s: ExpParameter = try layer.param.settings()
            let ln: Float = s.base == -1 ? 1 : Float(Foundation.log(Double(s.base)))
            node("Exp", name, [affine(x[0], scale: s.scale * ln, shift: s.shift * ln, name)], [output(e.topIDs[0])])
        case "Log":
            // log_base(shift + scale·x) = ln(shift + scale·x) / ln(base)
            let s: LogParameter = try layer.param.settings()
            let argument = affine(x[0], scale: s.scale, shift: s.shift, name)
            if s.base == -1 {
                node("Log", name, [argument], [output(e.topIDs[0])])
            } else {
                let v = unique("\(name)_ln")
                node("Log", "\(name)/Log", [argument], [v])
                _ = binary("Mul", v, scalar("\(name)_invlnbase", 1 / Float(Foundation.log(Double(s.base)))), name, into: output(e.topIDs[0]))
            }
        case "Swish":
            let s: SwishParameter = try layer.param.settings()
            let scaled = s.beta == 1 ? x[0] : binary("Mul", x[0], scalar("\(name)_beta", s.beta), name)
            let gate = unique("\(name)_sigmoid")
            node("Sigmoid", "\(name)/Sigmoid", [scaled], [gate])
            node("Mul", name, [x[0], gate], [output(e.topIDs[0])])
        case "Crop": try crop(e, x)
        case "ArgMax": try argMax(e, x[0])
        default:
            if layer.dataSource != nil || layer.type.hasSuffix("Data") {
                throw ExportError("reads data; export a deploy net, whose images come from an Input layer")
            }
            throw ExportError("has no ONNX export (exported: Input, Split, Dropout, \(Self.exportedTypes.joined(separator: ", ")), and layers that write themselves)")
        }
    }

    // MARK: helpers

    /// Caffe's axis (negative from the end) for a blob of this rank.
    package func axis(_ a: Int, _ blob: Blob) throws -> Int {
        let rank = blob.shape.count
        guard a >= -rank && a < rank else { throw ExportError("axis \(a) is out of range for a \(rank)-D input") }
        return a < 0 ? a + rank : a
    }

    mutating func scalar(_ name: String, _ v: Float) -> String { constant(name, floats: [v], dims: []) }

    /// A two-input node writing a fresh value (`into` a given one when it is the layer's top).
    mutating func binary(_ op: String, _ a: String, _ b: String, _ name: String, into out: String? = nil) -> String {
        let result = out ?? unique("\(name)_\(op.lowercased())")
        node(op, out == nil ? "\(name)/\(op)" : name, [a, b], [result])
        return result
    }

    /// shift + scale·x, with only the nodes that change something.
    mutating func affine(_ x: String, scale: Float, shift: Float, _ name: String) -> String {
        var v = x
        if scale != 1 { v = binary("Mul", v, scalar("\(name)_scale", scale), name) }
        if shift != 0 { v = binary("Add", v, scalar("\(name)_shift", shift), name) }
        return v
    }

    func pairs(_ p: (h: Int, w: Int)) -> [Int] { [p.h, p.w] }

    // MARK: layers with parameters

    private mutating func convolution(_ e: LayerEntry, _ x: String) throws {
        let s: ConvolutionParameter = try e.layer.param.settings()
        guard e.bottoms[0].shape.count == 4, s.axis == 1 else { throw ExportError("only 2-D convolutions (N×C×H×W, axis 1) are exported") }
        let name = e.layer.name
        var inputs = [x, constant("\(name)_W", floats: e.layer.blobs[0].dataArray, dims: e.layer.blobs[0].shape)]
        if s.biasTerm { inputs.append(constant("\(name)_b", floats: e.layer.blobs[1].dataArray, dims: [e.layer.blobs[1].count])) }
        node(e.layer.type == "Convolution" ? "Conv" : "ConvTranspose", name, inputs, [output(e.topIDs[0])], [
            ("kernel_shape", .ints(pairs(s.kernel))), ("pads", .ints(pairs(s.pad) + pairs(s.pad))),
            ("strides", .ints(pairs(s.stride))), ("dilations", .ints(pairs(s.dilation))), ("group", .int(s.group)),
        ])
    }

    private mutating func innerProduct(_ e: LayerEntry, _ x: String) throws {
        let s: InnerProductParameter = try e.layer.param.settings()
        guard try axis(s.axis, e.bottoms[0]) == 1 else { throw ExportError("only axis 1 is exported") }
        let name = e.layer.name
        let flat = unique("\(name)_flat")
        node("Flatten", "\(name)/Flatten", [x], [flat], [("axis", .int(1))])
        var inputs = [flat, constant("\(name)_W", floats: e.layer.blobs[0].dataArray, dims: e.layer.blobs[0].shape)]
        if s.biasTerm { inputs.append(constant("\(name)_b", floats: e.layer.blobs[1].dataArray, dims: [e.layer.blobs[1].count])) }
        node("Gemm", name, inputs, [output(e.topIDs[0])], [("transB", .int(s.transpose ? 0 : 1))])
    }

    private mutating func batchNorm(_ e: LayerEntry, _ x: String) throws {
        let s: BatchNormParameter = try e.layer.param.settings()
        guard s.useGlobalStats != false else { throw ExportError("use_global_stats: false normalises by each batch's statistics; export needs the stored ones") }
        let b = e.layer.blobs, name = e.layer.name
        let factor: Float = b[2].data[0] == 0 ? 0 : 1 / b[2].data[0]
        let c = b[0].count
        node("BatchNormalization", name, [
            x, constant("\(name)_gamma", floats: Array(repeating: 1, count: c), dims: [c]),
            constant("\(name)_beta", floats: Array(repeating: 0, count: c), dims: [c]),
            constant("\(name)_mean", floats: b[0].dataArray.map { $0 * factor }, dims: [c]),
            constant("\(name)_var", floats: b[1].dataArray.map { $0 * factor }, dims: [c]),
        ], [output(e.topIDs[0])], [("epsilon", .float(s.eps))])
    }

    /// Scale (× gamma, + beta) and Bias (+ beta): a parameter, or the second bottom, spans
    /// axes axis…axis+k−1 of the first and broadcasts over the rest.
    private mutating func scaleOrBias(_ e: LayerEntry, _ x: [String]) throws {
        let isScale = e.layer.type == "Scale", name = e.layer.name
        let (axisGiven, numAxes, biasTerm): (Int, Int, Bool)
        if isScale {
            let s: ScaleParameter = try e.layer.param.settings()
            (axisGiven, numAxes, biasTerm) = (s.axis, s.numAxes, s.biasTerm)
        } else {
            let s: BiasParameter = try e.layer.param.settings()
            (axisGiven, numAxes, biasTerm) = (s.axis, s.numAxes, false)
        }
        let rank = e.bottoms[0].shape.count
        let a = try axis(axisGiven, e.bottoms[0])
        var blobs = e.layer.blobs[...]
        let operand: String
        if x.count > 1 {
            // The second bottom: give it trailing axes of length 1 so it lines up from axis a.
            let k = e.bottoms[1].shape.count, extra = rank - a - k
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
            _ = binary("Add", scaled, constant("\(name)_beta", floats: beta.dataArray, dims: beta.shape + Array(repeating: 1, count: max(0, rank - a - k))), name,
                       into: output(e.topIDs[0]))
        } else {
            _ = binary(isScale ? "Mul" : "Add", x[0], operand, name, into: output(e.topIDs[0]))
        }
    }

    // MARK: pooling and normalisation

    private mutating func pooling(_ e: LayerEntry, _ x: String) throws {
        let s: PoolingParameter = try e.layer.param.settings()
        let name = e.layer.name
        guard s.pool != .stochastic else { throw ExportError("STOCHASTIC pooling has no ONNX operator") }
        guard e.bottoms[0].shape.count == 4 else { throw ExportError("only 2-D pooling is exported") }
        if s.globalPooling {
            node(s.pool == .max ? "GlobalMaxPool" : "GlobalAveragePool", name, [x], [output(e.topIDs[0])])
            return
        }
        let size = (h: e.tops[0].shape[2], w: e.tops[0].shape[3])
        try pool(x, max: s.pool == .max, kernel: s.kernel, pad: s.pad, stride: s.stride, input: (e.bottoms[0].shape[2], e.bottoms[0].shape[3]),
                 output: size, name, into: output(e.topIDs[0]))
    }

    /// Caffe's pooling with the output size Caffe chose (ceil rounding, last window clipped):
    /// the end pads are whatever makes ONNX's floor rounding give that size. MAX ignores pads
    /// in both. AVE divides by the window clipped to the padded image: the pads are written
    /// out as zeros (they count), and the extra end pads are left out of the count.
    package mutating func pool(_ x: String, max isMax: Bool, kernel: (h: Int, w: Int), pad: (h: Int, w: Int), stride: (h: Int, w: Int),
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

    private mutating func lrn(_ e: LayerEntry, _ x: String) throws {
        let s: LRNParameter = try e.layer.param.settings()
        let name = e.layer.name
        if s.normRegion == .acrossChannels {
            node("LRN", name, [x], [output(e.topIDs[0])], [("size", .int(s.localSize)), ("alpha", .float(s.alpha)), ("beta", .float(s.beta)), ("bias", .float(s.k))])
            return
        }
        // Caffe's WITHIN_CHANNEL: x · (1 + alpha · avgpool(x²))^−beta, the pool size × size,
        // padded by (size − 1) / 2, stride 1.
        let half = (s.localSize - 1) / 2
        let square = binary("Mul", x, x, name)
        let shape = e.bottoms[0].shape
        let pooled = unique("\(name)_pooled")
        try pool(square, max: false, kernel: (s.localSize, s.localSize), pad: (half, half), stride: (1, 1),
                 input: (shape[2], shape[3]), output: (shape[2], shape[3]), "\(name)/AveragePool", into: pooled)
        let base = affine(pooled, scale: s.alpha, shift: 1, name)
        let factor = binary("Pow", base, scalar("\(name)_negbeta", -s.beta), name)
        _ = binary("Mul", x, factor, name, into: output(e.topIDs[0]))
    }

    // MARK: structure

    private mutating func eltwise(_ e: LayerEntry, _ x: [String]) throws {
        let s: EltwiseParameter = try e.layer.param.settings()
        let name = e.layer.name
        switch s.operation {
        case .sum:
            let terms = s.coeff.isEmpty || s.coeff.allSatisfy({ $0 == 1 }) ? x
                : x.enumerated().map { i, v in s.coeff[i] == 1 ? v : binary("Mul", v, scalar("\(name)_coeff\(i)", s.coeff[i]), name) }
            node("Sum", name, terms, [output(e.topIDs[0])])
        case .prod:
            // ONNX's Mul takes two inputs: multiply in bottom order.
            var product = x[0]
            for v in x.dropFirst().dropLast() { product = binary("Mul", product, v, name) }
            node("Mul", name, [product, x.last!], [output(e.topIDs[0])])
        case .max: node("Max", name, x, [output(e.topIDs[0])])
        }
    }

    private mutating func slice(_ e: LayerEntry, _ x: String) throws {
        let s: SliceParameter = try e.layer.param.settings()
        let a = try axis(s.axis, e.bottoms[0])
        let sizes = e.tops.map { Int64($0.shape[a]) }
        node("Split", e.layer.name, [x, constant("\(e.layer.name)_split", int64s: sizes)], e.topIDs.map { output($0) }, [("axis", .int(a))])
    }

    /// Flatten and Reshape: to the top's shape, the batch dimension kept as 0 ("copy") when
    /// the layer leaves axis 0 alone, so the batch stays free.
    private mutating func reshape(_ e: LayerEntry, _ x: String) throws {
        var keepsBatch = true
        if e.layer.type == "Flatten" {
            let s: FlattenParameter = try e.layer.param.settings()
            keepsBatch = try axis(s.axis, e.bottoms[0]) > 0
        } else {
            let s: ReshapeParameter = try e.layer.param.settings()
            keepsBatch = s.axis != 0 || s.shape.first == 0
        }
        var dims = e.tops[0].shape.map(Int64.init)
        if !dims.isEmpty { dims[0] = keepsBatch ? 0 : -1 }
        node("Reshape", e.layer.name, [x, constant("\(e.layer.name)_shape", int64s: dims)], [output(e.topIDs[0])])
    }

    private mutating func crop(_ e: LayerEntry, _ x: [String]) throws {
        let s: CropParameter = try e.layer.param.settings()
        let a = try axis(s.axis, e.bottoms[0]), rank = e.bottoms[0].shape.count, name = e.layer.name
        let axes = Array(a..<rank)
        let offsets = axes.enumerated().map { i, _ in s.offset.isEmpty ? 0 : s.offset.count == 1 ? s.offset[0] : s.offset[i] }
        let ends = axes.enumerated().map { i, d in offsets[i] + e.bottoms[1].shape[d] }
        node("Slice", name, [x[0], constant("\(name)_starts", int64s: offsets.map(Int64.init)), constant("\(name)_ends", int64s: ends.map(Int64.init)),
                             constant("\(name)_axes", int64s: axes.map(Int64.init))], [output(e.topIDs[0])])
    }

    private mutating func argMax(_ e: LayerEntry, _ x: String) throws {
        let s: ArgMaxParameter = try e.layer.param.settings()
        guard s.topK == 1, !s.outMaxVal else { throw ExportError("only top_k 1 without out_max_val is exported (ONNX's ArgMax gives one index)") }
        let name = e.layer.name
        let index = unique("\(name)_index")
        if let given = s.axis {
            node("ArgMax", "\(name)/ArgMax", [x], [index], [("axis", .int(try axis(given, e.bottoms[0]))), ("keepdims", .int(1))])
        } else {
            // Caffe: the index in each example's flattened values, shaped N×1×1.
            let flat = unique("\(name)_flat"), found = unique("\(name)_found")
            node("Flatten", "\(name)/Flatten", [x], [flat], [("axis", .int(1))])
            node("ArgMax", "\(name)/ArgMax", [flat], [found], [("axis", .int(1)), ("keepdims", .int(1))])
            node("Reshape", "\(name)/Reshape", [found, constant("\(name)_shape", int64s: [0, 1, 1])], [index])
        }
        node("Cast", name, [index], [output(e.topIDs[0])], [("to", .int(1))])
    }
}
