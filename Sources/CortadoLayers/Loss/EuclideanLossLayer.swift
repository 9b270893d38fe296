import CortadoBase
import CortadoIO
import CortadoConfig

/// EuclideanLoss: ½N · Σ (a − b)² over two bottoms of the same count, N = the first axis.
/// Both bottoms get a gradient (with opposite signs), as in Caffe.
final class EuclideanLossLayer: Layer {
    private let difference = Blob()

    override var exactNumBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }
    override var isLoss: Bool { true }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard bottom[0].count(1) == bottom[1].count(1) else {
            throw error("EuclideanLoss needs bottoms with the same number of values per example; found shapes \(bottom[0].shape) and \(bottom[1].shape)")
        }
        try difference.reshape(bottom[0].shape)
        try top[0].reshape([])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let a = bottom[0].data, b = bottom[1].data, d = difference.data, n = bottom[0].count
        for i in 0..<n { d[i] = a[i] - b[i] }
        top[0].data[0] = dot(n, d, d) / Float(bottom[0].shape.first ?? 1) / 2
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        let n = difference.count
        let scale = top[0].diff[0] / Float(bottom[0].shape.first ?? 1)
        for (i, sign) in [(0, Float(1)), (1, Float(-1))] where propagateDown[i] {
            let dx = bottom[i].diff, d = difference.data
            for k in 0..<n { dx[k] = sign * scale * d[k] }
        }
    }
}
