import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's InfogainLossParameter.
struct InfogainLossParameter: LayerSettings {
    static let field = "infogain_loss_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "source:string axis:int"
    /// A BlobProto file with H, unless H is the third bottom.
    var source: String? = nil
    package var axis = 1
    let node: ConfigNode

    init(_ p: ConfigNode) throws {
        node = p
        source = p.string("source")
        axis = p.int("axis") ?? axis
    }
}

/// InfogainLoss (today's Caffe): softmax of the scores along `axis`, then
/// −Σ_k H[label, k] · log p_k, normalised as loss_param says (VALID by default). H is a
/// third bottom or a BlobProto file (`infogain_loss_param { source }`).
final class InfogainLossLayer: Layer {
    private let loss: LossParameter
    private let settings: InfogainLossParameter
    private var split = AxisSplit()
    private let prob = Blob()
    /// H read from `source` (when it is not a bottom).
    private let infogain = Blob()
    private var fromBottom = false
    private var valid = 0

    override var minBottoms: Int? { 2 }
    override var maxBottoms: Int? { 3 }
    override var exactNumTops: Int? { 1 }
    override var isLoss: Bool { true }
    override func allowForceBackward(_ i: Int) -> Bool { i == 0 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        loss = try LossParameter(param)
        settings = try param.settings()
        try super.init(param, phase: phase)
        if param.bottom.count == 2 && settings.source == nil {
            throw settings.node.error("give the infogain matrix H as a third bottom or as infogain_loss_param { source: \"H.binaryproto\" }")
        }
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = settings.node
        fromBottom = bottom.count == 3
        if !fromBottom {
            guard let source = settings.source else { throw p.error("give the infogain matrix H as a third bottom or as infogain_loss_param { source: \"H.binaryproto\" }") }
            do {
                let stored = try CaffeBinary.readBlob(source)
                try infogain.reshape([stored.values.count])
                infogain.setData(stored.values)
            } catch let e as any CortadoFailure { throw p.error(e.description, field: "source") }
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        split = try AxisSplit(bottom[0], axis: settings.axis, for: self)
        try split.checkLabels(bottom[1], predictions: bottom[0], for: self)
        let hCount = fromBottom ? bottom[2].count : infogain.count
        guard hCount == split.channels * split.channels else {
            throw error("the infogain matrix H must be \(split.channels)×\(split.channels) for \(split.channels) classes; it has \(hCount) values")
        }
        try prob.reshape(bottom[0].shape)
        try top[0].reshape([])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let (outer, channels, inner) = (split.outer, split.channels, split.inner)
        softmax(bottom[0].data, prob.data, outer: outer, channels: channels, inner: inner)
        let p = prob.data, labels = bottom[1].data
        var total: Float = 0
        valid = 0
        let h = (fromBottom ? bottom[2] : infogain).data
        for o in 0..<outer { for i in 0..<inner {
            let label = Int(labels[o * inner + i])
            if label == loss.ignoreLabel { continue }
            guard label >= 0 && label < channels else { throw error("label \(labels[o * inner + i]) is out of range for \(channels) classes") }
            for k in 0..<channels { total -= h[label * channels + k] * logf(max(p[(o * channels + k) * inner + i], 1e-20)) }   // Caffe's kLOG_THRESHOLD
            valid += 1
        } }
        top[0].data[0] = total / loss.normalizer(outer: outer, inner: inner, valid: valid)
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let (outer, channels, inner) = (split.outer, split.channels, split.inner)
        let p = prob.data, labels = bottom[1].data, dx = bottom[0].diff
        let h = (fromBottom ? bottom[2] : infogain).data
        let scale = top[0].diff[0] / loss.normalizer(outer: outer, inner: inner, valid: valid)
        for o in 0..<outer { for i in 0..<inner {
            let label = Int(labels[o * inner + i])
            if label == loss.ignoreLabel {
                for k in 0..<channels { dx[(o * channels + k) * inner + i] = 0 }
                continue
            }
            var rowSum: Float = 0
            for k in 0..<channels { rowSum += h[label * channels + k] }
            for k in 0..<channels {
                let idx = (o * channels + k) * inner + i
                dx[idx] = scale * (p[idx] * rowSum - h[label * channels + k])
            }
        } }
    }
}
