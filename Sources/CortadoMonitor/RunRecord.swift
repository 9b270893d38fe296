import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// What a training run leaves beside its snapshots (`<snapshot_prefix>_run.json`) so a
/// dashboard (`cortado serve`) can find and show it later: its files, how far it got, and how
/// it ended. Written atomically at start, at each snapshot and at the end.
package struct RunRecord: Codable, Sendable, Equatable {
    package enum State: String, Codable, Sendable {
        case running, finished, stopped, diverged, failed
    }

    package var name: String
    package var solver: String
    package var net: String
    /// The `--log-json` file, when the run writes one.
    package var log: String?
    package var snapshotPrefix: String
    package var maxIter: Int
    package var iter: Int
    package var state: State
    /// The training process and its machine, so a dashboard on that machine can tell a run
    /// that was killed (state still "running", process gone) and can signal a live one.
    package var pid: Int32
    package var host: String
    package var started: Date
    /// `--precision` when it was not Caffe's fp32 (bf16); nil in older records and fp32 runs.
    package var precision: String?

    package init(name: String, solver: String, net: String, log: String?, snapshotPrefix: String, maxIter: Int, iter: Int = 0,
                state: State = .running, pid: Int32 = getpid(), host: String = ProcessInfo.processInfo.hostName, started: Date = Date()) {
        self.name = name
        self.solver = solver
        self.net = net
        self.log = log
        self.snapshotPrefix = snapshotPrefix
        self.maxIter = maxIter
        self.iter = iter
        self.state = state
        self.pid = pid
        self.host = host
        self.started = started
    }

    /// `<snapshot_prefix>_run.json`.
    package static func path(snapshotPrefix: String) -> String { snapshotPrefix + "_run.json" }

    /// Reads a record; its paths, stored relative to the record's folder, come back whole.
    package static func load(_ path: String) throws -> RunRecord {
        let data = try FileBytes.read(path, what: "run record")
        do { return try decoder.decode(RunRecord.self, from: data).mapPaths { resolve($0, from: path) } } catch {
            throw FileError("\(path) is not a run record: \(error.localizedDescription)")
        }
    }

    /// Writes the record atomically (a reader never sees half a file), with paths inside its
    /// folder stored relative to it, so that a moved or copied folder keeps working.
    package func save(_ path: String) throws {
        let data = try Self.encoder.encode(mapPaths { Self.relative($0, to: path) })
        try AtomicFile.write(Array(data), to: path)
    }

    /// Copies a run's solver or net file beside its record, atomically.
    package static func keepCopy(of source: String, at destination: String) throws {
        try AtomicFile.write(Array(try FileBytes.read(source, what: "file")), to: destination)
    }

    private func mapPaths(_ f: (String) -> String) -> RunRecord {
        var r = self
        r.solver = f(solver); r.net = f(net); r.log = log.map(f); r.snapshotPrefix = f(snapshotPrefix)
        return r
    }

    private static func folder(of record: String) -> String {
        URL(fileURLWithPath: record).standardizedFileURL.deletingLastPathComponent().path
    }

    static func relative(_ path: String, to record: String) -> String {
        let base = folder(of: record) + "/", full = URL(fileURLWithPath: path).standardizedFileURL.path
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : full
    }

    static func resolve(_ path: String, from record: String) -> String {
        path.hasPrefix("/") ? path : (folder(of: record) as NSString).appendingPathComponent(path)
    }

    /// The state a reader should show: a "running" run whose process is gone from this
    /// machine was killed.
    package var observedState: State {
        guard state == .running, host == ProcessInfo.processInfo.hostName else { return state }
        return kill(pid, 0) == 0 || errno == EPERM ? .running : .stopped
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
