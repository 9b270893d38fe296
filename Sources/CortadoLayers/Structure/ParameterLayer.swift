import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ParameterParameter.
struct ParameterParameter: LayerSettings {
    static let field = "parameter_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "shape:@BlobShape"
    package var shape: [Int]

    init(_ p: ConfigNode) throws {
        guard let shape = p.child("shape")?.ints("dim") else { throw p.error("parameter_param needs a shape") }
        self.shape = shape
    }
}

/// Parameter: exposes a learnable blob of `shape` as a top (for nets that learn an input).
final class ParameterLayer: Layer {
    override var exactNumBottoms: Int? { 0 }
    override var exactNumTops: Int? { 1 }

    private let shape: [Int]

    required init(_ param: LayerParameter, phase: Phase) throws {
        shape = try param.settings(ParameterParameter.self).shape
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        blobs = [try Blob(checked: shape)]
        try top[0].reshape(shape)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws { top[0].copyData(from: blobs[0]) }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if needsParamGradient(0) { axpy(blobs[0].count, 1, top[0].diff, blobs[0].diff) }
    }
}
