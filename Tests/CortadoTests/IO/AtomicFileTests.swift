import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO

/// AtomicFile on its own: whole files or nothing, folders made, failures typed with path and errno.
@Suite struct AtomicFileTests {
    @Test func writesTheWholeFileAndLeavesNoTemporary() throws {
        let dir = temporaryDirectory()
        let path = dir + "/deeper/still/out.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        try AtomicFile.write([9], to: path)
        #expect(FileManager.default.contents(atPath: path) == Data([9]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/deeper/still") == ["out.bin"])
    }

    /// A folder in the way of the file: the error names the path and carries the errno, and
    /// the file that was there stays as it was.
    @Test func aFailedWriteIsAFileErrorAndKeepsThePreviousFile() throws {
        let dir = temporaryDirectory()
        try AtomicFile.write([7, 7], to: dir + "/kept.bin")
        try FileManager.default.createDirectory(atPath: dir + "/kept.bin.d", withIntermediateDirectories: true)
        // A regular file where the folder of the target should be: ENOTDIR, or "is a file".
        do {
            try AtomicFile.write([1], to: dir + "/kept.bin/inside.bin")
            Issue.record("writing below a file should fail")
        } catch let error as FileError {
            #expect(error.message.contains("kept.bin"))
        }
        #expect(FileManager.default.contents(atPath: dir + "/kept.bin") == Data([7, 7]))
    }

    @Test func removesOnlyItsOwnStaleTemporaries() throws {
        let dir = temporaryDirectory()
        try write("x", to: dir + "/run_iter_5.caffemodel.h5.tmp-4194000")
        try write("y", to: dir + "/other.txt")
        let removed = AtomicFile.removeStaleTemporaries(prefix: dir + "/run")
        #expect(removed.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["other.txt"])
    }

    @Test func fileBytesReportsPathAndErrno() throws {
        let missing = temporaryDirectory() + "/absent.bin"
        do {
            _ = try FileBytes.read(missing, what: "image")
            Issue.record("reading a missing file should fail")
        } catch let error as FileError {
            #expect(error.path == missing && error.errno == ENOENT)
            #expect(error.message == "cannot open image \(missing): no such file")
        }
    }
}

/// Checksum on its own: sealed binary and HDF5 images verify; one flipped byte or bytes
/// appended are damage; Caffe's files (no checksum) are `absent`.
@Suite struct ChecksumTests {
    @Test func binaryTrailerVerifiesAndCatchesAFlippedByte() throws {
        let payload: [UInt8] = Array("a binary message".utf8)
        let sealed = Checksum.sealed(payload)
        #expect(sealed.count == payload.count + Checksum.trailerSize)
        let checked = try sealed.withUnsafeBytes { try Checksum.checkBinary($0, path: "x", allowDamaged: false) }
        #expect(checked.0 == .verified && checked.payload == payload.count)
        var flipped = sealed
        flipped[3] ^= 1
        #expect(throws: FileError.self) { _ = try flipped.withUnsafeBytes { try Checksum.checkBinary($0, path: "x", allowDamaged: false) } }
        let plain = try payload.withUnsafeBytes { try Checksum.checkBinary($0, path: "x", allowDamaged: false) }
        #expect(plain.0 == .absent && plain.payload == payload.count)
    }

    @Test func hdf5TrailerVerifiesAndCatchesAppendedBytes() throws {
        let dir = temporaryDirectory()
        let path = dir + "/w.h5"
        try SnapshotFile.atomicWrite(path) { try $0.write("x", floats: [1, 2, 3]) }
        #expect(try Checksum.checkHDF5(path, allowDamaged: false) == .verified)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("tail".utf8))
        try handle.close()
        #expect(throws: FileError.self) { _ = try Checksum.checkHDF5(path, allowDamaged: false) }
        do { _ = try Checksum.checkHDF5(path, allowDamaged: false) } catch let error as FileError { #expect(error.path == path) }
        #expect(try Checksum.checkHDF5(path, allowDamaged: true) == .damaged)
    }
}

/// HDF5File on its own: datasets and groups round-trip through memory images and files.
@Suite struct HDF5FileTests {
    @Test func datasetsAndGroupsRoundTrip() throws {
        let path = temporaryDirectory() + "/t.h5"
        let file = try HDF5File.create(path)
        try file.createGroup("g")
        try file.write("g/floats", floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        try file.write("n", int: 42)
        try file.write("s", string: "solver")
        try file.write("i", int64s: [-1, 1 << 40])
        try file.flush()
        let back = try HDF5File.open(path)
        #expect(back.isGroup("g") && !back.isGroup("n"))
        #expect(try back.children("g") == ["floats"])
        let (shape, values) = try back.readFloats("g/floats")
        #expect(shape == [2, 3] && values == [1, 2, 3, 4, 5, 6])
        #expect(try back.readInt("n") == 42)
        #expect(try back.readString("s") == "solver")
        #expect(try back.readInt64s("i") == [-1, 1 << 40])
        #expect(!back.exists("missing"))
        #expect(throws: FileError.self) { _ = try back.readFloats("missing") }
    }

    @Test func aTextFileIsNotHDF5() throws {
        let path = temporaryDirectory() + "/not.h5"
        try write("plain text", to: path)
        #expect(!HDF5File.isHDF5(path))
    }
}

/// LMDB on its own: records come back in key order; a missing database names its maker.
@Suite struct LMDBTests {
    @Test func recordsComeBackInKeyOrder() throws {
        let path = temporaryDirectory() + "/db"
        let db = try LMDB.create(path, mapSize: 1 << 20)
        try db.put([(key: "00000002", value: [2]), (key: "00000001", value: [1, 1])])
        let reader = try LMDB.openForReading(path)
        var seen: [(String, [UInt8])] = []
        var more = try reader.first()
        while more {
            seen.append((reader.currentKey, Array(reader.currentValue)))
            more = try reader.next()
        }
        #expect(seen.map(\.0) == ["00000001", "00000002"])
        #expect(seen.map(\.1) == [[1, 1], [2]])
        #expect(throws: FileError.self) { _ = try LMDB.create(path) }
    }

    @Test func aMissingDatabaseIsAFileError() {
        let path = temporaryDirectory() + "/none"
        do {
            _ = try LMDB.openForReading(path)
            Issue.record("a missing LMDB should be an error")
        } catch let error as FileError {
            #expect(error.path == path && error.message.contains("no such folder"))
        } catch {
            Issue.record("expected a FileError, got \(error)")
        }
    }
}
