// libFuzzer entry point for Cortado's readers. tools/fuzz.sh compiles this file together with
// the library's sources (swiftc -sanitize=fuzzer,address) and picks the target with
// CORTADO_FUZZ_TARGET. Every target must end in a value or a thrown error: a trap, crash, leak
// or hang is a finding (make it a regression test in Tests/, then fix it).
import Foundation

/// Inputs go through a file for the readers that take paths (HDF5, binary protobuf, IDX).
private let scratch = NSTemporaryDirectory() + "cortado-fuzz-\(getpid())"

private func withFile(_ bytes: UnsafeRawBufferPointer, _ body: (String) throws -> Void) {
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return }
    if bytes.count > 0 { _ = write(fd, bytes.baseAddress!, bytes.count) }
    close(fd)
    try? body(scratch)
}

private let target: String = {
    Log.enabled = false
    LayerRegistry.installSchemas()
    Checksum.verifyOnLoad = true
    // As the cortado tool does: HDF5 files without Cortado's checksum are parsed by a child.
    HDF5Isolation.helper = ProcessInfo.processInfo.environment["CORTADO_FUZZ_HELPER"]
    return ProcessInfo.processInfo.environment["CORTADO_FUZZ_TARGET"] ?? "prototxt"
}()

/// The typed config: a net built shape-only in both phases, as `validate` and `summary` do.
private func config(_ text: String) throws {
    var parser = TextFormatParser(text: text, file: "fuzz.prototxt")
    let node = try ConfigNode.validated(try parser.parseTopLevel(), as: "NetParameter")
    let net = try NetParameter(node, file: "fuzz.prototxt")
    for phase in [Phase.train, .test] { _ = Net.check(net, state: net.state(in: phase)) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count)
    switch target {
    case "prototxt":
        var parser = TextFormatParser(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.prototxt")
        if let tree = try? parser.parseTopLevel() {
            _ = try? ConfigNode.validated(tree, as: "NetParameter")
            _ = try? ConfigNode.validated(tree, as: "SolverParameter")
        }
    case "config":
        try? config(String(decoding: bytes, as: UTF8.self))
    case "caffemodel":
        withFile(bytes) { _ = try CaffeBinary.readNet($0) }
    case "solverstate":
        withFile(bytes) { _ = try CaffeBinary.readSolverState($0) }
    case "binaryproto":
        withFile(bytes) { _ = try CaffeBinary.readBlob($0) }
    case "hdf5":
        withFile(bytes) { path in
            _ = try? WeightsFile.read(path)
            _ = try? SnapshotFile.readState(path)
        }
    case "datum":
        if let d = try? Datum.decode(bytes, source: "fuzz"), d.encoded { _ = try? d.image(source: "fuzz") }
    case "idx":
        withFile(bytes) { _ = try IDXFile.read($0) }
    default:
        fatalError("unknown CORTADO_FUZZ_TARGET \(target)")
    }
    return 0
}
