import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// SoftmaxWithLoss: softmax along `axis`, then the mean (by `normalization`) of −log p[label].
/// Probabilities are clamped at FLT_MIN before the log, as Caffe does. An optional second top
/// outputs the probabilities.
final class SoftmaxWithLossLayer: Layer {
    private let loss: LossParameter
    private let softmaxParam: SoftmaxParameter
    private var outer = 1, channels = 1, inner = 1
    private let prob = Blob()
    private var validCount = 0

    override var exactNumBottoms: Int? { 2 }
    override var minTops: Int? { 1 }
    override var maxTops: Int? { 2 }
    override var isLoss: Bool { true }
    override func allowForceBackward(_ i: Int) -> Bool { i != 1 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        loss = try LossParameter(param)
        softmaxParam = try param.settings()
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let split = try AxisSplit(bottom[0], axis: softmaxParam.axis, for: self)
        try split.checkLabels(bottom[1], predictions: bottom[0], for: self)
        (outer, channels, inner) = (split.outer, split.channels, split.inner)
        try prob.reshape(bottom[0].shape)
        try top[0].reshape([])
        if top.count > 1 { try top[1].reshape(bottom[0].shape) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        softmax(bottom[0].data, prob.data, outer: outer, channels: channels, inner: inner)
        let p = prob.data, labels = bottom[1].data
        var total: Float = 0
        var count = 0
        for o in 0..<outer {
            for i in 0..<inner {
                let label = Int(labels[o * inner + i])
                if label == loss.ignoreLabel { continue }
                guard label >= 0 && label < channels else {
                    throw error("label \(labels[o * inner + i]) is out of range: the layer has \(channels) classes (0 to \(channels - 1))")
                }
                total -= logf(max(p[o * channels * inner + label * inner + i], Float.leastNormalMagnitude))
                count += 1
            }
        }
        validCount = count
        top[0].data[0] = total / loss.normalizer(outer: outer, inner: inner, valid: count)
        if top.count > 1 { top[1].copyData(from: prob) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let dx = bottom[0].diff, labels = bottom[1].data
        dx.update(from: prob.data, count: prob.count)
        for o in 0..<outer {
            for i in 0..<inner {
                let label = Int(labels[o * inner + i])
                if label == loss.ignoreLabel {
                    for c in 0..<channels { dx[o * channels * inner + c * inner + i] = 0 }
                } else {
                    dx[o * channels * inner + label * inner + i] -= 1
                }
            }
        }
        let scale = top[0].diff[0] / loss.normalizer(outer: outer, inner: inner, valid: validCount)
        scal(prob.count, scale, dx)
    }
}
