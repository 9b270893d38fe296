import CortadoBase
import Foundation

/// Snapshot files found by name: `<prefix>_iter_<N><kind>` (`.caffemodel`, `.solverstate`,
/// each with `.h5` for HDF5), as the solver names them.
enum SnapshotFiles {
    /// The iteration and the parts around it, when `path` is named as a snapshot.
    static func parse(_ path: String) -> (prefix: String, iteration: Int, kind: String)? {
        let name = (path as NSString).lastPathComponent
        guard let marker = name.range(of: "_iter_", options: .backwards) else { return nil }
        let rest = name[marker.upperBound...]
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let iteration = Int(digits) else { return nil }
        return (String(name[..<marker.lowerBound]), iteration, String(rest.dropFirst(digits.count)))
    }

    /// The newest other snapshot of the same prefix and kind as `path` that loads: complete,
    /// and with a matching checksum where it has one. nil when there is none.
    static func newestIntact(besides path: String) -> String? {
        guard let me = parse(path) else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        let siblings = names.compactMap { name -> (Int, String)? in
            guard let p = parse(name), p.prefix == me.prefix, p.kind == me.kind, p.iteration != me.iteration else { return nil }
            return (p.iteration, folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name))
        }
        return siblings.sorted { $0.0 > $1.0 }.first { isIntact($0.1) }?.1
    }

    /// Complete and, where it carries Cortado's checksum, matching it (whatever `--no-verify` says).
    static func isIntact(_ path: String) -> Bool {
        if HDF5File.isHDF5(path) { return (try? Checksum.checkHDF5(path, allowDamaged: false, hint: false)) != nil }
        guard let data = try? FileBytes.read(path, what: "snapshot") else { return false }
        return (try? data.withUnsafeBytes { try Checksum.checkBinary($0, path: path, allowDamaged: false, hint: false) }) != nil
    }
}
