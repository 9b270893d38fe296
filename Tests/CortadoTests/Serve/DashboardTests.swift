import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoMonitor
@testable import CortadoServe

/// A real dashboard on a loopback port: every API route, the token rule, the Host check,
/// limits, and path traversal attempts.
@Suite(.serialized) struct DashboardTests {
    struct Response { var status: Int; var headers: String; var body: Data; var text: String { String(decoding: body, as: UTF8.self) } }

    /// One HTTP/1.1 request over a plain socket, so paths go out exactly as written.
    static func request(_ port: UInt16, _ method: String, _ path: String, headers: [String] = [], host: String = "127.0.0.1", body: String = "",
                        headOnly: Bool = false) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw TestFailure("cannot connect to port \(port)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let text = ([ "\(method) \(path) HTTP/1.1", "Host: \(host):\(port)", "Connection: close"] + headers).joined(separator: "\r\n") + "\r\n\r\n" + body
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            // A WebSocket stays open: its answer is the head alone.
            if headOnly && data.range(of: Data("\r\n\r\n".utf8)) != nil { break }
        }
        guard let split = data.range(of: Data("\r\n\r\n".utf8)) else { throw TestFailure("no HTTP response: \(String(decoding: data, as: UTF8.self))") }
        let head = String(decoding: data[..<split.lowerBound], as: UTF8.self)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var body = Data(data[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return Response(status: status, headers: head, body: body)
    }

    static func dechunk(_ data: Data) -> Data {
        var out = Data(), rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)), let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self), radix: 16), size > 0 {
            let start = line.upperBound
            out.append(rest[start..<(start + size)])
            rest = rest[(start + size + 2)...]
        }
        return out
    }

    /// A finished run (tiny net, a log, two snapshots), a file beside it that is no snapshot,
    /// a link named like a snapshot that leads out, and a running run whose "trainer" is a
    /// child that writes the signal it gets to `signalled` (Python: it can catch SIGHUP even
    /// when the test runner ignores or blocks it).
    static func project(_ dir: String) throws -> (sleeper: Process, secret: String) {
        try CLITests.tinyProject(dir)
        try write("""
            {"type":"train","iteration":0,"seconds":0.1,"loss":0.9,"lr":0.1,"outputs":{"loss":0.9}}
            {"type":"train","iteration":5,"seconds":0.2,"loss":0.5,"lr":0.1,"outputs":{"loss":0.5}}
            {"type":"test","iteration":5,"seconds":0.3,"net":0,"outputs":{"accuracy":0.75,"loss":0.6}}

            """, to: "\(dir)/snap_log.jsonl")
        try Data("weights".utf8).write(to: URL(fileURLWithPath: "\(dir)/snap_iter_5.caffemodel.h5"))
        try Data("state".utf8).write(to: URL(fileURLWithPath: "\(dir)/snap_iter_5.solverstate.h5"))
        try Data("later".utf8).write(to: URL(fileURLWithPath: "\(dir)/snap_iter_10.caffemodel.h5"))
        let secret = "\(dir)/secret.txt"
        try write("do not serve", to: secret)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/snap_iter_9.caffemodel.h5", withDestinationPath: "/etc/passwd")
        let done = RunRecord(name: "tiny", solver: "\(dir)/solver.prototxt", net: "\(dir)/net.prototxt", log: "\(dir)/snap_log.jsonl",
                             snapshotPrefix: "\(dir)/snap", maxIter: 10, iter: 10, state: .finished)
        try done.save(RunRecord.path(snapshotPrefix: done.snapshotPrefix))
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        sleeper.arguments = ["-c", "import signal, sys, time\n"
            + "def caught(n, f):\n    open('\(dir)/signalled', 'w').write(str(n)); sys.exit(0)\n"
            + "signal.signal(signal.SIGHUP, caught); signal.signal(signal.SIGINT, caught); signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
            + "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP, signal.SIGINT}); time.sleep(60)"]
        try sleeper.run()
        // A planted record that names files outside its folder, directly and through a link.
        try FileManager.default.createDirectory(atPath: "\(dir)/planted", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/planted/p_solver.prototxt", withDestinationPath: "/etc/passwd")
        let planted = RunRecord(name: "planted", solver: "\(dir)/planted/p_solver.prototxt", net: "/etc/passwd", log: "/etc/passwd",
                                snapshotPrefix: "\(dir)/planted/p", maxIter: 10, iter: 10, state: .finished)
        try planted.save(RunRecord.path(snapshotPrefix: planted.snapshotPrefix))
        try FileManager.default.createDirectory(atPath: "\(dir)/live", withIntermediateDirectories: true)
        let live = RunRecord(name: "live", solver: "\(dir)/solver.prototxt", net: "\(dir)/net.prototxt", log: nil,
                             snapshotPrefix: "\(dir)/live/run", maxIter: 100, pid: sleeper.processIdentifier)
        try live.save(RunRecord.path(snapshotPrefix: live.snapshotPrefix))
        return (sleeper, secret)
    }

    /// `cortado serve … --port 0` in a child process (its own threads, whatever the tests
    /// around it do); returns it, its port and its token.
    static func serve(_ arguments: [String]) throws -> (Process, UInt16, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = ["serve", "--port", "0"] + arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var log = ""
        while !log.contains("Dashboard: ") || !log.contains("\n") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        guard let url = log.split(separator: " ").first(where: { $0.hasPrefix("http://") }),
              let port = UInt16(url.split(separator: ":").last?.split(separator: "/").first ?? ""),
              let token = url.split(separator: "=").last else {
            p.terminate()
            throw TestFailure("cortado serve did not start: \(log)")
        }
        return (p, port, String(token))
    }

    /// A server started from a thread that blocks SIGTERM (as the test runner's threads may)
    /// still stops on SIGTERM: it inherited the block, and every server these tests started
    /// lived on after them.
    @Test func aServerStopsOnSIGTERMWhateverItsParentBlocked() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        final class Box: @unchecked Sendable { var result: Result<(Process, UInt16, String), Error>? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread {
            var term = sigset_t()
            sigemptyset(&term)
            sigaddset(&term, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &term, nil)
            box.result = Result { try Self.serve([dir]) }
            done.signal()
        }.start()
        done.wait()
        let (server, _, _) = try box.result!.get()
        server.terminate()
        let deadline = Date().addingTimeInterval(10)
        while server.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!server.isRunning, "cortado serve ignored SIGTERM")
        if server.isRunning { kill(server.processIdentifier, SIGKILL) }
    }

    @Test func everyRouteTheTokenAndTraversal() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        let (sleeper, _) = try Self.project(dir)
        defer { kill(sleeper.processIdentifier, SIGKILL) }
        let (server, port, token) = try Self.serve([dir])
        defer { server.terminate() }
        let get = { (path: String) throws -> Response in try Self.request(port, "GET", path) }

        let page = try get("/")
        #expect(page.status == 200 && page.text.contains("<title>Cortado</title>"))
        let list = try #require(try JSONSerialization.jsonObject(with: try get("/api/runs").body) as? [[String: Any]])
        #expect(Set(list.map { $0["name"] as? String }) == ["tiny", "live", "planted"])
        let tiny = try #require(list.first { $0["name"] as? String == "tiny" })
        let live = try #require(list.first { $0["name"] as? String == "live" })
        #expect(tiny["state"] as? String == "finished" && tiny["iter"] as? Int == 10 && tiny["max_iter"] as? Int == 10)
        #expect((tiny["best"] as? [String: Any])?["value"] as? Double == 0.75)
        #expect(live["state"] as? String == "running")
        let id = try #require(tiny["id"] as? String), liveID = try #require(live["id"] as? String)

        let log = try #require(try JSONSerialization.jsonObject(with: try get("/api/runs/\(id)/log").body) as? [[String: Any]])
        #expect(log.count == 3)
        for svg in ["curves.svg", "net.svg"] {
            let r = try get("/api/runs/\(id)/\(svg)")
            #expect(r.status == 200 && r.headers.lowercased().contains("image/svg+xml") && r.text.hasPrefix("<svg"), "\(svg)")
        }
        #expect(try get("/api/runs/\(id)/solver").text.contains("base_lr: 0.1"))
        #expect(try get("/api/runs/\(id)/summary").text.contains("\"InnerProduct\""))
        let snapshots = try #require(try JSONSerialization.jsonObject(with: try get("/api/runs/\(id)/snapshots").body) as? [[String: Any]])
        // By iteration, not as text.
        #expect(snapshots.map { $0["name"] as? String } == ["snap_iter_5.caffemodel.h5", "snap_iter_5.solverstate.h5", "snap_iter_10.caffemodel.h5"])
        #expect(try get("/api/runs/\(id)/snapshots/snap_iter_5.caffemodel.h5").text == "weights")

        // Traversal and files that are not snapshots of the run.
        for path in ["/api/runs/\(id)/snapshots/..%2F..%2Fetc%2Fpasswd", "/api/runs/\(id)/snapshots/%2Fetc%2Fpasswd",
                     "/api/runs/\(id)/snapshots/..", "/api/runs/\(id)/snapshots/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     "/api/runs/\(id)/snapshots/snap_iter_5.caffemodel.h5%00", "/api/runs/\(id)/../../../etc/passwd",
                     "/api/runs/\(id)/snapshots/..%5C..%5Cetc%5Cpasswd"] {
            let r = try get(path)
            #expect(r.status == 400 || r.status == 404, "\(path) answered \(r.status)")
            #expect(!r.text.contains("root:"), "\(path)")
        }
        for path in ["/api/runs/\(id)/snapshots/secret.txt", "/api/runs/\(id)/snapshots/snap_iter_9.caffemodel.h5",
                     "/api/runs/\(id)/snapshots/snap_log.jsonl", "/api/runs/nosuchrun/log", "/api/runs/\(id)/nothing", "/etc/passwd"] {
            #expect(try get(path).status == 404, "\(path)")
        }

        // POSTs need the token; a finished run cannot be signalled; a running one can.
        #expect(try Self.request(port, "POST", "/api/runs/\(liveID)/snapshot").status == 403)
        #expect(try Self.request(port, "POST", "/api/runs/\(liveID)/stop", headers: ["Authorization: Bearer wrong"]).status == 403)
        #expect(try Self.request(port, "POST", "/api/runs/\(id)/stop?token=\(token)").status == 409)
        #expect(try Self.request(port, "POST", "/api/runs/\(liveID)/snapshot", headers: ["Authorization: Bearer \(token)"]).status == 200)
        sleeper.waitUntilExit()
        #expect((try? String(contentsOfFile: "\(dir)/signalled", encoding: .utf8)) == "\(SIGHUP)")

        // A planted record's files outside its folder are never read.
        let plantedID = try #require(list.first { $0["name"] as? String == "planted" }?["id"] as? String)
        for route in ["solver", "log", "net.svg", "summary", "curves.svg"] {
            let r = try get("/api/runs/\(plantedID)/\(route)")
            #expect(!r.text.contains("root:"), "\(route) answered \(r.status): \(r.text.prefix(200))")
        }
        #expect(try get("/api/runs/\(plantedID)/solver").status == 404)
        #expect(try get("/api/runs/\(plantedID)/log").text == "[]")

        // Another site's name for this address (DNS rebinding), and oversized requests.
        for host in ["evil.example", "127.0.0.1.evil.example", "[::1]evil.example", "localhost.evil.example", "127.0.0.1@evil.example", "127.1"] {
            #expect(try Self.request(port, "GET", "/api/runs", host: host).status == 400, "\(host)")
        }
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"] {
            #expect(try Self.request(port, "GET", "/api/runs", host: host).status == 200, "\(host)")
        }
        let big = String(repeating: "x", count: 5000)
        #expect(try Self.request(port, "POST", "/api/runs/\(id)/stop?token=\(token)", headers: ["Content-Length: 5000"], body: big).status == 413)
        // The live-update WebSocket answers the handshake.
        let upgrade = try Self.request(port, "GET", "/api/runs/\(id)/events", headers: [
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"], headOnly: true)
        #expect(upgrade.status == 101)
    }

    @Test func offLoopbackEveryRequestNeedsTheTokenAndRatesAreLimited() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        let (sleeper, _) = try Self.project(dir)
        kill(sleeper.processIdentifier, SIGKILL)
        let (server, port, _) = try Self.serve(["--host", "0.0.0.0", "--token", "s3cret", "--rate-limit", "5", dir])
        defer { server.terminate() }
        #expect(try Self.request(port, "GET", "/api/runs").status == 403)
        #expect(try Self.request(port, "GET", "/api/runs?token=s3cret").status == 200)
        let statuses = try (0..<30).map { _ in try Self.request(port, "GET", "/api/runs?token=s3cret").status }
        #expect(statuses.contains(429))
        #expect(throws: UsageError.self) { try Dashboard({ var o = Dashboard.Options(); o.host = "localhost"; return o }()) }
    }

    /// A record keeps paths inside its folder relative to it, so a moved folder still works.
    @Test func runRecordsSurviveAMovedFolder() throws {
        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: "\(dir)/a", withIntermediateDirectories: true)
        let record = RunRecord(name: "r", solver: "\(dir)/a/r_solver.prototxt", net: "\(dir)/a/r_net.prototxt", log: "\(dir)/a/r_log.jsonl",
                               snapshotPrefix: "\(dir)/a/r", maxIter: 5)
        try record.save("\(dir)/a/r_run.json")
        let text = try String(contentsOfFile: "\(dir)/a/r_run.json", encoding: .utf8)
        #expect(!text.contains(dir), "\(text)")
        try FileManager.default.moveItem(atPath: "\(dir)/a", toPath: "\(dir)/b")
        let moved = try RunRecord.load("\(dir)/b/r_run.json")
        #expect(moved.snapshotPrefix == "\(dir)/b/r" && moved.log == "\(dir)/b/r_log.jsonl" && moved.solver == "\(dir)/b/r_solver.prototxt")
    }

    /// A connected socket to the dashboard, and what it answers (the status line).
    static func dial(_ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = RequestGuard.address("127.0.0.1", port)
        let ok = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw TestFailure("cannot connect") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func statusLine(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).components(separatedBy: "\r\n")[0] : ""
    }

    /// Oversized heads, slowloris and many idle connections, each against a fresh server: the
    /// attack is answered or cut off, and the server goes on answering (FlyingFox alone parsed a
    /// 1 MB header line in quadratic time and stopped answering after two).
    @Test func hostileClientsLeaveTheServerAnswering() throws {
        quietTestEnvironment()
        // Each server a child process (FlyingFox's tasks must not wait on this runner's
        // cooperative threads, which other tests block), with a head timeout of 1 s.
        var servers: [Process] = []
        defer { for p in servers { kill(p.processIdentifier, SIGKILL) } }
        func fresh() throws -> (Process, UInt16) {
            let (p, port, _) = try Self.serve(["--head-timeout", "1", temporaryDirectory()])
            servers.append(p)
            return (p, port)
        }
        // Two 1 MB header lines, then a request line of 100 KB.
        let (_, big) = try fresh()
        for _ in 0..<2 {
            let fd = try Self.dial(big)
            _ = ("GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n").withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            #expect(Self.statusLine(fd).contains("431"))
            close(fd)
        }
        let long = try Self.dial(big)
        _ = ("GET /" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\n").withCString { send(long, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        #expect(Self.statusLine(long).contains("431"))
        close(long)
        #expect(try Self.request(big, "GET", "/api/runs").status == 200)

        // Slowloris: a byte every 0.2 s is cut off after the head's time; others are served meanwhile.
        let (_, slow) = try fresh()
        let drip = try Self.dial(slow)
        let start = Date()
        var answer = ""
        for byte in "GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
            var b = byte
            if send(drip, &b, 1, Int32(MSG_NOSIGNAL)) <= 0 { break }
            var p = pollfd(fd: drip, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 200) > 0 { answer = Self.statusLine(drip); break }
        }
        #expect(answer.contains("408"), "\(answer)")
        #expect(Date().timeIntervalSince(start) < 4)
        close(drip)
        #expect(try Self.request(slow, "GET", "/api/runs").status == 200)

        // 300 connections that never finish their heads.
        let (_, many) = try fresh()
        let idle = try (0..<300).map { _ in try Self.dial(many) }
        for fd in idle { _ = "GET /api/runs HTTP/1.1\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
        let t = Date()
        #expect(try Self.request(many, "GET", "/api/runs").status == 200)
        #expect(Date().timeIntervalSince(t) < 2)
        for fd in idle { close(fd) }
    }
}
