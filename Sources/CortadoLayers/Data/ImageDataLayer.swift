import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's ImageDataParameter.
struct ImageDataParameter: LayerSettings {
    static let field = "image_data_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        source:string batch_size:int rand_skip:int shuffle:bool new_height:int new_width:int \
        is_color:bool scale:float mean_file:string crop_size:int mirror:bool root_folder:string
        """
    var source: String
    var batchSize = 1
    var randSkip = 0
    var shuffle = false
    /// 0 × 0: keep each image's size.
    var newHeight = 0, newWidth = 0
    var isColor = true
    var rootFolder = ""
    let node: ConfigNode

    init(_ p: ConfigNode) throws {
        node = p
        guard let s = p.string("source") else { throw p.error("image_data_param needs a source (a list of `path label` lines)") }
        source = s
        batchSize = p.int("batch_size") ?? batchSize
        guard batchSize > 0 else { throw p.error("batch_size must be positive", field: "batch_size") }
        randSkip = p.int("rand_skip") ?? randSkip
        shuffle = p.bool("shuffle") ?? shuffle
        newHeight = p.int("new_height") ?? newHeight
        newWidth = p.int("new_width") ?? newWidth
        guard (newHeight == 0) == (newWidth == 0) else {
            throw p.error("give both new_height and new_width, or neither", field: p.has("new_height") ? "new_height" : "new_width")
        }
        isColor = p.bool("is_color") ?? isColor
        rootFolder = p.string("root_folder") ?? rootFolder
    }
}

/// ImageData: reads the images named in a list file (`path label` per line, split at the last
/// space), from root_folder, optionally resized to new_height × new_width and shuffled each
/// epoch; JPEG and PNG are decoded by libjpeg-turbo and libpng, into BGR as Caffe does.
final class ImageDataLayer: PrefetchingDataLayer {
    private var lines: [(path: String, label: Int)] = []
    private var order: [Int] = []
    private var position = 0
    private var shuffleRNG = RNG(seed: 0)
    private let settings: ImageDataParameter
    private let transform: TransformationParameter
    private var shuffle: Bool { settings.shuffle }
    private var batchSize: Int { settings.batchSize }
    private var root: String { settings.rootFolder }
    private var newSize: (h: Int, w: Int) { (settings.newHeight, settings.newWidth) }
    private var color: Bool { settings.isColor }
    private var transformer: DataTransformer!
    private var inputShape = (c: 0, h: 0, w: 0)
    override var dataSource: String? { settings.source }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        transform = try TransformationParameter(of: param)
        try super.init(param, phase: phase)
    }

    /// Where the list is absent: batch × the size new_height/new_width or crop_size declare.
    override func syntheticTopShapes() throws -> [[Int]]? {
        guard !FileManager.default.fileExists(atPath: settings.source) else { return nil }
        let (h, w) = newSize
        guard transform.cropSize > 0 || (h > 0 && w > 0) else {
            throw error("its source \(settings.source) is absent and it declares no image size (new_height/new_width or crop_size)")
        }
        let image = transform.outputShape(channels: color ? 3 : 1, height: h, width: w)
        return DeclaredDataShape.shapes(batch: batchSize, image: image, labels: param.top.count > 1)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        lines = try Self.readList(settings.source, node: settings.node)
        order = Array(lines.indices)
        shuffleRNG = context.spawnRNG()
        if shuffle { shuffleRNG.shuffle(&order) }
        if settings.randSkip > 0 {
            var rng = context.spawnRNG()
            position = rng.below(settings.randSkip) % lines.count
        }
        transformer = try DataTransformer(transform, phase: phase, rng: context.spawnRNG())
        let first = try load(lines[order[position]].path)
        inputShape = (first.channels, first.height, first.width)
        try transformer.check(channels: first.channels, height: first.height, width: first.width, layer: self)
        try top[0].reshape([batchSize] + transformer.outputShape(channels: first.channels, height: first.height, width: first.width))
        if top.count > 1 { try top[1].reshape([batchSize]) }
        try finishSetUp(top: top)
    }

    static func readList(_ source: String, node: ConfigNode) throws -> [(path: String, label: Int)] {
        do { return try ImageSet.readList(source) } catch let e as any CortadoFailure { throw node.error(e.description, field: "source") }
    }

    private func load(_ path: String) throws -> Image {
        var img = try Image.load(root + path, color: color)
        if newSize.h > 0 { img = img.resized(height: newSize.h, width: newSize.w) }
        return img
    }

    override func loadBatch(data: Blob, label: Blob?) throws {
        let itemSize = data.count / batchSize
        for i in 0..<batchSize {
            let line = lines[order[position]]
            let img = try load(line.path)
            guard (img.channels, img.height, img.width) == inputShape else {
                throw error("\(root + line.path) is \(img.channels)×\(img.height)×\(img.width), but the first image is \(inputShape.c)×\(inputShape.h)×\(inputShape.w); set new_height/new_width so a batch has one size")
            }
            let px = img.pixels
            transformer.transform({ Float(px[$0]) }, channels: img.channels, height: img.height, width: img.width, into: data.data + i * itemSize)
            label?.data[i] = Float(line.label)
            advance()
        }
    }

    /// Every image has the first image's size (loadBatch checks), so a skipped image makes
    /// the same random draws without being read or decoded.
    override func skipBatch() throws {
        for _ in 0..<batchSize {
            transformer.placement(height: inputShape.h, width: inputShape.w)
            advance()
        }
    }

    /// The next line of the list, reshuffled at the end of each epoch.
    private func advance() {
        position += 1
        if position == lines.count {
            position = 0
            if shuffle { shuffleRNG.shuffle(&order) }
        }
    }

    // State: [position, shuffle rng ×4, transformer rng ×4, order…]
    override func readerState() -> [Int64] {
        [Int64(position)] + shuffleRNG.words.map { Int64(bitPattern: $0) } + transformer.rng.words.map { Int64(bitPattern: $0) } + order.map(Int64.init)
    }

    override func restoreReader(_ state: [Int64]) throws {
        guard state.count == 9 + lines.count, Set(state[9...].map { Int($0) }) == Set(lines.indices), state[0] >= 0, Int(state[0]) < lines.count else {
            throw error("saved data position does not fit this layer's image list")
        }
        position = Int(state[0])
        shuffleRNG.words = state[1..<5].map { UInt64(bitPattern: $0) }
        transformer.rng.words = state[5..<9].map { UInt64(bitPattern: $0) }
        order = state[9...].map { Int($0) }
    }
}
