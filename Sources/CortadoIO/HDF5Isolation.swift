import CortadoBase
import Foundation

/// libhdf5 (1.10.8 in Debian 12) crashes with a segmentation fault on some malformed files, which
/// Cortado cannot fix or catch in-process (the fuzzer found such files). So an HDF5 weights file or
/// solver state that does not carry Cortado's checksum (Caffe's, h5py's, or a damaged one) is read
/// by a child process, `cortado __read-hdf5`, which hands back the contents as a binary protobuf
/// file; a crash there becomes an error here. Files Cortado wrote are checksum-verified before
/// libhdf5 sees them and are read in-process.
package enum HDF5Isolation {
    /// The `cortado` executable that reads for us; nil (library use, the child itself) reads in-process.
    nonisolated(unsafe) package static var helper: String? = nil

    package enum Kind: String, Sendable { case weights, state }

    /// Reads an unverified HDF5 weights file through `helper`.
    static func readWeights(_ path: String, helper: String) throws -> [StoredLayer] {
        let out = try run(.weights, path, helper: helper)
        defer { unlink(out) }
        return try CaffeBinary.readNet(out).layers.map { layer in
            var l = layer
            // Absent blobs (stored by their owner) travel as empty blobs of shape [0].
            l.absent = Set(l.blobs.indices.filter { l.blobs[$0].shape == [0] && l.blobs[$0].values.isEmpty })
            return l
        }
    }

    /// Reads an unverified HDF5 solver state through `helper`.
    package static func readState(_ path: String, helper: String) throws -> StoredSolverState {
        let out = try run(.state, path, helper: helper)
        defer { unlink(out) }
        return try CaffeBinary.readSolverState(out)
    }

    private static func run(_ kind: Kind, _ path: String, helper: String) throws -> String {
        let out = NSTemporaryDirectory() + "cortado-hdf5-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).pb"
        let errPath = out + ".err"
        defer { unlink(errPath) }
        // A crash must stay a plain signal: no Swift backtracer, and under AddressSanitizer
        // (tools/sanitize.sh) no ASan handler turning it into exit 1.
        var environment = ProcessInfo.processInfo.environment
        environment["ASAN_OPTIONS"] = [environment["ASAN_OPTIONS"], "handle_segv=0:handle_sigbus=0:detect_leaks=0"].compactMap { $0 }.joined(separator: ":")
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let status = try spawn(helper, ["__read-hdf5", kind.rawValue, path, out], environment: environment, stderr: errPath)
        // The child's messages went to a file, not a pipe: Foundation traps when a signal
        // interrupts a pipe read (EINTR), which the fuzzer found.
        let message = (try? FileBytes.read(errPath, what: "log")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if let signal = status.signal {
            unlink(out)
            throw FileError("libhdf5 crashed (signal \(signal)) reading \(path): the file is damaged or not a valid HDF5 file", path: path)
        }
        guard status.code == 0 else {
            unlink(out)
            let text = message.split(separator: "\n").map { $0.hasPrefix("error: ") ? String($0.dropFirst(7)) : String($0) }.joined(separator: "\n")
            throw FileError(text.isEmpty ? "cannot read \(path) (exit \(status.code))" : text)
        }
        return out
    }

    /// posix_spawn (no copy of this process's memory, unlike fork), stdout to /dev/null and
    /// stderr to a file; waits, retrying on EINTR. Returns the exit code or the killing signal.
    private static func spawn(_ program: String, _ arguments: [String], environment: [String: String], stderr: String) throws -> (code: Int32, signal: Int32?) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard rc == 0 else { throw FileError("cannot start \(program) to read an HDF5 file: \(String(cString: strerror(rc)))", errno: rc) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw FileError("cannot wait for \(program): \(String(cString: strerror(errno)))", errno: errno) }
        }
        let signal = status & 0x7f
        return signal == 0 ? ((status >> 8) & 0xff, nil) : (0, signal)
    }

    /// The child's side: reads `input` in-process and writes its contents to `output`.
    package static func childMain(kind: Kind, input: String, output: String) throws {
        helper = nil
        // The parent checked the checksum (and honoured --no-verify); this side only reads.
        Checksum.verifyOnLoad = false
        switch kind {
        case .weights:
            let (name, layers) = try WeightsFile.read(input)
            let blobs = try layers.map { l in
                try l.blobs.enumerated().map { j, b in l.absent.contains(j) ? Blob([0]) : try b.blob() }
            }
            let bytes = CaffeBinary.encodeNet(name: name, layers: layers.enumerated().map { i, l in (l.name, l.type, l.bottom, l.top, blobs[i]) })
            try CaffeBinary.atomicWrite(bytes, to: output)
        case .state:
            let s = try SnapshotFile.readState(input)
            let history = try s.history.map { try $0.blob() }
            let bytes = CaffeBinary.encodeSolverState(iter: s.iter, learnedNet: s.learnedNet, currentStep: s.currentStep,
                                                      history: history, layerStates: s.layerStates.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            try CaffeBinary.atomicWrite(bytes, to: output)
        }
    }
}
