import Foundation

/// libhdf5 (1.10.8 in Debian 12) crashes with a segmentation fault on some malformed files, which
/// Cortado cannot fix or catch in-process (the fuzzer found such files). So an HDF5 weights file or
/// solver state that does not carry Cortado's checksum (Caffe's, h5py's, or a damaged one) is read
/// by a child process, `cortado __read-hdf5`, which hands back the contents as a binary protobuf
/// file; a crash there becomes an error here. Files Cortado wrote are checksum-verified before
/// libhdf5 sees them and are read in-process.
public enum HDF5Isolation {
    /// The `cortado` executable that reads for us; nil (library use, the child itself) reads in-process.
    nonisolated(unsafe) public static var helper: String? = nil

    public enum Kind: String, Sendable { case weights, state }

    /// Reads an unverified HDF5 weights file through the helper.
    static func readWeights(_ path: String) throws -> [StoredLayer] {
        let out = try run(.weights, path)
        defer { unlink(out) }
        return try CaffeBinary.readNet(out).layers.map { layer in
            var l = layer
            // Absent blobs (stored by their owner) travel as empty blobs of shape [0].
            l.absent = Set(l.blobs.indices.filter { l.blobs[$0].shape == [0] && l.blobs[$0].values.isEmpty })
            return l
        }
    }

    /// Reads an unverified HDF5 solver state through the helper.
    static func readState(_ path: String) throws -> StoredSolverState {
        let out = try run(.state, path)
        defer { unlink(out) }
        return try CaffeBinary.readSolverState(out)
    }

    private static func run(_ kind: Kind, _ path: String) throws -> String {
        guard let helper else { preconditionFailure("HDF5Isolation used without a helper") }
        let out = NSTemporaryDirectory() + "cortado-hdf5-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).pb"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: helper)
        p.arguments = ["__read-hdf5", kind.rawValue, path, out]
        // Under AddressSanitizer (tools/sanitize.sh) a crash must still be a crash, not ASan's exit 1.
        var environment = ProcessInfo.processInfo.environment
        environment["ASAN_OPTIONS"] = [environment["ASAN_OPTIONS"], "handle_segv=0:handle_sigbus=0:detect_leaks=0"].compactMap { $0 }.joined(separator: ":")
        p.environment = environment
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationReason == .uncaughtSignal {
            unlink(out)
            throw CortadoError("libhdf5 crashed (signal \(p.terminationStatus)) reading \(path): the file is damaged or not a valid HDF5 file")
        }
        guard p.terminationStatus == 0 else {
            unlink(out)
            let text = message.split(separator: "\n").map { $0.hasPrefix("error: ") ? String($0.dropFirst(7)) : String($0) }.joined(separator: "\n")
            throw CortadoError(text.isEmpty ? "cannot read \(path) (exit \(p.terminationStatus))" : text)
        }
        return out
    }

    /// The child's side: reads `input` in-process and writes its contents to `output`.
    public static func childMain(kind: Kind, input: String, output: String) throws {
        helper = nil
        switch kind {
        case .weights:
            let (name, layers) = try WeightsFile.read(input)
            let blobs = try layers.map { l in
                try l.blobs.enumerated().map { j, b -> Blob in
                    if l.absent.contains(j) { return Blob([0]) }
                    let blob = try Blob(checked: b.shape)
                    blob.setData(b.values)
                    return blob
                }
            }
            let bytes = CaffeBinary.encodeNet(name: name, layers: layers.enumerated().map { i, l in (l.name, l.type, l.bottom, l.top, blobs[i]) })
            try CaffeBinary.atomicWrite(bytes, to: output)
        case .state:
            let s = try Snapshot.readState(input)
            let history = try s.history.map { b -> Blob in
                let blob = try Blob(checked: b.shape)
                blob.setData(b.values)
                return blob
            }
            let bytes = CaffeBinary.encodeSolverState(iter: s.iter, learnedNet: s.learnedNet, currentStep: s.currentStep,
                                                      history: history, layerStates: s.layerStates.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            try CaffeBinary.atomicWrite(bytes, to: output)
        }
    }
}
