/// Threshold: y = 1 if x > threshold, else 0. It has no gradient (as in Caffe).
final class ThresholdLayer: NeuronLayer {
    private var threshold: Float = 0

    override var hasBackward: Bool { false }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        threshold = param.sub("threshold_param").float("threshold") ?? 0
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, t = threshold
        for i in 0..<bottom[0].count { y[i] = x[i] > t ? 1 : 0 }
    }
}
