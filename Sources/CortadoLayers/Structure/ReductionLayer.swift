import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ReductionParameter.
struct ReductionParameter: LayerSettings {
    package enum Operation: String, Sendable { case sum = "SUM", asum = "ASUM", sumsq = "SUMSQ", mean = "MEAN" }
    static let field = "reduction_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "operation:enum(SUM,ASUM,SUMSQ,MEAN) axis:int coeff:float"
    package var operation = Operation.sum
    package var axis = 0
    package var coeff: Float = 1

    init(_ p: ConfigNode) throws {
        operation = p.enumeration("operation", default: operation)
        axis = p.int("axis") ?? axis
        coeff = p.float("coeff") ?? coeff
    }
}

/// Reduction: SUM, ASUM, SUMSQ or MEAN over all axes from `axis` on, times `coeff`; one value
/// per position before `axis`.
final class ReductionLayer: Layer {
    private let settings: ReductionParameter
    private var op: ReductionParameter.Operation { settings.operation }
    private var coeff: Float { settings.coeff }
    private var outer = 1, inner = 1

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let requested = settings.axis
        let a = try canonicalAxis(requested, of: bottom[0])
        outer = bottom[0].count(0, a)
        inner = bottom[0].count(a)
        try top[0].reshape(Array(bottom[0].shape[..<a]))
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        for o in 0..<outer {
            let x = bottom[0].data + o * inner
            var s: Float = 0
            switch op {
            case .sum, .mean: for i in 0..<inner { s += x[i] }
            case .asum: for i in 0..<inner { s += abs(x[i]) }
            case .sumsq: for i in 0..<inner { s += x[i] * x[i] }
            }
            top[0].data[o] = coeff * (op == .mean ? s / Float(inner) : s)
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        for o in 0..<outer {
            let x = bottom[0].data + o * inner, dx = bottom[0].diff + o * inner
            let g = coeff * top[0].diff[o]
            switch op {
            case .sum: for i in 0..<inner { dx[i] = g }
            case .mean: for i in 0..<inner { dx[i] = g / Float(inner) }
            case .asum: for i in 0..<inner { dx[i] = x[i] > 0 ? g : (x[i] < 0 ? -g : 0) }
            case .sumsq: for i in 0..<inner { dx[i] = 2 * g * x[i] }
            }
        }
    }
}
