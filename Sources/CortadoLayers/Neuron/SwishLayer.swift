import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's SwishParameter.
package struct SwishParameter: LayerSettings {
    package static let field = "swish_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "beta:float"
    package var beta: Float = 1

    package init(_ p: ConfigNode) throws { beta = p.float("beta") ?? beta }
}

/// Swish: y = x · sigmoid(β x).
final class SwishLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private let beta: Float

    /// x · sigmoid(beta · x).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s: SwishParameter = try param.settings(), x = inputs[0]
        let scaled = s.beta == 1 ? x : graph.binary("Mul", x, graph.scalar("\(name)_beta", s.beta), name)
        let gate = graph.unique("\(name)_sigmoid")
        graph.node("Sigmoid", "\(name)/Sigmoid", [scaled], [gate])
        graph.single("Mul", name, [x, gate])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        beta = try param.settings(SwishParameter.self).beta
        try super.init(param, phase: phase)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
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
