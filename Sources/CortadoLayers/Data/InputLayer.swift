import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's InputParameter.
struct InputParameter: LayerSettings {
    static let field = "input_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "*shape:@BlobShape"
    var shapes: [[Int]]

    init(_ p: ConfigNode) throws { shapes = p.children("shape").map { $0.ints("dim") } }
}

/// Input: tops of fixed shapes that the caller fills (deploy nets, `cortado time`).
/// One `shape` per top, or a single shape shared by all tops.
final class InputLayer: Layer {
    override var exactNumBottoms: Int? { 0 }
    override var minTops: Int? { 1 }
    override var hasBackward: Bool { false }
    private let shapes: [[Int]]

    required init(_ param: LayerParameter, phase: Phase) throws {
        shapes = try param.inputShapes ?? param.settings(InputParameter.self).shapes
        try super.init(param, phase: phase)
        guard shapes.count == param.top.count || shapes.count == 1 else {
            throw error("Input has \(param.top.count) top(s) but \(shapes.count) shape(s); give one shape per top or a single shared one")
        }
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        for (i, t) in top.enumerated() {
            let s = shapes.count == 1 ? shapes[0] : shapes[i]
            try t.reshape(s)
        }
    }
}
