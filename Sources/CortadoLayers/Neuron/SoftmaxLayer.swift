import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's SoftmaxParameter (SoftmaxWithLoss reads it too).
package struct SoftmaxParameter: LayerSettings {
    package static let field = "softmax_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "engine:enum(DEFAULT,CAFFE,CUDNN) axis:int"
    package var axis = 1

    package init(_ p: ConfigNode) throws { axis = p.int("axis") ?? axis }
}

/// Softmax along `axis` (default 1): y = exp(x − max) / Σ exp(x − max).
final class SoftmaxLayer: Layer {
    private var split = AxisSplit()

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    private let settings: SoftmaxParameter

    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let axis = try graph.axis(settings.axis, rank: graph.bottomShapes[0].count)
        graph.single("Softmax", name, inputs, [("axis", .int(axis))])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        split = try AxisSplit(bottom[0], axis: settings.axis, for: self)
        try top[0].reshape(bottom[0].shape)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        softmax(bottom[0].data, top[0].data, outer: split.outer, channels: split.channels, inner: split.inner)
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        // dx = y ⊙ (dy − Σ_c dy·y)
        let y = top[0].data, dy = top[0].diff, dx = bottom[0].diff
        let (outer, channels, inner) = (split.outer, split.channels, split.inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * channels * inner + i
                var s: Float = 0
                for c in 0..<channels { s += dy[base + c * inner] * y[base + c * inner] }
                for c in 0..<channels { let k = base + c * inner; dx[k] = y[k] * (dy[k] - s) }
            }
        }
    }
}

/// A blob seen as (outer, channels, inner) around one axis, as softmax, its loss and
/// accuracy read their predictions.
struct AxisSplit {
    package var axis = 1, outer = 1, channels = 1, inner = 1

    init() {}

    /// Splits `blob` around `requested` (negative counts from the end), or fails naming the layer.
    init(_ blob: Blob, axis requested: Int, for layer: Layer) throws {
        let a = try layer.canonicalAxis(requested, of: blob)
        axis = a
        outer = blob.count(0, a)
        channels = blob.shape[a]
        inner = blob.count(a + 1)
    }

    /// Labels must give one value per (outer, inner) position.
    func checkLabels(_ labels: Blob, predictions: Blob, for layer: Layer) throws {
        guard outer * inner == labels.count else {
            throw layer.error("the label count (\(labels.count), shape \(labels.shape)) must equal outer × inner = \(outer * inner) of the predictions (shape \(predictions.shape)); with axis \(axis) the labels should be N×H×W")
        }
    }
}

/// Softmax over the channel axis of an (outer, channels, inner) array; `x` and `y` may alias.
func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, channels: Int, inner: Int) {
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * channels * inner + i
            var m = -Float.infinity
            for c in 0..<channels { m = max(m, x[base + c * inner]) }
            var s: Float = 0
            for c in 0..<channels { let e = expf(x[base + c * inner] - m); y[base + c * inner] = e; s += e }
            let inv = 1 / s
            for c in 0..<channels { y[base + c * inner] *= inv }
        }
    }
}
