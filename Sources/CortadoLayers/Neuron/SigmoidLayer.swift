import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Sigmoid: y = 1 / (1 + exp(-x)); written as 0.5·tanh(0.5x) + 0.5 like Caffe, which is stable for large |x|.
final class SigmoidLayer: NeuronLayer {
    /// ONNX has the operator itself.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        graph.single("Sigmoid", name, inputs)
        return true
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = 0.5 * tanhf(0.5 * x[i]) + 0.5 }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let y = top[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { let s = y[i]; dx[i] = dy[i] * s * (1 - s) }
    }
}
