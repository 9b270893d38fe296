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
public enum Checksum {
    public enum Status: Sendable, Equatable { case verified, absent }

    /// Set from `--no-verify`: damaged files then load (with a warning) instead of failing.
    nonisolated(unsafe) public static var verifyOnLoad = true

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
    static func checkBinary(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (Status, payload: Int) {
        let n = bytes.count
        guard n >= trailerSize else { return (.absent, n) }
        let payload = n - trailerSize
        let stored = Array(bytes[(n - 32)...])
        let tagIntact = Array(bytes[payload..<(n - 32)]) == trailerHead
        let digestMatches = SHA256.digest(UnsafeRawBufferPointer(rebasing: bytes[0..<payload])) == stored
        switch (tagIntact, digestMatches) {
        case (true, true): return (.verified, payload)
        case (false, false): return (.absent, n)
        case (true, false): try mismatch(path)
        case (false, true): try damaged(path, "the field that holds its checksum is damaged")
        }
        return (.absent, payload)
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

    /// Checks an HDF5 file's trailer; `.absent` for files without one (Caffe's, h5py's).
    /// Plain pread(2): Foundation's FileHandle traps on read errors (the fuzzer found it).
    static func checkHDF5(_ path: String) throws -> Status {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CortadoError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CortadoError("cannot read \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size > hdf5TrailerSize else { return .absent }
        var tail = [UInt8](repeating: 0, count: hdf5TrailerSize)
        guard readFully(fd, into: &tail, at: size - hdf5TrailerSize) else { throw CortadoError("cannot read \(path): \(String(cString: strerror(errno)))") }
        let hasLine = Array(tail[0..<(1 + marker.count)]) == [0x0a] + marker && tail.last == 0x0a
        guard let stored = hexDigest(Array(tail[(1 + marker.count)..<(hdf5TrailerSize - 1)])) else {
            if hasLine { try damaged(path, "its checksum line is unreadable") }
            return .absent
        }
        var hasher = SHA256()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0, end = size - hdf5TrailerSize
        while offset < end {
            let n = min(block.count, end - offset)
            if n < block.count { block = [UInt8](repeating: 0, count: n) }
            guard readFully(fd, into: &block, at: offset) else { throw CortadoError("cannot read \(path): \(String(cString: strerror(errno)))") }
            block.withUnsafeBytes { hasher.update($0) }
            offset += n
        }
        let digestMatches = hasher.finish() == stored
        switch (hasLine, digestMatches) {
        case (true, true): return .verified
        case (false, false): return .absent
        case (true, false): try mismatch(path)
        case (false, true): try damaged(path, "the line that holds its checksum is damaged")
        }
        return .absent
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


    private static func mismatch(_ path: String) throws {
        try damaged(path, "its contents do not match the SHA-256 Cortado wrote into it")
    }

    private static func damaged(_ path: String, _ why: String) throws {
        guard verifyOnLoad else {
            Log.warning("\(path) is damaged (\(why)); loading it anyway because of --no-verify", "verify")
            return
        }
        throw CortadoError("\(path) is damaged: \(why). Use an earlier snapshot, or --no-verify to load it anyway")
    }
}

extension Checksum {
    /// What `cortado verify` reports for one file that passed.
    public struct Verdict: Sendable {
        public var kind: String
        public var checksum: Status
    }

    /// Checks a weights file, solver state or mean file of either format, Caffe's included: its
    /// checksum when it has one, then its structure (the file is read whole, as loading would).
    public static func verify(_ path: String) throws -> Verdict {
        try FileBytes.requireFile(path, what: "file")
        if HDF5File.isHDF5(path) {
            let status = try checkHDF5(path)
            // Read as weights, else as a state (each through the reader loading would use).
            do {
                let layers = try WeightsFile.read(path).layers
                return Verdict(kind: "HDF5 weights, \(layers.count) layers, \(layers.reduce(0) { $0 + $1.blobs.count - $1.absent.count }) blobs", checksum: status)
            } catch let weightsError as CortadoError {
                guard weightsError.description.contains("no \"data\" group") else { throw weightsError }
            }
            do {
                let state = try Snapshot.readState(path)
                return Verdict(kind: "HDF5 solver state at iteration \(state.iter), \(state.history.count) history blobs", checksum: status)
            } catch let stateError as CortadoError where stateError.description.contains("is not a solver state") {
                throw CortadoError("\(path) is an HDF5 file but neither Caffe weights (no \"data\" group) nor a solver state (no \"iter\")")
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
        throw CortadoError("\(path) is neither HDF5 nor a Caffe binary file Cortado knows (weights, solver state, mean): it is damaged or of another kind")
    }
}
