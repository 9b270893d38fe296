import CortadoBase
import Foundation

/// Snapshot files below the net and solver: reading a solver state into memory, finding the
/// weights file it names, Cortado's escaped HDF5 keys, and sealed atomic HDF5 writes.
/// (`Snapshot`, in Solvers, moves nets and solvers in and out of these files.)
package enum SnapshotFile {
    /// A solver state of either format in memory: HDF5 (`iter`, `current_step`, `learned_net`,
    /// `history/<i>`, Cortado's `cortado/<net>/<layer>`) or binary SolverState.
    package static func readState(_ path: String) throws -> StoredSolverState {
        try FileBytes.requireFile(path, what: "solver state")
        guard HDF5File.isHDF5(path) else { return try CaffeBinary.readSolverState(path) }
        if try Checksum.checkHDF5(path) != .verified, let helper = HDF5Isolation.helper {
            return try HDF5Isolation.readState(path, helper: helper)
        }
        let file = try HDF5File.open(path)
        guard file.exists("iter"), file.exists("history") else {
            throw FileError("\(path) is not a solver state: it has no \"iter\" or \"history\" (weights files are loaded with --weights)", path: path)
        }
        let count = try file.children("history").compactMap { Int($0) }.count
        let history = try (0..<count).map { i -> StoredBlob in
            guard file.exists("history/\(i)") else { throw FileError("\(path) lacks history blob \(i) of \(count)", path: path) }
            let (shape, values) = try file.readFloats("history/\(i)")
            return StoredBlob(shape: shape, values: values)
        }
        var layerStates: [String: [Int64]] = [:]
        if file.exists("cortado") {
            for key in try file.children("cortado") where file.isGroup("cortado/\(key)") {
                for layer in try file.children("cortado/\(key)") {
                    layerStates["\(key)/\(unescape(layer))"] = try file.readInt64s("cortado/\(key)/\(layer)")
                }
            }
        }
        return StoredSolverState(iter: try file.readInt("iter"),
                                 learnedNet: file.exists("learned_net") ? try file.readString("learned_net") : "",
                                 currentStep: file.exists("current_step") ? try file.readInt("current_step") : 0,
                                 history: history, layerStates: layerStates)
    }

    /// The weights file named in a solverstate: as stored, else beside the solverstate
    /// (Caffe only tries the stored path, which breaks when a run directory moves).
    package static func locate(_ stored: String, besides statePath: String) throws -> String {
        if FileManager.default.fileExists(atPath: stored) { return stored }
        let beside = URL(fileURLWithPath: statePath).deletingLastPathComponent()
            .appendingPathComponent(URL(fileURLWithPath: stored).lastPathComponent).path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        throw FileError("the solver state names weights file \(stored), which is missing (also looked for \(beside))")
    }

    /// Layer names may hold '/', which HDF5 reads as a path; escape it in Cortado's own keys.
    package static func escape(_ name: String) -> String {
        name.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }

    static func unescape(_ key: String) -> String {
        key.replacingOccurrences(of: "%2F", with: "/").replacingOccurrences(of: "%25", with: "%")
    }

    // MARK: atomic write

    /// Builds an HDF5 file in memory, seals it with its checksum and writes it atomically.
    package static func atomicWrite(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        var image: [UInt8]
        do {
            let file = try HDF5File.createInMemory(name: path)
            try body(file)
            image = try file.image()
        }
        try AtomicFile.write(Checksum.sealed(hdf5Image: image), to: path)
    }
}
