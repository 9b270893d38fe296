import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Every layer type Cortado can build, keyed by Caffe's type string (case-sensitive).
/// An explicit table rather than static registration: one place lists what exists. Programs
/// that use the library add their own layers with `register`.
public enum LayerRegistry {
    static let creators: [String: Layer.Type] = [
        "Input": InputLayer.self,
        "DummyData": DummyDataLayer.self,
        "HDF5Data": HDF5DataLayer.self,
        "Data": DataLayer.self,
        "ImageData": ImageDataLayer.self,
        "Convolution": ConvolutionLayer.self,
        "Deconvolution": DeconvolutionLayer.self,
        "Crop": CropLayer.self,
        "Pooling": PoolingLayer.self,
        "LRN": LRNLayer.self,
        "SPP": SPPLayer.self,
        "BatchNorm": BatchNormLayer.self,
        "Scale": ScaleLayer.self,
        "Bias": BiasLayer.self,
        "InnerProduct": InnerProductLayer.self,
        "ReLU": ReLULayer.self,
        "Sigmoid": SigmoidLayer.self,
        "TanH": TanHLayer.self,
        "Dropout": DropoutLayer.self,
        "Softmax": SoftmaxLayer.self,
        "AbsVal": AbsValLayer.self,
        "Power": PowerLayer.self,
        "Exp": ExpLayer.self,
        "Log": LogLayer.self,
        "BNLL": BNLLLayer.self,
        "Threshold": ThresholdLayer.self,
        "ELU": ELULayer.self,
        "Swish": SwishLayer.self,
        "Clip": ClipLayer.self,
        "PReLU": PReLULayer.self,
        "SoftmaxWithLoss": SoftmaxWithLossLayer.self,
        "Accuracy": AccuracyLayer.self,
        "EuclideanLoss": EuclideanLossLayer.self,
        "SigmoidCrossEntropyLoss": SigmoidCrossEntropyLossLayer.self,
        "HingeLoss": HingeLossLayer.self,
        "ContrastiveLoss": ContrastiveLossLayer.self,
        "MultinomialLogisticLoss": MultinomialLogisticLossLayer.self,
        "InfogainLoss": InfogainLossLayer.self,
        "Split": SplitLayer.self,
        "Concat": ConcatLayer.self,
        "Slice": SliceLayer.self,
        "Flatten": FlattenLayer.self,
        "Reshape": ReshapeLayer.self,
        "Eltwise": EltwiseLayer.self,
        "Silence": SilenceLayer.self,
        "Tile": TileLayer.self,
        "Reduction": ReductionLayer.self,
        "ArgMax": ArgMaxLayer.self,
        "Embed": EmbedLayer.self,
        "Parameter": ParameterLayer.self,
        "BatchReindex": BatchReindexLayer.self,
        "Filter": FilterLayer.self,
        "MVN": MVNLayer.self,
        "RNN": RNNLayer.self,
        "LSTM": LSTMLayer.self,
        "Python": PythonLayer.self,
    ]

    /// Type names that popular Caffe forks use for layers Cortado has (MobileNet's depthwise
    /// convolution is an ordinary Convolution with group = channels here).
    static let aliases: [String: String] = ["DepthwiseConvolution": "Convolution", "ConvolutionDepthwise": "Convolution"]

    nonisolated(unsafe) private static var custom: [String: Layer.Type] = [:]
    private static let lock = NSLock()

    /// Adds a layer type of the program's own (a subclass of `Layer` that decodes its settings
    /// in `init`), or replaces a built-in one of the same name.
    public static func register(_ layer: Layer.Type, as type: String) {
        addSchema(of: layer)
        lock.lock(); defer { lock.unlock() }
        custom[type] = layer
    }

    /// Every layer's settings messages in the schema, before a file is checked against it.
    /// Each type is made once with empty settings: its `settings()` calls add their messages,
    /// so the schema comes from the settings structs, with no list to keep beside them.
    package static func installSchemas() { _ = installed }

    private static let installed: Void = {
        var seen: Set<ObjectIdentifier> = []
        for layer in creators.values where seen.insert(ObjectIdentifier(layer)).inserted { addSchema(of: layer) }
    }()

    private static func addSchema(of layer: Layer.Type) {
        _ = try? layer.init(LayerParameter(name: "schema", type: ""), phase: .train)
    }

    /// Types registered for one task only (`withRegistered`), looked up before the rest.
    @TaskLocal private static var scoped: [String: Layer.Type] = [:]

    /// Runs `body` with `layer` registered as `type` for this task alone: a test, or one of
    /// several nets built side by side, adds its layer without changing what others see.
    public static func withRegistered<R>(_ layer: Layer.Type, as type: String, _ body: () throws -> R) rethrows -> R {
        addSchema(of: layer)
        return try $scoped.withValue(scoped.merging([type: layer]) { _, new in new }, operation: body)
    }

    private static func lookUp(_ name: String) -> Layer.Type? {
        if let layer = scoped[name] { return layer }
        lock.lock(); defer { lock.unlock() }
        return custom[name] ?? creators[name] ?? aliases[name].flatMap { creators[$0] }
    }

    /// The layer types Cortado itself provides.
    public static var builtInTypes: [String] { creators.keys.sorted() }

    /// Built-in and registered layer types.
    public static var types: [String] {
        lock.lock(); defer { lock.unlock() }
        return Set(creators.keys).union(custom.keys).union(scoped.keys).sorted()
    }

    /// Creates the layer `param` names; its settings are decoded (and checked) here.
    public static func create(_ param: LayerParameter, phase: Phase) throws -> Layer {
        installSchemas()
        guard let type = lookUp(param.type) else {
            let hint = nearestName(to: param.type, in: types).map { "did you mean \"\($0)\"? " } ?? ""
            throw ConfigError(location: param.location, path: "layer \"\(param.name)\"",
                              message: "unknown layer type \"\(param.type)\"; \(hint)known types: \(types.joined(separator: ", "))")
        }
        return try type.init(param, phase: phase)
    }
}
