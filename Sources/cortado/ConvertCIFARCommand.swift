import ArgumentParser
import Cortado
import Foundation

struct ConvertCIFARCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-cifar",
        abstract: "Convert CIFAR-10's binary batches into train and test LMDBs, like Caffe's convert_cifar_data.",
        discussion: """
        Example:
          cortado convert-cifar cifar-10-batches-bin data/cifar10
        """
    )

    @Argument(help: "Folder with data_batch_1.bin … data_batch_5.bin and test_batch.bin.") var batches: String
    @Argument(help: "Folder to write cifar10_train_lmdb and cifar10_test_lmdb into.") var output: String

    package func run() throws {
        try reportingErrors {
            let (train, test) = try CIFAR.convert(batches: batches, to: output)
            Log.info("Wrote \(train) training and \(test) test images to \(output)", "convert")
        }
    }
}
