import CortadoBase
import CortadoIO
import CortadoConfig

/// Which of the batches a data layer reads belong to this process in a data-parallel run:
/// rank r of N takes batch k when k mod N = r, so N ranks together see exactly the batches of
/// one process with `iter_size` N, sub-step r on rank r. Every rank reads past the others'
/// batches (HDF5, LMDB and ImageData seek, making the same random draws without reading), so
/// its reader state after each group is the single process's, and a snapshot resumes on any
/// rank count.
package struct DataShard: Sendable, Equatable {
    package let rank: Int
    package let count: Int

    package init(rank: Int, count: Int) {
        precondition(count > 0 && rank >= 0 && rank < count, "rank \(rank) of \(count)")
        self.rank = rank
        self.count = count
    }

    /// The whole stream: one process.
    package static let whole = DataShard(rank: 0, count: 1)

    /// Reads this rank's batch of the next group of `count` and skips the rest of the group.
    func next(read: () throws -> Void, skip: () throws -> Void) rethrows {
        for _ in 0..<rank { try skip() }
        try read()
        for _ in (rank + 1)..<count { try skip() }
    }
}
