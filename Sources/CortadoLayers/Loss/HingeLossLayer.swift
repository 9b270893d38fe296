import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's HingeLossParameter.
struct HingeLossParameter: LayerSettings {
    enum Norm: String, Sendable { case l1 = "L1", l2 = "L2" }
    static let field = "hinge_loss_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "norm:enum(L1,L2)"
    var norm = Norm.l1

    init(_ p: ConfigNode) throws { norm = p.enumeration("norm", default: norm) }
}

/// HingeLoss (one-vs-all): Σ max(0, 1 − δ·x) over classes, δ = +1 for the label and −1 for the
/// others, divided by N; with norm L2 the terms are squared.
final class HingeLossLayer: Layer {
    private let squared: Bool
    private let margins = Blob()
    private var num = 0, dim = 0

    override var exactNumBottoms: Int? { 2 }
    override var exactNumTops: Int? { 1 }
    override var isLoss: Bool { true }
    override func allowForceBackward(_ i: Int) -> Bool { i == 0 }

    required init(_ param: LayerParameter, phase: Phase) throws {
        squared = try param.settings(HingeLossParameter.self).norm == .l2
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        num = bottom[0].shape.first ?? 1
        dim = bottom[0].count / max(num, 1)
        guard bottom[1].count == num else { throw error("HingeLoss needs one label per example: \(num) examples, \(bottom[1].count) labels") }
        try margins.reshape(bottom[0].shape)
        try top[0].reshape([])
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, m = margins.data, labels = bottom[1].data
        var total: Float = 0
        for i in 0..<num {
            let label = Int(labels[i])
            guard label >= 0 && label < dim else { throw error("label \(labels[i]) is out of range for \(dim) classes") }
            for j in 0..<dim {
                let v = max(0, 1 + (j == label ? -x[i * dim + j] : x[i * dim + j]))
                m[i * dim + j] = v
                total += squared ? v * v : v
            }
        }
        top[0].data[0] = total / Float(num)
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let m = margins.data, dx = bottom[0].diff, labels = bottom[1].data
        let scale = top[0].diff[0] / Float(num)
        for i in 0..<num {
            let label = Int(labels[i])
            for j in 0..<dim {
                let v = m[i * dim + j]
                let g: Float = squared ? 2 * v : (v > 0 ? 1 : 0)
                dx[i * dim + j] = scale * (j == label ? -g : g)
            }
        }
    }
}
