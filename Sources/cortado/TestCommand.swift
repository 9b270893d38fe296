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

    func run() throws {
        try reportingErrors {
            state.applyThreads()
            guard iterations > 0 else { throw CortadoError("--iterations must be positive") }
            try checkFile(model, "model file")
            let param = try NetParameter.load(file: model)
            var rng = RNG(seed: 1701)
            let net = try Net(param, state: NetState(phase: .test, level: state.level, stages: state.stages), rng: &rng)
            for file in weights.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                let (missing, _) = try Snapshot.loadWeights(net, from: file)
                if !missing.isEmpty {
                    Log.warning("layers not in \(file) keep their initial values: \(missing.joined(separator: ", "))", "test")
                }
            }
            Log.info("Running for \(iterations) iterations.", "test")
            var scores: [Float] = []
            var loss: Float = 0
            for i in 0..<iterations {
                loss += try net.forward()
                var k = 0
                for (id, b) in zip(net.outputBlobIDs, net.outputBlobs) {
                    for j in 0..<b.count {
                        if i == 0 { scores.append(b.data[j]) } else { scores[k] += b.data[j] }
                        Log.info("Batch \(i), \(net.blobNames[id]) = \(caffeFloat(b.data[j]))", "test")
                        k += 1
                    }
                }
            }
            Log.info("Loss: \(caffeFloat(loss / Float(iterations)))", "test")
            var k = 0
            for (id, b) in zip(net.outputBlobIDs, net.outputBlobs) {
                let w = net.lossWeight(of: id)
                for _ in 0..<b.count {
                    let mean = scores[k] / Float(iterations)
                    let note = w != 0 ? " (* \(caffeFloat(w)) = \(caffeFloat(w * mean)) loss)" : ""
                    Log.info("\(net.blobNames[id]) = \(caffeFloat(mean))\(note)", "test")
                    k += 1
                }
            }
        }
    }
}
