import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ReLUParameter.
package struct ReLUParameter: LayerSettings {
    package static let field = "relu_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "negative_slope:float engine:enum(DEFAULT,CAFFE,CUDNN)"
    package var negativeSlope: Float = 0

    package init(_ p: ConfigNode) throws { negativeSlope = p.float("negative_slope") ?? negativeSlope }
}

/// ReLU: y = max(x, 0) + negative_slope · min(x, 0).
final class ReLULayer: NeuronLayer {
    let slope: Float

    required init(_ param: LayerParameter, phase: Phase) throws {
        slope = try param.settings(ReLUParameter.self).negativeSlope
        try super.init(param, phase: phase)
    }

    override var graphDetails: [String] { slope != 0 ? ["slope \(caffeFloat(slope))"] : [] }

    /// Relu, or LeakyRelu with Caffe's negative slope.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let tops = graph.tops()
        if slope == 0 { graph.node("Relu", name, inputs, tops, []) }
        else { graph.node("LeakyRelu", name, inputs, tops, [("alpha", .float(slope))]) }
        return true
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, s = slope
        Parallel.forRanges(bottom[0].count, threads: threads) { r in
            if s == 0 {
                for i in r { y[i] = max(x[i], 0) }
            } else {
                for i in r { let v = x[i]; y[i] = max(v, 0) + s * min(v, 0) }
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        // In place, bottom data already holds y; y > 0 exactly where x > 0, so the mask is the same.
        let x = bottom[0].data, dy = top[0].diff, dx = bottom[0].diff, s = slope
        Parallel.forRanges(bottom[0].count, threads: threads) { r in
            for i in r { dx[i] = dy[i] * (x[i] > 0 ? 1 : s) }
        }
    }
}
