import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's LRNParameter.
package struct LRNParameter: LayerSettings {
    package enum NormRegion: String, Sendable { case acrossChannels = "ACROSS_CHANNELS", withinChannel = "WITHIN_CHANNEL" }
    package static let field = "lrn_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = "local_size:int alpha:float beta:float norm_region:enum(ACROSS_CHANNELS,WITHIN_CHANNEL) k:float engine:enum(DEFAULT,CAFFE,CUDNN)"
    package var localSize = 5
    package var alpha: Float = 1
    package var beta: Float = 0.75
    package var normRegion = NormRegion.acrossChannels
    package var k: Float = 1

    package init(_ p: ConfigNode) throws {
        localSize = p.int("local_size") ?? localSize
        alpha = p.float("alpha") ?? alpha
        beta = p.float("beta") ?? beta
        normRegion = p.enumeration("norm_region", default: normRegion)
        k = p.float("k") ?? k
        guard localSize > 0, localSize % 2 == 1 else { throw p.error("local_size must be odd and positive, found \(localSize)", field: "local_size") }
    }
}

/// LRN (local response normalisation). ACROSS_CHANNELS: y = x · (k + α/n · Σ x²)^(−β), the sum
/// over n neighbouring channels. WITHIN_CHANNEL: y = x · (1 + α/n² · Σ x²)^(−β), the sum over
/// an n×n spatial window (zero padded), as Caffe builds it from pooling; k is not used there.
final class LRNLayer: Layer {
    private let size: Int
    private let alpha: Float, beta: Float, k: Float
    private let across: Bool
    private let scale = Blob()
    private let ratios = Blob()
    private var num = 0, channels = 0, height = 0, width = 0
    /// Threads take whole images, so any count gives the same bits; set at reshape, with the
    /// per-thread buffers in `ratios`.
    private var parts = 1

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    /// LRN across channels; Caffe's WITHIN_CHANNEL as x · (1 + alpha · avgpool(x²))^−beta, the
    /// pool size × size, padded by (size − 1) / 2, stride 1.
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s: LRNParameter = try param.settings(), x = inputs[0]
        if s.normRegion == .acrossChannels {
            graph.single("LRN", name, [x], [("size", .int(s.localSize)), ("alpha", .float(s.alpha)), ("beta", .float(s.beta)), ("bias", .float(s.k))])
            return true
        }
        let half = (s.localSize - 1) / 2
        let square = graph.binary("Mul", x, x, name)
        let shape = graph.bottomShapes[0]
        let pooled = graph.unique("\(name)_pooled")
        try graph.pool(square, max: false, kernel: (s.localSize, s.localSize), pad: (half, half), stride: (1, 1),
                       input: (shape[2], shape[3]), output: (shape[2], shape[3]), "\(name)/AveragePool", into: pooled)
        let base = graph.affine(pooled, scale: s.alpha, shift: 1, name)
        let factor = graph.binary("Pow", base, graph.scalar("\(name)_negbeta", -s.beta), name)
        let tops = graph.tops()
        _ = graph.binary("Mul", x, factor, name, into: tops[0])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        let p: LRNParameter = try param.settings()
        (size, alpha, beta, k) = (p.localSize, p.alpha, p.beta, p.k)
        across = p.normRegion == .acrossChannels
        try super.init(param, phase: phase)
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard bottom[0].numAxes == 4 else { throw error("LRN needs a 4-axis bottom (N×C×H×W); found shape \(bottom[0].shape)") }
        (num, channels, height, width) = (bottom[0].shape[0], bottom[0].shape[1], bottom[0].shape[2], bottom[0].shape[3])
        try top[0].reshape(bottom[0].shape)
        try scale.reshape(bottom[0].shape)
        parts = max(1, min(threads, num))
        // Per thread: one image's dy · y / s, then its window sums (kept apart from dx, which
        // may be dy's memory when the layer runs in place).
        try ratios.reshape([parts, 2 * bottom[0].count(1)])
    }

    /// Σ x² over each position's window, for one image.
    private func windowSums(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let plane = height * width, half = (size - 1) / 2
        out.update(repeating: 0, count: channels * plane)
        if across {
            for c in 0..<channels {
                for c2 in max(0, c - half)...min(channels - 1, c + half) {
                    let src = x + c2 * plane, dst = out + c * plane
                    for i in 0..<plane { dst[i] += src[i] * src[i] }
                }
            }
        } else {
            for c in 0..<channels {
                let src = x + c * plane, dst = out + c * plane
                for h in 0..<height {
                    for w in 0..<width {
                        var s: Float = 0
                        for h2 in max(0, h - half)...min(height - 1, h + half) {
                            for w2 in max(0, w - half)...min(width - 1, w + half) { s += src[h2 * width + w2] * src[h2 * width + w2] }
                        }
                        dst[h * width + w] = s
                    }
                }
            }
        }
    }

    private var base: Float { across ? k : 1 }
    private var ratio: Float { across ? alpha / Float(size) : alpha / Float(size * size) }

    /// s^(−β). For β = 0.75 (AlexNet's, GoogLeNet's) as 1 / (√s · ⁴√s): square roots
    /// vectorise, powf does not, and powf was most of the layer's time.
    @inline(__always)
    private func inversePower(_ v: Float) -> Float {
        if beta == 0.75 {
            let root = v.squareRoot()
            return 1 / (root * root.squareRoot())
        }
        return powf(v, -beta)
    }

    /// `body(part, image)` for every image, each part on its own thread.
    private func forEachImage(_ body: (Int, Int) -> Void) {
        let parts = parts
        Parallel.run(parts) { p in
            for n in Parallel.range(p, of: parts, count: num) { body(p, n) }
        }
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let item = channels * height * width
        let xs = UnsafePointer(bottom[0].data), ys = top[0].data, scales = scale.data
        forEachImage { _, n in
            let x = xs + n * item, y = ys + n * item, s = scales + n * item
            windowSums(x, s)
            let b = base, r = ratio
            for i in 0..<item {
                let v = b + r * s[i]
                s[i] = v
                y[i] = x[i] * inversePower(v)
            }
        }
    }

    /// dx = dy · s^(−β) − 2αβ/n · x · Σ_window (dy · y / s), the sum over the same window as
    /// the forward's (across channels: added a whole plane at a time, in channel order).
    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let item = channels * height * width, plane = height * width, half = (size - 1) / 2
        let factor = 2 * ratio * beta
        let xs = UnsafePointer(bottom[0].data), ys = UnsafePointer(top[0].data), dys = UnsafePointer(top[0].diff)
        let scales = UnsafePointer(scale.data), dxs = bottom[0].diff, buffers = ratios.data
        forEachImage { p, n in
            let x = xs + n * item, y = ys + n * item, dy = dys + n * item
            let s = scales + n * item, dx = dxs + n * item
            let ratios = buffers + p * 2 * item, sums = ratios + item
            for i in 0..<item { ratios[i] = dy[i] * y[i] / s[i] }
            if across {
                sums.update(repeating: 0, count: item)
                for c in 0..<channels {
                    let acc = sums + c * plane
                    for c2 in max(0, c - half)...min(channels - 1, c + half) {
                        let src = ratios + c2 * plane
                        for i in 0..<plane { acc[i] += src[i] }
                    }
                }
                for i in 0..<item { dx[i] = dy[i] * inversePower(s[i]) - factor * x[i] * sums[i] }
            } else {
                for c in 0..<channels {
                    for h in 0..<height {
                        for w in 0..<width {
                            let i = c * plane + h * width + w
                            var acc: Float = 0
                            for h2 in max(0, h - half)...min(height - 1, h + half) {
                                for w2 in max(0, w - half)...min(width - 1, w + half) { acc += ratios[c * plane + h2 * width + w2] }
                            }
                            dx[i] = dy[i] * inversePower(s[i]) - factor * x[i] * acc
                        }
                    }
                }
            }
        }
    }
}
