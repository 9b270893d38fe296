/// Parameter: exposes a learnable blob of `shape` as a top (for nets that learn an input).
final class ParameterLayer: Layer {
    override var exactNumBottoms: Int? { 0 }
    override var exactNumTops: Int? { 1 }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("parameter_param")
        guard let shape = p.child("shape")?.ints("dim") else { throw p.error("parameter_param needs a shape") }
        blobs = [try Blob(checked: shape)]
        try top[0].reshape(shape)
    }

    override func forward(bottom: [Blob], top: [Blob]) throws { top[0].copyData(from: blobs[0]) }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if needsParamGradient(0) { axpy(blobs[0].count, 1, top[0].diff, blobs[0].diff) }
    }
}
