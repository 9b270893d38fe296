import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ConcatParameter (`concat_dim` is the old name of `axis`).
package struct ConcatParameter: LayerSettings {
    package static let field = "concat_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int concat_dim:int"
    package var axis = 1

    package init(_ p: ConfigNode) throws {
        axis = p.int("axis") ?? p.int("concat_dim") ?? axis
    }
}

/// Concat: joins bottoms along `axis` (default 1; the old concat_dim too); all other axes must agree.
final class ConcatLayer: Layer {
    private var axis = 1
    private var outer = 1, inner = 1
    private let settings: ConcatParameter

    override var minBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let axis = try graph.axis(settings.axis, rank: graph.bottomShapes[0].count)
        graph.single("Concat", name, inputs, [("axis", .int(axis))])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let requested = settings.axis
        let a = try canonicalAxis(requested, of: bottom[0])
        axis = a
        var shape = bottom[0].shape
        for b in bottom.dropFirst() {
            guard b.numAxes == shape.count, b.shape.enumerated().allSatisfy({ $0.offset == a || $0.element == shape[$0.offset] }) else {
                throw error("bottoms must match on every axis but \(a) to be concatenated; found \(bottom[0].shape) and \(b.shape)")
            }
            shape[a] += b.shape[a]
        }
        outer = bottom[0].count(0, a)
        inner = bottom[0].count(a + 1)
        try top[0].reshape(shape)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let total = top[0].shape[axis]
        var offset = 0
        for b in bottom {
            let size = b.shape[axis] * inner
            for o in 0..<outer {
                (top[0].data + (o * total) * inner + offset * inner).update(from: b.data + o * size, count: size)
            }
            offset += b.shape[axis]
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let total = top[0].shape[axis]
        var offset = 0
        for (i, b) in bottom.enumerated() {
            let size = b.shape[axis] * inner
            if propagateDown[i] {
                for o in 0..<outer {
                    (b.diff + o * size).update(from: top[0].diff + (o * total) * inner + offset * inner, count: size)
                }
            }
            offset += b.shape[axis]
        }
    }
}
