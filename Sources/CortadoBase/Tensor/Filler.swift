import Foundation

/// Caffe's FillerParameter and the fillers of filler.hpp: how a parameter blob starts.
public struct FillerParameter: Sendable {
    public enum VarianceNorm: String, Sendable { case fanIn = "FAN_IN", fanOut = "FAN_OUT", average = "AVERAGE" }
    /// Caffe's filler names (a string in caffe.proto, so checked here rather than by the schema).
    public enum FillerType: String, Sendable, CaseIterable {
        case constant, uniform, gaussian, positiveUnitball = "positive_unitball", xavier, msra, bilinear
    }

    public var type = FillerType.constant
    public var value: Float = 0
    public var min: Float = 0
    public var max: Float = 1
    public var mean: Float = 0
    public var std: Float = 1
    public var sparse = -1
    public var varianceNorm = VarianceNorm.fanIn

    public static let types = FillerType.allCases.map(\.rawValue)

    public init(type: FillerType = .constant, value: Float = 0) {
        self.type = type
        self.value = value
    }

    public func fill(_ blob: Blob, _ rng: inout RNG) {
        let n = blob.count
        let d = blob.data
        guard n > 0 else { return }
        switch type {
        case .uniform:
            for i in 0..<n { d[i] = rng.uniform(min, max) }
        case .gaussian:
            for i in 0..<n { d[i] = rng.gaussian(mean: mean, std: std) }
            if sparse >= 0 {
                // Each weight is kept with probability sparse / num_outputs (Caffe's GaussianFiller).
                let outputs = blob.numAxes > 0 ? blob.shape[0] : 1
                let keep = Float(sparse) / Float(outputs)
                for i in 0..<n where rng.uniform() >= keep { d[i] = 0 }
            }
        case .positiveUnitball:
            for i in 0..<n { d[i] = rng.uniform() }
            let rows = blob.numAxes > 0 ? blob.shape[0] : 1
            let dim = n / rows
            for r in 0..<rows {
                var sum: Float = 0
                for j in 0..<dim { sum += d[r * dim + j] }
                for j in 0..<dim { d[r * dim + j] /= sum }
            }
        case .xavier:
            let scale = (3 / fan(blob)).squareRoot()
            for i in 0..<n { d[i] = rng.uniform(-scale, scale) }
        case .msra:
            let std = (2 / fan(blob)).squareRoot()
            for i in 0..<n { d[i] = rng.gaussian(mean: 0, std: std) }
        case .bilinear:
            let k = blob.numAxes == 4 ? blob.shape[3] : 1
            let f = ceil(Float(k) / 2)
            let c = Float(k - 1) / (2 * f)
            let h = blob.numAxes == 4 ? blob.shape[2] : 1
            for i in 0..<n {
                let x = Float(i % k), y = Float((i / k) % h)
                d[i] = (1 - abs(x / f - c)) * (1 - abs(y / f - c))
            }
        case .constant:
            for i in 0..<n { d[i] = value }
        }
    }

    /// fan_in = count / shape[0], fan_out = count / shape[1], as Caffe's Xavier and MSRA fillers.
    private func fan(_ blob: Blob) -> Float {
        let fanIn = Float(blob.count) / Float(blob.numAxes > 0 ? blob.shape[0] : 1)
        let fanOut = Float(blob.count) / Float(blob.numAxes > 1 ? blob.shape[1] : 1)
        switch varianceNorm {
        case .fanIn: return fanIn
        case .fanOut: return fanOut
        case .average: return (fanIn + fanOut) / 2
        }
    }
}
