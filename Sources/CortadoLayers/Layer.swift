import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation
/// What a layer needs while it is set up: the random stream its fillers draw from, and a
/// way to give stochastic layers (Dropout, shuffling data) a stream of their own.
public final class LayerContext {
    public var rng: RNG
    public let phase: Phase
    /// False for a net built only to know its shapes (summary, validate): fillers are skipped.
    public var fillParameters = true

    public init(rng: RNG, phase: Phase) {
        self.rng = rng
        self.phase = phase
    }

    /// Fills a parameter blob with its filler (unless only shapes are wanted).
    public func fill(_ blob: Blob, with filler: FillerParameter) {
        if fillParameters { filler.fill(blob, &rng) }
    }

    /// A new independent stream, seeded from the filler stream in creation order.
    public func spawnRNG() -> RNG { RNG(seed: rng.next()) }
}

/// A Caffe `*_param` message decoded once into typed values, with Caffe's defaults written
/// next to the fields. Decoding needs no input blobs, so `validate` checks every layer's
/// settings even when a layer upstream is broken.
public protocol LayerSettings: Sendable {
    /// The LayerParameter field that holds this message, e.g. `pooling_param`.
    static var field: String { get }
    /// The message's fields as caffe.proto has them, in the schema's language
    /// (`name:kind`, `*` repeated, `@Message` nested, `enum(A,B)`): what files are checked against.
    static var schema: String { get }
    init(_ node: ConfigNode) throws
}

extension LayerSettings {
    /// The message's name in caffe.proto: the struct's own (`PoolingParameter`).
    public static var message: String { String(describing: Self.self) }
}

extension LayerParameter {
    /// The layer's `*_param` message decoded (defaults when the file does not give it). Its
    /// message joins the schema first, so a layer brings its settings' schema with it.
    public func settings<S: LayerSettings>(_ type: S.Type = S.self) throws -> S {
        try Schema.addLayerMessage(S.message, fields: S.schema, field: S.field)
        return try S(try sub(S.field))
    }
}

/// Caffe's Layer life cycle: `init` decodes the settings (and may throw), `setUp` once with
/// the bottoms (create and fill blobs), `reshape` before every `forward` (cheap when shapes
/// did not change: blobs keep their capacity), then `forward` and `backward`.
/// Weight gradients are added into param diffs; bottom diffs are overwritten.
open class Layer {
    public let param: LayerParameter
    public let phase: Phase
    /// Learnable parameter blobs, in the order caffemodels store them.
    public var blobs: [Blob] = []
    /// Which param blobs need a gradient (false when lr_mult is 0); set by the net.
    public var paramPropagateDown: [Bool] = []
    /// Threads this layer may split its work across (`Parallel.threads` when it was built).
    /// Tests set it to compare a split layer with a single-threaded one.
    public var threads = Parallel.threads
    /// For data layers: which batches are this process's in a data-parallel run (DataShard).
    package var shard = DataShard.whole
    /// Memory for buffers that live only inside one call (oneDNN's reordered arguments and
    /// scratchpads). A net gives all its layers one, since they never run at the same time.
    package var callScratch = CallScratch()

    public required init(_ param: LayerParameter, phase: Phase) throws {
        self.param = param
        self.phase = phase
    }

    public var name: String { param.name }
    public var type: String { param.type }

    // Arity, checked once by the net before set-up. nil = no constraint.
    open var exactNumBottoms: Int? { nil }
    open var minBottoms: Int? { nil }
    open var maxBottoms: Int? { nil }
    open var exactNumTops: Int? { nil }
    open var minTops: Int? { nil }
    open var maxTops: Int? { nil }

    /// Loss layers put loss_weight 1 on their first top unless the file says otherwise.
    open var isLoss: Bool { false }

    /// Whether `force_backward` may ask for a gradient to this bottom (labels: no).
    open func allowForceBackward(_ bottomIndex: Int) -> Bool { true }

    /// Blobs that hold statistics, not learnable weights (BatchNorm): the net forces their
    /// lr_mult to 0 and refuses a non-zero one.
    open var fixedParams: Bool { false }

    /// Layers without a gradient (Accuracy, data layers) return false so the net never asks.
    open var hasBackward: Bool { true }

    /// The file or folder a data layer reads (its `source`), nil for other layers. An absent
    /// source is only a warning in `validate`, which may run where the data is not.
    open var dataSource: String? { nil }

    /// Whether what the layer reads is absent here (its source; a list layer also the files
    /// the list names), which `validate` reports as a note, not an error.
    open var dataIsAbsent: Bool { dataSource.map { !FileManager.default.fileExists(atPath: $0) } ?? false }

    /// For a data layer whose source is absent here: the top shapes its settings declare, so
    /// `summary` and `time --synthetic-data` can stand in synthetic data. nil: nothing to replace.
    open func syntheticTopShapes() throws -> [[Int]]? { nil }

    /// Multiply-adds of one forward pass (convolutions and inner products), for `summary`.
    open func multiplyAdds(bottom: [Blob], top: [Blob]) -> Int { 0 }

    /// Short notes on the settings for a graph node (`20 out`, `MAX k2 s2`), for `draw`.
    open var graphDetails: [String] { [] }

    /// The fill colour of this layer's box in `draw` and the dashboard's net (CSS hex); nil
    /// leaves it to its kind: losses, data layers, the rest.
    open var graphColour: String? { nil }

    /// Writes this layer into an ONNX graph, reading `inputs` (its bottoms' values) and ending
    /// in `graph.tops()`; returns false to leave it to the graph builder's own table (the
    /// default), which knows the layers whose export needs the built net's shapes.
    open func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool { false }

    open func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {}
    open func reshape(bottom: [Blob], top: [Blob]) throws {}
    open func forward(bottom: [Blob], top: [Blob]) throws {}
    open func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {}
    /// Set by a layer whose backward failed (a Python layer's exception: backward cannot
    /// throw, since built-in layers never fail there); the net throws it once the layer returns.
    public var backwardFailure: (any Error)?

    /// State to keep in a solverstate for a bit-identical resume (data position, RNG).
    open func saveState() -> [Int64] { [] }
    open func restoreState(_ state: [Int64]) throws {}

    /// For layers that draw random numbers while training (Dropout, stochastic pooling): a
    /// stream of their own per rank, so ranks do not drop the same units. Data layers keep
    /// theirs: their stream is the one global order all ranks share.
    open func reseed(_ rng: inout RNG) {}

    public func needsParamGradient(_ i: Int) -> Bool {
        i < paramPropagateDown.count ? paramPropagateDown[i] : true
    }

    public func error(_ text: String) -> ConfigError { param.error(text) }

    /// `requested` (negative counts from the end) as an axis of `blob`, or an error naming the
    /// layer, or the settings' `axis` field when `node` is given.
    func canonicalAxis(_ requested: Int, of blob: Blob, node: ConfigNode? = nil) throws -> Int {
        if let a = blob.canonicalAxis(requested) { return a }
        let text = "axis \(requested) is out of range for a bottom of shape \(blob.shape)"
        throw node.map { $0.error(text, field: "axis") } ?? error(text)
    }
}
