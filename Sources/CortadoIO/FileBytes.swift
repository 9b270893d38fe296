import CortadoBase
import Foundation

/// Whole files through plain open/read(2), with every failure named. Foundation's readers leak
/// a page on empty files (the fuzzer found it) and turn errors into "error 256".
package enum FileBytes {
    /// The file's bytes; `what` names it in errors ("image", "IDX file").
    package static func read(_ path: String, what: String) throws -> Data {
        try requireFile(path, what: what)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("cannot open \(what) \(path): \(String(cString: strerror(errno)))", path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError("cannot read \(what) \(path): \(String(cString: strerror(errno)))", path: path, errno: errno) }
        var data = Data(count: Int(st.st_size))
        var offset = 0
        try data.withUnsafeMutableBytes { buffer in
            while offset < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else {
                    throw FileError("cannot read \(what) \(path): \(n == 0 ? "it was shortened while being read" : String(cString: strerror(errno)))",
                                    path: path, errno: n == 0 ? nil : errno)
                }
            }
        }
        return data
    }

    /// A clear error for a path that is missing or is a folder.
    static func requireFile(_ path: String, what: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw FileError("cannot open \(what) \(path): no such file", path: path, errno: ENOENT) }
        guard !isDir.boolValue else { throw FileError("\(what) \(path) is a folder, not a file", path: path, errno: EISDIR) }
    }
}
