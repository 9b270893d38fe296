import ArgumentParser
import Cortado
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check solver and net files without training: every problem, each with file:line:col.",
        discussion: """
        Nets are built in both phases without running them; a solver's nets are checked too.
        Data files that are absent here are reported as notes, not errors.
        Examples:
          cortado validate solvers/lenet_solver.prototxt
          cortado validate models/*/*.prototxt
        """
    )

    @Argument(help: "Solver or net prototxt files.") var files: [String]

    package func run() throws {
        var report = Validator.validate(files: files)
        for w in report.warnings { try? FileHandle.standardError.write(contentsOf: Data("note: \(w)\n".utf8)) }
        if report.problems.isEmpty {
            print("ok: \(report.checked.joined(separator: ", "))")
            return
        }
        report.problems.sort { ($0.location?.file ?? "", $0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.location?.file ?? "", $1.location?.line ?? 0, $1.location?.column ?? 0) }
        fail(ConfigError(problems: report.problems).description + "\n\(report.problems.count) problem(s) found")
    }
}
