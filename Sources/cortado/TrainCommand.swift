import ArgumentParser
import Cortado
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a net from a solver file, fine-tune it (--weights) or resume it (--snapshot).",
        discussion: """
        Examples:
          cortado train --solver solvers/lenet_solver.prototxt
          cortado train --solver solvers/lenet_solver.prototxt --weights pretrained.caffemodel.h5
          cortado train -solver solvers/lenet_solver.prototxt -snapshot snapshots/lenet_iter_5000.solverstate.h5
          cortado train --solver solvers/lenet_solver.prototxt --log-json train.jsonl --progress never
        On a terminal a live status line shows progress; on a pipe or file only Caffe's log lines are printed.
        """
    )

    @Option(name: [.long, .customLong("solver", withSingleDash: true)], help: "The solver prototxt.")
    var solver: String

    @Option(name: [.long, .customLong("weights", withSingleDash: true)], help: "Weights to fine-tune from (comma-separated, applied in order).")
    var weights: String?

    @Option(name: [.long, .customLong("snapshot", withSingleDash: true)], help: "A .solverstate or .solverstate.h5 to resume from.")
    var snapshot: String?

    @Option(name: [.long, .customLong("sigint_effect"), .customLong("sigint_effect", withSingleDash: true)], help: "On SIGINT: stop (snapshot if snapshot_after_train), snapshot, or none.")
    var sigintEffect: String = "stop"

    @Option(name: [.long, .customLong("sighup_effect"), .customLong("sighup_effect", withSingleDash: true)], help: "On SIGHUP: snapshot, stop, or none.")
    var sighupEffect: String = "snapshot"

    @Option(name: [.customLong("log-json"), .customLong("log_json")], help: "Write one JSON object per display step and test to this file.")
    var logJSON: String?

    @Option(help: "Live status line: auto (on a terminal), always, or never.")
    var progress: StatusLine.Mode = .auto

    @OptionGroup var state: NetStateOptions

    @Flag(name: .customLong("no-verify"), help: "Load weights and solver states whose checksum does not match (damaged files) instead of refusing them.")
    var noVerify = false

    func run() throws {
        try reportingErrors {
            state.applyThreads()
            Checksum.verifyOnLoad = !noVerify
            if weights != nil && snapshot != nil {
                throw CortadoError("give either --weights (fine-tune) or --snapshot (resume), not both")
            }
            guard let onInt = SignalEffect(rawValue: sigintEffect), let onHup = SignalEffect(rawValue: sighupEffect) else {
                throw CortadoError("--sigint_effect and --sighup_effect take stop, snapshot or none")
            }
            try checkFile(solver, "solver file")
            var param = try SolverParameter.load(file: solver)
            param.trainState.level = state.level
            param.trainState.stages += state.stages
            Log.info("Using \(ProcessInfo.processInfo.activeProcessorCount) CPU core(s); OpenBLAS core \(blasCoreName())", "train")
            let s = try Solver(param)
            if let snapshot {
                Log.info("Resuming from \(snapshot)", "train")
                try s.restore(from: snapshot)
            } else {
                let list = weights.map { [$0] } ?? param.weights
                for file in list.flatMap({ $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }) {
                    Log.info("Finetuning from \(file)", "train")
                    let (missing, ignored) = try Snapshot.loadWeights(s.net, from: file)
                    for name in ignored { Log.info("Ignoring source layer \(name)", "train") }
                    if !missing.isEmpty {
                        Log.info("Layers not in \(file), keeping their fillers: \(missing.joined(separator: ", "))", "train")
                    }
                }
            }
            if let path = logJSON ?? param.logJSON {
                let log = try JSONLog(path: path)
                s.observers.append(log.record)
            }
            var status: StatusLine? = nil
            if StatusLine.enabled(progress) {
                let line = StatusLine()
                line.install()
                s.observers.append(line.record)
                status = line
            }
            defer { status?.finish() }
            Signals.install()
            s.requestedAction = { Signals.requestedAction(sigint: onInt, sighup: onHup) }
            try s.prepareSnapshots()
            Log.info("Starting Optimization", "train")
            try s.solve()
        }
    }
}
