import ArgumentParser
import Cortado
import Foundation

struct ConvertMNISTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-mnist",
        abstract: "Convert MNIST-format IDX images and labels (uncompressed) to an HDF5 file for an HDF5Data layer.",
        discussion: """
        Pixels are scaled by 1/256 as Caffe's LeNet does; labels are stored as float.
        Example:
          cortado convert-mnist train-images-idx3-ubyte train-labels-idx1-ubyte data/fashion-mnist/train.h5
        """
    )

    @Argument(help: "IDX image file (N×H×W unsigned bytes).") var images: String
    @Argument(help: "IDX label file (N unsigned bytes).") var labels: String
    @Argument(help: "Output .h5 file.") var output: String
    @Option(help: "Pixel scale.") package var scale: Float = 0.00390625

    package func run() throws {
        try reportingErrors {
            try IDXFile.convert(images: images, labels: labels, to: output, scale: scale)
            Log.info("Wrote \(output)", "convert")
        }
    }
}
