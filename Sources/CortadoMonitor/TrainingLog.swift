import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// Training curves read back from a log: Cortado's JSON log, or plain Caffe-style text
/// (Cortado's stderr or a log written by Caffe itself), parsed with the same patterns as
/// Caffe's tools/extra/parse_log.py.
package struct TrainingLog: Sendable {
    package struct Point: Sendable, Equatable {
        package var iteration: Int
        package var value: Double
    }

    /// Smoothed training loss at each display step.
    package var trainLoss: [Point] = []
    /// Learning rate at each display step.
    package var learningRate: [Point] = []
    /// Test outputs by name (prefixed `#n ` for test nets after the first).
    package var testOutputs: [(name: String, points: [Point])] = []

    package init() {}

    package static func load(_ path: String) throws -> TrainingLog {
        let data = try FileBytes.read(path, what: "log")
        let text = String(decoding: data, as: UTF8.self)
        let log = text.drop { $0 == " " || $0 == "\n" }.hasPrefix("{") ? try parseJSON(text, path: path) : parseText(text)
        guard !log.trainLoss.isEmpty || !log.testOutputs.isEmpty else {
            throw DataError("\(path) has no training or test lines Cortado recognises (expected Caffe's \"Iteration N ..., loss = L\" / \"Test net output #k: name = v\" lines, or a --log-json file)")
        }
        return log
    }

    mutating func addTest(_ name: String, _ point: Point) {
        if let i = testOutputs.firstIndex(where: { $0.name == name }) {
            testOutputs[i].points.append(point)
        } else {
            testOutputs.append((name, [point]))
        }
    }

    static func parseJSON(_ text: String, path: String) throws -> TrainingLog {
        var log = TrainingLog()
        let lines = text.split(separator: "\n")
        for (n, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                // A last line without its newline is one a run was writing when it stopped.
                if n == lines.count - 1 && !text.hasSuffix("\n") { break }
                throw DataError("\(path):\(n + 1): not a JSON object")
            }
            guard let iter = object["iteration"] as? Int else { continue }
            let outputs = object["outputs"] as? [String: Any] ?? [:]
            switch object["type"] as? String {
            case "train":
                if let loss = object["loss"] as? Double { log.trainLoss.append(Point(iteration: iter, value: loss)) }
                if let lr = object["lr"] as? Double { log.learningRate.append(Point(iteration: iter, value: lr)) }
            case "test":
                let net = object["net"] as? Int ?? 0
                for key in outputs.keys.sorted() {
                    guard let v = outputs[key] as? Double else { continue }
                    log.addTest(net == 0 ? key : "#\(net) \(key)", Point(iteration: iter, value: v))
                }
            default: continue
            }
        }
        return log
    }

    /// parse_log.py's rules: the iteration is the last `Iteration N` seen; `lr = X`,
    /// `loss = X` on an iteration line, and `Test net output #k: name = v` lines.
    static func parseText(_ text: String) -> TrainingLog {
        var log = TrainingLog()
        var iteration = -1
        var testNet = 0
        for line in text.split(separator: "\n") {
            let s = String(line)
            if let r = s.range(of: #"Iteration (\d+)"#, options: .regularExpression) {
                iteration = Int(s[r].dropFirst("Iteration ".count)) ?? iteration
                if let net = s.range(of: #"Testing net \(#(\d+)\)"#, options: .regularExpression) {
                    testNet = Int(s[net].filter(\.isNumber)) ?? 0
                }
            }
            guard iteration >= 0 else { continue }
            if let v = value(in: s, after: #"lr = "#) {
                log.learningRate.append(Point(iteration: iteration, value: v))
            } else if s.range(of: #"Iteration \d+.*loss = "#, options: .regularExpression) != nil, let v = value(in: s, after: "loss = ") {
                log.trainLoss.append(Point(iteration: iteration, value: v))
            } else if let r = s.range(of: #"Test net output #\d+: \S+ = [\.\deE+-]+"#, options: .regularExpression) {
                let body = s[r].split(separator: ":", maxSplits: 1)[1].split(separator: "=")
                let name = body[0].trimmingCharacters(in: .whitespaces)
                if let v = Double(body[1].trimmingCharacters(in: .whitespaces)) {
                    log.addTest(testNet == 0 ? name : "#\(testNet) \(name)", Point(iteration: iteration, value: v))
                }
            }
        }
        return log
    }

    private static func value(in s: String, after marker: String) -> Double? {
        guard let r = s.range(of: marker + #"[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?"#, options: .regularExpression) else { return nil }
        return Double(s[r].dropFirst(marker.count))
    }
}
