import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's ReshapeParameter.
package struct ReshapeParameter: LayerSettings {
    package static let field = "reshape_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "shape:@BlobShape axis:int num_axes:int"
    /// 0 copies the bottom's dimension, one −1 is inferred.
    package var shape: [Int] = []
    package var axis = 0
    /// −1: to the last axis.
    package var numAxes = -1

    package init(_ p: ConfigNode) throws {
        shape = p.child("shape")?.ints("dim") ?? shape
        axis = p.int("axis") ?? axis
        numAxes = p.int("num_axes") ?? numAxes
        for d in shape where d < -1 {
            throw p.error("shape dim \(d) is invalid; use positive sizes, 0 (copy) or one -1 (infer)", field: "shape")
        }
        guard shape.filter({ $0 == -1 }).count <= 1 else { throw p.error("only one shape dim may be -1", field: "shape") }
        guard numAxes >= -1 else { throw p.error("num_axes must be -1 or more, found \(numAxes)", field: "num_axes") }
    }
}

/// Reshape: replaces axes axis…axis+num_axes by `shape`, where 0 copies the bottom's dimension
/// and one −1 is inferred; the values are copied unchanged.
final class ReshapeLayer: Layer {
    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    private let settings: ReshapeParameter

    /// Reshape to the top's shape, the batch kept as 0 ("copy") when axis 0 is left alone.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        try graph.reshapeToTop(name, inputs[0], keepsBatch: settings.axis != 0 || settings.shape.first == 0)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard top[0] !== bottom[0] else { throw error("Reshape cannot work in place; give its top another name") }
        let dims = settings.shape
        let b = bottom[0].shape
        let axisParam = settings.axis, numAxes = settings.numAxes
        let start = axisParam < 0 ? b.count + axisParam + 1 : axisParam
        guard start >= 0, start <= b.count else { throw error("reshape axis \(axisParam) is out of range for bottom shape \(b)") }
        let end = numAxes == -1 ? b.count : start + numAxes
        guard numAxes >= -1, end <= b.count else { throw error("num_axes \(numAxes) from axis \(start) does not fit bottom shape \(b)") }
        var middle: [Int] = []
        for (i, d) in dims.enumerated() {
            if d == 0 {
                guard start + i < b.count else { throw error("dim \(i) is 0 (copy) but the bottom has no axis \(start + i)") }
                middle.append(b[start + i])
            } else {
                guard d >= -1 else { throw error("shape dim \(d) is invalid; use positive sizes, 0 (copy) or one -1 (infer)") }
                middle.append(d)
            }
        }
        guard middle.filter({ $0 == -1 }).count <= 1 else { throw error("only one shape dim may be -1") }
        var shape = Array(b[..<start]) + middle + Array(b[end...])
        if let i = shape.firstIndex(of: -1) {
            let known = shape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, bottom[0].count % known == 0 else { throw error("cannot infer the -1 dim: \(bottom[0].count) values do not divide by \(known)") }
            shape[i] = bottom[0].count / known
        }
        guard shape.reduce(1, *) == bottom[0].count else {
            throw error("shape \(shape) has \(shape.reduce(1, *)) values but the bottom \(b) has \(bottom[0].count)")
        }
        try top[0].reshape(shape)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws { top[0].copyData(from: bottom[0]) }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if propagateDown[0] { bottom[0].diff.update(from: top[0].diff, count: bottom[0].count) }
    }
}
