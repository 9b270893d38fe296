import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// Starting a data-parallel run: the ranks check that they train the same thing, take rank
/// 0's starting point, and each reads its share of the batches.
package enum DataParallel {
    /// Stops every rank with the same error when the ranks disagree on their count or on the
    /// bytes of the solver and net files (SHA-256 over them, in the solver's order).
    package static func checkAgreement(_ comm: Communicator, files: [String]) throws {
        var text: [UInt8] = []
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw DistributedError("cannot read \(file)") }
            text += Array(file.utf8) + [0] + Array(bytes) + [0]
        }
        var mine = SHA256.digest(text)
        withUnsafeBytes(of: Int64(comm.size).littleEndian) { mine += $0 }
        let all = try comm.allGather(mine)
        for (r, theirs) in all.enumerated() where theirs != all[0] {
            if theirs.suffix(8) != all[0].suffix(8) {
                throw DistributedError("rank \(r) sees a different number of ranks than rank 0; start every rank with one mpirun")
            }
            throw DistributedError("rank \(r)'s solver or net files differ from rank 0's (SHA-256 \(SHA256.hex(Array(theirs.prefix(8))))… against \(SHA256.hex(Array(all[0].prefix(8))))… over \(files.joined(separator: ", "))); every rank must train the same net with the same solver")
        }
    }

    /// Gives every rank rank 0's weights, solver history, iteration and data positions (after
    /// `--weights` or `--snapshot` on rank 0, so fillers need not agree and only rank 0 needs
    /// the files), then its own stream for random layers (random_seed + rank) and its share
    /// of the training batches.
    package static func shareStartingPoint(_ solver: Solver, _ comm: Communicator) throws {
        for blob in solver.net.learnableParams + solver.history {
            try comm.broadcast(floats: blob.data, count: blob.count, root: 0)
        }
        var counters = [Int64(solver.iter), Int64(solver.currentStep), solver.param.randomSeed >= 0 ? Int64(solver.param.randomSeed) : Int64(bitPattern: RNG.clockSeed())]
        try comm.broadcast(&counters)
        solver.adopt(iter: Int(counters[0]), currentStep: Int(counters[1]))
        for (_, net) in solver.statefulNets {
            for layer in net.layers {
                var state = layer.saveState()
                try comm.broadcast(&state)
                if comm.rank != 0 && !state.isEmpty { try layer.restoreState(state) }
            }
        }
        if comm.rank > 0 {
            var rng = RNG(seed: UInt64(bitPattern: counters[2]) &+ UInt64(comm.rank))
            for layer in solver.net.layers { layer.reseed(&rng) }
        }
        solver.net.shardData(DataShard(rank: comm.rank, count: comm.size))
    }
}
