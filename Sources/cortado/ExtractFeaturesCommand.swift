import ArgumentParser
import Cortado
import Foundation

struct ExtractFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-features",
        abstract: "Save named blobs of a net over N batches, one row per example, to HDF5 (or LMDB).",
        discussion: """
        Examples:
          cortado extract-features --model models/lenet/lenet_train_test.prototxt --weights snapshots/lenet_iter_10000.caffemodel.h5 --blobs ip1,ip2 --iterations 10 features.h5
          cortado extract-features --model train_val.prototxt --weights w.caffemodel --blobs fc7 --iterations 100 --format lmdb features/
        The net runs in the TEST phase. HDF5: one dataset per blob, shaped [examples, …], plus `label`
        when the net has a blob of that name. LMDB: a folder with one database per blob, Datum records
        with float_data keyed by the example's index, as Caffe's extract_features writes them.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case hdf5, lmdb }

    @Option(name: [.long, .customLong("model", withSingleDash: true)], help: "The net prototxt (TEST phase).")
    var model: String

    @Option(name: [.long, .customLong("weights", withSingleDash: true)], help: "Trained weights (comma-separated, applied in order).")
    var weights: String

    @Option(help: "Blobs to save, comma-separated.")
    var blobs: String

    @Option(name: [.long, .customLong("iterations", withSingleDash: true)], help: "Batches to run.")
    var iterations: Int = 1

    @Option(help: "hdf5 (one file) or lmdb (a folder of databases).")
    var format: Format = .hdf5

    @OptionGroup var state: NetStateOptions
    @OptionGroup var verify: VerifyOption

    @Argument(help: "The .h5 file, or the folder for --format lmdb.")
    var output: String

    package func run() throws {
        try reportingErrors {
            try state.applyThreadsAndPrecision()
            verify.apply()
            guard iterations > 0 else { throw UsageError("--iterations must be positive") }
            try checkFile(model, "model file")
            let net = try Net.withWeights(model: model, weights: commaList(weights),
                                          state: NetState(phase: .test, level: state.level, stages: state.stages))
            let names = commaList(blobs)
            guard !names.isEmpty else { throw UsageError("--blobs names no blob") }
            var extractor = try FeatureExtractor(net: net, blobs: names)
            try net.shareActivationMemory(keeping: Set(extractor.names))
            for i in 0..<iterations {
                try extractor.extractBatch()
                if (i + 1) % 100 == 0 { Log.info("Extracted features of \(extractor.count) examples", "extract") }
            }
            switch format {
            case .hdf5: try extractor.writeHDF5(output)
            case .lmdb: try extractor.writeLMDB(output)
            }
            Log.info("Saved \(extractor.names.joined(separator: ", ")) of \(extractor.count) examples to \(output)", "extract")
        }
    }
}
