import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's LogParameter.
package struct LogParameter: LayerSettings {
    package static let field = "log_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "base:float scale:float shift:float"
    /// −1: e.
    package var base: Float = -1
    package var scale: Float = 1
    package var shift: Float = 0

    package init(_ p: ConfigNode) throws {
        base = p.float("base") ?? base
        scale = p.float("scale") ?? scale
        shift = p.float("shift") ?? shift
        guard base == -1 || (base > 0 && base != 1) else { throw p.error("base must be positive and not 1 (or -1 for e), found \(base)", field: "base") }
    }
}

/// Log: y = log_base(shift + scale · x); base −1 (the default) means e.
final class LogLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private let scale: Float, shift: Float, inverseLnBase: Float

    /// log_base(shift + scale·x) = ln(shift + scale·x) / ln(base).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s: LogParameter = try param.settings()
        let argument = graph.affine(inputs[0], scale: s.scale, shift: s.shift, name)
        if s.base == -1 {
            graph.single("Log", name, [argument])
        } else {
            let v = graph.unique("\(name)_ln")
            graph.node("Log", "\(name)/Log", [argument], [v])
            let inverse = graph.scalar("\(name)_invlnbase", 1 / Float(Foundation.log(Double(s.base))))
            let tops = graph.tops()
            _ = graph.binary("Mul", v, inverse, name, into: tops[0])
        }
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let p: LogParameter = try param.settings()
        (scale, shift) = (p.scale, p.shift)
        inverseLnBase = p.base == -1 ? 1 : 1 / logf(p.base)
        try super.init(param, phase: phase)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = logf(shift + scale * x[i]) * inverseLnBase }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { dx[i] = dy[i] * scale * inverseLnBase / (shift + scale * x[i]) }
    }
}
