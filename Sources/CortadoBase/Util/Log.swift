import Foundation

/// Log lines on stderr in glog's classic shape (`I1130 09:30:31.123456  4242 solver] Iteration 100, loss = 0.3`),
/// so tools that parse Caffe logs (parse_log.py, extract_seconds.py, which reads MMDD after the level) read Cortado's too.
public enum Log {
    public enum Level: Character, Sendable {
        case info = "I", warning = "W", error = "E"

        /// glog's severity number, which `GLOG_minloglevel` compares with.
        var severity: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .error: 2
            }
        }
    }

    /// glog's `GLOG_minloglevel` (0 info, 1 warning, 2 error), read once, the first time a
    /// line is written: pycaffe scripts set it before `import caffe` to quiet the log.
    private static let minimumSeverity: Int = {
        guard let text = ProcessInfo.processInfo.environment["GLOG_minloglevel"], let n = Int(text) else { return 0 }
        return n
    }()

    /// Tests turn logging off; the CLI leaves it on.
    nonisolated(unsafe) public static var enabled = true
    /// Where lines go; a test may capture them.
    nonisolated(unsafe) public static var sink: (String) -> Void = { line in
        try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Set on ranks other than 0 of a data-parallel run: rank 0 speaks for all, so their
    /// info and warning lines are dropped (unless `--verbose-ranks`).
    nonisolated(unsafe) public static var quiet = false
    /// Put before every message: `[rank 1] ` when several ranks log.
    nonisolated(unsafe) public static var label = ""

    private static let pid = Int(getpid())

    public static func info(_ message: @autoclosure () -> String, _ source: String = "cortado") {
        write(.info, message(), source)
    }

    public static func warning(_ message: @autoclosure () -> String, _ source: String = "cortado") {
        write(.warning, message(), source)
    }

    package static func write(_ level: Level, _ message: String, _ source: String) {
        guard enabled, !(quiet && level != .error), level.severity >= minimumSeverity else { return }
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        localtime_r(&t, &parts)
        let stamp = String(format: "%c%02d%02d %02d:%02d:%02d.%06d %5d ",
                           level.rawValue.asciiValue.map(Int32.init) ?? 73,
                           parts.tm_mon + 1, parts.tm_mday,
                           parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(tv.tv_usec), Int32(pid)) + source + "] "
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            sink(stamp + label + line)
        }
    }
}

/// Formats a float the way glog prints a C++ float (`std::ostream` default: 6 significant digits).
public func caffeFloat(_ v: Float) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v < 0 ? "-inf" : "inf" }
    return String(format: "%g", Double(v))
}
