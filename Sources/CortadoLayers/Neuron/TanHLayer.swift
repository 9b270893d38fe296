import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// TanH: y = tanh(x).
final class TanHLayer: NeuronLayer {
    /// ONNX has the operator itself.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        graph.single("Tanh", name, inputs)
        return true
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = tanhf(x[i]) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let y = top[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { let t = y[i]; dx[i] = dy[i] * (1 - t * t) }
    }
}
