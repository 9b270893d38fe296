import CBLAS
import Dispatch

/// Cortado's own threading. OpenBLAS runs single-threaded and Cortado splits the work itself:
/// convolutions and pooling across the images of a batch, large matrix products across rows
/// or columns. On small nets such as LeNet, OpenBLAS's threads, woken for every small product,
/// cost more than they give; splitting the batch keeps each core on its own images with warm
/// caches. Every split depends only on the thread count, so results are deterministic for a
/// given count (reductions over parts are summed in part order).
public enum Parallel {
    /// The thread count layers take when they are built (`--threads`; 1 until set).
    nonisolated(unsafe) public private(set) static var threads = 1

    /// Sets Cortado's thread count and makes OpenBLAS single-threaded under it.
    public static func setThreads(_ n: Int) {
        threads = max(1, n)
        openblas_set_num_threads(1)
    }

    /// Runs `body(part)` for parts 0..<parts, on up to `parts` threads, and returns when all are
    /// done. One part runs on the calling thread.
    static func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: parts) { box.value($0) }
        }
    }

    /// 0..<count cut into `parts` contiguous ranges, the first ones one longer when it does not
    /// divide; each range starts at a multiple of `align` where possible.
    static func range(_ part: Int, of parts: Int, count: Int, align: Int = 1) -> Range<Int> {
        let units = (count + align - 1) / align
        let base = units / parts, extra = units % parts
        let start = (part * base + min(part, extra)) * align
        let end = ((part + 1) * base + min(part + 1, extra)) * align
        return min(start, count)..<min(end, count)
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`; `Parallel.run` waits for every use.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
