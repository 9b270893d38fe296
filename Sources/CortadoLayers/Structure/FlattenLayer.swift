import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's FlattenParameter.
package struct FlattenParameter: LayerSettings {
    package static let field = "flatten_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "axis:int end_axis:int"
    package var axis = 1
    var endAxis = -1

    package init(_ p: ConfigNode) throws {
        axis = p.int("axis") ?? axis
        endAxis = p.int("end_axis") ?? endAxis
    }
}

/// Flatten: merges axes axis…end_axis into one; the values are copied unchanged.
final class FlattenLayer: Layer {
    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    private let settings: FlattenParameter

    /// Reshape to the top's shape, the batch kept as 0 ("copy") when axis 0 is left alone.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let keepsBatch = try graph.axis(settings.axis, rank: graph.bottomShapes[0].count) > 0
        try graph.reshapeToTop(name, inputs[0], keepsBatch: keepsBatch)
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard top[0] !== bottom[0] else { throw error("Flatten cannot work in place; give its top another name") }
        let b = bottom[0]
        guard let start = b.canonicalAxis(settings.axis), let end = b.canonicalAxis(settings.endAxis), start <= end else {
            throw error("flatten axes \(settings.axis)…\(settings.endAxis) do not fit bottom shape \(b.shape)")
        }
        try top[0].reshape(Array(b.shape[..<start]) + [b.count(start, end + 1)] + Array(b.shape[(end + 1)...]))
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws { top[0].copyData(from: bottom[0]) }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if propagateDown[0] { bottom[0].diff.update(from: top[0].diff, count: bottom[0].count) }
    }
}
