/// Sums over a run of floats in eight lanes, for the per-channel statistics of BatchNorm and
/// Scale. A plain `s += x[i]` loop cannot vectorise (float addition is not associative, so the
/// compiler must keep its order); eight running sums added up at the end can, and their order
/// is fixed by the count alone, so the bits are the same on every run.
package enum Lanes {
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Σ x[i].
    package static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0), i = 0
        while i &+ 8 <= count { acc += load(x + i); i &+= 8 }
        var s = acc.sum()
        while i < count { s += x[i]; i &+= 1 }
        return s
    }

    /// Σ x[i]·y[i].
    package static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0), i = 0
        while i &+ 8 <= count { acc += load(x + i) * load(y + i); i &+= 8 }
        var s = acc.sum()
        while i < count { s += x[i] * y[i]; i &+= 1 }
        return s
    }

    /// Σ (x[i] − mean)².
    package static func squaredDeviations(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
        let m = SIMD8<Float>(repeating: mean)
        var acc = SIMD8<Float>(repeating: 0), i = 0
        while i &+ 8 <= count { let d = load(x + i) - m; acc += d * d; i &+= 8 }
        var s = acc.sum()
        while i < count { let d = x[i] - mean; s += d * d; i &+= 1 }
        return s
    }
}

extension Parallel {
    /// Runs body over 0..<count in contiguous runs, one per thread, when `work` (the floats the
    /// whole loop touches) is worth waking threads for; each item is done by one thread, whole.
    package static func forItems(_ count: Int, threads: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(threads, count, work / (1 << 15)))
        run(parts) { p in body(range(p, of: parts, count: count)) }
    }
}
