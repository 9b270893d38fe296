import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ThresholdParameter.
struct ThresholdParameter: LayerSettings {
    static let field = "threshold_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "threshold:float"
    var threshold: Float = 0

    init(_ p: ConfigNode) throws { threshold = p.float("threshold") ?? threshold }
}

/// Threshold: y = 1 if x > threshold, else 0. It has no gradient (as in Caffe).
final class ThresholdLayer: NeuronLayer {
    private let threshold: Float

    override var hasBackward: Bool { false }

    required init(_ param: LayerParameter, phase: Phase) throws {
        threshold = try param.settings(ThresholdParameter.self).threshold
        try super.init(param, phase: phase)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, t = threshold
        for i in 0..<bottom[0].count { y[i] = x[i] > t ? 1 : 0 }
    }
}
