import Cortado
import FlyingFox
import Foundation

/// The browser dashboard: a page and a small JSON API over the runs of a `RunCatalog`,
/// served by FlyingFox on its own tasks, so training never waits for it and goes on if it
/// fails.
///
/// Safe by default: it binds to 127.0.0.1 unless given a host; every POST needs the token
/// printed at start (`Authorization: Bearer …` or `?token=`), and so does every request when
/// bound to another address; on loopback the Host header must name loopback (no DNS
/// rebinding); files are served only from known runs' snapshot lists; requests are limited
/// in size and rate.
public final class Dashboard: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port.
        public var port: UInt16 = 8080
        /// Required for POSTs (and for everything off loopback); generated when nil.
        public var token: String? = nil
        /// Folders searched for runs, and run records named directly.
        public var folders: [String] = []
        public var records: [String] = []
        /// Requests per second (a burst of twice that is allowed).
        public var rateLimit = 50.0
        /// Seconds a request head may take to arrive, and connections open at once (`RequestGuard`).
        public var headTimeout = 10.0
        public var maxConnections = 512
        public init() {}
    }

    public let token: String
    let options: Options
    let catalog: RunCatalog
    private let server: HTTPServer
    private let limiter: RateLimiter
    /// The public socket, made by `start`.
    nonisolated(unsafe) private var front: RequestGuard?

    public init(_ options: Options) throws {
        guard Self.isIPv4(options.host) else { throw UsageError("--serve takes an IPv4 address (127.0.0.1, 0.0.0.0, 192.168.1.5), not \"\(options.host)\"") }
        self.options = options
        token = options.token ?? Self.newToken()
        catalog = RunCatalog(folders: options.folders, records: options.records)
        limiter = RateLimiter(perSecond: options.rateLimit)
        // FlyingFox listens on loopback only; the public socket is the `RequestGuard`'s.
        server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 30, logger: .disabled)
    }

    public var isLoopback: Bool { options.host.hasPrefix("127.") }

    /// Starts listening; returns the port (useful with port 0).
    public func start() async throws -> UInt16 {
        await server.appendRoute("*") { [self] request in await self.respond(request) }
        let running = server
        Task.detached {
            do { try await running.run() } catch {
                Log.warning("the dashboard stopped (\(error.localizedDescription)); training goes on", "serve")
            }
        }
        try await server.waitUntilListening()
        guard case .ip4(_, let inner)? = await server.listeningAddress else { throw UsageError("the dashboard's server did not start") }
        let front = try RequestGuard(host: options.host, port: options.port, forwardingTo: inner,
                                     headTimeout: options.headTimeout, maxConnections: options.maxConnections)
        front.start()
        self.front = front
        return front.port
    }

    public func stop() async {
        front?.stop()
        await server.stop(timeout: 1)
    }

    /// The page's address with the token, for the log line a user clicks.
    public func address(port: UInt16) -> String {
        let shown = options.host == "0.0.0.0" ? ProcessInfo.processInfo.hostName : options.host
        return "http://\(shown):\(port)/?token=\(token)"
    }

    static func newToken() -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        let fd = open("/dev/urandom", O_RDONLY)
        if fd >= 0 { _ = read(fd, &bytes, bytes.count); close(fd) } else { for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) } }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    // MARK: requests

    func respond(_ request: HTTPRequest) async -> HTTPResponse {
        guard limiter.allow() else { return Self.text(.tooManyRequests, "too many requests") }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > 4096 {
            return Self.text(.payloadTooLarge, "request body too large")
        }
        if isLoopback, let host = request.headers[.host], !Self.loopbackHost(host) {
            return Self.text(.badRequest, "this dashboard answers to localhost only")
        }
        let given = Self.token(of: request)
        let authorised = given.map { Self.constantTimeEqual($0, token) } ?? false
        if (request.method == .POST || !isLoopback) && !authorised {
            return Self.text(.forbidden, "a token is needed: the one `cortado` printed at start, as ?token= or Authorization: Bearer")
        }
        guard let segments = Self.segments(request.target.path(percentEncoded: true)) else {
            return Self.text(.badRequest, "bad path")
        }
        do {
            return try await route(request, segments)
        } catch {
            return Self.text(.internalServerError, "\(error)")
        }
    }

    private func route(_ request: HTTPRequest, _ s: [String]) async throws -> HTTPResponse {
        switch (request.method, s.count) {
        case (.GET, 0): return Self.body(.ok, "text/html; charset=utf-8", Data(DashboardPage.html.utf8))
        case (.GET, 2) where s == ["api", "runs"]: return Self.json(runList())
        default: break
        }
        guard s.count >= 4, s[0] == "api", s[1] == "runs", let run = catalog.run(s[2]) else { return Self.text(.notFound, "not found") }
        switch (request.method, Array(s[3...])) {
        case (.GET, ["log"]): return Self.json(run.logRecords())
        case (.GET, ["events"]): return try await WebSocketHTTPHandler.webSocket(LogEvents(run: run)).handleRequest(request)
        case (.GET, ["curves.svg"]):
            let log = run.logPath.flatMap { try? TrainingLog.load($0) } ?? TrainingLog()
            return Self.body(.ok, "image/svg+xml", Data(CurvePlot.svg(log, title: run.record.name).utf8))
        case (.GET, ["net.svg"]): return Self.body(.ok, "image/svg+xml", Data(try netSVG(run).utf8))
        case (.GET, ["summary"]): return Self.json(try summary(run))
        case (.GET, ["solver"]): return try file(run.record.solver, type: "text/plain; charset=utf-8", inside: run.folder)
        case (.GET, ["snapshots"]): return Self.json(run.snapshots().map { ["name": $0.name, "bytes": $0.bytes] as [String: Any] })
        case (.GET, let rest) where rest.count == 2 && rest[0] == "snapshots":
            guard run.snapshots().contains(where: { $0.name == rest[1] }) else { return Self.text(.notFound, "not found") }
            return try file((run.folder as NSString).appendingPathComponent(rest[1]), type: "application/octet-stream", inside: run.folder)
        case (.POST, ["snapshot"]): return signal(run, SIGHUP)
        case (.POST, ["stop"]): return signal(run, SIGINT)
        default: return Self.text(.notFound, "not found")
        }
    }

    private func runList() -> [[String: Any]] {
        catalog.runs().map { run in
            let progress = run.progress(run.logRecords())
            var entry: [String: Any] = ["id": run.id, "name": run.record.name, "solver": run.record.solver, "iter": progress.iter,
                                        "max_iter": run.record.maxIter, "state": run.record.observedState.rawValue,
                                        "started": run.record.started.formatted(.iso8601)]
            if let eta = progress.eta { entry["eta_seconds"] = eta }
            if let best = progress.best { entry["best"] = ["name": best.name, "value": best.value] }
            return entry
        }
    }

    /// The same effect as SIGHUP (snapshot) and SIGINT (stop) sent to the training process.
    private func signal(_ run: RunCatalog.Run, _ signal: Int32) -> HTTPResponse {
        guard run.record.observedState == .running else { return Self.text(.conflict, "the run is not training") }
        guard kill(run.record.pid, signal) == 0 else { return Self.text(.conflict, "cannot signal the training process: \(String(cString: strerror(errno)))") }
        return Self.json(["ok": true])
    }

    private func netSVG(_ run: RunCatalog.Run) throws -> String {
        let param = try netParameter(run)
        let shapes = (try? Net.shapesOnly(param, state: NetState(phase: .train))).map { net in
            Dictionary(net.namedBlobs.map { ($0.name, $0.blob.shape) }, uniquingKeysWith: { a, _ in a })
        } ?? [:]
        return NetGraph.svg(param, phase: .train, shapes: shapes)
    }

    private func summary(_ run: RunCatalog.Run) throws -> [String: Any] {
        let s = NetSummary(try Net.shapesOnly(try netParameter(run), state: NetState(phase: .train)))
        return ["name": s.name, "params": s.params, "macs": s.macs, "layers": s.rows.map { row in
            ["name": row.name, "type": row.type, "tops": row.tops.map { ["name": $0.name, "shape": $0.shape] as [String: Any] },
             "params": row.params, "macs": row.macs] as [String: Any]
        }]
    }

    /// A run's file, after checking that it resolves (links followed) inside `inside`.
    private func file(_ path: String, type: String, inside folder: String) throws -> HTTPResponse {
        guard let real = Self.realPath(path, inside: folder), let data = FileManager.default.contents(atPath: real) else {
            return Self.text(.notFound, "not found")
        }
        return Self.body(.ok, type, data)
    }

    /// `path` with every link resolved, when that lies inside `folder` (itself resolved);
    /// nil otherwise. A planted run record can name any file: only the run's own are read.
    static func realPath(_ path: String, inside folder: String) -> String? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        return real.hasPrefix(root + "/") ? real : nil
    }

    /// The run's net, read only from inside its folder.
    private func netParameter(_ run: RunCatalog.Run) throws -> NetParameter {
        guard let real = Self.realPath(run.record.net, inside: run.folder) else { throw UsageError("the run's net is not in its folder") }
        return try NetParameter.load(file: real)
    }

    // MARK: helpers

    /// The path's segments, percent-decoded; nil when one hides a separator, a parent step,
    /// a NUL or a backslash (`..%2F..%2Fetc%2Fpasswd` and friends).
    static func segments(_ raw: String) -> [String]? {
        var out: [String] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(part).removingPercentEncoding else { return nil }
            if decoded == "." || decoded == ".." || decoded.contains("/") || decoded.contains("\\") || decoded.contains("\0") { return nil }
            out.append(decoded)
        }
        return out
    }

    /// A Host header that names this machine's loopback: `localhost`, an IPv4 literal in
    /// 127.0.0.0/8 or `[::1]`, each with an optional port, and nothing else (a prefix test let
    /// `127.0.0.1.evil.example` and `[::1]evil.example` through, which DNS rebinding uses).
    static func loopbackHost(_ host: String) -> Bool {
        let name: Substring, port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            name = host[...close]
            let rest = host[host.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else { return false }
            port = rest.isEmpty ? nil : rest.dropFirst()
        } else {
            let parts = host.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            name = parts[0]
            port = parts.count > 1 ? parts[1] : nil
        }
        if let port, UInt16(port) == nil { return false }
        if name.lowercased() == "localhost" || name == "[::1]" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { $0.count <= 3 && UInt8($0) != nil }
    }

    static func token(of request: HTTPRequest) -> String? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { return String(header.dropFirst(7)) }
        return request.query.first { $0.name == "token" }?.value
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func body(_ status: HTTPStatusCode, _ type: String, _ data: Data) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: type, HTTPHeader("Cache-Control"): "no-store",
                                                   HTTPHeader("X-Content-Type-Options"): "nosniff"], body: data)
    }

    static func text(_ status: HTTPStatusCode, _ message: String) -> HTTPResponse {
        body(status, "text/plain; charset=utf-8", Data((message + "\n").utf8))
    }

    static func json(_ value: Any) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("null".utf8)
        return body(.ok, "application/json", data)
    }
}

/// Pushes a run's new log records to a WebSocket as they are written (every half second the
/// bytes added since the last look are read; the trainer does nothing for it).
struct LogEvents: WSMessageHandler {
    package let run: RunCatalog.Run

    func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
        let run = self.run
        return AsyncStream { continuation in
            let task = Task {
                // The page loaded the log so far; send what is written after it.
                var offset = run.logRecords(from: 0).next
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 500_000_000)
                    let (records, next) = run.logRecords(from: offset)
                    offset = next
                    for record in records {
                        if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) {
                            continuation.yield(.text(String(decoding: data, as: UTF8.self)))
                        }
                    }
                }
            }
            let reader = Task { for await _ in client {}; task.cancel(); continuation.finish() }
            continuation.onTermination = { _ in task.cancel(); reader.cancel() }
        }
    }
}

/// A token bucket shared by all connections.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private let perSecond: Double
    private var tokens: Double
    private var last = Date()

    init(perSecond: Double) {
        self.perSecond = perSecond
        tokens = perSecond * 2
    }

    func allow() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        tokens = min(perSecond * 2, tokens + now.timeIntervalSince(last) * perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
