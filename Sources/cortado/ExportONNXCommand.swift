import ArgumentParser
import Cortado
import Foundation

struct ExportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx",
        abstract: "Write a deploy net and its weights as an ONNX model (onnxruntime, TensorRT, OpenVINO…).",
        discussion: """
        Examples:
          cortado export-onnx --model models/lenet/lenet_deploy.prototxt --weights snapshots/lenet_iter_10000.caffemodel.h5 -o lenet.onnx
          cortado export-onnx --model deploy.prototxt --weights w.caffemodel -o net.onnx --batch 1 --opset 13
        The batch dimension is symbolic (N) unless --batch fixes it. Pooling keeps Caffe's rounding
        (explicit pads), so outputs match Cortado's. Supported layers are listed in docs/ONNX.md;
        any other layer is an error naming it. --random-weights SEED and --reference FILE.h5 serve
        checks (tools/check-onnx.sh): random parameters, and a random input with Cortado's outputs.
        """
    )

    @Option(name: [.long, .customLong("model", withSingleDash: true)], help: "The deploy net (an Input layer).")
    var model: String

    @Option(name: [.long, .customLong("weights", withSingleDash: true)], help: "Trained weights (comma-separated, applied in order).")
    var weights: String?

    @Option(name: [.short, .long], help: "The .onnx file to write.")
    var output: String

    @Option(help: "ONNX opset (13 to 21).")
    var opset: Int = 17

    @Option(help: "Fix the batch size instead of leaving it symbolic.")
    var batch: Int?

    @Option(name: .customLong("random-weights"), help: "Instead of --weights: random parameters from this seed (for checks).")
    var randomWeights: UInt64?

    @Option(help: "Also write a random input (batch 2) and Cortado's outputs for it to this HDF5 file.")
    var reference: String?

    @OptionGroup var verify: VerifyOption

    package func run() throws {
        try reportingErrors {
            verify.apply()
            try checkFile(model, "model file")
            guard (weights == nil) != (randomWeights == nil) else { throw UsageError("give --weights, or --random-weights SEED for a check") }
            let net = try ONNXExport.net(model: model, weights: weights.map(commaList) ?? [], randomSeed: randomWeights)
            var options = ONNXExport.Options()
            options.opset = opset
            options.batch = batch
            let written = try ONNXExport.write(net, to: output, options: options, version: CortadoCommand.configuration.version)
            Log.info("Wrote \(output): \(written.nodes) nodes, \(written.constants) constants, opset \(opset)", "export")
            if let reference {
                try ONNXExport.writeReference(net, to: reference, batch: batch ?? 2, seed: 7)
                Log.info("Wrote \(reference): a random input and the net's outputs", "export")
            }
        }
    }
}
