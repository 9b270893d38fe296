/// Input: tops of fixed shapes that the caller fills (deploy nets, `cortado time`).
/// One `shape` per top, or a single shape shared by all tops.
final class InputLayer: Layer {
    override var exactNumBottoms: Int? { 0 }
    override var minTops: Int? { 1 }
    override var hasBackward: Bool { false }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let shapes = param.inputShapes ?? param.sub("input_param").children("shape").map { $0.ints("dim") }
        guard shapes.count == top.count || shapes.count == 1 else {
            throw error("Input has \(top.count) top(s) but \(shapes.count) shape(s); give one shape per top or a single shared one")
        }
        for (i, t) in top.enumerated() {
            let s = shapes.count == 1 ? shapes[0] : shapes[i]
            try t.reshape(s)
        }
    }
}
