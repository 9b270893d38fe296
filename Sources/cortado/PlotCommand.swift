import ArgumentParser
import Cortado
import Foundation

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw training loss, test outputs and learning rate against iterations as an SVG.",
        discussion: """
        Reads a --log-json file, or a plain log captured from stderr (Cortado's or Caffe's own).
        Examples:
          cortado train --solver solvers/lenet_solver.prototxt 2> train.log
          cortado plot train.log -o curves.svg
          cortado plot train.jsonl -o curves.svg --title "LeNet, Fashion-MNIST"
        """
    )

    @Argument(help: "A JSON log (--log-json) or a Caffe-style text log.") var log: String
    @Option(name: .shortAndLong, help: "Output SVG file.") var output: String
    @Option(help: "Title above the plots (default: the log's file name).") var title: String?

    package func run() throws {
        try reportingErrors {
            let parsed = try TrainingLog.load(log)
            let svg = CurvePlot.svg(parsed, title: title ?? URL(fileURLWithPath: log).lastPathComponent)
            try writeText(svg, to: output)
            Log.info("Wrote \(output)", "plot")
        }
    }
}
