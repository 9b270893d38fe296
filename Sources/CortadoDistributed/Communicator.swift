import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import CMPI
import Foundation

/// The ranks of a data-parallel run on MPI (Open MPI from Debian, through the CMPI shim):
/// who this process is, and the few exchanges training needs. Every wait has a deadline
/// (`--rank-timeout`), so a rank that died or hangs ends the run with an error naming it.
///
/// MPI is entered in MPI_THREAD_SERIALIZED mode: the main thread talks to it before
/// training, the gradient thread (`GradientSync`) while training, never both at once.
package final class Communicator {
    package let rank: Int
    package let size: Int
    /// Seconds any one wait for another rank may take; 0 waits forever.
    package let timeout: Double
    private var finalized = false

    /// True when a launcher (mpirun, mpiexec) started this process; without one, training
    /// runs as one process and MPI is never initialised.
    package static var launched: Bool { cmpi_launched() != 0 }

    package init(timeout: Double) throws {
        var r: Int32 = 0, s: Int32 = 0
        let rc = cmpi_init(&r, &s)
        guard rc == 0 else { throw DistributedError("MPI could not start: \(Self.describe(rc))") }
        rank = Int(r)
        size = Int(s)
        self.timeout = timeout
    }

    /// The MPI library's name and version, for the log.
    package static var libraryVersion: String {
        var text = [CChar](repeating: 0, count: 512)
        cmpi_library_version(&text, Int32(text.count))
        return Self.string(text)
    }

    package func finalize() {
        guard !finalized else { return }
        finalized = true
        _ = cmpi_finalize()
    }

    /// Ends every rank of the job (after this rank printed why).
    package func abort(code: Int32) -> Never {
        cmpi_abort(code)
        exit(code)
    }

    // MARK: exchanges

    /// Rank `root`'s bytes into every rank's `buffer`.
    package func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int = 0) throws {
        try check(cmpi_bcast_bytes(buffer, Int64(bytes), Int32(root), timeout), "broadcast from rank \(root)")
    }

    /// Rank `root`'s array (any length) into every rank's `values`.
    package func broadcast<T: BitwiseCopyable>(_ values: inout [T], root: Int = 0) throws {
        var count = Int64(values.count)
        try broadcast(&count, bytes: 8, root: root)
        if rank != root { values = [T](unsafeUninitializedCapacity: Int(count)) { _, n in n = Int(count) } }
        try values.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: $0.count, root: root) }
    }

    /// Every rank's fixed-size value, in rank order.
    package func allGather(_ value: [UInt8]) throws -> [[UInt8]] {
        var all = [UInt8](repeating: 0, count: value.count * size)
        try check(cmpi_allgather_bytes(value, &all, Int32(value.count), timeout), "exchange of start-up checks")
        return (0..<size).map { Array(all[$0 * value.count..<($0 + 1) * value.count]) }
    }

    package func send(_ values: UnsafePointer<Float>, count: Int, to peer: Int, tag: Int) throws {
        try check(cmpi_send_floats(values, Int64(count), Int32(peer), Int32(tag), timeout), "send to rank \(peer)")
    }

    package func receive(_ values: UnsafeMutablePointer<Float>, count: Int, from peer: Int, tag: Int) throws {
        try check(cmpi_recv_floats(values, Int64(count), Int32(peer), Int32(tag), timeout), "receive from rank \(peer)")
    }

    /// Sums `values` over all ranks in place, in the library's order (not bitwise repeatable
    /// across rank counts).
    package func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(cmpi_allreduce_sum_floats(values, Int64(count), timeout), "allreduce")
    }

    /// Floats from rank `root` into every rank.
    package func broadcast(floats: UnsafeMutablePointer<Float>, count: Int, root: Int) throws {
        try broadcast(UnsafeMutableRawPointer(floats), bytes: count * 4, root: root)
    }

    // MARK: errors

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc != 0 else { return }
        if rc == Int32(CMPI_TIMEOUT) {
            let peer = cmpi_last_peer()
            let who = peer >= 0 && Int(peer) != rank ? "rank \(peer)" : "another rank"
            throw DistributedError("rank \(rank) of \(size): \(what) got no answer from \(who) for \(caffeFloat(Float(timeout))) s (--rank-timeout), so \(who) died or hangs; stopping every rank")
        }
        throw DistributedError("rank \(rank) of \(size): \(what) failed: \(Self.describe(rc))")
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func describe(_ rc: Int32) -> String {
        var text = [CChar](repeating: 0, count: 512)
        cmpi_error_string(rc, &text, Int32(text.count))
        return string(text) + " (MPI error \(rc))"
    }
}
