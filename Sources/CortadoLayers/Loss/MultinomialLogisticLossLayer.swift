import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// MultinomialLogisticLoss: −(1/N) Σ log p[label], for bottoms that already are probabilities
/// (clamped at 1e-20 as in Caffe).
final class MultinomialLogisticLossLayer: Layer {
    private var num = 0, dim = 0

    override var exactNumBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }
    override var isLoss: Bool { true }
    override func allowForceBackward(_ i: Int) -> Bool { i == 0 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        num = bottom[0].shape.first ?? 1
        dim = bottom[0].count / max(num, 1)
        guard bottom[1].count == num else { throw error("one label per example is needed: \(num) examples, \(bottom[1].count) labels") }
        try top[0].reshape([])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        var total: Float = 0
        for i in 0..<num {
            let label = Int(bottom[1].data[i])
            guard label >= 0 && label < dim else { throw error("label \(bottom[1].data[i]) is out of range for \(dim) classes") }
            total -= logf(max(bottom[0].data[i * dim + label], 1e-20))
        }
        top[0].data[0] = total / Float(num)
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        bottom[0].zeroDiff()
        let scale = -top[0].diff[0] / Float(num)
        for i in 0..<num {
            let k = i * dim + Int(bottom[1].data[i])
            bottom[0].diff[k] = scale / max(bottom[0].data[k], 1e-20)
        }
    }
}
