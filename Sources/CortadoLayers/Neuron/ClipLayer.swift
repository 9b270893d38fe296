import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ClipParameter: both bounds are required.
package struct ClipParameter: LayerSettings {
    package static let field = "clip_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "min:float max:float"
    package var min: Float
    package var max: Float

    package init(_ p: ConfigNode) throws {
        guard let lo = p.float("min"), let hi = p.float("max") else { throw p.error("clip_param needs both min and max") }
        guard lo <= hi else { throw p.error("min (\(lo)) must not exceed max (\(hi))", field: "min") }
        (min, max) = (lo, hi)
    }
}

/// Clip: y = min(max(x, min), max); the gradient passes where min ≤ x ≤ max.
final class ClipLayer: NeuronLayer {
    override var needsInputForGradient: Bool { true }
    private let lo: Float, hi: Float

    required init(_ param: LayerParameter, phase: Phase) throws {
        let settings: ClipParameter = try param.settings()
        (lo, hi) = (settings.min, settings.max)
        try super.init(param, phase: phase)
    }

    /// Clip with its bounds as scalar constants (inputs from opset 11).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let low = graph.constant("\(name)_min", floats: [lo], dims: []), high = graph.constant("\(name)_max", floats: [hi], dims: [])
        graph.single("Clip", name, [inputs[0], low, high])
        return true
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, lo = lo, hi = hi
        for i in 0..<bottom[0].count { y[i] = min(max(x[i], lo), hi) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff, lo = lo, hi = hi
        for i in 0..<bottom[0].count { dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0 }
    }
}
