import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's DummyDataParameter: shapes as `shape` messages or the old num/channels/height/width.
struct DummyDataParameter: LayerSettings {
    static let field = "dummy_data_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        *data_filler:@FillerParameter *shape:@BlobShape *num:int *channels:int *height:int \
        *width:int
        """
    var shapes: [[Int]]
    var dataFillers: [FillerParameter]

    init(_ p: ConfigNode) throws {
        shapes = p.children("shape").map { $0.ints("dim") }
        if shapes.isEmpty {
            let n = p.ints("num"), c = p.ints("channels"), h = p.ints("height"), w = p.ints("width")
            let k = n.count
            guard k > 0, c.count == k, h.count == k, w.count == k else {
                throw p.error("dummy_data_param needs `shape` entries, or num/channels/height/width given the same number of times")
            }
            shapes = (0..<k).map { [n[$0], c[$0], h[$0], w[$0]] }
        }
        dataFillers = try p.children("data_filler").map { try FillerParameter($0) }
    }
}

/// DummyData: tops filled by fillers (constant by default). Constant tops are filled once;
/// random ones are refilled every forward pass, as Caffe does.
final class DummyDataLayer: Layer {
    private var fillers: [FillerParameter] = []
    private var refill: [Bool] = []
    private var rng = RNG(seed: 0)
    private let settings: DummyDataParameter

    override var exactNumBottoms: Int? { 0 }
    override var minTops: Int? { 1 }
    override var hasBackward: Bool { false }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
        let tops = param.top.count, shapes = settings.shapes.count, given = settings.dataFillers.count
        guard shapes == tops || shapes == 1 else {
            throw error("DummyData has \(tops) top(s) but \(shapes) shape(s); give one per top or a single shared one")
        }
        guard given <= 1 || given == tops else {
            throw error("DummyData has \(tops) top(s) but \(given) data_filler(s); give one per top, a single shared one, or none")
        }
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let shapes = settings.shapes, given = settings.dataFillers
        rng = context.spawnRNG()
        for i in 0..<top.count {
            let f = given.isEmpty ? FillerParameter() : given[given.count == 1 ? 0 : i]
            fillers.append(f)
            refill.append(f.type != .constant)
            try top[i].reshape(shapes.count == 1 ? shapes[0] : shapes[i])
            if context.fillParameters { f.fill(top[i], &rng) }
        }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        guard refill.contains(true) else { return }
        try shard.next(read: { fillRandom(top) }, skip: {
            // Other ranks' draws go into spare blobs, so this rank's batch stays in the tops.
            if spares.count != top.count { spares = try top.map { try Blob(checked: $0.shape) } }
            fillRandom(spares)
        })
    }
    private var spares: [Blob] = []

    private func fillRandom(_ blobs: [Blob]) {
        for i in 0..<blobs.count where refill[i] { fillers[i].fill(blobs[i], &rng) }
    }

    override func saveState() -> [Int64] { rng.words.map { Int64(bitPattern: $0) } }
    override func restoreState(_ state: [Int64]) throws {
        guard state.count == 4 else { throw error("saved state has the wrong length") }
        rng.words = state.map { UInt64(bitPattern: $0) }
    }
}
