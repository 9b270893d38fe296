import CortadoBase
import CortadoIO
import CortadoConfig

/// The direct kernel for depthwise convolution (group = input channels, as in MobileNet):
/// each output channel reads one input channel, so one small loop nest per channel beats
/// one tiny GEMM per group. Output channel o reads input channel o / multiplier.
///
/// Depthwise layers do few multiply-adds per byte, so speed is memory and vector width: the
/// work goes row by row, one kernel tap at a time, as `y[ox] += w·x[ox·stride + offset]`
/// over the span of output columns whose tap lands inside the image (no per-element bounds
/// tests, so the loops vectorise). Threads take whole input channels with every image of
/// the batch, so each weight gradient has one owner and the sums, and so the bits, are the
/// same for any thread count. Sums over many products (weight and bias gradients) collect
/// in a row of partial sums first, added up once per channel, so they vectorise too.
struct DepthwiseConvolution {
    var geometry: ConvGeometry       // channels = input channels
    var multiplier: Int              // output channels per input channel
    var threads = 1

    var outPlane: Int { geometry.outHeight * geometry.outWidth }
    var inPlane: Int { geometry.height * geometry.width }
    private var taps: Int { geometry.kernelH * geometry.kernelW }
    private var outChannels: Int { geometry.channels * multiplier }

    /// For kernel column kx: the output columns lo..<hi whose input column ox·stride + offset
    /// lies inside the row, and that offset.
    private struct Span { var lo: Int, hi: Int, offset: Int }

    private var spans: [Span] {
        let g = geometry
        return (0..<g.kernelW).map { kx in
            let offset = kx * g.dilationW - g.padW
            let lo = offset >= 0 ? 0 : (-offset + g.strideW - 1) / g.strideW
            let hi = g.width - 1 - offset < 0 ? 0 : min(g.outWidth, (g.width - 1 - offset) / g.strideW + 1)
            return Span(lo: lo, hi: max(lo, hi), offset: offset)
        }
    }

    /// Calls body(outputRow, inputRow, ky) for every kernel row that lands inside the image.
    @inline(__always)
    private func rows(_ body: (Int, Int, Int) -> Void) {
        let g = geometry
        for oy in 0..<g.outHeight {
            for ky in 0..<g.kernelH {
                let iy = oy * g.strideH - g.padH + ky * g.dilationH
                if iy >= 0 && iy < g.height { body(oy, iy, ky) }
            }
        }
    }

    /// Runs body over this thread's input channels; each part takes a contiguous run.
    private func channels(_ body: (Range<Int>) -> Void) {
        let parts = max(1, min(threads, geometry.channels))
        Parallel.run(parts) { p in body(Parallel.range(p, of: parts, count: geometry.channels)) }
    }

    package func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, num: Int) {
        let spans = self.spans, g = geometry, stride = g.strideW
        channels { range in
            for ic in range {
                for n in 0..<num {
                    let xp = x + (n * g.channels + ic) * inPlane
                    for oc in ic * multiplier..<(ic + 1) * multiplier {
                        let yp = y + (n * outChannels + oc) * outPlane, wp = w + oc * taps
                        yp.update(repeating: bias?[oc] ?? 0, count: outPlane)
                        rows { oy, iy, ky in
                            let yr = yp + oy * g.outWidth, xr = xp + iy * g.width
                            for (kx, s) in spans.enumerated() {
                                Self.multiplyAdd(into: yr, s.lo, s.hi, wp[ky * g.kernelW + kx], xr + s.offset, stride)
                            }
                        }
                    }
                }
            }
        }
    }

    func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?, num: Int) {
        let spans = self.spans, g = geometry, stride = g.strideW, width = g.outWidth, taps = self.taps
        channels { range in
            // One row of partial sums per tap for the weight gradient, and one for the bias.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: (taps + 1) * width) { partial in
                let p = partial.baseAddress!
                for ic in range {
                    if let dx {
                        for n in 0..<num { (dx + (n * g.channels + ic) * inPlane).update(repeating: 0, count: inPlane) }
                    }
                    for oc in ic * multiplier..<(ic + 1) * multiplier {
                        let wp = w + oc * taps
                        p.update(repeating: 0, count: (taps + 1) * width)
                        for n in 0..<num {
                            let xp = x + (n * g.channels + ic) * inPlane, dyp = dy + (n * outChannels + oc) * outPlane
                            if db != nil { for oy in 0..<g.outHeight { Self.add(dyp + oy * width, into: p + taps * width, count: width) } }
                            rows { oy, iy, ky in
                                let dyr = dyp + oy * width, xr = xp + iy * g.width
                                for (kx, s) in spans.enumerated() {
                                    let t = ky * g.kernelW + kx
                                    if dw != nil { Self.multiplyAdd(into: p + t * width, s.lo, s.hi, dyr, xr + s.offset, stride) }
                                    if let dx { Self.scatterAdd(into: dx + (n * g.channels + ic) * inPlane + iy * g.width + s.offset, s.lo, s.hi, wp[t], dyr, stride) }
                                }
                            }
                        }
                        if let dw { for t in 0..<taps { dw[oc * taps + t] += Self.sum(p + t * width, count: width) } }
                        if let db { db[oc] += Self.sum(p + taps * width, count: width) }
                    }
                }
            }
        }
    }

    // MARK: Row kernels (no overflow checks, so they vectorise)

    /// y[i] += a·x[i·stride] for i in lo..<hi.
    @inline(__always)
    private static func multiplyAdd(into y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int, _ a: Float, _ x: UnsafePointer<Float>, _ stride: Int) {
        var i = lo
        if stride == 1 { while i < hi { y[i] += a * x[i]; i &+= 1 } } else { while i < hi { y[i] += a * x[i &* stride]; i &+= 1 } }
    }

    /// p[i] += a[i]·x[i·stride] for i in lo..<hi.
    @inline(__always)
    private static func multiplyAdd(into p: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int, _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ stride: Int) {
        var i = lo
        if stride == 1 { while i < hi { p[i] += a[i] * x[i]; i &+= 1 } } else { while i < hi { p[i] += a[i] * x[i &* stride]; i &+= 1 } }
    }

    /// dx[i·stride] += a·dy[i] for i in lo..<hi.
    @inline(__always)
    private static func scatterAdd(into dx: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int, _ a: Float, _ dy: UnsafePointer<Float>, _ stride: Int) {
        var i = lo
        if stride == 1 { while i < hi { dx[i] += a * dy[i]; i &+= 1 } } else { while i < hi { dx[i &* stride] += a * dy[i]; i &+= 1 } }
    }

    @inline(__always)
    private static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i < count { y[i] += x[i]; i &+= 1 }
    }

    /// In index order: each gradient is one row's sum, so the order is fixed by the shape alone.
    @inline(__always)
    private static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var s: Float = 0
        for i in 0..<count { s += x[i] }
        return s
    }
}
