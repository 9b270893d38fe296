import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// `--log-json FILE`: one JSON object per line for each display step and each test, so tools
/// read training curves without scraping log text:
/// `{"type":"train","iteration":100,"seconds":1.8,"loss":0.34,"lr":0.0099,"outputs":{"loss":0.34}}`
/// `{"type":"test","iteration":500,"seconds":9.1,"net":0,"outputs":{"accuracy":0.88,"loss":0.5}}`
package final class JSONLog {
    private let handle: FileHandle
    private let start = Date()
    private var failed = false

    package init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw FileError("cannot create the JSON log \(path): check that its folder exists and is writable")
        }
        handle = h
    }

    deinit { try? handle.close() }

    package func record(_ event: Solver.Event) {
        var fields: [String]
        switch event {
        case .iteration: return
        case .display(let iter, let loss, let lr, let outputs):
            fields = ["\"type\":\"train\"", "\"iteration\":\(iter)", seconds, "\"loss\":\(json(loss))", "\"lr\":\(json(lr))", outputsField(outputs)]
        case .test(let iter, let net, let outputs, let loss):
            fields = ["\"type\":\"test\"", "\"iteration\":\(iter)", seconds, "\"net\":\(net)", outputsField(outputs)]
            if let loss { fields.append("\"loss\":\(json(loss))") }
        }
        guard !failed else { return }
        do { try handle.write(contentsOf: Data(("{" + fields.joined(separator: ",") + "}\n").utf8)) } catch {
            // Training goes on without the JSON log (a full disk must not stop it or crash it).
            failed = true
            Log.warning("cannot write the JSON log any more (\(error.localizedDescription)); training goes on without it", "train")
        }
    }

    private var seconds: String { "\"seconds\":" + String(format: "%.3f", Date().timeIntervalSince(start)) }

    private func outputsField(_ outputs: [(name: String, value: Float)]) -> String {
        // Several elements of one output blob get suffixes #1, #2, … after the first.
        var seen: [String: Int] = [:]
        let pairs = outputs.map { o -> String in
            let n = seen[o.name, default: 0]
            seen[o.name] = n + 1
            return "\(quote(n == 0 ? o.name : "\(o.name)#\(n)")):\(json(o.value))"
        }
        return "\"outputs\":{" + pairs.joined(separator: ",") + "}"
    }

    /// JSON has no NaN or infinity; write them as null.
    private func json(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }
}
