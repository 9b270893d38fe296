import Cortado
import Foundation
import Synchronization

/// The dashboard's public socket. FlyingFox parses a request head without limits (a 1 MB
/// header line took it quadratic time, and two of them left its threads spinning and training
/// 4× slower), so this guard reads each request head itself, bounded in size and time, and only
/// then hands the connection to FlyingFox, which listens on a loopback port of its own:
///
/// - a request line over 2 KB or a head over 8 KB: 431, closed;
/// - a head not complete within `headTimeout` (slowloris): 408, closed;
/// - more than `maxConnections` at once: 503, closed;
/// - otherwise the head goes to FlyingFox with `Connection: close` (one request per
///   connection, so every request passes through here), or unchanged for a WebSocket upgrade,
///   and bytes are copied both ways until either side closes.
final class RequestGuard: @unchecked Sendable {
    static let maxRequestLine = 2048, maxHead = 8192
    let listener: Int32
    let port: UInt16
    private let inner: UInt16
    private let headTimeout: Double
    private let maxConnections: Int
    private let open = Atomic<Int>(0)

    init(host: String, port: UInt16, forwardingTo inner: UInt16, headTimeout: Double, maxConnections: Int) throws {
        self.inner = inner
        self.headTimeout = headTimeout
        self.maxConnections = maxConnections
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UsageError("cannot make the dashboard's socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.address(host, port)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 512) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw UsageError("cannot listen on \(host):\(port): \(why)")
        }
        var actual = sockaddr_in(), length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    static func address(_ host: String, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr(host)
        return a
    }

    /// Stops accepting (the accept loop ends on the closed socket).
    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    /// Accepts connections on a thread of its own, each handled on its own thread.
    func start() {
        let t = Thread { [self] in
            Signals.blockOnThisThread()
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { return } }
                guard open.add(1, ordering: .relaxed).newValue <= maxConnections else {
                    reply(client, "503 Service Unavailable", "too many connections")
                    close(client)
                    open.subtract(1, ordering: .relaxed)
                    continue
                }
                let worker = Thread { [self] in
                    Signals.blockOnThisThread()
                    serve(client)
                    open.subtract(1, ordering: .relaxed)
                }
                worker.stackSize = 256 << 10
                worker.start()
            }
        }
        t.name = "dashboard"
        t.start()
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        switch readHead(client) {
        case .tooLarge: reply(client, "431 Request Header Fields Too Large", "the request line or its headers are too long")
        case .timedOut: reply(client, "408 Request Timeout", "the request took too long to arrive")
        case .closed: return
        case .head(let head, let rest): forward(client, head: head, rest: rest)
        }
    }

    enum Head { case head([UInt8], rest: [UInt8]), tooLarge, timedOut, closed }

    /// Reads until the blank line that ends a request head, within the size and time limits.
    func readHead(_ fd: Int32) -> Head {
        let deadline = Date().addingTimeInterval(headTimeout)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return .timedOut }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left, 1) * 1000) + 1)
            if ready < 0 { if errno == EINTR { continue } else { return .closed } }
            if ready == 0 { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue } else { return .closed } }
            if n == 0 { return .closed }
            let start = max(0, bytes.count - 3)
            bytes += buffer[0..<n]
            if let end = Self.endOfHead(bytes, from: start) {
                guard end <= Self.maxHead, Self.requestLineLength(bytes) <= Self.maxRequestLine else { return .tooLarge }
                return .head(Array(bytes[..<end]), rest: Array(bytes[end...]))
            }
            if bytes.count > Self.maxHead || Self.requestLineLength(bytes) > Self.maxRequestLine { return .tooLarge }
        }
    }

    /// The index just past "\r\n\r\n", searching from `from`.
    static func endOfHead(_ b: [UInt8], from: Int) -> Int? {
        guard b.count >= 4, from <= b.count - 4 else { return nil }
        for i in from...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
        return nil
    }

    /// Bytes before the first line end (all of them while none has come).
    static func requestLineLength(_ b: [UInt8]) -> Int { b.firstIndex(of: 10) ?? b.count }

    /// The head FlyingFox gets: one request per connection, except for a WebSocket upgrade.
    static func rewritten(_ head: [UInt8]) -> [UInt8] {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        if lines.contains(where: { $0.lowercased().hasPrefix("upgrade:") }) { return head }
        lines.removeAll { $0.lowercased().hasPrefix("connection:") }
        return Array((lines.joined(separator: "\r\n") + "\r\nConnection: close\r\n\r\n").utf8)
    }

    private func forward(_ client: Int32, head: [UInt8], rest: [UInt8]) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return reply(client, "503 Service Unavailable", "the dashboard is not ready") }
        defer { close(upstream) }
        var address = Self.address("127.0.0.1", inner)
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0, Self.writeAll(upstream, Self.rewritten(head) + rest) else {
            return reply(client, "503 Service Unavailable", "the dashboard is not ready")
        }
        // Client → FlyingFox on a second thread; FlyingFox → client here.
        let upDone = DispatchSemaphore(value: 0)
        let up = Thread {
            Signals.blockOnThisThread()
            Self.copy(from: client, to: upstream)
            shutdown(upstream, Int32(SHUT_WR))
            upDone.signal()
        }
        up.stackSize = 256 << 10
        up.start()
        Self.copy(from: upstream, to: client)
        shutdown(client, Int32(SHUT_RDWR))
        upDone.wait()
    }

    private static func copy(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = read(from, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0, writeAll(to, Array(buffer[0..<n])) else { return }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    private func reply(_ fd: Int32, _ status: String, _ message: String) {
        let body = message + "\n"
        _ = Self.writeAll(fd, Array("HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8))
    }
}
