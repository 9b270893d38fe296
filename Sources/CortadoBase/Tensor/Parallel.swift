import CBLAS
import Foundation
import Synchronization

/// Cortado's own threading. OpenBLAS runs single-threaded and Cortado splits the work itself:
/// convolutions and pooling across the images of a batch, large matrix products across rows
/// or columns. On small nets such as LeNet, OpenBLAS's threads, woken for every small product,
/// cost more than they give; splitting the batch keeps each core on its own images with warm
/// caches. Every split depends only on the thread count, so results are deterministic for a
/// given count (reductions over parts are summed in part order).
package enum Parallel {
    /// The thread count layers take when they are built (`--threads`; 1 until set).
    nonisolated(unsafe) package private(set) static var threads = 1

    /// Sets Cortado's thread count and makes OpenBLAS single-threaded under it.
    package static func setThreads(_ n: Int) {
        threads = max(1, n)
        openblas_set_num_threads(1)
    }

    /// Runs `body(part)` for parts 0..<parts and returns when all are done. The calling
    /// thread takes parts too. A call made while the pool is busy (from inside a part, or from
    /// a second thread) runs its parts one after another on its own thread.
    package static func run(_ parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 { body(0); return }
        withoutActuallyEscaping(body) { pool.run(parts, $0) }
    }

    private static let pool = WorkerPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// Runs `body` over 0..<count cut into contiguous ranges, one per thread, when there are at
    /// least `minPerPart` items per thread (element-wise layers: below that, waking a thread
    /// costs more than it saves).
    package static func forRanges(_ count: Int, threads: Int, minPerPart: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(threads, count / minPerPart))
        run(parts) { p in body(range(p, of: parts, count: count)) }
    }

    /// 0..<count cut into `parts` contiguous ranges, the first ones one longer when it does not
    /// divide; each range starts at a multiple of `align` where possible.
    package static func range(_ part: Int, of parts: Int, count: Int, align: Int = 1) -> Range<Int> {
        let units = (count + align - 1) / align
        let base = units / parts, extra = units % parts
        let start = (part * base + min(part, extra)) * align
        let end = ((part + 1) * base + min(part + 1, extra)) * align
        return min(start, count)..<min(end, count)
    }
}

/// Threads that wait for parts of a `Parallel.run`. Between runs a worker spins for a while
/// before it sleeps: a layer-by-layer net starts a run every few hundred microseconds, and
/// waking a sleeping thread each time costs more than the small runs themselves.
///
/// One atomic ticket holds the run's number, its part count and the next part to take. A
/// thread takes a part by advancing the ticket of the run it saw; once it holds a part, the
/// run cannot end before that part is done, so `job` is safe to read until then.
private final class WorkerPool: @unchecked Sendable {
    /// run number (bits 32–63) | part count (16–31) | next part (0–15)
    private let ticket = Atomic<UInt64>(0)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    /// The current run's body; written before the ticket is published, cleared after every
    /// part has finished.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    /// How long an idle worker spins before it sleeps.
    private static let spinNanoseconds: UInt64 = 200_000

    init(workers: Int) {
        for _ in 0..<workers {
            let t = Thread { [unowned self] in self.work() }
            t.stackSize = 8 << 20
            t.start()
        }
    }

    package func run(_ count: Int, _ body: @escaping (Int) -> Void) {
        guard count < 1 << 16, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<count { body(p) }
            return
        }
        job = body
        finished.store(0, ordering: .relaxed)
        let run = (ticket.load(ordering: .relaxed) >> 32) &+ 1
        ticket.store(run << 32 | UInt64(count) << 16, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            wake.lock(); wake.broadcast(); wake.unlock()
        }
        takeParts(of: run)
        while finished.load(ordering: .acquiring) < count {}
        job = nil
        busy.store(false, ordering: .releasing)
    }

    /// Takes and runs parts of run `run` until none is left (or another run has begun).
    private func takeParts(of run: UInt64) {
        var t = ticket.load(ordering: .acquiring)
        while t >> 32 == run, t & 0xFFFF < (t >> 16) & 0xFFFF {
            let (taken, current) = ticket.compareExchange(expected: t, desired: t &+ 1, ordering: .acquiringAndReleasing)
            if taken {
                runPart(Int(t & 0xFFFF))
                finished.add(1, ordering: .releasing)
                t = ticket.load(ordering: .acquiring)
            } else {
                t = current
            }
        }
    }

    /// Not inlined, so this thread's reference to the body is gone before the part counts
    /// as finished (`withoutActuallyEscaping` checks that no reference outlives the run).
    @inline(never)
    private func runPart(_ part: Int) { job?(part) }

    private func work() {
        Signals.blockOnThisThread()   // workers compute: no signal may interrupt them
        var seen: UInt64 = 0
        while true {
            seen = waitForRun(after: seen)
            takeParts(of: seen)
        }
    }

    /// Spins, then sleeps, until a run after `seen` is published; returns its number.
    private func waitForRun(after seen: UInt64) -> UInt64 {
        let start = DispatchTime.now().uptimeNanoseconds
        var spins = 0
        while true {
            let run = ticket.load(ordering: .acquiring) >> 32
            if run != seen { return run }
            spins &+= 1
            if spins & 1023 == 0 && DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds { break }
        }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        wake.lock()
        while ticket.load(ordering: .sequentiallyConsistent) >> 32 == seen { wake.wait() }
        wake.unlock()
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        return ticket.load(ordering: .acquiring) >> 32
    }
}
