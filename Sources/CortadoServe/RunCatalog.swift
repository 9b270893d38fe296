import Cortado
import Foundation

/// The runs a dashboard shows: every `*_run.json` under its folders (searched again on each
/// request, so new runs appear), plus run records named directly (`train --serve`).
struct RunCatalog: Sendable {
    let folders: [String]
    let records: [String]

    /// One run as the dashboard sees it.
    struct Run: Sendable {
        let id: String
        let path: String
        let record: RunRecord
        var folder: String { (record.snapshotPrefix as NSString).deletingLastPathComponent }
    }

    func runs() -> [Run] { recordPaths().compactMap(Self.run) }

    /// The run with this id; only its own record is read.
    package func run(_ id: String) -> Run? { recordPaths().first { Self.id($0) == id }.flatMap(Self.run) }

    /// Every record file, once each.
    private func recordPaths() -> [String] {
        var paths = records.map(Self.absolute)
        for folder in folders { paths += Self.findRecords(in: Self.absolute(folder)) }
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
    }

    private static func run(_ path: String) -> Run? {
        guard let record = try? RunRecord.load(path) else { return nil }
        return Run(id: id(path), path: path, record: record)
    }

    /// A short stable id: the start of the SHA-256 of the record's path.
    static func id(_ path: String) -> String { String(SHA256.hex(SHA256.digest(Array(path.utf8))).prefix(12)) }

    static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return url.standardizedFileURL.path
    }

    /// Record files under a folder, at most 6 levels down and 10,000 entries, not following
    /// symbolic links (a link cannot bring a run from elsewhere into the dashboard).
    static func findRecords(in folder: String) -> [String] {
        var found: [String] = []
        guard let walker = FileManager.default.enumerator(at: URL(fileURLWithPath: folder), includingPropertiesForKeys: [.isSymbolicLinkKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var visited = 0
        for case let url as URL in walker {
            visited += 1
            if visited > 10_000 { break }
            if walker.level > 6 { walker.skipDescendants(); continue }
            if (try? url.resourceValues(forKeys: [.isSymbolicLinkKey]))?.isSymbolicLink == true { walker.skipDescendants(); continue }
            if url.lastPathComponent.hasSuffix("_run.json") { found.append(url.standardizedFileURL.path) }
        }
        return found.sorted()
    }
}

extension RunCatalog.Run {
    /// The run's JSON log, when it lies inside the run's folder (links resolved).
    var logPath: String? { record.log.flatMap { Dashboard.realPath($0, inside: folder) } }

    /// The run's log records (one JSON object per line), skipping lines that do not parse.
    func logRecords() -> [[String: Any]] { logRecords(from: 0).records }

    /// The records of whole lines from byte `offset` on, and the offset after the last whole
    /// line (a line being written is left for the next read).
    func logRecords(from offset: UInt64) -> (records: [[String: Any]], next: UInt64) {
        guard let path = logPath, let file = FileHandle(forReadingAtPath: path) else { return ([], offset) }
        defer { try? file.close() }
        guard (try? file.seek(toOffset: offset)) != nil, let data = try? file.readToEnd(), let end = data.lastIndex(of: UInt8(ascii: "\n")) else {
            return ([], offset)
        }
        let lines = data[data.startIndex...end].split(separator: UInt8(ascii: "\n"))
        let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        return (records, offset + UInt64(end - data.startIndex + 1))
    }

    /// The snapshot files of the run: in its folder, named `<prefix>_iter_…`, regular files
    /// (not links), with their sizes.
    func snapshots() -> [(name: String, bytes: Int)] {
        let base = (record.snapshotPrefix as NSString).lastPathComponent + "_iter_"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        // By iteration, then name (500 before 1000, weights before state).
        func order(_ name: String) -> (Int, String) { (Int(name.dropFirst(base.count).prefix { $0.isNumber }) ?? 0, name) }
        return names.filter { $0.hasPrefix(base) && !$0.contains(".tmp-") }.sorted { order($0) < order($1) }.compactMap { name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: (folder as NSString).appendingPathComponent(name))
            guard attributes?[.type] as? FileAttributeType == .typeRegular else { return nil }
            return (name, (attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// Iteration, estimated seconds left and the best value of the first test output, from
    /// the record and the log.
    func progress(_ records: [[String: Any]]) -> (iter: Int, eta: Double?, best: (name: String, value: Double)?) {
        let train = records.filter { $0["type"] as? String == "train" }
        let iter = max(record.iter, (records.last?["iteration"] as? Int) ?? 0)
        var eta: Double? = nil
        if record.observedState == .running, train.count >= 2,
           let i0 = train[train.count - 2]["iteration"] as? Int, let i1 = train.last?["iteration"] as? Int,
           let s0 = train[train.count - 2]["seconds"] as? Double, let s1 = train.last?["seconds"] as? Double, i1 > i0 {
            eta = Double(record.maxIter - i1) * (s1 - s0) / Double(i1 - i0)
        }
        var best: (String, Double)? = nil
        let tests = records.compactMap { $0["type"] as? String == "test" ? $0["outputs"] as? [String: Any] : nil }
        if let name = tests.first?.keys.sorted().first(where: { $0.lowercased().contains("acc") }) ?? tests.first?.keys.sorted().first {
            let values = tests.compactMap { $0[name] as? Double }
            let higherIsBetter = !name.lowercased().contains("loss")
            if let v = higherIsBetter ? values.max() : values.min() { best = (name, v) }
        }
        return (iter, eta, best)
    }
}
