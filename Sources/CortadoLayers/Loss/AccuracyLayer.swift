import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's AccuracyParameter.
struct AccuracyParameter: LayerSettings {
    static let field = "accuracy_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "top_k:int axis:int ignore_label:int"
    package var topK = 1
    package var axis = 1
    /// Positions with this label are not counted (none by default).
    var ignoreLabel: Int? = nil

    init(_ p: ConfigNode) throws {
        topK = p.int("top_k") ?? topK
        axis = p.int("axis") ?? axis
        ignoreLabel = p.int("ignore_label")
        guard topK >= 1 else { throw p.error("top_k must be at least 1", field: "top_k") }
    }
}

/// Accuracy: the fraction of positions whose label is among the `top_k` highest scores along
/// `axis`. A tie with the true class counts against it, as in Caffe. An optional second top
/// gives the accuracy per class. It has no gradient.
final class AccuracyLayer: Layer {
    private let settings: AccuracyParameter
    private var outer = 1, channels = 1, inner = 1
    private var perClassCorrect: [Int] = []
    private var perClassCount: [Int] = []

    override var exactNumBottoms: Int? { 2 }
    override var minTops: Int? { 1 }
    override var maxTops: Int? { 2 }
    override var hasBackward: Bool { false }
    override func allowForceBackward(_ i: Int) -> Bool { false }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    private var topK: Int { settings.topK }
    private var ignoreLabel: Int? { settings.ignoreLabel }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let split = try AxisSplit(bottom[0], axis: settings.axis, for: self)
        try split.checkLabels(bottom[1], predictions: bottom[0], for: self)
        (outer, channels, inner) = (split.outer, split.channels, split.inner)
        guard topK <= channels else {
            throw error("top_k (\(topK)) must not exceed the number of classes (\(channels))")
        }
        try top[0].reshape([])
        if top.count > 1 { try top[1].reshape([channels]) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, labels = bottom[1].data
        var correct = 0, count = 0
        if perClassCount.count != channels {
            perClassCorrect = [Int](repeating: 0, count: channels)
            perClassCount = perClassCorrect
        }
        for c in 0..<channels { perClassCorrect[c] = 0; perClassCount[c] = 0 }
        for o in 0..<outer {
            for i in 0..<inner {
                let label = Int(labels[o * inner + i])
                if label == ignoreLabel { continue }
                guard label >= 0 && label < channels else {
                    throw error("label \(labels[o * inner + i]) is out of range: there are \(channels) classes")
                }
                let base = o * channels * inner + i
                let truth = x[base + label * inner]
                var better = -1   // the true class counts itself once
                for c in 0..<channels where x[base + c * inner] >= truth { better += 1 }
                count += 1
                perClassCount[label] += 1
                if better < topK {
                    correct += 1
                    perClassCorrect[label] += 1
                }
            }
        }
        top[0].data[0] = count == 0 ? 0 : Float(correct) / Float(count)
        if top.count > 1 {
            for c in 0..<channels {
                top[1].data[c] = perClassCount[c] == 0 ? 0 : Float(perClassCorrect[c]) / Float(perClassCount[c])
            }
        }
    }
}
