import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's PoolingParameter. kernel/pad/stride as Convolution's; global pooling takes the
/// whole image as its window.
package struct PoolingParameter: LayerSettings {
    package enum Method: String, Sendable { case max = "MAX", ave = "AVE", stochastic = "STOCHASTIC" }
    enum RoundMode: String, Sendable { case ceil = "CEIL", floor = "FLOOR" }
    package static let field = "pooling_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    package static let schema = """
        pool:enum(MAX,AVE,STOCHASTIC) pad:int pad_h:int pad_w:int kernel_size:int kernel_h:int kernel_w:int \
        stride:int stride_h:int stride_w:int engine:enum(DEFAULT,CAFFE,CUDNN) global_pooling:bool round_mode:enum(CEIL,FLOOR)
        """
    package var pool = Method.max
    /// (0, 0) for global pooling until the input size is known.
    package var kernel = (h: 0, w: 0)
    package var pad = (h: 0, w: 0)
    package var stride = (h: 1, w: 1)
    package var globalPooling = false
    var roundMode = RoundMode.ceil

    package init(_ p: ConfigNode) throws {
        pool = p.enumeration("pool", default: pool)
        globalPooling = p.bool("global_pooling") ?? globalPooling
        roundMode = p.enumeration("round_mode", default: roundMode)
        if globalPooling {
            if p.has("kernel_size") || p.has("kernel_h") || p.has("kernel_w") {
                throw p.error("global_pooling takes the whole image as its kernel; remove kernel_size", field: "global_pooling")
            }
        } else {
            kernel = try ConvolutionParameter.pair(p, "kernel_size", "kernel_h", "kernel_w", default: nil)
            guard kernel.h > 0, kernel.w > 0 else { throw p.error("kernel size must be positive", field: "kernel_size") }
        }
        pad = try ConvolutionParameter.pair(p, "pad", "pad_h", "pad_w", default: 0)
        stride = try ConvolutionParameter.pair(p, "stride", "stride_h", "stride_w", default: 1)
        guard stride.h > 0, stride.w > 0 else { throw p.error("stride must be positive", field: "stride") }
        if globalPooling {
            guard pad == (0, 0), stride == (1, 1) else {
                throw p.error("global_pooling needs pad 0 and stride 1", field: "global_pooling")
            }
        } else if pad.h >= kernel.h || pad.w >= kernel.w {
            throw p.error("pad (\(pad.h)×\(pad.w)) must be smaller than the kernel (\(kernel.h)×\(kernel.w))", field: "pad")
        }
    }

    /// `MAX k2 s2` or `AVE global`: for graph nodes.
    var graphDetails: [String] {
        globalPooling ? ["\(pool.rawValue) global"] : ["\(pool.rawValue) k\(kernel.h) s\(stride.h)"]
    }
}

/// Pooling (MAX, AVE or STOCHASTIC) over H×W of an N×C×H×W blob, with Caffe's output size rule:
/// ceil by default, minus one when the last window would start inside the padding. MAX windows
/// are clipped to the image; AVE divides by the window clipped to the padded extent.
/// STOCHASTIC (Zeiler & Fergus; GPU-only in Caffe) picks one input per window with probability
/// proportional to its value in TRAIN, and takes the value-weighted mean Σx²/Σx in TEST.
final class PoolingLayer: Layer {
    override var graphColour: String? { "#80d8ff" }
    private let settings: PoolingParameter
    private var method: PoolingParameter.Method { settings.pool }
    private var global: Bool { settings.globalPooling }
    private var ceilMode: Bool { settings.roundMode == .ceil }
    /// The window: the settings' kernel, or the whole image for global pooling.
    private var kernel = (h: 0, w: 0)
    private var pad: (h: Int, w: Int) { settings.pad }
    private var stride: (h: Int, w: Int) { settings.stride }
    private var channels = 0, height = 0, width = 0, num = 0
    private var pooledH = 0, pooledW = 0
    /// Index of the winning input per output for MAX (kept as Int32 to stay small).
    private var mask: [Int32] = []
    private var rng = RNG(seed: 0)

    override var exactNumBottoms: Int? { 1 }
    override var minTops: Int? { 1 }
    /// Caffe's MaxTopBlobs: only MAX pooling has the second (mask) top.
    override var maxTops: Int? { method == .max ? 2 : 1 }
    override var graphDetails: [String] { settings.graphDetails }

    /// MaxPool or AveragePool with pads that give Caffe's output size (`ONNXGraphWriting.pool`).
    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let s = settings
        guard s.pool != .stochastic else { throw ExportError("STOCHASTIC pooling has no ONNX operator") }
        guard graph.bottomShapes[0].count == 4 else { throw ExportError("only 2-D pooling is exported") }
        if s.globalPooling {
            graph.single(s.pool == .max ? "GlobalMaxPool" : "GlobalAveragePool", name, [inputs[0]])
            return true
        }
        let input = graph.bottomShapes[0], output = graph.topShapes[0]
        let tops = graph.tops()
        try graph.pool(inputs[0], max: s.pool == .max, kernel: s.kernel, pad: s.pad, stride: s.stride, input: (input[2], input[3]),
                       output: (output[2], output[3]), name, into: tops[0])
        return true
    }

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        kernel = settings.kernel
        try super.init(param, phase: phase)
    }

    override func reseed(_ source: inout RNG) {
        if method == .stochastic { rng = RNG(seed: source.next()) }
    }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        if method == .stochastic { rng = context.spawnRNG() }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        guard b.numAxes == 4 else {
            throw error("Pooling needs a 4-axis bottom (N×C×H×W); found shape \(b.shape)")
        }
        num = b.shape[0]; channels = b.shape[1]; height = b.shape[2]; width = b.shape[3]
        if global { kernel = (height, width) }
        pooledH = outputSize(height, kernel.h, pad.h, stride.h)
        pooledW = outputSize(width, kernel.w, pad.w, stride.w)
        guard pooledH > 0, pooledW > 0 else {
            throw error("the \(kernel.h)×\(kernel.w) pooling window does not fit the \(height)×\(width) input")
        }
        try top[0].reshape([num, channels, pooledH, pooledW])
        if top.count > 1 { try top[1].reshape(top[0].shape) }
        if method != .ave && mask.count < top[0].count { mask = [Int32](repeating: 0, count: top[0].count) }
    }

    private func outputSize(_ input: Int, _ k: Int, _ p: Int, _ s: Int) -> Int {
        let span = Float(input + 2 * p - k) / Float(s)
        var out = Int(ceilMode ? ceil(span) : floor(span)) + 1
        if p > 0 && (out - 1) * s >= input + p { out -= 1 }
        return out
    }

    /// The window geometry as plain values, so the hot loops touch no class properties.
    struct Window {
        package var height: Int, width: Int, pooledH: Int, pooledW: Int
        package var kernelH: Int, kernelW: Int, padH: Int, padW: Int, strideH: Int, strideW: Int

        /// Rows and columns of output (ph, pw) clipped to the image, and the AVE divisor.
        @inline(__always)
        func bounds(_ ph: Int, _ pw: Int) -> (hs: Int, he: Int, ws: Int, we: Int, size: Float) {
            let hs = ph * strideH - padH, ws = pw * strideW - padW
            let he = min(hs + kernelH, height + padH), we = min(ws + kernelW, width + padW)
            let size = Float((he - hs) * (we - ws))
            return (max(hs, 0), min(he, height), max(ws, 0), min(we, width), size)
        }

        /// Output rows whose windows lie wholly inside the image.
        var interiorRows: Range<Int> { Self.interior(pad: padH, stride: strideH, kernel: kernelH, size: height, outputs: pooledH) }
        var interiorColumns: Range<Int> { Self.interior(pad: padW, stride: strideW, kernel: kernelW, size: width, outputs: pooledW) }

        static func interior(pad: Int, stride: Int, kernel: Int, size: Int, outputs: Int) -> Range<Int> {
            let first = min((pad + stride - 1) / stride, outputs)
            let end = size + pad >= kernel ? min((size + pad - kernel) / stride + 1, outputs) : 0
            return first..<max(first, end)
        }

        /// Visits every output (ph, pw) of a plane: windows inside the image eight at a time
        /// (`eight(ph, pw)` covers pw..<pw+8), the others one by one. A row's last block of eight
        /// may overlap the one before: recomputing an output is harmless.
        @inline(__always)
        func forEachOutput(one: (Int, Int) -> Void, eight: (Int, Int) -> Void) {
            let rows = interiorRows, cols = interiorColumns
            for ph in 0..<pooledH {
                var pw = 0
                if rows.contains(ph) && vectorStride {
                    while pw < cols.lowerBound { one(ph, pw); pw &+= 1 }
                    while pw &+ 8 <= cols.upperBound && canLoad8(ph, pw) { eight(ph, pw); pw &+= 8 }
                    let last = cols.upperBound &- 8
                    if pw < cols.upperBound && last >= cols.lowerBound && canLoad8(ph, last) {
                        eight(ph, last)
                        pw = cols.upperBound
                    }
                }
                while pw < pooledW { one(ph, pw); pw &+= 1 }
            }
        }

        /// Eight outputs are loaded side by side for strides 1 and 2 (every other lane of 16).
        var vectorStride: Bool { strideW == 1 || strideW == 2 }

        /// Whether the loads for outputs (ph, pw..<pw+8) stay inside the plane: at stride 2 a
        /// load reads 16 values, one past the last one used.
        @inline(__always)
        func canLoad8(_ ph: Int, _ pw: Int) -> Bool {
            let last = (ph * strideH - padH + kernelH - 1) * width + pw * strideW - padW + kernelW - 1 + (strideW == 1 ? 7 : 15)
            return last < height * width
        }

        @inline(__always)
        func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            strideW == 1 ? UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
                : UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self).evenHalf
        }

        /// 2×2 windows at stride 2 that all lie inside the image.
        var isUnclipped2x2: Bool {
            kernelH == 2 && kernelW == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0
                && 2 * pooledH <= height && 2 * pooledW <= width
        }
    }

    private var window: Window {
        Window(height: height, width: width, pooledH: pooledH, pooledW: pooledW, kernelH: kernel.h, kernelW: kernel.w,
               padH: pad.h, padW: pad.w, strideH: stride.h, strideW: stride.w)
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        let w = window, planes = num * channels
        let x = bottom[0].data, y = top[0].data
        let inPlane = height * width, outPlane = pooledH * pooledW
        if method == .max {
            let maskTop: UnsafeMutablePointer<Float>? = top.count > 1 ? top[1].data : nil
            mask.withUnsafeMutableBufferPointer { m in
                let m = m.baseAddress!
                forEachPlane(planes) { plane in
                    let xp = x + plane * inPlane, yp = y + plane * outPlane, mp = m + plane * outPlane
                    if w.isUnclipped2x2 { Self.max2x2Plane(xp, yp, mp, w) } else { Self.maxPlane(xp, yp, mp, w) }
                    if let maskTop {
                        for o in 0..<outPlane { maskTop[plane * outPlane + o] = Float(mp[o]) }
                    }
                }
            }
        } else if method == .stochastic {
            let train = phase == .train
            for plane in 0..<planes {
                let xp = x + plane * inPlane, yp = y + plane * outPlane
                for ph in 0..<w.pooledH {
                    for pw in 0..<w.pooledW {
                        let b = w.bounds(ph, pw), o = plane * outPlane + ph * w.pooledW + pw
                        let (sum, sumSq) = Self.sums(xp, b, width: w.width)
                        if train {
                            let threshold = rng.uniform() * sum
                            var acc: Float = 0, pick = b.hs * w.width + b.ws
                            search: for h in b.hs..<max(b.he, b.hs) {
                                for c in b.ws..<max(b.we, b.ws) {
                                    acc += xp[h * w.width + c]
                                    pick = h * w.width + c
                                    if acc >= threshold && xp[pick] > 0 { break search }
                                }
                            }
                            mask[o] = Int32(pick)
                            yp[ph * w.pooledW + pw] = xp[pick]
                        } else {
                            yp[ph * w.pooledW + pw] = sum > 0 ? sumSq / sum : 0
                        }
                    }
                }
            }
        } else {
            forEachPlane(planes) { plane in Self.averagePlane(x + plane * inPlane, y + plane * outPlane, w) }
        }
    }

    /// MAX with 2×2 windows, stride 2, no padding and no window cut by the edge (LeNet's,
    /// VGG's and most nets' pooling): four loads and compares per output, in Caffe's scan
    /// order with a strict `>`, so ties and NaNs pick what `maxPlane` picks.
    @inline(__always)
    private static func max2x2Plane(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                                    _ mp: UnsafeMutablePointer<Int32>, _ w: Window) {
        for ph in 0..<w.pooledH {
            let top = 2 &* ph &* w.width
            let yRow = yp + ph &* w.pooledW, mRow = mp + ph &* w.pooledW
            for pw in 0..<w.pooledW {
                let i0 = top &+ 2 &* pw
                var best = -Float.greatestFiniteMagnitude, arg = -1
                for i in [i0, i0 &+ 1, i0 &+ w.width, i0 &+ w.width &+ 1] {
                    let greater = xp[i] > best
                    best = greater ? xp[i] : best
                    arg = greater ? i : arg
                }
                yRow[pw] = best
                mRow[pw] = Int32(truncatingIfNeeded: arg)
            }
        }
    }

    /// MAX over one plane: windows inside the image eight outputs at a time (`max8`), the
    /// others one by one.
    @inline(__always)
    private static func maxPlane(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                                 _ mp: UnsafeMutablePointer<Int32>, _ w: Window) {
        w.forEachOutput(one: { maxOne(xp, yp, mp, w, $0, $1) }, eight: { max8(xp, yp, mp, w, $0, $1) })
    }

    /// MAX of output (ph, pw), its window clipped to the image. Plain while-loops with
    /// wrapping arithmetic and a branch-free compare: the windows are tiny and on real
    /// activations the comparison is a coin toss.
    @inline(__always)
    private static func maxOne(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                               _ mp: UnsafeMutablePointer<Int32>, _ w: Window, _ ph: Int, _ pw: Int) {
        let h0 = ph &* w.strideH &- w.padH, c0 = pw &* w.strideW &- w.padW
        let hs = max(h0, 0), he = min(h0 &+ w.kernelH, w.height)
        let ws = max(c0, 0), we = min(c0 &+ w.kernelW, w.width)
        var best = -Float.greatestFiniteMagnitude
        var arg: Int = -1
        var h = hs
        while h < he {
            var idx = h &* w.width &+ ws
            let end = h &* w.width &+ we
            while idx < end {
                let v = xp[idx], greater = v > best
                best = greater ? v : best
                arg = greater ? idx : arg
                idx &+= 1
            }
            h &+= 1
        }
        let o = ph &* w.pooledW &+ pw
        yp[o] = best
        mp[o] = Int32(truncatingIfNeeded: arg)
    }

    /// MAX of outputs (ph, pw..<pw+8), whose windows lie inside the image: each lane scans its
    /// window in Caffe's order with a strict `>`, so it picks what `maxOne` picks.
    @inline(__always)
    private static func max8(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                             _ mp: UnsafeMutablePointer<Int32>, _ w: Window, _ ph: Int, _ pw: Int) {
        var best = SIMD8<Float>(repeating: -Float.greatestFiniteMagnitude)
        var arg = SIMD8<Int32>(repeating: -1)
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(truncatingIfNeeded: w.strideW)
        for kh in 0..<w.kernelH {
            let row = (ph &* w.strideH &- w.padH &+ kh) &* w.width &+ pw &* w.strideW &- w.padW
            for kw in 0..<w.kernelW {
                let i = row &+ kw
                let v = w.load8(xp + i)
                let greater = v .> best
                best.replace(with: v, where: greater)
                arg.replace(with: SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: i)) &+ lanes, where: greater)
            }
        }
        let o = ph &* w.pooledW &+ pw
        UnsafeMutableRawPointer(yp + o).storeBytes(of: best, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(mp + o).storeBytes(of: arg, as: SIMD8<Int32>.self)
    }

    /// AVE over one plane: each window's sum over its part inside the image, divided by its
    /// size clipped to the padded image (Caffe counts padding, not what lies beyond it).
    /// Windows inside the image go eight at a time, summed in the same order.
    @inline(__always)
    private static func averagePlane(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, _ w: Window) {
        let size = SIMD8<Float>(repeating: Float(w.kernelH * w.kernelW))
        w.forEachOutput(one: { averageOne(xp, yp, w, $0, $1) }, eight: { average8(xp, yp, w, $0, $1, size) })
    }

    @inline(__always)
    private static func average8(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, _ w: Window, _ ph: Int, _ pw: Int, _ size: SIMD8<Float>) {
        var sum = SIMD8<Float>(repeating: 0)
        for kh in 0..<w.kernelH {
            let row = (ph &* w.strideH &- w.padH &+ kh) &* w.width &+ pw &* w.strideW &- w.padW
            for kw in 0..<w.kernelW { sum += w.load8(xp + (row &+ kw)) }
        }
        UnsafeMutableRawPointer(yp + (ph &* w.pooledW &+ pw)).storeBytes(of: sum / size, as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func averageOne(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, _ w: Window, _ ph: Int, _ pw: Int) {
        let b = w.bounds(ph, pw)
        var sum: Float = 0
        var h = b.hs
        while h < b.he {
            var idx = h &* w.width &+ b.ws
            let end = h &* w.width &+ b.we
            while idx < end { sum += xp[idx]; idx &+= 1 }
            h &+= 1
        }
        yp[ph &* w.pooledW &+ pw] = sum / b.size
    }

    /// Runs `body` for every plane, the planes split across `threads` (MAX and AVE; STOCHASTIC
    /// draws from one random stream in plane order and stays on one thread).
    private func forEachPlane(_ planes: Int, _ body: (Int) -> Void) {
        let parts = max(1, min(threads, planes * height * width / Self.minPlaneSplit))
        Parallel.run(parts) { p in
            for plane in Parallel.range(p, of: parts, count: planes) { body(plane) }
        }
    }

    /// Inputs below this many values per thread are pooled on one thread.
    private static let minPlaneSplit = 1 << 14

    /// Σx and Σx² over one window (STOCHASTIC pooling).
    private static func sums(_ xp: UnsafePointer<Float>, _ b: (hs: Int, he: Int, ws: Int, we: Int, size: Float), width: Int) -> (Float, Float) {
        var sum: Float = 0, sumSq: Float = 0
        for h in b.hs..<max(b.he, b.hs) { for c in b.ws..<max(b.we, b.ws) { let v = xp[h * width + c]; sum += v; sumSq += v * v } }
        return (sum, sumSq)
    }

    /// STOCHASTIC pooling's random stream, kept in solverstates.
    override func saveState() -> [Int64] { method == .stochastic ? rng.words.map { Int64(bitPattern: $0) } : [] }

    override func restoreState(_ state: [Int64]) throws {
        guard method == .stochastic else { return }
        guard state.count == 4 else { throw error("saved state has the wrong length") }
        rng.words = state.map { UInt64(bitPattern: $0) }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let w = window, planes = num * channels
        let dy = top[0].diff, dx = bottom[0].diff
        let inPlane = height * width, outPlane = pooledH * pooledW
        if method == .max {
            mask.withUnsafeBufferPointer { m in
                let m = m.baseAddress!
                forEachPlane(planes) { plane in
                    let dxp = dx + plane * inPlane, dyp = dy + plane * outPlane, mp = m + plane * outPlane
                    dxp.update(repeating: 0, count: inPlane)
                    for o in 0..<outPlane where mp[o] >= 0 { dxp[Int(mp[o])] += dyp[o] }
                }
            }
        } else if method == .stochastic {
            let x = bottom[0].data
            dx.update(repeating: 0, count: bottom[0].count)
            for plane in 0..<planes {
                let xp = x + plane * inPlane, dxp = dx + plane * inPlane, dyp = dy + plane * outPlane
                for ph in 0..<w.pooledH {
                    for pw in 0..<w.pooledW {
                        let o = ph * w.pooledW + pw
                        if phase == .train {
                            dxp[Int(mask[plane * outPlane + o])] += dyp[o]
                            continue
                        }
                        // d(Σx²/Σx)/dx_i = (2 x_i Σx − Σx²) / (Σx)²
                        let b = w.bounds(ph, pw)
                        let (sum, sumSq) = Self.sums(xp, b, width: w.width)
                        guard sum > 0 else { continue }
                        for h in b.hs..<max(b.he, b.hs) {
                            for c in b.ws..<max(b.we, b.ws) { dxp[h * w.width + c] += dyp[o] * (2 * xp[h * w.width + c] * sum - sumSq) / (sum * sum) }
                        }
                    }
                }
            }
        } else {
            forEachPlane(planes) { plane in
                let dxp = dx + plane * inPlane, dyp = dy + plane * outPlane
                dxp.update(repeating: 0, count: inPlane)
                for ph in 0..<w.pooledH {
                    for pw in 0..<w.pooledW {
                        let b = w.bounds(ph, pw)
                        let share = dyp[ph * w.pooledW + pw] / b.size
                        var h = b.hs
                        while h < b.he {
                            var idx = h &* w.width &+ b.ws
                            let end = h &* w.width &+ b.we
                            while idx < end { dxp[idx] += share; idx &+= 1 }
                            h &+= 1
                        }
                    }
                }
            }
        }
    }
}
