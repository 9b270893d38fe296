import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's PowerParameter.
package struct PowerParameter: LayerSettings {
    package static let field = "power_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "power:float scale:float shift:float"
    package var power: Float = 1
    package var scale: Float = 1
    package var shift: Float = 0

    package init(_ p: ConfigNode) throws {
        power = p.float("power") ?? power
        scale = p.float("scale") ?? scale
        shift = p.float("shift") ?? shift
    }
}

/// Power: y = (shift + scale · x)^power.
final class PowerLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private let power: Float, scale: Float, shift: Float

    /// (shift + scale·x)^power, with only the nodes that change something.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s: PowerParameter = try param.settings()
        let v = graph.affine(inputs[0], scale: s.scale, shift: s.shift, name)
        if s.power != 1 {
            let power = graph.scalar("\(name)_power", s.power)
            let tops = graph.tops()
            _ = graph.binary("Pow", v, power, name, into: tops[0])
        } else {
            graph.single("Identity", name, [v])
        }
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let p: PowerParameter = try param.settings()
        (power, scale, shift) = (p.power, p.scale, p.shift)
        try super.init(param, phase: phase)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
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
