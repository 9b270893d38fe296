import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// How gradients are summed over ranks.
package enum Reduction: String, Sendable, CaseIterable {
    /// In rank order, ((g₀ + g₁) + g₂) …: a chain from rank 0 to the last rank, which then
    /// broadcasts the sum. Bitwise the same as one process with `iter_size` N (whose
    /// sub-batches are added in the same order), for nets without random layers.
    case ordered
    /// MPI_Allreduce: the library's order, faster for many ranks, not bitwise repeatable.
    case fast
}

/// Sums every rank's parameter gradients on a thread of its own while backward goes on:
/// a layer's gradients are sent as soon as its backward is done (reverse layer order, as
/// Caffe's multi-GPU sync and Horovod do), so communication hides behind computation.
/// `finish` then adds the losses and rank 0's requested action, and waits for the rest.
/// Nothing is allocated per iteration: the index lists it sends are fixed by the net.
package final class GradientSync: GradientReducer, @unchecked Sendable {
    package var rank: Int { comm.rank }
    package var size: Int { comm.size }
    package let comm: Communicator
    package let reduction: Reduction
    /// False sends everything after backward (for measuring what overlap buys).
    package var overlap = true
    private let net: Net
    /// The learnable parameters whose last gradient is written by each layer's backward.
    private let readyAfterLayer: [[Int]]
    /// Those whose last user runs no backward (no hook reports them), and all of them.
    private let unreached: [Int]
    private let everything: [Int]
    /// Whether this step's gradients are being sent layer by layer as backward goes.
    private var overlapping = false
    /// Each rank's loss and rank 0's requested action, summed like the gradients.
    private let control = UnsafeMutablePointer<Float>.allocate(capacity: 2)

    private let lock = NSLock()
    private var queue: [Work] = []
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?
    private var scratch: [Float] = []
    private var thread: Thread?

    /// Seconds the gradient thread spent communicating, and seconds the training thread
    /// waited for it after backward (the part overlap did not hide).
    package private(set) var communicating: Double = 0
    package private(set) var waiting: Double = 0

    private enum Work {
        case gradients([Int])
        case control
        case stop
    }

    package init(comm: Communicator, net: Net, reduction: Reduction) {
        self.comm = comm
        self.net = net
        self.reduction = reduction
        let ready = Self.lastWriters(net)
        readyAfterLayer = ready
        unreached = ready.indices.filter { !net.entries[$0].needsBackward }.flatMap { ready[$0] }
        everything = Array(net.learnable.indices)
    }

    deinit { control.deallocate() }

    /// Ends the gradient thread (it holds this object until then).
    package func close() {
        if thread != nil { enqueue(.stop) }
        thread = nil
    }

    /// For each layer, the learnable parameters it is the last (lowest-index) user of: a
    /// shared blob is complete only after every layer that uses it has run backward.
    static func lastWriters(_ net: Net) -> [[Int]] {
        var result = Array(repeating: [Int](), count: net.entries.count)
        for (j, p) in net.learnable.enumerated() {
            let first = net.params.filter { $0.blob === p.blob }.map(\.layer).min() ?? p.layer
            result[first].append(j)
        }
        return result
    }

    // MARK: the training thread's side

    /// Called before the backward pass whose gradients are final; `overlapping` false when
    /// they are final only after it (iter_size > 1 adds sub-batches first).
    package func begin(overlapping: Bool) {
        startThread()
        self.overlapping = overlap && overlapping
        net.afterBackward = self.overlapping ? { [unowned self] layer in self.layerDone(layer) } : nil
    }

    private func layerDone(_ layer: Int) {
        if !readyAfterLayer[layer].isEmpty { enqueue(.gradients(readyAfterLayer[layer])) }
    }

    /// Sends what is not sent yet, sums each rank's loss and rank 0's `action` in the same
    /// order, and waits until every gradient holds the sum over ranks. Returns the summed
    /// loss and rank 0's action (the other ranks pass 0).
    package func finish(loss: Float, action: Int) throws -> (loss: Float, action: Int) {
        net.afterBackward = nil
        let rest = overlapping ? unreached : everything
        if !rest.isEmpty { enqueue(.gradients(rest)) }
        let start = Date()
        control[0] = loss
        control[1] = Float(action)
        enqueue(.control)
        done.wait()
        waiting += Date().timeIntervalSince(start)
        lock.lock()
        let error = failure
        lock.unlock()
        if let error { throw error }
        return (control[0], control[1].isFinite ? Int(control[1]) : 0)
    }

    private func enqueue(_ item: Work) {
        lock.lock()
        queue.append(item)
        lock.unlock()
        work.signal()
    }

    // MARK: the gradient thread

    private func startThread() {
        guard thread == nil else { return }
        let t = Thread { self.serve() }
        t.name = "cortado-gradients"
        thread = t
        t.start()
    }

    private func serve() {
        while true {
            work.wait()
            lock.lock()
            let item = queue.removeFirst()
            let failed = failure != nil
            lock.unlock()
            let start = Date()
            do {
                switch item {
                case .stop:
                    return
                case .gradients(let indices):
                    // After a failure the other ranks are gone: skip to the control item.
                    if !failed {
                        for j in indices { let b = net.learnable[j].blob; try reduce(b.diff, b.count, tag: j) }
                    }
                case .control:
                    if !failed { try reduce(control, 2, tag: net.learnable.count) }
                    communicating += Date().timeIntervalSince(start)
                    done.signal()
                    continue
                }
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
                if case .control = item { done.signal() }
            }
            communicating += Date().timeIntervalSince(start)
        }
    }

    /// Sums `count` floats over all ranks in place.
    private func reduce(_ values: UnsafeMutablePointer<Float>, _ count: Int, tag: Int) throws {
        guard comm.size > 1, count > 0 else { return }
        switch reduction {
        case .fast:
            try comm.allReduceSum(values, count: count)
        case .ordered:
            let rank = comm.rank, last = comm.size - 1
            if rank > 0 {
                if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
                try scratch.withUnsafeMutableBufferPointer { partial in
                    try comm.receive(partial.baseAddress!, count: count, from: rank - 1, tag: tag)
                    addFloats(values, partial.baseAddress!, count)
                }
            }
            if rank < last { try comm.send(values, count: count, to: rank + 1, tag: tag) }
            try comm.broadcast(floats: values, count: count, root: last)
        }
    }
}
