import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's ELUParameter.
package struct ELUParameter: LayerSettings {
    package static let field = "elu_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "alpha:float"
    package var alpha: Float = 1

    package init(_ p: ConfigNode) throws { alpha = p.float("alpha") ?? alpha }
}

/// ELU: y = x for x > 0, α(eˣ − 1) otherwise.
final class ELULayer: NeuronLayer {
    private let alpha: Float

    required init(_ param: LayerParameter, phase: Phase) throws {
        alpha = try param.settings(ELUParameter.self).alpha
        try super.init(param, phase: phase)
    }

    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        graph.single("Elu", name, inputs, [("alpha", .float(alpha))])
        return true
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, a = alpha
        for i in 0..<bottom[0].count { let v = x[i]; y[i] = v > 0 ? v : a * (expf(v) - 1) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        // In place the bottom holds y; y > 0 exactly where x > 0, and y + α = α·eˣ below.
        let x = bottom[0].data, y = top[0].data, dy = top[0].diff, dx = bottom[0].diff, a = alpha
        for i in 0..<bottom[0].count { dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + a) }
    }
}
