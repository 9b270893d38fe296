import Foundation

/// Swish: y = x · sigmoid(β x).
final class SwishLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private var beta: Float = 1

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        beta = param.sub("swish_param").float("beta") ?? 1
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, b = beta
        for i in 0..<bottom[0].count { y[i] = x[i] * (0.5 * tanhf(0.5 * b * x[i]) + 0.5) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, y = top[0].data, dy = top[0].diff, dx = bottom[0].diff, b = beta
        for i in 0..<bottom[0].count {
            let s = 0.5 * tanhf(0.5 * b * x[i]) + 0.5
            dx[i] = dy[i] * (b * y[i] + s * (1 - b * y[i]))
        }
    }
}
