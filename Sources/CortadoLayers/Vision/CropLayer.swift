import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's CropParameter.
package struct CropParameter: LayerSettings {
    package static let field = "crop_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int *offset:int"
    package var axis = 2
    /// One for all cropped axes, or one each; none: 0.
    package var offset: [Int] = []
    let node: ConfigNode

    package init(_ p: ConfigNode) throws {
        node = p
        axis = p.int("axis") ?? axis
        offset = p.ints("offset")
    }
}

/// Crop: cuts bottom 0 to the shape of bottom 1 on every axis from `axis` (default 2), starting
/// at `offset` (one for all cropped axes, or one each). Bottom 1 only gives the shape.
final class CropLayer: Layer {
    private var offsets: [Int] = []

    override var exactNumBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }
    override func allowForceBackward(_ i: Int) -> Bool { i == 0 }
    private let settings: CropParameter

    /// Slice from the offsets to the second bottom's sizes, on the axes from `axis` on.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s = settings, rank = graph.bottomShapes[0].count
        let a = try graph.axis(s.axis, rank: rank)
        let axes = Array(a..<rank)
        let offsets = axes.enumerated().map { i, _ in s.offset.isEmpty ? 0 : s.offset.count == 1 ? s.offset[0] : s.offset[i] }
        let ends = axes.enumerated().map { i, d in offsets[i] + graph.bottomShapes[1][d] }
        let operands = [inputs[0], graph.constant("\(name)_starts", int64s: offsets.map(Int64.init)),
                        graph.constant("\(name)_ends", int64s: ends.map(Int64.init)), graph.constant("\(name)_axes", int64s: axes.map(Int64.init))]
        graph.single("Slice", name, operands)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let p = settings.node
        let a = bottom[0], b = bottom[1]
        guard a.numAxes == b.numAxes, let start = a.canonicalAxis(settings.axis) else {
            throw error("Crop needs bottoms with the same number of axes and a valid axis; found \(a.shape) and \(b.shape)")
        }
        let given = settings.offset
        let cropped = a.numAxes - start
        guard given.count <= 1 || given.count == cropped else {
            throw p.error("give one offset, or one for each of the \(cropped) cropped axes", field: "offset")
        }
        var shape = a.shape
        offsets = Array(repeating: 0, count: a.numAxes)
        for i in start..<a.numAxes {
            let o = given.isEmpty ? 0 : (given.count == 1 ? given[0] : given[i - start])
            guard o + b.shape[i] <= a.shape[i] else {
                throw error("crop of axis \(i) (offset \(o), size \(b.shape[i])) does not fit bottom size \(a.shape[i])")
            }
            offsets[i] = o
            shape[i] = b.shape[i]
        }
        try top[0].reshape(shape)
    }

    /// Calls `body(srcIndex, dstIndex, count)` for each contiguous run along the last axis.
    private func runs(_ from: [Int], _ to: [Int], _ body: (Int, Int, Int) -> Void) {
        let n = to.count
        guard n > 0 else { body(0, 0, 1); return }
        let rows = to.dropLast().reduce(1, *)
        for r in 0..<rows {
            // Walk the axes from the last: the output row r's index on each axis, shifted by the offset.
            var rem = r, src = offsets[n - 1], step = from[n - 1]
            for axis in stride(from: n - 2, through: 0, by: -1) {
                src += (rem % to[axis] + offsets[axis]) * step
                rem /= to[axis]
                step *= from[axis]
            }
            body(src, r * to[n - 1], to[n - 1])
        }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        runs(bottom[0].shape, top[0].shape) { s, d, n in (y + d).update(from: x + s, count: n) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        bottom[0].zeroDiff()
        let dx = bottom[0].diff, dy = top[0].diff
        runs(bottom[0].shape, top[0].shape) { s, d, n in (dx + s).update(from: dy + d, count: n) }
    }
}
