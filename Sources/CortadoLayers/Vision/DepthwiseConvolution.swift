import CortadoBase
import CortadoIO
import CortadoConfig

/// The direct kernel for depthwise convolution (group = input channels, as in MobileNet):
/// each output channel reads one input channel, so one small loop nest per channel beats
/// one tiny GEMM per group. Output channel o reads input channel o / multiplier.
///
/// Depthwise layers do few multiply-adds per byte, and their planes are small (MobileNet's
/// 14×14 and 7×7), so loop overhead, not arithmetic, is what costs. Each input plane is
/// copied with its zero padding written out and, for stride s > 1, split into s×s phase
/// planes (rows and columns by their remainder mod s), each Wq = ⌈padded width / s⌉ wide.
/// The output is computed in rows of that same width Wq: then every kernel tap reads one
/// phase plane at one fixed offset from the output's own flat index, so a tap is a single
/// stride-1 loop over the whole plane, `y[i] += w·q[i + offset]`, with no bounds to test.
/// The columns past the real output width are computed and dropped (forward), or held at
/// zero (backward), so they add nothing. Threads take whole input channels with every image
/// of the batch, so each weight gradient has one owner and the bits are the same for any
/// thread count.
struct DepthwiseConvolution {
    var geometry: ConvGeometry       // channels = input channels
    var multiplier: Int              // output channels per input channel
    var threads = 1

    /// Only equal strides: the phase planes need one stride for rows and columns alike. Other
    /// shapes take the grouped-GEMM path.
    init?(geometry: ConvGeometry, multiplier: Int, threads: Int) {
        guard geometry.strideH == geometry.strideW else { return nil }
        (self.geometry, self.multiplier, self.threads) = (geometry, multiplier, threads)
    }

    private var outPlane: Int { geometry.outHeight * geometry.outWidth }
    private var inPlane: Int { geometry.height * geometry.width }
    private var taps: Int { geometry.kernelH * geometry.kernelW }
    private var outChannels: Int { geometry.channels * multiplier }
    private var stride: Int { geometry.strideW }
    /// One phase plane: ⌈padded size / stride⌉ each way.
    private var phaseHeight: Int { (geometry.height + 2 * geometry.padH + stride - 1) / stride }
    private var phaseWidth: Int { (geometry.width + 2 * geometry.padW + stride - 1) / stride }
    /// All stride² phase planes.
    private var phased: Int { stride * stride * phaseHeight * phaseWidth }
    /// The flat output run: full rows of width Wq, but the last only as long as the real row.
    private var flatLength: Int { (geometry.outHeight - 1) * phaseWidth + geometry.outWidth }

    /// Where tap t reads, relative to the output's flat index: its phase plane and its shift.
    private var offsets: [Int] {
        let g = geometry, s = stride
        return (0..<taps).map { t in
            let r = (t / g.kernelW) * g.dilationH, c = (t % g.kernelW) * g.dilationW
            return ((r % s) * s + c % s) * phaseHeight * phaseWidth + (r / s) * phaseWidth + c / s
        }
    }

    /// Input pixel (y, x) of the plane goes to padded (y + padH, x + padW), which is row
    /// (y + padH) / s of phase plane ((y + padH) mod s, (x + padW) mod s). Calls
    /// body(input offset, phase-plane offset, count) for each run of a row's pixels that land
    /// in one phase plane: input offsets step by s, phase-plane offsets by 1. The borders are
    /// never visited, so they stay as zeroed when the scratch was made.
    @inline(__always)
    private func runs(_ body: (Int, Int, Int) -> Void) {
        let g = geometry, s = stride, (hq, wq) = (phaseHeight, phaseWidth)
        for iy in 0..<g.height {
            let pr = iy + g.padH
            for b in 0..<s {
                // Columns ix = s·c + b − padW for the phase plane's columns c.
                let first = (b - g.padW % s + s) % s
                guard first < g.width else { continue }
                body(iy * g.width + first, ((pr % s) * s + b) * hq * wq + (pr / s) * wq + (first + g.padW) / s, (g.width - first + s - 1) / s)
            }
        }
    }

    /// One input plane into the phase planes.
    private func split(_ x: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>) {
        let s = stride
        runs { from, to, n in
            if s == 1 { (q + to).update(from: x + from, count: n); return }
            var c = 0
            while c < n { q[to &+ c] = x[from &+ c &* s]; c &+= 1 }
        }
    }

    /// The adjoint of `split`: each input pixel's gradient from its place in the phase planes.
    private func gather(_ q: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let s = stride
        runs { to, from, n in
            if s == 1 { (dx + to).update(from: q + from, count: n); return }
            var c = 0
            while c < n { dx[to &+ c &* s] = q[from &+ c]; c &+= 1 }
        }
    }

    /// Runs body over each thread's run of input channels with its own zeroed scratch of `floats`.
    private func channels(scratch floats: Int, _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let parts = max(1, min(threads, geometry.channels))
        Parallel.run(parts) { p in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: floats)
            scratch.initialize(repeating: 0, count: floats)
            defer { scratch.deallocate() }
            body(Parallel.range(p, of: parts, count: geometry.channels), scratch)
        }
    }

    package func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, num: Int) {
        let offsets = self.offsets, (length, wq, ow) = (flatLength, phaseWidth, geometry.outWidth)
        channels(scratch: phased + length) { range, scratch in
            let padded = scratch, out = scratch + phased
            for ic in range {
                for n in 0..<num {
                    split(x + (n * geometry.channels + ic) * inPlane, into: padded)
                    for oc in ic * multiplier..<(ic + 1) * multiplier {
                        out.update(repeating: bias?[oc] ?? 0, count: length)
                        for t in 0..<taps { Self.multiplyAdd(into: out, length, w[oc * taps + t], UnsafePointer(padded) + offsets[t]) }
                        let yp = y + (n * outChannels + oc) * outPlane
                        for oy in 0..<geometry.outHeight { (yp + oy * ow).update(from: out + oy * wq, count: ow) }
                    }
                }
            }
        }
    }

    func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?, num: Int) {
        let offsets = self.offsets, (length, wq, ow) = (flatLength, phaseWidth, geometry.outWidth)
        channels(scratch: 2 * phased + length) { range, scratch in
            // Columns of `grad` past the real output width stay zero: only real ones are copied in.
            let padded = scratch, dpadded = scratch + phased, grad = scratch + 2 * phased
            for ic in range {
                for n in 0..<num {
                    if dw != nil { split(x + (n * geometry.channels + ic) * inPlane, into: padded) }
                    if dx != nil { dpadded.update(repeating: 0, count: phased) }
                    for oc in ic * multiplier..<(ic + 1) * multiplier {
                        let dyp = dy + (n * outChannels + oc) * outPlane
                        for oy in 0..<geometry.outHeight { (grad + oy * wq).update(from: dyp + oy * ow, count: ow) }
                        if let db { db[oc] += Lanes.sum(dyp, count: outPlane) }
                        for t in 0..<taps {
                            if let dw { dw[oc * taps + t] += Lanes.dot(grad, UnsafePointer(padded) + offsets[t], count: length) }
                            if dx != nil { Self.multiplyAdd(into: dpadded + offsets[t], length, w[oc * taps + t], grad) }
                        }
                    }
                    if let dx { gather(dpadded, into: dx + (n * geometry.channels + ic) * inPlane) }
                }
            }
        }
    }

    // MARK: Flat kernel

    /// y[i] += a·x[i] for i in 0..<n (no overflow checks, so it vectorises).
    @inline(__always)
    private static func multiplyAdd(into y: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ x: UnsafePointer<Float>) {
        var i = 0
        while i < n { y[i] += a * x[i]; i &+= 1 }
    }
}
