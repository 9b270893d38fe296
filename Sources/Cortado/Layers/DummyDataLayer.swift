/// DummyData: tops filled by fillers (constant by default). Constant tops are filled once;
/// random ones are refilled every forward pass, as Caffe does.
final class DummyDataLayer: Layer {
    private var fillers: [FillerParameter] = []
    private var refill: [Bool] = []
    private var rng = RNG(seed: 0)

    override var exactNumBottoms: Int? { 0 }
    override var minTops: Int? { 1 }
    override var hasBackward: Bool { false }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("dummy_data_param")
        var shapes = p.children("shape").map { $0.ints("dim") }
        if shapes.isEmpty {
            let n = p.ints("num"), c = p.ints("channels"), h = p.ints("height"), w = p.ints("width")
            let k = n.count
            guard k > 0, c.count == k, h.count == k, w.count == k else {
                throw error("dummy_data_param needs `shape` entries, or num/channels/height/width given the same number of times")
            }
            shapes = (0..<k).map { [n[$0], c[$0], h[$0], w[$0]] }
        }
        guard shapes.count == top.count || shapes.count == 1 else {
            throw error("DummyData has \(top.count) top(s) but \(shapes.count) shape(s); give one per top or a single shared one")
        }
        let fillerNodes = p.children("data_filler")
        guard fillerNodes.count <= 1 || fillerNodes.count == top.count else {
            throw error("DummyData has \(top.count) top(s) but \(fillerNodes.count) data_filler(s); give one per top, a single shared one, or none")
        }
        rng = context.spawnRNG()
        for i in 0..<top.count {
            let f = fillerNodes.isEmpty ? FillerParameter() : try FillerParameter(fillerNodes.count == 1 ? fillerNodes[0] : fillerNodes[i])
            fillers.append(f)
            refill.append(f.type != "constant")
            try top[i].reshape(shapes.count == 1 ? shapes[0] : shapes[i])
            if context.fillParameters { f.fill(top[i], &rng) }
        }
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        for i in 0..<top.count where refill[i] { fillers[i].fill(top[i], &rng) }
    }

    override func saveState() -> [Int64] { rng.words.map { Int64(bitPattern: $0) } }
    override func restoreState(_ state: [Int64]) throws {
        guard state.count == 4 else { throw error("saved state has the wrong length") }
        rng.words = state.map { UInt64(bitPattern: $0) }
    }
}
