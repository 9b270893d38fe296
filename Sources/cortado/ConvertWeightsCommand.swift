import ArgumentParser
import Cortado
import Foundation

struct ConvertWeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-weights",
        abstract: "Convert weights between binary .caffemodel and HDF5 .caffemodel.h5 (every weight kept bit for bit).",
        discussion: """
        The input format is detected from the content; the output format from the name (.h5 = HDF5).
        Old V1 caffemodels are read too; blobs keep the shapes stored in the file.
        Examples:
          cortado convert-weights bvlc_reference_caffenet.caffemodel caffenet.caffemodel.h5
          cortado convert-weights snapshots/lenet_iter_10000.caffemodel.h5 lenet.caffemodel
        """
    )

    @Argument(help: "Weights to read (.caffemodel or .caffemodel.h5).") var input: String
    @Argument(help: "Weights to write.") var output: String

    package func run() throws {
        try reportingErrors {
            let (name, layers) = try WeightsFile.read(input)
            if output.hasSuffix(".h5") {
                try WeightsFile.writeHDF5(layers, to: output)
            } else {
                try CaffeBinary.atomicWrite(CaffeBinary.encodeNet(name: name, stored: layers), to: output)
            }
            Log.info("Wrote \(output): \(layers.count) layers, \(layers.reduce(0) { $0 + $1.blobs.count }) blobs", "convert")
        }
    }
}
