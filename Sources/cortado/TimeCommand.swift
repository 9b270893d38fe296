import ArgumentParser
import Cortado
import Foundation

struct TimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "time",
        abstract: "Benchmark a net: average forward and backward time per layer and per iteration.",
        discussion: """
        Example:
          cortado time --model models/lenet/lenet_train_test.prototxt --iterations 50
          cortado time --model train_val.prototxt --synthetic-data --iterations 5
        """
    )

    @Option(name: [.long, .customLong("model", withSingleDash: true)], help: "The net prototxt.")
    var model: String

    @Option(name: [.long, .customLong("iterations", withSingleDash: true)], help: "Timed iterations.")
    var iterations: Int = 50

    @Option(name: [.long, .customLong("phase", withSingleDash: true)], help: "TRAIN or TEST.")
    var phase: String = "TRAIN"

    @Flag(name: [.customLong("synthetic-data"), .customLong("synthetic_data")], help: "Replace data layers whose sources are absent by synthetic data of the declared shapes.")
    var syntheticData = false

    @OptionGroup var state: NetStateOptions

    package func run() throws {
        try reportingErrors {
            try state.applyThreadsAndPrecision()
            let p = try parsePhase(phase)
            guard iterations > 0 else { throw UsageError("--iterations must be positive") }
            try checkFile(model, "model file")
            var param = try NetParameter.load(file: model)
            if syntheticData {
                let (replaced, notes) = try SyntheticData.replace(in: param)
                for n in notes { Log.info(n, "time") }
                param = replaced
            }
            var rng = RNG(seed: 1701)
            let net: Net
            do { net = try Net(param, state: NetState(phase: p, level: state.level, stages: state.stages), rng: &rng) } catch let e as any CortadoFailure where !syntheticData {
                // Timing needs no real data: say how to go on without it.
                throw UsageError("\(e.description)\n(to time the net without its data, add --synthetic-data)")
            }
            // On a terminal, a line that says how far timing is (GoogLeNet: 15 s otherwise silent).
            let terminal = isatty(STDERR_FILENO) == 1
            if terminal { FileHandle.standardError.write(Data("timing: warm-up pass…".utf8)) }
            let report = try Benchmark.run(net, iterations: iterations) { done in
                guard terminal else { return }
                let line = done < iterations ? "\r\u{1B}[Ktiming: iteration \(done + 1) of \(iterations)…" : "\r\u{1B}[K"
                FileHandle.standardError.write(Data(line.utf8))
            }
            for line in report.lines { Log.info(line, "time") }
        }
    }
}
