import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Base of data layers that read and transform batches on a background thread, so reading
/// overlaps computing (Caffe's BasePrefetchingDataLayer). A subclass reads one batch at a time
/// in `loadBatch`; each batch carries the reader's state after it, so a snapshot saves exactly
/// where the consumed data stood, however far the prefetch thread has read ahead.
class PrefetchingDataLayer: Layer {
    private var prefetcher: Prefetcher?
    /// The reader's state after the last batch handed to the net.
    private var consumedState: [Int64] = []

    /// Batches read ahead (Caffe's `prefetch`, default 4).
    var prefetchCount: Int { 4 }

    override var exactNumBottoms: Int? { 0 }
    override var minTops: Int? { 1 }
    override var maxTops: Int? { 2 }
    override var hasBackward: Bool { false }

    deinit { prefetcher?.stop() }

    // MARK: for subclasses

    /// Reads and transforms the next batch (runs on the prefetch thread).
    func loadBatch(data: Blob, label: Blob?) throws {}
    /// Moves past one batch exactly as reading it would (position and random draws), for
    /// another rank's batch (runs on the prefetch thread). Every subclass gives one.
    func skipBatch() throws {
        throw error("cannot skip the batches of other ranks, so it cannot train under mpirun")
    }

    /// The reader's position and random state.
    func readerState() -> [Int64] { [] }
    func restoreReader(_ state: [Int64]) throws {}

    /// Called by subclasses at the end of setUp, once the top shapes are known.
    func finishSetUp(top: [Blob]) throws {
        let hasLabel = top.count > 1
        let p = try Prefetcher(count: prefetchCount, dataShape: top[0].shape, labelShape: hasLabel ? top[1].shape : nil, name: name)
        p.load = { [weak self] batch in
            guard let self else { throw DataError("data layer is gone") }
            try self.shard.next(read: { try self.loadBatch(data: batch.data, label: hasLabel ? batch.label : nil) },
                                skip: { try self.skipBatch() })
            batch.stateAfter = self.readerState()
        }
        prefetcher = p
        consumedState = readerState()
    }

    package override func forward(bottom: [Blob], top: [Blob]) throws {
        guard let prefetcher else { return }
        try prefetcher.next { batch in
            top[0].copyData(from: batch.data)
            if top.count > 1 { top[1].copyData(from: batch.label) }
            consumedState = batch.stateAfter
        }
    }

    override func saveState() -> [Int64] { consumedState }

    override func restoreState(_ state: [Int64]) throws {
        prefetcher?.stop()
        try restoreReader(state)
        consumedState = state
    }
}

/// The prefetch thread and its ring of batches. The thread holds this object, not the layer,
/// so a layer can go away (and stop it) at any time.
final class Prefetcher: @unchecked Sendable {
    final class Batch {
        let data = Blob()
        let label = Blob()
        var stateAfter: [Int64] = []
        var error: Error?
    }

    private let batches: [Batch]
    private var ready: [Batch] = []
    private var spare: [Batch] = []
    private let lock = NSLock()
    private let readyCount = DispatchSemaphore(value: 0)
    private let spareCount = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private var running = false
    private var stopRequested = false
    private let name: String
    var load: (Batch) throws -> Void = { _ in }

    init(count: Int, dataShape: [Int], labelShape: [Int]?, name: String) throws {
        batches = try (0..<count).map { _ in
            let b = Batch()
            try b.data.reshape(dataShape)
            if let labelShape { try b.label.reshape(labelShape) }
            return b
        }
        self.name = name
    }

    private func start() {
        guard !running else { return }
        running = true
        stopRequested = false
        spare = batches
        ready = []
        for _ in batches { spareCount.signal() }
        let thread = Thread { self.produce() }
        thread.name = "cortado-prefetch-\(name)"
        thread.start()
    }

    private func produce() {
        while true {
            spareCount.wait()
            lock.lock()
            if stopRequested || spare.isEmpty {
                lock.unlock()
                stopped.signal()
                return
            }
            let batch = spare.removeFirst()
            lock.unlock()
            do {
                try load(batch)
                batch.error = nil
            } catch {
                batch.error = error
            }
            lock.lock()
            ready.append(batch)
            lock.unlock()
            readyCount.signal()
        }
    }

    /// Hands the next batch to `use`, then returns it to the ring.
    func next(_ use: (Batch) throws -> Void) throws {
        start()
        readyCount.wait()
        lock.lock()
        let batch = ready.removeFirst()
        lock.unlock()
        if let error = batch.error {
            stop()
            throw error
        }
        try use(batch)
        lock.lock()
        spare.append(batch)
        lock.unlock()
        spareCount.signal()
    }

    /// Stops the thread and drops batches read ahead (before restoring a position).
    func stop() {
        guard running else { return }
        lock.lock()
        stopRequested = true
        lock.unlock()
        spareCount.signal()
        stopped.wait()
        while spareCount.wait(timeout: .now()) == .success {}
        while readyCount.wait(timeout: .now()) == .success {}
        running = false
    }
}
