import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's RecurrentParameter.
struct RecurrentParameter: LayerSettings {
    static let field = "recurrent_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        num_output:int weight_filler:@FillerParameter bias_filler:@FillerParameter debug_info:bool \
        expose_hidden:bool
        """
    var numOutput: Int
    var weightFiller = FillerParameter()
    var biasFiller = FillerParameter()
    /// Extra bottoms give the initial state(s), extra tops return the final one(s).
    var exposeHidden = false

    init(_ p: ConfigNode) throws {
        guard let n = p.int("num_output"), n > 0 else { throw p.error("recurrent_param needs num_output > 0", field: p.has("num_output") ? "num_output" : nil) }
        numOutput = n
        exposeHidden = p.bool("expose_hidden") ?? exposeHidden
        weightFiller = try FillerParameter(p.child("weight_filler"))
        biasFiller = try FillerParameter(p.child("bias_filler"))
    }
}

/// Base of Caffe's recurrent layers (RNN, LSTM): bottoms x [T, N, …] and cont [T, N] (0 where
/// a sequence starts, which cuts the recurrence); with expose_hidden, extra bottoms give the
/// initial hidden state(s) and extra tops return the final one(s). Time steps are unrolled
/// here as a loop of matrix products, forward and backward (backpropagation through time).
class RecurrentLayer: Layer {
    var steps = 0, batch = 0, inputSize = 0
    let settings: RecurrentParameter
    var hidden: Int { settings.numOutput }
    var exposeHidden: Bool { settings.exposeHidden }
    /// Hidden states the recurrence carries: 1 for RNN (h), 2 for LSTM (h, c).
    var recurrentCount: Int { 1 }

    override var minBottoms: Int? { 2 }
    override var maxBottoms: Int? { 2 + recurrentCount }
    override var minTops: Int? { 1 }
    override var maxTops: Int? { 1 + recurrentCount }
    override func allowForceBackward(_ i: Int) -> Bool { i != 1 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
        let wanted = exposeHidden ? 2 + recurrentCount : 2
        guard param.bottom.count == wanted, param.top.count == (exposeHidden ? 1 + recurrentCount : 1) else {
            throw error(exposeHidden
                ? "with expose_hidden, \(type) takes x, cont and \(recurrentCount) initial state bottom(s), and gives \(1 + recurrentCount) tops"
                : "\(type) takes the bottoms x and cont (a static input is not supported) and one top; set expose_hidden to pass states in and out")
        }
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        guard bottom[0].numAxes >= 2 else { throw error("x must be T×N×…; found \(bottom[0].shape)") }
        inputSize = bottom[0].count(2)
        let weights = settings.weightFiller, biases = settings.biasFiller
        blobs = try parameterShapes().map { shape, isBias in
            let b = try Blob(checked: shape)
            context.fill(b, with: isBias ? biases : weights)
            return b
        }
    }

    /// Parameter blobs in Caffe's order, with whether each is a bias.
    func parameterShapes() -> [([Int], Bool)] { [] }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0]
        (steps, batch) = (x.shape[0], x.shape[1])
        guard x.count(2) == inputSize else { throw error("x has \(x.count(2)) values per step; the layer was set up for \(inputSize)") }
        guard bottom[1].shape == [steps, batch] else { throw error("cont must be T×N = \(steps)×\(batch); found \(bottom[1].shape)") }
        if exposeHidden {
            for k in 0..<recurrentCount where bottom[2 + k].shape != [1, batch, hidden] {
                throw error("initial state \(k) must be 1×\(batch)×\(hidden); found \(bottom[2 + k].shape)")
            }
            for k in 0..<recurrentCount { try top[1 + k].reshape([1, batch, hidden]) }
        }
        try top[0].reshape([steps, batch, hidden])
        try reshapeBuffers()
    }

    func reshapeBuffers() throws {}

    /// dst[n, :] = src[n, :] · cont[n], the recurrence cut where a sequence starts.
    func gate(_ src: UnsafePointer<Float>, cont: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, width: Int) {
        for n in 0..<batch {
            let c = cont[n]
            for j in 0..<width { dst[n * width + j] = src[n * width + j] * c }
        }
    }
}
