import CortadoBase
import Foundation

/// Files written whole or not at all: the bytes go to `NAME.tmp-PID` beside the target, every
/// write, `fsync` and `close` is checked, then `rename(2)` puts the file in place and the folder
/// is fsynced so the rename survives a power cut. On any failure the temporary file is removed
/// and the previous file under that name is untouched.
package enum AtomicFile {
    /// Why a save failed; the message says what to do. Saving failures exit with code 1 like
    /// every other error, after the previous snapshot has been kept.
    static func saveError(_ path: String, _ what: String, _ code: Int32 = errno) -> FileError {
        let reason = String(cString: strerror(code))
        let hint = code == ENOSPC || code == EDQUOT ? " (the disk is full: free space or point snapshot_prefix elsewhere)"
            : code == EROFS || code == EACCES || code == EPERM ? " (the folder is not writable)" : ""
        return FileError("cannot save \(path): \(what) failed: \(reason)\(hint); the previous file, if any, is unchanged", path: path, errno: code)
    }

    static func temporaryName(for path: String) -> String { path + ".tmp-\(getpid())" }

    /// Writes `bytes` to `path` atomically, creating the folder when it is missing.
    package static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        try createFolder(of: path)
        let temp = temporaryName(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw saveError(path, "creating \(temp)") }
        var failure: FileError? = nil
        var offset = 0
        while offset < bytes.count && failure == nil {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { failure = saveError(path, "writing", n == 0 ? EIO : errno) }
        }
        if failure == nil && fsync(fd) != 0 { failure = saveError(path, "fsync") }
        if close(fd) != 0 && failure == nil { failure = saveError(path, "close") }
        if let failure {
            unlink(temp)
            throw failure
        }
        guard rename(temp, path) == 0 else {
            let e = saveError(path, "renaming \(temp) into place")
            unlink(temp)
            throw e
        }
        try syncFolder(of: path)
    }

    package static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write($0, to: path) }
    }

    static func folder(of path: String) -> String {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return dir.isEmpty ? "." : dir
    }

    /// Creates the folder a file goes into (as Caffe's HDF5 snapshot path does), for both formats.
    static func createFolder(of path: String) throws {
        let dir = folder(of: path)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw FileError("cannot save \(path): \(dir) is a file, not a folder") }
            return
        }
        var made = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            made += "/" + part
            if mkdir(made, 0o755) != 0 && errno != EEXIST { throw saveError(path, "creating the folder \(made)") }
        }
    }

    /// fsync of the folder, so that the rename itself is on disk.
    static func syncFolder(of path: String) throws {
        let fd = open(folder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw saveError(path, "opening its folder to sync it") }
        defer { close(fd) }
        guard fsync(fd) == 0 || errno == EINVAL else { throw saveError(path, "fsync of its folder") }
    }

    /// Proves, before any training, that files can be saved as `prefix…`: creates the folder,
    /// writes, syncs and removes a probe file, and checks that the disk has `bytes` free.
    package static func preflight(prefix: String, bytes: Int) throws {
        let probe = prefix + ".cortado-probe-\(getpid())"
        let zeros = [UInt8](repeating: 0, count: 4096)
        do { try write(zeros, to: probe) } catch let e as any CortadoFailure {
            throw FileError("snapshots cannot be saved as \(prefix)…: \(e.description.replacingOccurrences(of: "; the previous file, if any, is unchanged", with: "")). Fix this before training, or change snapshot_prefix")
        }
        unlink(probe)
        var fs = statvfs()
        guard statvfs(folder(of: prefix), &fs) == 0 else { return }
        let free = Double(fs.f_bavail) * Double(fs.f_frsize)
        if free < Double(bytes) {
            throw FileError("snapshots go to \(folder(of: prefix)), which has \(formatBytes(free)) free, but one snapshot (weights and solver state) needs about \(formatBytes(Double(bytes))); free space or change snapshot_prefix")
        }
    }

    /// Removes `PREFIX*.tmp-PID` files (and preflight probes) left by runs that were killed
    /// mid-write (their process is gone); returns the paths removed.
    @discardableResult
    package static func removeStaleTemporaries(prefix: String) -> [String] {
        let dir = folder(of: prefix), stem = URL(fileURLWithPath: prefix).lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(stem) {
            guard let range = name.range(of: ".tmp-", options: .backwards) ?? name.range(of: ".cortado-probe-", options: .backwards),
                  let pid = Int32(name[range.upperBound...]), pid > 0 else { continue }
            guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = URL(fileURLWithPath: dir).appendingPathComponent(name).path
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }
}
