import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's EmbedParameter.
struct EmbedParameter: LayerSettings {
    static let field = "embed_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        num_output:int input_dim:int bias_term:bool weight_filler:@FillerParameter \
        bias_filler:@FillerParameter
        """
    var numOutput: Int
    var inputDim: Int
    package var biasTerm = true
    var weightFiller = FillerParameter()
    var biasFiller = FillerParameter()

    init(_ p: ConfigNode) throws {
        guard let n = p.int("num_output"), n > 0, let d = p.int("input_dim"), d > 0 else {
            throw p.error("embed_param needs num_output > 0 and input_dim > 0")
        }
        (numOutput, inputDim) = (n, d)
        biasTerm = p.bool("bias_term") ?? biasTerm
        weightFiller = try FillerParameter(p.child("weight_filler"))
        biasFiller = try FillerParameter(p.child("bias_filler"))
    }
}

/// Embed: a lookup table; each bottom value is an index in 0..<input_dim and becomes that row
/// of the weights [input_dim, num_output] (+ bias). Indices get no gradient.
final class EmbedLayer: Layer {
    private let settings: EmbedParameter
    private var numOutput: Int { settings.numOutput }
    private var inputDim: Int { settings.inputDim }
    private var biasTerm: Bool { settings.biasTerm }

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    override func allowForceBackward(_ i: Int) -> Bool { false }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let w = try Blob(checked: [inputDim, numOutput])
        context.fill(w, with: settings.weightFiller)
        blobs = [w]
        if biasTerm {
            let b = try Blob(checked: [numOutput])
            context.fill(b, with: settings.biasFiller)
            blobs.append(b)
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        try top[0].reshape(bottom[0].shape + [numOutput])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        for i in 0..<bottom[0].count {
            let index = Int(bottom[0].data[i])
            guard index >= 0, index < inputDim, Float(index) == bottom[0].data[i] else {
                throw error("index \(bottom[0].data[i]) is not a whole number in 0..<\(inputDim) (input_dim)")
            }
            let y = top[0].data + i * numOutput
            y.update(from: blobs[0].data + index * numOutput, count: numOutput)
            if biasTerm { axpy(numOutput, 1, blobs[1].data, y) }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        for i in 0..<bottom[0].count {
            let dy = top[0].diff + i * numOutput
            if needsParamGradient(0) { axpy(numOutput, 1, dy, blobs[0].diff + Int(bottom[0].data[i]) * numOutput) }
            if biasTerm && needsParamGradient(1) { axpy(numOutput, 1, dy, blobs[1].diff) }
        }
    }
}
