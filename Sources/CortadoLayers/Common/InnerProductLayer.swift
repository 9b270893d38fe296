import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's InnerProductParameter.
package struct InnerProductParameter: LayerSettings {
    package static let field = "inner_product_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        num_output:int bias_term:bool weight_filler:@FillerParameter bias_filler:@FillerParameter \
        axis:int transpose:bool
        """
    var numOutput: Int
    package var biasTerm = true
    var weightFiller = FillerParameter()
    var biasFiller = FillerParameter()
    /// The first axis flattened into K.
    package var axis = 1
    /// W is [K, num_output] instead of [num_output, K].
    package var transpose = false
    /// Where the message is, for errors about the axis found at set-up.
    let node: ConfigNode

    package init(_ p: ConfigNode) throws {
        node = p
        guard let n = p.int("num_output"), n > 0 else {
            throw p.error("inner_product_param needs num_output > 0", field: p.has("num_output") ? "num_output" : nil)
        }
        numOutput = n
        biasTerm = p.bool("bias_term") ?? biasTerm
        transpose = p.bool("transpose") ?? transpose
        axis = p.int("axis") ?? axis
        weightFiller = try FillerParameter(p.child("weight_filler"))
        biasFiller = try FillerParameter(p.child("bias_filler"))
    }
}

/// InnerProduct (fully connected): flattens the axes from `axis` on into K and computes
/// y = x·Wᵀ + b with W of shape [num_output, K] (or x·W with W [K, num_output] when `transpose`).
final class InnerProductLayer: Layer {
    override var graphColour: String? { "#ffd180" }
    private let settings: InnerProductParameter
    private var numOutput: Int { settings.numOutput }
    private var biasTerm: Bool { settings.biasTerm }
    private var transpose: Bool { settings.transpose }
    private var axis = 1
    private var m = 0, k = 0
    private var ones: [Float] = []

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    /// Flatten to N×K, then Gemm with the weights (transposed unless `transpose`).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        guard try graph.axis(settings.axis, rank: graph.bottomShapes[0].count) == 1 else { throw ExportError("only axis 1 is exported") }
        let flat = graph.unique("\(name)_flat")
        graph.node("Flatten", "\(name)/Flatten", [inputs[0]], [flat], [("axis", .int(1))])
        var operands = [flat, graph.constant("\(name)_W", floats: blobs[0].dataArray, dims: blobs[0].shape)]
        if settings.biasTerm { operands.append(graph.constant("\(name)_b", floats: blobs[1].dataArray, dims: [blobs[1].count])) }
        graph.single("Gemm", name, operands, [("transB", .int(settings.transpose ? 0 : 1))])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override var graphDetails: [String] { ["\(numOutput) out"] }

    /// Each output: K products.
    override func multiplyAdds(bottom: [Blob], top: [Blob]) -> Int {
        guard let t = top.first, let w = blobs.first else { return 0 }
        return t.count * (w.count / max(t.shape.last ?? 1, 1))
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let requested = settings.axis, n = numOutput
        let a = try canonicalAxis(requested, of: bottom[0], node: settings.node)
        axis = a
        k = bottom[0].count(a)
        let weight = try Blob(checked: transpose ? [k, n] : [n, k])
        context.fill(weight, with: settings.weightFiller)
        blobs = [weight]
        if biasTerm {
            let bias = try Blob(checked: [n])
            context.fill(bias, with: settings.biasFiller)
            blobs.append(bias)
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let newK = bottom[0].count(axis)
        guard newK == k else {
            throw error("the input size changed from \(k) to \(newK) (bottom shape \(bottom[0].shape)); an InnerProduct's input size is fixed by its weights")
        }
        m = bottom[0].count(0, axis)
        try top[0].reshape(Array(bottom[0].shape[0..<axis]) + [numOutput])
        if biasTerm && ones.count < m { ones = [Float](repeating: 1, count: m) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, w = blobs[0].data
        gemm(false, !transpose, m, numOutput, k, 1, x, w, 0, y, threads: threads)
        if biasTerm {
            ones.withUnsafeBufferPointer { o in
                gemm(false, false, m, numOutput, 1, 1, o.baseAddress!, blobs[1].data, 1, y)
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let dy = top[0].diff, x = bottom[0].data
        if !needsParamGradient(0) {
        } else if transpose {
            gemm(true, false, k, numOutput, m, 1, x, dy, 1, blobs[0].diff, threads: threads)
        } else {
            gemm(true, false, numOutput, k, m, 1, dy, x, 1, blobs[0].diff, threads: threads)
        }
        if biasTerm && needsParamGradient(1) {
            ones.withUnsafeBufferPointer { o in
                gemv(true, m, numOutput, 1, dy, o.baseAddress!, 1, blobs[1].diff)
            }
        }
        if propagateDown[0] {
            gemm(false, transpose, m, k, numOutput, 1, dy, blobs[0].data, 0, bottom[0].diff, threads: threads)
        }
    }
}
