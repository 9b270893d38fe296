import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// The live status line on a terminal: iteration / max_iter, iterations per second, ETA,
/// the loss of the last display step (as the log prints it), learning rate and the last test accuracy, redrawn in place below the log
/// lines. On a pipe or file it is off, and only Caffe's plain lines are printed.
package final class StatusLine {
    package enum Mode: String, CaseIterable, Sendable { case auto, always, never }

    private var text = ""
    private var lastDraw = Date.distantPast
    private var rateStart: (time: Date, iter: Int)? = nil
    private var itersPerSecond: Double = 0
    private var lastTest: String = ""
    /// The loss of the last display step, as the log line printed it. Between display steps
    /// the per-iteration loss (average_loss: 1 in most solvers) jumps about too fast to read,
    /// and a number unlike the log's looks like a second, different loss.
    private var displayedLoss: Float? = nil
    private let write: (String) -> Void

    /// Whether a status line should be shown for `mode` on this process's stderr.
    package static func enabled(_ mode: Mode) -> Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .auto: return isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        }
    }

    package init(write: @escaping (String) -> Void = { try? FileHandle.standardError.write(contentsOf: Data($0.utf8)) }) {
        self.write = write
    }

    private var previousSink: ((String) -> Void)?

    /// Routes log lines through this status line, so each one is printed above it.
    package func install() {
        let out = write
        previousSink = Log.sink
        Log.sink = { [weak self] line in
            out("\r\u{1B}[K" + line + "\n" + (self?.text ?? ""))
        }
    }

    /// Erases the line at the end of training and gives log lines back to plain stderr.
    package func finish() {
        write("\r\u{1B}[K")
        text = ""
        if let previousSink { Log.sink = previousSink }
        previousSink = nil
    }

    package func record(_ event: Solver.Event) {
        switch event {
        case .test(_, _, let outputs, _):
            if let acc = outputs.first(where: { $0.name.contains("accuracy") }) ?? outputs.first {
                lastTest = "\(acc.name) \(String(format: "%.4f", acc.value))"
            }
            // The rate is of training iterations: a window that spanned the test made the
            // ETA jump after every test. The next window starts now; the old rate stands until then.
            rateStart = nil
        case .display(_, let loss, _, _):
            displayedLoss = loss
        case .iteration(let iter, let maxIter, let loss, let lr):
            let now = Date()
            if let start = rateStart {
                let dt = now.timeIntervalSince(start.time)
                if dt >= 1 {
                    itersPerSecond = Double(iter - start.iter) / dt
                    rateStart = (now, iter)
                }
            } else {
                rateStart = (now, iter)
            }
            guard now.timeIntervalSince(lastDraw) >= 0.1 || iter == maxIter else { return }
            lastDraw = now
            text = Self.format(iter: iter, maxIter: maxIter, itersPerSecond: itersPerSecond, loss: displayedLoss ?? loss, lr: lr, test: lastTest)
            write("\r\u{1B}[K" + text)
        }
    }

    /// `[ 1200/10000] 58.3 it/s  ETA 2m31s  loss 0.3412  lr 0.00972  accuracy 0.8853`
    package static func format(iter: Int, maxIter: Int, itersPerSecond: Double, loss: Float, lr: Float, test: String) -> String {
        let width = String(maxIter).count
        let counter = String(repeating: " ", count: max(0, width - String(iter).count)) + "\(iter)/\(maxIter)"
        var parts = ["[\(counter)]"]
        if itersPerSecond > 0 {
            parts.append(String(format: "%.1f it/s", itersPerSecond))
            parts.append("ETA " + duration(Double(maxIter - iter) / itersPerSecond))
        }
        parts.append("loss " + String(format: "%.4f", loss))
        parts.append("lr " + String(format: "%.3g", lr))
        if !test.isEmpty { parts.append(test) }
        return parts.joined(separator: "  ")
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        if t >= 3600 { return "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" }
        if t >= 60 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
        return "\(t)s"
    }
}
