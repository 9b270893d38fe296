import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// SigmoidCrossEntropyLoss: −Σ [t log σ(x) + (1 − t) log(1 − σ(x))], computed stably from the
/// logits; normalised by BATCH_SIZE unless loss_param says otherwise; ignore_label skips targets.
final class SigmoidCrossEntropyLossLayer: Layer {
    private let loss: LossParameter
    private var valid = 0

    override var exactNumBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }
    override var isLoss: Bool { true }
    override func allowForceBackward(_ i: Int) -> Bool { i == 0 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        loss = try LossParameter(param, defaultMode: .batchSize)
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard bottom[0].count == bottom[1].count else {
            throw error("logits (\(bottom[0].shape)) and targets (\(bottom[1].shape)) must have the same count")
        }
        try top[0].reshape([])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, t = bottom[1].data
        var total: Float = 0
        valid = 0
        for i in 0..<bottom[0].count {
            if let ignore = loss.ignoreLabel, Int(t[i]) == ignore { continue }
            let v = x[i], positive: Float = v >= 0 ? 1 : 0
            total -= v * (t[i] - positive) - log1pf(expf(v - 2 * v * positive))
            valid += 1
        }
        let outer = bottom[0].shape.first ?? 1
        top[0].data[0] = total / loss.normalizer(outer: outer, inner: bottom[0].count / max(outer, 1), valid: valid)
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let x = bottom[0].data, t = bottom[1].data, dx = bottom[0].diff
        let outer = bottom[0].shape.first ?? 1
        let scale = top[0].diff[0] / loss.normalizer(outer: outer, inner: bottom[0].count / max(outer, 1), valid: valid)
        for i in 0..<bottom[0].count {
            if let ignore = loss.ignoreLabel, Int(t[i]) == ignore { dx[i] = 0; continue }
            dx[i] = scale * (1 / (1 + expf(-x[i])) - t[i])
        }
    }
}
