import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import Foundation

/// `cortado validate`: reads solver and net files, checks them against Caffe's schema, builds
/// each net in both phases without running it, and reports every problem found, each with
/// file:line:col, instead of stopping at the first.
package enum Validator {
    package struct Report: Sendable {
        package var problems: [ConfigError.Problem] = []
        package var warnings: [String] = []
        package var checked: [String] = []
    }

    /// Fields that only a solver file has.
    package static let solverOnly: Set<String> = ["net", "train_net", "test_net", "base_lr", "lr_policy", "max_iter", "test_iter",
                                          "solver_type", "snapshot_prefix", "momentum", "weight_decay", "net_param", "train_net_param"]

    package static func validate(files: [String]) -> Report {
        LayerRegistry.installSchemas()
        var report = Report()
        var seen: Set<String> = []
        for f in files { validate(file: f, into: &report, seen: &seen) }
        return report
    }

    package static func validate(file: String, into report: inout Report, seen: inout Set<String>) {
        LayerRegistry.installSchemas()
        let key = URL(fileURLWithPath: file).standardized.path
        guard seen.insert(key).inserted else { return }
        report.checked.append(file)
        let tree: TextMessage
        do { tree = try TextFormatParser.parse(file: file) } catch let e as ConfigError {
            report.problems += e.problems
            return
        } catch {
            report.problems.append(.init(location: nil, path: "", message: "\(file): \(error)"))
            return
        }
        let isSolver = tree.fields.contains { solverOnly.contains($0.name) }
        let type = isSolver ? "SolverParameter" : "NetParameter"
        var schemaProblems: [ConfigError.Problem] = []
        ConfigNode.validate(tree, type: type, path: "", problems: &schemaProblems)
        report.problems += schemaProblems
        let node = ConfigNode(message: tree, spec: Schema.messages[type]!, path: "")
        if isSolver {
            validateSolver(node, file: file, into: &report, seen: &seen)
        } else {
            validateNet(node, file: file, into: &report)
        }
    }

    static func collect(_ report: inout Report, _ body: () throws -> Void) {
        do { try body() } catch let e as ConfigError {
            report.problems += e.problems
        } catch {
            report.problems.append(.init(location: nil, path: "", message: "\(error)"))
        }
    }

    static func validateSolver(_ node: ConfigNode, file: String, into report: inout Report, seen: inout Set<String>) {
        collect(&report) { _ = try LRPolicy(node) }
        collect(&report) { try SolverParameter.checkRanges(node) }
        for name in ["net", "train_net"] {
            guard let path = node.string(name) else { continue }
            let resolved = SolverParameter.resolve(path, besides: file)
            if FileManager.default.fileExists(atPath: resolved) {
                validate(file: resolved, into: &report, seen: &seen)
            } else {
                report.problems.append(.init(location: node.location(of: name), path: name,
                                             message: "net file \(path) not found (looked beside the solver and in the working directory)"))
            }
        }
        for path in node.strings("test_net") {
            let resolved = SolverParameter.resolve(path, besides: file)
            if FileManager.default.fileExists(atPath: resolved) { validate(file: resolved, into: &report, seen: &seen) }
        }
        // The solver's own settings (type, ranges, test nets), once its nets are known to load.
        if report.problems.isEmpty {
            collect(&report) {
                let s = try SolverParameter(node, file: file)
                _ = try UpdateRule(s)
            }
        }
    }

    static func validateNet(_ node: ConfigNode, file: String, into report: inout Report) {
        var read: [ConfigError.Problem] = []
        let param: NetParameter
        do { param = try NetParameter(node, file: file, problems: &read) } catch let e as ConfigError {
            report.problems += e.problems
            return
        } catch { return }
        report.problems += read
        // One report per place: the same mistake seen in both phases, or a layer already
        // reported by the schema check, is not repeated.
        let schemaLayers = Set(report.problems.compactMap { layerOf($0.path) })
        var places: Set<String> = Set(report.problems.map(place))
        // A net may be meant for one phase only (a deploy or train-only file); it is an error
        // only when no phase has a layer.
        let phases = [Phase.train, .test].filter { p in param.layers.contains { $0.isIncluded(in: param.state(in: p)) } }
        if phases.isEmpty && read.isEmpty {
            report.problems += Net.emptyNet(param, state: param.state(in: .train)).problems
        }
        for phase in phases {
            let (problems, warnings) = Net.check(param, state: param.state(in: phase))
            for p in problems where !(layerOf(p.path).map(schemaLayers.contains) ?? false) && places.insert(place(p)).inserted {
                report.problems.append(p)
            }
            for w in warnings where !report.warnings.contains(w) { report.warnings.append(w) }
        }
    }

    static func place(_ p: ConfigError.Problem) -> String {
        "\(p.location?.description ?? "") \(p.path)"
    }

    /// `layer "conv1"` from a path like `layer "conv1" › convolution_param`.
    static func layerOf(_ path: String) -> String? {
        guard path.hasPrefix("layer \"") else { return nil }
        let rest = path.dropFirst(7)
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

}
