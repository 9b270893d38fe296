import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's MVNParameter.
struct MVNParameter: LayerSettings {
    static let field = "mvn_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "normalize_variance:bool across_channels:bool eps:float"
    var normalizeVariance = true
    package var acrossChannels = false
    package var eps: Float = 1e-9

    init(_ p: ConfigNode) throws {
        normalizeVariance = p.bool("normalize_variance") ?? normalizeVariance
        acrossChannels = p.bool("across_channels") ?? acrossChannels
        eps = p.float("eps") ?? eps
    }
}

/// MVN: subtracts the mean and, with normalize_variance, divides by (std + eps), per example
/// and channel, or per example across channels.
final class MVNLayer: Layer {
    private let normalizeVariance: Bool, acrossChannels: Bool
    private let eps: Float
    private var groups = 0, size = 0
    private var stds: [Float] = []

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let p: MVNParameter = try param.settings()
        (normalizeVariance, acrossChannels, eps) = (p.normalizeVariance, p.acrossChannels, p.eps)
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        groups = acrossChannels ? (b.shape.first ?? 1) : b.count(0, min(2, b.numAxes))
        size = b.count / max(groups, 1)
        if top[0] !== b { try top[0].reshape(b.shape) }
        if stds.count != groups { stds = [Float](repeating: 1, count: groups) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        for g in 0..<groups {
            let x = bottom[0].data + g * size, y = top[0].data + g * size
            var mean: Float = 0
            for i in 0..<size { mean += x[i] }
            mean /= Float(size)
            var sq: Float = 0
            for i in 0..<size { let d = x[i] - mean; y[i] = d; sq += d * d }
            if normalizeVariance {
                stds[g] = (sq / Float(size)).squareRoot() + eps
                for i in 0..<size { y[i] /= stds[g] }
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        for g in 0..<groups {
            let y = top[0].data + g * size, dy = top[0].diff + g * size, dx = bottom[0].diff + g * size
            var meanDy: Float = 0, meanDyY: Float = 0
            for i in 0..<size { meanDy += dy[i]; meanDyY += dy[i] * y[i] }
            meanDy /= Float(size)
            meanDyY /= Float(size)
            for i in 0..<size {
                dx[i] = normalizeVariance ? (dy[i] - meanDy - meanDyY * y[i]) / stds[g] : dy[i] - meanDy
            }
        }
    }
}
