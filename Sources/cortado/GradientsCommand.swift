import ArgumentParser
import Cortado

/// `cortado __gradients --model NET --random-weights SEED -o OUT.h5`: the parameter gradients
/// of one backward pass with check weights and input (not for users; tools/onednn-check.sh).
struct GradientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__gradients", shouldDisplay: false)
    @Option(help: "A net with a loss layer (TEST phase).") var model: String
    @Option(name: .customLong("random-weights")) var randomWeights: UInt64 = 1
    @Option(name: .shortAndLong) var output: String
    @Flag(help: "Also write every blob's data and diff.") var blobs = false
    @Option(help: "Move every input value this many ulp up first (the net's own sensitivity).") var nudgeUlps = 0

    package func run() throws {
        try reportingErrors {
            let net = try ONNXExport.net(model: model, weights: [], randomSeed: randomWeights)
            for e in net.entries where e.layer.type == "Input" {
                for t in e.tops { for k in 0..<t.count { for _ in 0..<nudgeUlps { t.data[k] = t.data[k].nextUp } } }
            }
            try ONNXExport.writeGradients(net, to: output, blobs: blobs)
        }
    }
}
