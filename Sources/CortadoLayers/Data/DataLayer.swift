import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's DataParameter. `backend` defaults to LEVELDB in Caffe, which Cortado cannot read.
struct DataParameter: LayerSettings {
    static let field = "data_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        source:string batch_size:int rand_skip:int backend:enum(LEVELDB,LMDB) scale:float \
        mean_file:string crop_size:int mirror:bool force_encoded_color:bool prefetch:int
        """
    var source: String
    var batchSize: Int
    var randSkip = 0
    /// Batches read ahead (Caffe's default 4), at least 1.
    var prefetch = 4
    let node: ConfigNode

    init(_ p: ConfigNode) throws {
        node = p
        guard let s = p.string("source") else { throw p.error("data_param needs a source (an LMDB folder)") }
        source = s
        guard let b = p.int("batch_size"), b > 0 else {
            throw p.error("data_param needs batch_size > 0", field: p.has("batch_size") ? "batch_size" : nil)
        }
        batchSize = b
        randSkip = p.int("rand_skip") ?? randSkip
        prefetch = max(1, p.int("prefetch") ?? prefetch)
        if (p.enumValue("backend") ?? "LEVELDB") == "LEVELDB" {
            throw p.error("backend LEVELDB is not available in Cortado (Caffe's default when `backend` is not given); write `backend: LMDB` and convert the data to LMDB with `cortado convert-imageset` (or Caffe's convert_imageset --backend=lmdb)", field: p.has("backend") ? "backend" : nil)
        }
    }
}

/// Data: reads Datum records from an LMDB made by convert_imageset, in key order, wrapping
/// around at the end; transform_param crops, mirrors and subtracts the mean. A prefetch
/// thread reads ahead. Its state (record position, random stream) goes into solverstates.
final class DataLayer: PrefetchingDataLayer {
    private var db: LMDB!
    private let settings: DataParameter
    private let transform: TransformationParameter
    private var source: String { settings.source }
    private var batchSize: Int { settings.batchSize }
    private var position = 0          // index of the next record to read
    private var transformer: DataTransformer!
    private var color: Bool?
    private var inputShape = (c: 0, h: 0, w: 0)

    override var prefetchCount: Int { settings.prefetch }
    override var dataSource: String? { source }
    override var graphDetails: [String] { ["batch \(batchSize)"] }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        transform = try TransformationParameter(of: param)
        try super.init(param, phase: phase)
    }

    /// Where the LMDB is absent: batch × the size the mean file or crop says (MNIST and CIFAR
    /// sources are recognised by name when nothing else says).
    override func syntheticTopShapes() throws -> [[Int]]? {
        guard !FileManager.default.fileExists(atPath: source) else { return nil }
        let declared = try DeclaredDataShape.imageShape(transform, source: source, channels: transform.forceGray ? 1 : 3, for: self)
        return DeclaredDataShape.shapes(batch: batchSize, image: declared, labels: param.top.count > 1)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = settings.node, s = source
        color = transform.forcedColor
        do { db = try LMDB.openForReading(s) } catch let e as any CortadoFailure { throw p.error(e.description, field: "source") }
        transformer = try DataTransformer(transform, phase: phase, rng: context.spawnRNG())
        guard try db.first() else { throw p.error("the LMDB \(s) is empty", field: "source") }
        let first = try image(try Datum.decode(db.currentValue, source: "\(s) record \(db.currentKey)"), key: db.currentKey)
        inputShape = (first.c, first.h, first.w)
        try transformer.check(channels: first.c, height: first.h, width: first.w, layer: self)
        if settings.randSkip > 0 {
            var rng = context.spawnRNG()
            try seek(rng.below(settings.randSkip))
        }
        try top[0].reshape([batchSize] + transformer.outputShape(channels: first.c, height: first.h, width: first.w))
        if top.count > 1 { try top[1].reshape([batchSize]) }
        try finishSetUp(top: top)
    }

    /// The record's pixels as a (c, h, w, value-at-index) reader.
    private func image(_ d: Datum, key: String) throws -> (c: Int, h: Int, w: Int, value: (Int) -> Float) {
        if d.encoded {
            let img = try d.image(color: color, source: "\(source) record \(key)")
            let px = img.pixels
            return (img.channels, img.height, img.width, { Float(px[$0]) })
        }
        if !d.data.isEmpty {
            let px = d.data
            return (d.channels, d.height, d.width, { Float(px[$0]) })
        }
        let f = d.floatData
        return (d.channels, d.height, d.width, { f[$0] })
    }

    private func seek(_ index: Int) throws {
        guard try db.first() else { return }
        position = 0
        for _ in 0..<index { try advance() }
    }

    private func advance() throws {
        position += 1
        if try !db.next() {
            _ = try db.first()
            position = 0
        }
    }

    override func loadBatch(data: Blob, label: Blob?) throws {
        let itemSize = data.count / batchSize
        for i in 0..<batchSize {
            let key = db.currentKey
            let datum = try Datum.decode(db.currentValue, source: "\(source) record \(key)")
            let img = try image(datum, key: key)
            guard (img.c, img.h, img.w) == inputShape else {
                throw error("record \(key) of \(source) is \(img.c)×\(img.h)×\(img.w), but the first record is \(inputShape.c)×\(inputShape.h)×\(inputShape.w); all records of a batch must have one size")
            }
            transformer.transform(img.value, channels: img.c, height: img.h, width: img.w, into: data.data + i * itemSize)
            label?.data[i] = Float(datum.label)
            try advance()
        }
    }

    /// Every record has the first record's size (loadBatch checks), so a skipped record
    /// makes the same random draws without being decoded.
    override func skipBatch() throws {
        for _ in 0..<batchSize {
            transformer.placement(height: inputShape.h, width: inputShape.w)
            try advance()
        }
    }

    override func readerState() -> [Int64] {
        [Int64(position)] + transformer.rng.words.map { Int64(bitPattern: $0) }
    }

    override func restoreReader(_ state: [Int64]) throws {
        guard state.count == 5, state[0] >= 0 else { throw error("saved data position does not fit this layer") }
        try seek(Int(state[0]))
        transformer.rng.words = state[1...].map { UInt64(bitPattern: $0) }
    }
}
