import ArgumentParser
import Cortado
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check snapshots, weights, solver states and mean files: checksum and structure.",
        discussion: """
        Files Cortado wrote carry a SHA-256 of their contents, which must match; files from Caffe
        have none and get the structural check only. Exit code 1 when any file fails.
        Example:
          cortado verify snapshots/lenet_iter_10000.caffemodel.h5 snapshots/lenet_iter_10000.solverstate.h5
          cortado verify snapshots/*    (other files of a run are skipped with a note)
        """
    )

    @Argument(help: "Files to check.") var files: [String]

    package func run() throws {
        prepareProcess()
        var failed = 0
        for file in files {
            do {
                let v = try Checksum.verify(file)
                let sum = v.checksum == .verified ? "checksum verified" : "no checksum (not written by Cortado): structure only"
                print("\(file): ok, \(v.kind); \(sum)")
            } catch let e as any CortadoFailure where !Self.namedAsSnapshot(file) {
                // A run's other files (run.json, the JSON log, prototxts) sit beside its
                // snapshots, so `verify snapshots/*` names them too.
                _ = e
                print("\(file): skipped, not a snapshot, weights, solver state or mean file")
            } catch let e as any CortadoFailure {
                failed += 1
                try? FileHandle.standardError.write(contentsOf: Data("error: \(e.description)\n".utf8))
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }

    /// Names that say the file is one `verify` checks, so that a failure is a failure.
    static func namedAsSnapshot(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return [".caffemodel", ".solverstate", ".binaryproto", ".h5", ".hdf5"].contains { name.hasSuffix($0) }
    }
}
