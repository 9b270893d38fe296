/// Reduction: SUM, ASUM, SUMSQ or MEAN over all axes from `axis` on, times `coeff`; one value
/// per position before `axis`.
final class ReductionLayer: Layer {
    enum Operation: String { case sum = "SUM", asum = "ASUM", sumsq = "SUMSQ", mean = "MEAN" }

    private var op = Operation.sum
    private var coeff: Float = 1
    private var outer = 1, inner = 1

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("reduction_param")
        op = Operation(rawValue: p.enumValue("operation") ?? "SUM") ?? .sum
        coeff = p.float("coeff") ?? 1
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let requested = param.sub("reduction_param").int("axis") ?? 0
        guard let a = bottom[0].canonicalAxis(requested) else { throw error("reduction axis \(requested) is out of range for bottom shape \(bottom[0].shape)") }
        outer = bottom[0].count(0, a)
        inner = bottom[0].count(a)
        try top[0].reshape(Array(bottom[0].shape[..<a]))
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
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
