import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// BNLL (binomial normal log likelihood): y = log(1 + eˣ), computed stably.
final class BNLLLayer: NeuronLayer {
    /// ONNX has the operator itself.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        graph.single("Softplus", name, inputs)
        return true
    }

    override var needsInputForGradient: Bool { true }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { let v = x[i]; y[i] = v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v)) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count {
            let e = expf(min(x[i], 50))   // Caffe's kBNLL_THRESHOLD
            dx[i] = dy[i] * e / (e + 1)
        }
    }
}
