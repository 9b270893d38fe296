import CortadoBase
import CortadoIO
import CortadoConfig

/// BatchReindex: picks examples of bottom 0 by the indices in bottom 1 (repeats allowed);
/// gradients of repeated examples are summed. The indices get no gradient.
final class BatchReindexLayer: Layer {
    private var item = 0

    override var exactNumBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }
    override func allowForceBackward(_ i: Int) -> Bool { i == 0 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard bottom[1].numAxes == 1 else { throw error("the index bottom must be 1-D; found \(bottom[1].shape)") }
        item = bottom[0].count(1)
        try top[0].reshape([bottom[1].count] + bottom[0].shape.dropFirst())
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let n = bottom[0].shape.first ?? 0
        for m in 0..<bottom[1].count {
            let raw = bottom[1].data[m], i = Int(raw)
            guard i >= 0, i < n else { throw error("index \(raw) is out of range for \(n) examples") }
            (top[0].data + m * item).update(from: bottom[0].data + i * item, count: item)
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        bottom[0].zeroDiff()
        for m in 0..<bottom[1].count {
            axpy(item, 1, top[0].diff + m * item, bottom[0].diff + Int(bottom[1].data[m]) * item)
        }
    }
}
