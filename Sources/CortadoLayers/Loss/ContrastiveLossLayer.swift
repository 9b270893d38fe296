import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ContrastiveLossParameter.
struct ContrastiveLossParameter: LayerSettings {
    static let field = "contrastive_loss_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "margin:float legacy_version:bool"
    var margin: Float = 1
    /// max(margin − d², 0) instead of max(margin − d, 0)².
    var legacyVersion = false

    init(_ p: ConfigNode) throws {
        margin = p.float("margin") ?? margin
        legacyVersion = p.bool("legacy_version") ?? legacyVersion
    }
}

/// ContrastiveLoss for Siamese nets: for pairs (a, b) with similarity y, ½N · Σ [y·d² +
/// (1 − y)·max(margin − d, 0)²], d = ‖a − b‖; legacy_version uses max(margin − d², 0) instead.
final class ContrastiveLossLayer: Layer {
    private let margin: Float
    private let legacy: Bool
    private let difference = Blob()
    private var distances: [Float] = []
    private var num = 0, dim = 0

    override var exactNumBottoms: Int? { 3 }
    override var exactNumTops: Int? { 1 }
    override var isLoss: Bool { true }
    override func allowForceBackward(_ i: Int) -> Bool { i != 2 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let p: ContrastiveLossParameter = try param.settings()
        (margin, legacy) = (p.margin, p.legacyVersion)
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        num = bottom[0].shape.first ?? 1
        dim = bottom[0].count / max(num, 1)
        guard bottom[1].shape == bottom[0].shape, bottom[2].count == num else {
            throw error("ContrastiveLoss needs two feature bottoms of one shape and one similarity per pair; found \(bottom[0].shape), \(bottom[1].shape), \(bottom[2].shape)")
        }
        try difference.reshape(bottom[0].shape)
        if distances.count != num { distances = [Float](repeating: 0, count: num) }
        try top[0].reshape([])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let a = bottom[0].data, b = bottom[1].data, d = difference.data, y = bottom[2].data
        var total: Float = 0
        for i in 0..<num {
            var sq: Float = 0
            for k in 0..<dim { let v = a[i * dim + k] - b[i * dim + k]; d[i * dim + k] = v; sq += v * v }
            distances[i] = sq
            if Int(y[i]) != 0 {
                total += sq
            } else if legacy {
                total += max(margin - sq, 0)
            } else {
                let m = max(margin - sq.squareRoot(), 0)
                total += m * m
            }
        }
        top[0].data[0] = total / Float(num) / 2
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let d = difference.data, y = bottom[2].data
        for (k, sign) in [(0, Float(1)), (1, Float(-1))] where propagateDown[k] {
            let alpha = sign * top[0].diff[0] / Float(num)
            let dx = bottom[k].diff
            for i in 0..<num {
                var factor: Float = 0
                if Int(y[i]) != 0 {
                    factor = alpha
                } else if legacy {
                    factor = margin - distances[i] > 0 ? -alpha : 0
                } else {
                    let dist = distances[i].squareRoot(), m = margin - dist
                    factor = m > 0 ? -alpha * m / (dist + 1e-4) : 0
                }
                for j in 0..<dim { dx[i * dim + j] = factor * d[i * dim + j] }
            }
        }
    }
}
