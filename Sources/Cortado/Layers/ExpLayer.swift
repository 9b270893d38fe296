import Foundation

/// Exp: y = base^(shift + scale · x); base −1 (the default) means e.
final class ExpLayer: NeuronLayer {
    private var inner: Float = 1, outer: Float = 1   // y = outer · exp(inner · x)

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("exp_param")
        let base = p.float("base") ?? -1
        guard base == -1 || base > 0 else { throw p.error("base must be positive (or -1 for e), found \(base)", field: "base") }
        let lnBase: Float = base == -1 ? 1 : logf(base)
        inner = lnBase * (p.float("scale") ?? 1)
        outer = expf(lnBase * (p.float("shift") ?? 0))
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = outer * expf(inner * x[i]) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let y = top[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { dx[i] = dy[i] * y[i] * inner }
    }
}
