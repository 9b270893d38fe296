import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's ExpParameter (LogParameter has the same fields).
package struct ExpParameter: LayerSettings {
    package static let field = "exp_param"
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
        guard base == -1 || base > 0 else { throw p.error("base must be positive (or -1 for e), found \(base)", field: "base") }
    }

    /// ln(base), 1 for e.
    var lnBase: Float { base == -1 ? 1 : logf(base) }
}

/// Exp: y = base^(shift + scale · x); base −1 (the default) means e.
final class ExpLayer: NeuronLayer {
    private let inner: Float, outer: Float   // y = outer · exp(inner · x)

    /// base^(shift + scale·x) = e^(ln(base)·shift + ln(base)·scale·x).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s: ExpParameter = try param.settings()
        let ln: Float = s.base == -1 ? 1 : Float(Foundation.log(Double(s.base)))
        let argument = graph.affine(inputs[0], scale: s.scale * ln, shift: s.shift * ln, name)
        graph.single("Exp", name, [argument])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let p: ExpParameter = try param.settings()
        inner = p.lnBase * p.scale
        outer = expf(p.lnBase * p.shift)
        try super.init(param, phase: phase)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        for i in 0..<bottom[0].count { y[i] = outer * expf(inner * x[i]) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let y = top[0].data, dy = top[0].diff, dx = bottom[0].diff
        for i in 0..<bottom[0].count { dx[i] = dy[i] * y[i] * inner }
    }
}
