import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's LossParameter: which label to ignore and what the summed loss is divided by.
struct LossParameter: Sendable {
    enum Normalization: String, Sendable { case full = "FULL", valid = "VALID", batchSize = "BATCH_SIZE", none = "NONE" }

    var ignoreLabel: Int?
    var normalization: Normalization

    /// `defaultMode` differs per layer (SoftmaxWithLoss: VALID); the old `normalize: false` means BATCH_SIZE.
    init(_ layer: LayerParameter, defaultMode: Normalization = .valid) throws {
        let p = try layer.sub("loss_param")
        ignoreLabel = p.int("ignore_label")
        if let n = p.enumValue("normalization") {
            normalization = Normalization(rawValue: n) ?? defaultMode
        } else if let legacy = p.bool("normalize") {
            normalization = legacy ? .valid : .batchSize
        } else {
            normalization = defaultMode
        }
    }

    /// Caffe's get_normalizer, floored at 1 so an all-ignored batch gives no NaN.
    func normalizer(outer: Int, inner: Int, valid: Int) -> Float {
        let n: Float
        switch normalization {
        case .full: n = Float(outer * inner)
        case .valid: n = Float(valid)
        case .batchSize: n = Float(outer)
        case .none: n = 1
        }
        return max(1, n)
    }
}
