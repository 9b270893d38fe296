import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's DropoutParameter.
struct DropoutParameter: LayerSettings {
    static let field = "dropout_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "dropout_ratio:float scale_train:bool"
    var dropoutRatio: Float = 0.5
    /// false: kept elements are not scaled in TRAIN; TEST multiplies by 1 − ratio instead.
    var scaleTrain = true

    init(_ p: ConfigNode) throws {
        dropoutRatio = p.float("dropout_ratio") ?? dropoutRatio
        guard dropoutRatio >= 0 && dropoutRatio < 1 else {
            throw p.error("dropout_ratio must be in [0, 1), found \(dropoutRatio)", field: "dropout_ratio")
        }
        scaleTrain = p.bool("scale_train") ?? scaleTrain
    }
}

/// Dropout: in TRAIN each element is kept with probability 1 − ratio and scaled by 1/(1 − ratio)
/// (inverted dropout, so TEST is the identity). With `scale_train: false`, kept elements are not
/// scaled in TRAIN and TEST multiplies by 1 − ratio instead, as Caffe does.
final class DropoutLayer: NeuronLayer {
    private let ratio: Float
    private let scale: Float
    private let scaleTrain: Bool
    private var mask: [UInt8] = []
    private var rng = RNG(seed: 0)

    required init(_ param: LayerParameter, phase: Phase) throws {
        let settings: DropoutParameter = try param.settings()
        (ratio, scaleTrain) = (settings.dropoutRatio, settings.scaleTrain)
        scale = scaleTrain ? 1 / (1 - ratio) : 1
        try super.init(param, phase: phase)
    }

    override var graphDetails: [String] { ["ratio \(caffeFloat(ratio))"] }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        rng = context.spawnRNG()
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        try super.reshape(bottom: bottom, top: top)
        if mask.count < bottom[0].count { mask = [UInt8](repeating: 0, count: bottom[0].count) }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data, n = bottom[0].count
        guard phase == .train else {
            if !scaleTrain {
                for i in 0..<n { y[i] = x[i] * (1 - ratio) }
            } else if x != y {
                y.update(from: x, count: n)
            }
            return
        }
        let keep = 1 - ratio, s = scale
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<n {
                m[i] = rng.uniform() < keep ? 1 : 0
                y[i] = m[i] == 1 ? x[i] * s : 0
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let dy = top[0].diff, dx = bottom[0].diff, n = bottom[0].count
        guard phase == .train else {
            if !scaleTrain {
                for i in 0..<n { dx[i] = dy[i] * (1 - ratio) }
            } else if dx != dy {
                dx.update(from: dy, count: n)
            }
            return
        }
        let s = scale
        mask.withUnsafeBufferPointer { m in
            for i in 0..<n { dx[i] = m[i] == 1 ? dy[i] * s : 0 }
        }
    }

    override func reseed(_ source: inout RNG) { rng = RNG(seed: source.next()) }

    override func saveState() -> [Int64] { rng.words.map { Int64(bitPattern: $0) } }
    override func restoreState(_ state: [Int64]) throws {
        guard state.count == 4 else { throw error("saved state has the wrong length") }
        rng.words = state.map { UInt64(bitPattern: $0) }
    }
}
