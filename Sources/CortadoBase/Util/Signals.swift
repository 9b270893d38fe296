import Foundation
import Synchronization

/// SIGINT and SIGHUP caught with sigaction and counted in lock-free atomics, then polled by
/// the solver once per iteration, as Caffe's SignalHandler does. (DispatchSource signal
/// sources miss signals here: OpenBLAS's worker thread exists before main and receives them.)
let sigintCount = Atomic<Int>(0)
let sighupCount = Atomic<Int>(0)

private func countSignal(_ signal: Int32) {
    if signal == SIGINT { sigintCount.add(1, ordering: .relaxed) } else { sighupCount.add(1, ordering: .relaxed) }
}

package enum SignalEffect: String, Sendable, CaseIterable {
    case stop, snapshot, none
}

package enum Signals {
    /// Counts SIGINT and SIGHUP from now on, and keeps them off the threads that compute: the
    /// calling thread blocks them, Cortado's workers block them from birth
    /// (`blockOnThisThread`), and one thread of their own waits for them. A signal
    /// that interrupted oneDNN's JIT sgemm corrupted the heap ("corrupted size vs. prev_size",
    /// SIGABRT, within a few signals of a LeNet run, even with `--sighup_effect none`); its
    /// kernels appear to use the stack below the stack pointer, where the kernel writes the
    /// signal frame. Threads that never compute (OpenBLAS's idle one, started before main)
    /// may still take one, so the counting handler stays installed.
    package static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in countSignal(signal) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGHUP, &action, nil)
        blockOnThisThread()
        startWaiter()
    }

    /// SIGINT and SIGHUP, which a run acts on.
    static var caught: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }

    /// Blocks SIGINT and SIGHUP on the calling thread, for threads that compute or serve
    /// (`install` says why they must not take them).
    package static func blockOnThisThread() {
        var set = caught
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// The one thread that takes the caught signals, by sigwait (it inherits the blocked mask).
    private static let waiter: Void = {
        let t = Thread {
            var set = caught
            var signal: Int32 = 0
            while true {
                if sigwait(&set, &signal) == 0 { countSignal(signal) }
            }
        }
        t.name = "signals"
        t.start()
    }()

    private static func startWaiter() { _ = waiter }

    /// The action requested since the last call: a SIGINT's effect wins over a SIGHUP's.
    package static func requestedAction(sigint: SignalEffect, sighup: SignalEffect) -> SignalEffect {
        let effects = [(sigintCount.exchange(0, ordering: .relaxed), sigint), (sighupCount.exchange(0, ordering: .relaxed), sighup)]
        for (count, effect) in effects where count > 0 {
            switch effect {
            case .stop: return .stop
            case .snapshot: return .snapshot
            case .none: continue
            }
        }
        return .none
    }
}

/// The line a rank prints when its launcher ends it, kept as bytes a signal handler can write.
nonisolated(unsafe) private var terminationLine: UnsafeMutableBufferPointer<UInt8>?

extension Signals {
    /// Under mpirun: when the launcher ends this rank with SIGTERM (because another rank
    /// died), print why instead of vanishing, then exit 143 as the default action would.
    package static func explainTermination(_ message: String) {
        let bytes = Array((message + "\n").utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        _ = buffer.initialize(from: bytes)
        terminationLine = buffer
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            if let line = terminationLine { _ = write(2, line.baseAddress, line.count) }
            _exit(143)
        }
        sigemptyset(&action.sa_mask)
        sigaction(SIGTERM, &action, nil)
    }
}
