import CortadoBase
import Foundation

/// The SHA-256 every file Cortado writes carries, checked when it is loaded, so a damaged
/// snapshot is an error instead of training resuming from damaged numbers.
///
/// - HDF5 files end with a line `CORTADO-SHA256 <hex>` after the end address HDF5 records
///   (HDF5, h5py and Caffe never read it): the digest of every byte before it.
/// - Binary protobuf files (caffemodel, solverstate, binaryproto) end with one more field,
///   number 1702, of 32 bytes: the digest of every byte before it. Caffe and protobuf keep it
///   as an unknown field and otherwise ignore it.
///
/// Files without a checksum (Caffe's own) load after a structural check only.
package enum Checksum {
    /// `damaged`: the checksum does not match, and the file loads anyway (`--no-verify`).
    package enum Status: Sendable, Equatable { case verified, absent, damaged }

    /// Set from `--no-verify`: damaged files then load (with a warning) instead of failing.
    nonisolated(unsafe) package static var verifyOnLoad = true

    static let marker = Array("CORTADO-SHA256 ".utf8)
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
    /// Field 1702, wire type 2 (length-delimited), as a varint tag, then the length 32.
    static let trailerHead: [UInt8] = [0xB2, 0x6A, 0x20]
    static let trailerSize = 3 + 32

    // MARK: binary protobuf

    /// The bytes with the checksum field appended.
    static func sealed(_ payload: [UInt8]) -> [UInt8] {
        payload + trailerHead + SHA256.digest(payload)
    }

    /// Checks the trailer of a binary file and returns how many leading bytes are the message:
    /// all of them when it has no trailer (Caffe's files), the bytes before the trailer when the
    /// digest matches them (even if a byte of the trailer's tag was damaged). A digest that does
    /// not match under an intact tag is a damaged file.
    static func checkBinary(_ bytes: UnsafeRawBufferPointer, path: String, allowDamaged: Bool = !verifyOnLoad,
                            hint: Bool = true) throws -> (Status, payload: Int) {
        let n = bytes.count
        guard n >= trailerSize else { return (.absent, n) }
        let payload = n - trailerSize
        let stored = Array(bytes[(n - 32)...])
        let tagIntact = Array(bytes[payload..<(n - 32)]) == trailerHead
        let digestMatches = SHA256.digest(UnsafeRawBufferPointer(rebasing: bytes[0..<payload])) == stored
        switch (tagIntact, digestMatches) {
        case (true, true): return (.verified, payload)
        case (false, false): return (.absent, n)
        case (true, false): return (try mismatch(path, allowDamaged, hint), payload)
        case (false, true): return (try damaged(path, "the field that holds its checksum is damaged", allowDamaged, hint), payload)
        }
    }

    // MARK: HDF5

    /// The file: HDF5's image, then a trailer line `CORTADO-SHA256 <hex>` with the digest of the
    /// image. HDF5 reads only up to the end address its superblock records, so the trailer is
    /// invisible to HDF5, h5py and Caffe.
    static func sealed(hdf5Image image: [UInt8]) -> [UInt8] {
        image + hdf5Trailer(SHA256.digest(image))
    }

    static func hdf5Trailer(_ digest: [UInt8]) -> [UInt8] { [0x0a] + marker + Array(SHA256.hex(digest).utf8) + [0x0a] }
    static var hdf5TrailerSize: Int { 1 + marker.count + 64 + 1 }

    /// Checks an HDF5 file's trailer, which sits right after the end address HDF5's superblock
    /// records; `.absent` for files without one (Caffe's, h5py's). A file shorter than that
    /// address is truncated, an error whatever `--no-verify` says (nothing could load it).
    /// Plain pread(2): Foundation's FileHandle traps on read errors (the fuzzer found it).
    static func checkHDF5(_ path: String, allowDamaged: Bool = !verifyOnLoad, hint: Bool = true) throws -> Status {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("cannot open \(path): \(String(cString: strerror(errno)))", path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw readError(path) }
        let size = Int(st.st_size)
        let end = recordedEnd(fd)
        if let end, size < end { throw truncated(path, size: size, end: end, hint: hint) }
        // Where the trailer starts: at HDF5's end, or (a superblock this cannot read) where a
        // trailer at the end of the file would.
        let start = end ?? max(0, size - hdf5TrailerSize)
        let after = size - start
        guard after > 0 else { return .absent }
        var tail = [UInt8](repeating: 0, count: min(after, hdf5TrailerSize))
        guard readFully(fd, into: &tail, at: start) else { throw readError(path) }
        let head = [0x0a] + marker
        let startsWithMarker = tail.starts(with: head)
        if after != hdf5TrailerSize {
            guard startsWithMarker else { return .absent }
            return try damaged(path, after < hdf5TrailerSize ? "its checksum line is cut short"
                               : "\(after - hdf5TrailerSize) bytes were added after its checksum line", allowDamaged, hint)
        }
        let hasLine = startsWithMarker && tail.last == 0x0a
        guard let stored = hexDigest(Array(tail[head.count..<(hdf5TrailerSize - 1)])) else {
            if hasLine { return try damaged(path, "its checksum line is unreadable", allowDamaged, hint) }
            return .absent
        }
        let digestMatches = try digest(fd, bytes: start, path: path) == stored
        switch (hasLine, digestMatches) {
        case (true, true): return .verified
        case (false, false): return .absent
        case (true, false): return try mismatch(path, allowDamaged, hint)
        case (false, true): return try damaged(path, "the line that holds its checksum is damaged", allowDamaged, hint)
        }
    }

    /// SHA-256 of the file's first `bytes` bytes.
    private static func digest(_ fd: Int32, bytes end: Int, path: String) throws -> [UInt8] {
        var hasher = SHA256()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while offset < end {
            let n = min(block.count, end - offset)
            if n < block.count { block = [UInt8](repeating: 0, count: n) }
            guard readFully(fd, into: &block, at: offset) else { throw readError(path) }
            block.withUnsafeBytes { hasher.update($0) }
            offset += n
        }
        return hasher.finish()
    }

    /// The end-of-file address an HDF5 superblock at offset 0 records (base address added),
    /// for superblock versions 0–3; nil when the header cannot be read.
    static func recordedEnd(_ fd: Int32) -> Int? {
        var head = [UInt8](repeating: 0, count: 96)
        guard readFully(fd, into: &head, at: 0), Array(head[0..<8]) == hdf5Signature else { return nil }
        let version = head[8]
        let sizeOfOffsets: Int, fields: Int
        switch version {
        case 0, 1:
            sizeOfOffsets = Int(head[13])
            fields = version == 0 ? 24 : 28   // v1 adds the indexed storage K and 2 reserved bytes
        case 2, 3:
            sizeOfOffsets = Int(head[9])
            fields = 12
        default: return nil
        }
        guard [4, 8].contains(sizeOfOffsets) else { return nil }
        func address(_ index: Int) -> Int? {
            let at = fields + index * sizeOfOffsets
            guard at + sizeOfOffsets <= head.count else { return nil }
            var v: UInt64 = 0
            for k in (0..<sizeOfOffsets).reversed() { v = v << 8 | UInt64(head[at + k]) }
            return v < UInt64(Int.max / 2) ? Int(v) : nil
        }
        // v0/1: base, free space, end of file; v2/3: base, superblock extension, end of file.
        guard let base = address(0), let eof = address(2) else { return nil }
        return base + eof
    }

    private static func readError(_ path: String) -> FileError {
        FileError("cannot read \(path): \(String(cString: strerror(errno)))", path: path, errno: errno)
    }

    /// `hint`: name the newest intact snapshot beside it (not while looking for that one).
    private static func truncated(_ path: String, size: Int, end: Int, hint: Bool) -> FileError {
        let newest = (hint ? SnapshotFiles.newestIntact(besides: path) : nil).map { "; the newest intact snapshot of that prefix is \($0)" }
            ?? "; no intact snapshot of that prefix is beside it"
        return FileError("\(path) is truncated: it has \(size) bytes of the \(end) its HDF5 header records (a copy or a write that did not finish)\(newest)", path: path)
    }

    /// Fills `buffer` from `offset`; false on an error or a file that ended early.
    private static func readFully(_ fd: Int32, into buffer: inout [UInt8], at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return false }
        }
        return true
    }

    static func hexDigest(_ text: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard text.count == 64 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let a = nibble(text[i]), let b = nibble(text[i + 1]) else { return nil }
            out.append(a << 4 | b)
        }
        return out
    }


    private static func mismatch(_ path: String, _ allowDamaged: Bool, _ hint: Bool) throws -> Status {
        try damaged(path, "its contents do not match the SHA-256 Cortado wrote into it", allowDamaged, hint)
    }

    /// With `allowDamaged` (`--no-verify`) a warning and `.damaged`; otherwise an error.
    private static func damaged(_ path: String, _ why: String, _ allowDamaged: Bool, _ hint: Bool) throws -> Status {
        guard allowDamaged else {
            let newest = (hint ? SnapshotFiles.newestIntact(besides: path) : nil).map { " (the newest intact one beside it is \($0))" } ?? ""
            throw FileError("\(path) is damaged: \(why). Use an earlier snapshot\(newest), or --no-verify to load it anyway", path: path)
        }
        Log.warning("\(path) is damaged (\(why)); loading it anyway because of --no-verify", "verify")
        return .damaged
    }
}

extension Checksum {
    /// What `cortado verify` reports for one file that passed.
    package struct Verdict: Sendable {
        package var kind: String
        package var checksum: Status
    }

    /// Checks a weights file, solver state or mean file of either format, Caffe's included: its
    /// checksum when it has one, then its structure (the file is read whole, as loading would).
    package static func verify(_ path: String) throws -> Verdict {
        try FileBytes.requireFile(path, what: "file")
        if HDF5File.isHDF5(path) {
            let status = try checkHDF5(path)
            // Read as weights, else as a state (each through the reader loading would use).
            do {
                let layers = try WeightsFile.read(path).layers
                return Verdict(kind: "HDF5 weights, \(layers.count) layers, \(layers.reduce(0) { $0 + $1.blobs.count - $1.absent.count }) blobs", checksum: status)
            } catch let weightsError as any CortadoFailure {
                guard weightsError.description.contains("no \"data\" group") else { throw weightsError }
            }
            do {
                let state = try SnapshotFile.readState(path)
                return Verdict(kind: "HDF5 solver state at iteration \(state.iter), \(state.history.count) history blobs", checksum: status)
            } catch let stateError as any CortadoFailure where stateError.description.contains("is not a solver state") {
                throw FileError("\(path) is an HDF5 file but neither Caffe weights (no \"data\" group) nor a solver state (no \"iter\")", path: path)
            }
        }
        // Binary: read and verified once, then tried as each kind of message.
        let raw = try CaffeBinary.readBytes(path, what: "file", verify: false)
        let (status, payload) = try raw.withUnsafeBytes { try checkBinary($0, path: path) }
        let bytes = raw.prefix(payload)
        if let net = try? CaffeBinary.readNet(path, bytes: bytes), !net.layers.isEmpty {
            return Verdict(kind: "binary weights, \(net.layers.count) layers, \(net.layers.reduce(0) { $0 + $1.blobs.count }) blobs", checksum: status)
        }
        if let state = try? CaffeBinary.readSolverState(path, bytes: bytes) {
            return Verdict(kind: "binary solver state at iteration \(state.iter), \(state.history.count) history blobs", checksum: status)
        }
        if let blob = try? CaffeBinary.readBlob(path, bytes: bytes) {
            return Verdict(kind: "binary blob of shape \(blob.shape)", checksum: status)
        }
        throw FileError("\(path) is neither HDF5 nor a Caffe binary file Cortado knows (weights, solver state, mean): it is damaged or of another kind", path: path)
    }
}
