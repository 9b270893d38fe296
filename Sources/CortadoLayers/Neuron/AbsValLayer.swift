import CortadoBase
import CortadoIO
import CortadoConfig

/// AbsVal: y = |x|.
final class AbsValLayer: NeuronLayer {
    /// ONNX has the operator itself.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        graph.single("Abs", name, inputs)
        return true
    }

    override var needsInputForGradient: Bool { true }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = abs(x[i]) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { dx[i] = x[i] > 0 ? dy[i] : (x[i] < 0 ? -dy[i] : 0) }
    }
}
