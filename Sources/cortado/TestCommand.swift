import ArgumentParser
import Cortado
import Foundation

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Score trained weights: run the TEST-phase net and print each output's mean.",
        discussion: """
        Example:
          cortado test --model models/lenet/lenet_train_test.prototxt --weights snapshots/lenet_iter_10000.caffemodel.h5 --iterations 100
        """
    )

    @Option(name: [.long, .customLong("model", withSingleDash: true)], help: "The net prototxt.")
    var model: String

    @Option(name: [.long, .customLong("weights", withSingleDash: true)], help: "Trained weights (comma-separated, applied in order).")
    var weights: String

    @Option(name: [.long, .customLong("iterations", withSingleDash: true)], help: "Number of batches to score.")
    var iterations: Int = 50

    @OptionGroup var state: NetStateOptions

    @OptionGroup var verify: VerifyOption

    package func run() throws {
        try reportingErrors {
            try state.applyThreadsAndPrecision()
            verify.apply()
            guard iterations > 0 else { throw UsageError("--iterations must be positive") }
            try checkFile(model, "model file")
            let net = try Net.withWeights(model: model, weights: commaList(weights),
                                          state: NetState(phase: .test, level: state.level, stages: state.stages), verbose: true)
            try net.shareActivationMemory()
            Log.info("Running for \(iterations) iterations.", "test")
            var scores = TestScores()
            var loss: Float = 0
            for i in 0..<iterations {
                loss += try net.forward()
                for id in net.outputBlobIDs {
                    let b = net.namedBlobs[id].blob
                    for j in 0..<b.count { Log.info("Batch \(i), \(net.namedBlobs[id].name) = \(caffeFloat(b.data[j]))", "test") }
                }
                try scores.add(net)
            }
            Log.info("Loss: \(caffeFloat(loss / Float(iterations)))", "test")
            for line in scores.lines { Log.info(line, "test") }
        }
    }
}
