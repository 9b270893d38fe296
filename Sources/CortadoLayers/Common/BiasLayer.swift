import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's BiasParameter (ScaleParameter shares its axis rules).
package struct BiasParameter: LayerSettings {
    package static let field = "bias_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int num_axes:int filler:@FillerParameter"
    package var axis = 1
    /// How many bottom axes the bias covers from `axis`; −1: all the rest.
    package var numAxes = 1
    var filler = FillerParameter()

    package init(_ p: ConfigNode) throws {
        axis = p.int("axis") ?? axis
        numAxes = p.int("num_axes") ?? numAxes
        filler = try FillerParameter(p.child("filler"))
    }
}

/// Bias: y = x + b, b of the shape of bottom axes axis…axis+num_axes, broadcast over the rest;
/// b is a learnable blob (filler default 0) or a second bottom.
final class BiasLayer: Layer {
    private var outer = 1, dim = 1, inner = 1
    private var fromBottom = false
    private let settings: BiasParameter

    override var minBottoms: Int? { 1 }
    override var maxBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }

    /// + beta: the parameter, or the second bottom, broadcast from `axis` (`scaleOrBias`).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        try graph.scaleOrBias(self, inputs, isScale: false, axis: settings.axis, numAxes: settings.numAxes, biasTerm: false)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        fromBottom = bottom.count == 2
        if !fromBottom {
            let b = try Blob(checked: Self.paramShape(bottom[0], second: nil, axis: settings.axis, numAxes: settings.numAxes, layer: self))
            context.fill(b, with: settings.filler)
            blobs = [b]
        }
    }

    /// The shape of the scale or bias: bottom axes axis…axis+num_axes (num_axes −1 = to the end).
    static func paramShape(_ bottom: Blob, second: Blob?, axis: Int, numAxes: Int, layer: Layer) throws -> [Int] {
        if let second { return second.shape }
        guard let a = bottom.canonicalAxis(axis) ?? (axis == bottom.numAxes ? axis : nil) else {
            throw layer.error("axis \(axis) is out of range for bottom shape \(bottom.shape)")
        }
        guard numAxes >= -1, numAxes == -1 || a + numAxes <= bottom.numAxes else {
            throw layer.error("num_axes \(numAxes) from axis \(a) does not fit bottom shape \(bottom.shape)")
        }
        return Array(bottom.shape[a..<(numAxes == -1 ? bottom.numAxes : a + numAxes)])
    }

    /// (axis, outer, dim, inner) for broadcasting `param` over `bottom` from `axis`.
    static func split(_ bottom: Blob, by param: Blob, axis: Int, layer: Layer) throws -> (Int, Int, Int, Int) {
        let a = param.count == 1 && param.numAxes == 0 ? 0 : (axis < 0 ? axis + bottom.numAxes : axis)
        guard a >= 0, a + param.numAxes <= bottom.numAxes, Array(bottom.shape[a..<(a + param.numAxes)]) == param.shape else {
            throw layer.error("a parameter of shape \(param.shape) does not fit bottom shape \(bottom.shape) at axis \(axis)")
        }
        return (a, bottom.count(0, a), param.count, bottom.count(a + param.numAxes))
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = fromBottom ? bottom[1] : blobs[0]
        (_, outer, dim, inner) = try Self.split(bottom[0], by: b, axis: settings.axis, layer: self)
        if top[0] !== bottom[0] { try top[0].reshape(bottom[0].shape) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, b = (fromBottom ? bottom[1] : blobs[0]).data
        for o in 0..<outer { for d in 0..<dim {
            let base = (o * dim + d) * inner, c = b[d]
            for i in 0..<inner { y[base + i] = x[base + i] + c }
        } }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let dy = top[0].diff
        if fromBottom ? propagateDown[1] : needsParamGradient(0) {
            let target = fromBottom ? bottom[1] : blobs[0]
            if fromBottom { target.zeroDiff() }
            for o in 0..<outer { for d in 0..<dim {
                let base = (o * dim + d) * inner
                var acc: Float = 0
                for i in 0..<inner { acc += dy[base + i] }
                target.diff[d] += acc
            } }
        }
        if propagateDown[0] && top[0] !== bottom[0] { bottom[0].diff.update(from: dy, count: bottom[0].count) }
    }
}
