import CortadoBase
import CortadoIO
import CortadoConfig

/// Caffe's BatchNormParameter.
package struct BatchNormParameter: LayerSettings {
    package static let field = "batch_norm_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "use_global_stats:bool moving_average_fraction:float eps:float"
    /// nil: the stored statistics in TEST, the batch's in TRAIN.
    package var useGlobalStats: Bool? = nil
    var movingAverageFraction: Float = 0.999
    package var eps: Float = 1e-5

    package init(_ p: ConfigNode) throws {
        useGlobalStats = p.bool("use_global_stats")
        movingAverageFraction = p.float("moving_average_fraction") ?? movingAverageFraction
        eps = p.float("eps") ?? eps
    }
}

/// BatchNorm as Caffe has it: y = (x − μ) / √(σ² + eps) per channel, with no scale or shift of
/// its own (a Scale layer follows). Blobs: running sum of means, of variances, and the scale
/// factor s; the statistics are μ = blob0 / s and σ² = blob1 / s. Training uses the batch's
/// statistics and updates the running ones; TEST (or use_global_stats) uses the stored ones.
/// The solver never touches these blobs (their lr_mult is forced to 0).
final class BatchNormLayer: Layer {
    private let settings: BatchNormParameter
    private var fraction: Float { settings.movingAverageFraction }
    private var eps: Float { settings.eps }
    let useGlobal: Bool
    private(set) var num = 0, channels = 0, spatial = 0
    private let mean = Blob(), variance = Blob()
    /// The normalised output, kept for backward (the top may be the bottom, in place).
    let normalized = Blob()

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    override var fixedParams: Bool { true }

    /// BatchNormalization with the stored statistics (divided by the stored scale factor), gamma 1, beta 0.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        guard settings.useGlobalStats != false else { throw ExportError("use_global_stats: false normalises by each batch's statistics; export needs the stored ones") }
        let b = blobs
        let factor: Float = b[2].data[0] == 0 ? 0 : 1 / b[2].data[0]
        let c = b[0].count
        let operands = [
            inputs[0], graph.constant("\(name)_gamma", floats: Array(repeating: 1, count: c), dims: [c]),
            graph.constant("\(name)_beta", floats: Array(repeating: 0, count: c), dims: [c]),
            graph.constant("\(name)_mean", floats: b[0].dataArray.map { $0 * factor }, dims: [c]),
            graph.constant("\(name)_var", floats: b[1].dataArray.map { $0 * factor }, dims: [c]),
        ]
        graph.single("BatchNormalization", name, operands, [("epsilon", .float(settings.eps))])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        useGlobal = settings.useGlobalStats ?? (phase == .test)
        try super.init(param, phase: phase)
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        guard bottom[0].numAxes >= 2 else { throw error("BatchNorm needs a channel axis; found bottom shape \(bottom[0].shape)") }
        channels = bottom[0].shape[1]
        blobs = [try Blob(checked: [channels]), try Blob(checked: [channels]), try Blob(checked: [1])]
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard bottom[0].numAxes >= 2, bottom[0].shape[1] == channels else {
            throw error("BatchNorm was set up for \(channels) channels; the bottom is now \(bottom[0].shape)")
        }
        num = bottom[0].shape[0]
        spatial = bottom[0].count(2)
        if top[0] !== bottom[0] { try top[0].reshape(bottom[0].shape) }
        try mean.reshape([channels])
        try variance.reshape([channels])
        try normalized.reshape(bottom[0].shape)
    }

    /// Channels go to threads whole, and each channel's sums run in a fixed order (`Lanes`), so
    /// the statistics are the same for any thread count.
    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = UnsafePointer(bottom[0].data), y = top[0].data, z = normalized.data
        forEachChannel(x) { c, mean, std in
            for n in 0..<num {
                let xp = x + plane(n, c), zp = z + plane(n, c), yp = y + plane(n, c)
                var i = 0
                while i < spatial { let t = (xp[i] - mean) / std; zp[i] = t; yp[i] = t; i &+= 1 }
            }
        }
    }

    /// The statistics around a forward pass: each channel's mean and standard deviation (the
    /// batch's, or the stored ones) go to `normalize(c, mean, std)`, on the channel's thread;
    /// then the running sums are updated, and `variance` is left holding the std for backward.
    /// The fused BatchNorm + Scale + ReLU kernel runs its own `normalize` through this too.
    func forEachChannel(_ x: UnsafePointer<Float>, _ normalize: (Int, Float, Float) -> Void) {
        let m = mean.data, v = variance.data, count = Float(num * spatial), global = useGlobal
        if global {
            let s = blobs[2].data[0]
            let factor: Float = s == 0 ? 0 : 1 / s
            for c in 0..<channels { m[c] = blobs[0].data[c] * factor; v[c] = blobs[1].data[c] * factor }
        }
        Parallel.forItems(channels, threads: threads, work: num * channels * spatial) { range in
            for c in range {
                if !global {
                    var sum: Float = 0
                    for n in 0..<num { sum += Lanes.sum(x + plane(n, c), count: spatial) }
                    m[c] = sum / count
                    var sq: Float = 0
                    for n in 0..<num { sq += Lanes.squaredDeviations(x + plane(n, c), count: spatial, mean: m[c]) }
                    v[c] = sq / count
                }
                normalize(c, m[c], (v[c] + eps).squareRoot())
            }
        }
        if !global {
            let correction: Float = count > 1 ? count / (count - 1) : 1
            blobs[2].data[0] = blobs[2].data[0] * fraction + 1
            for c in 0..<channels {
                blobs[0].data[c] = fraction * blobs[0].data[c] + m[c]
                blobs[1].data[c] = fraction * blobs[1].data[c] + correction * v[c]
            }
        }
        for c in 0..<channels { v[c] = (v[c] + eps).squareRoot() }   // v now holds the std
    }

    /// Where image n's plane of channel c starts.
    @inline(__always)
    func plane(_ n: Int, _ c: Int) -> Int { (n * channels + c) * spatial }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let dy = UnsafePointer(top[0].diff), z = UnsafePointer(normalized.data), global = useGlobal
        Parallel.forItems(channels, threads: threads, work: num * channels * spatial) { range in
            for c in range {
                var sumDy: Float = 0, sumDyZ: Float = 0
                if !global {
                    for n in 0..<num {
                        sumDy += Lanes.sum(dy + plane(n, c), count: spatial)
                        sumDyZ += Lanes.dot(dy + plane(n, c), z + plane(n, c), count: spatial)
                    }
                }
                bottomGradient(c, dy, sumDy: sumDy, sumDyZ: sumDyZ, into: bottom[0].diff)
            }
        }
    }

    /// Channel c's dx = (dy − mean(dy) − mean(dy·z)·z) / std from the sums of dy and dy·z over
    /// the batch (zero with the stored statistics, where the mean and variance are constants).
    @inline(__always)
    func bottomGradient(_ c: Int, _ dy: UnsafePointer<Float>, sumDy: Float, sumDyZ: Float, into dx: UnsafeMutablePointer<Float>) {
        let count = Float(num * spatial), z = UnsafePointer(normalized.data)
        let meanDy = useGlobal ? 0 : sumDy / count, meanDyZ = useGlobal ? 0 : sumDyZ / count, sc = variance.data[c]
        for n in 0..<num {
            let dyp = dy + plane(n, c), zp = z + plane(n, c), dxp = dx + plane(n, c)
            var i = 0
            while i < spatial { dxp[i] = (dyp[i] - meanDy - meanDyZ * zp[i]) / sc; i &+= 1 }
        }
    }
}
