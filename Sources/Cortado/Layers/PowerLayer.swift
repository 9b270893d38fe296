import Foundation

/// Power: y = (shift + scale · x)^power.
final class PowerLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private var power: Float = 1, scale: Float = 1, shift: Float = 0

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("power_param")
        power = p.float("power") ?? 1
        scale = p.float("scale") ?? 1
        shift = p.float("shift") ?? 0
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = power == 1 ? shift + scale * x[i] : powf(shift + scale * x[i], power) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff
        let k = power * scale
        for i in 0..<bottom[0].count {
            dx[i] = (power == 0 || scale == 0) ? 0 : dy[i] * k * (power == 1 ? 1 : powf(shift + scale * x[i], power - 1))
        }
    }
}
