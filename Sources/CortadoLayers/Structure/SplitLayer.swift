import CortadoBase
import CortadoIO
import CortadoConfig

/// Split: copies one bottom to several tops and sums their gradients. The net inserts these
/// where one blob feeds several layers, with Caffe's names (`data_data_0_split`).
final class SplitLayer: Layer {
    override var exactNumBottoms: Int? { 1 }
    override var minTops: Int? { 1 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        for t in top where t !== bottom[0] { try t.reshape(bottom[0].shape) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        for t in top where t !== bottom[0] { t.data.update(from: bottom[0].data, count: bottom[0].count) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let n = bottom[0].count, dx = bottom[0].diff
        dx.update(from: top[0].diff, count: n)
        for t in top.dropFirst() { axpy(n, 1, t.diff, dx) }
    }
}
