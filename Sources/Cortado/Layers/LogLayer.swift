import Foundation

/// Log: y = log_base(shift + scale · x); base −1 (the default) means e.
final class LogLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private var scale: Float = 1, shift: Float = 0, inverseLnBase: Float = 1

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("log_param")
        let base = p.float("base") ?? -1
        guard base == -1 || (base > 0 && base != 1) else { throw p.error("base must be positive and not 1 (or -1 for e), found \(base)", field: "base") }
        inverseLnBase = base == -1 ? 1 : 1 / logf(base)
        scale = p.float("scale") ?? 1
        shift = p.float("shift") ?? 0
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = logf(shift + scale * x[i]) * inverseLnBase }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { dx[i] = dy[i] * scale * inverseLnBase / (shift + scale * x[i]) }
    }
}
