import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's SliceParameter (`slice_dim` is the old name of `axis`).
package struct SliceParameter: LayerSettings {
    package static let field = "slice_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int *slice_point:int slice_dim:int"
    package var axis = 1
    /// Empty: equal parts, one per top.
    var slicePoint: [Int] = []

    package init(_ p: ConfigNode) throws {
        axis = p.int("axis") ?? p.int("slice_dim") ?? axis
        slicePoint = p.ints("slice_point")
    }
}

/// Slice: cuts the bottom along `axis` at `slice_point`s, or into equal parts when none are given.
final class SliceLayer: Layer {
    private var axis = 1
    private var outer = 1, inner = 1
    private var sizes: [Int] = []

    override var exactNumBottoms: Int? { 1 }
    override var minTops: Int? { 1 }
    private let settings: SliceParameter

    /// Split along the axis into the tops' sizes.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let a = try graph.axis(settings.axis, rank: graph.bottomShapes[0].count)
        let sizes = graph.topShapes.map { Int64($0[a]) }
        let split = graph.constant("\(name)_split", int64s: sizes)
        graph.single("Split", name, [inputs[0], split], [("axis", .int(a))])
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
        let dim = bottom[0].shape[a]
        let points = settings.slicePoint
        if points.isEmpty {
            guard dim % top.count == 0 else { throw error("axis \(a) of size \(dim) cannot be split into \(top.count) equal parts") }
            sizes = Array(repeating: dim / top.count, count: top.count)
        } else {
            guard points.count == top.count - 1 else { throw error("\(top.count) tops need \(top.count - 1) slice_point values, found \(points.count)") }
            let bounds = [0] + points + [dim]
            guard zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw error("slice_point values \(points) must increase and lie inside axis \(a) of size \(dim)")
            }
            sizes = zip(bounds, bounds.dropFirst()).map { $1 - $0 }
        }
        outer = bottom[0].count(0, a)
        inner = bottom[0].count(a + 1)
        for (t, s) in zip(top, sizes) {
            var shape = bottom[0].shape
            shape[a] = s
            try t.reshape(shape)
        }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let total = bottom[0].shape[axis]
        var offset = 0
        for (t, s) in zip(top, sizes) {
            for o in 0..<outer {
                (t.data + o * s * inner).update(from: bottom[0].data + (o * total + offset) * inner, count: s * inner)
            }
            offset += s
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let total = bottom[0].shape[axis]
        var offset = 0
        for (t, s) in zip(top, sizes) {
            for o in 0..<outer {
                (bottom[0].diff + (o * total + offset) * inner).update(from: t.diff + o * s * inner, count: s * inner)
            }
            offset += s
        }
    }
}
