import ArgumentParser
import Cortado
import Foundation

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Every layer of a net with its type, top shapes, parameters and multiply-adds; no data needed.",
        discussion: """
        Data layers whose sources are absent report the shapes they declare. Split layers the net
        inserts are listed with Caffe's names.
        Examples:
          cortado summary models/lenet/lenet_train_test.prototxt
          cortado summary deploy.prototxt --phase TEST --json
        """
    )

    @Argument(help: "The net prototxt.") var model: String
    @Option(help: "TRAIN or TEST.") var phase: String = "TEST"
    @Flag(help: "Print one JSON object on stdout.") var json = false
    @OptionGroup var state: NetStateOptions

    package func run() throws {
        try reportingErrors {
            let p = try parsePhase(phase)
            try checkFile(model, "model file")
            let (param, notes) = try SyntheticData.replace(in: try NetParameter.load(file: model))
            for n in notes { Log.info(n, "summary") }
            let net = try Net.shapesOnly(param, state: NetState(phase: p, level: state.level, stages: state.stages))
            let summary = NetSummary(net)
            print(json ? summary.json : summary.table, terminator: json ? "\n" : "")
        }
    }
}
