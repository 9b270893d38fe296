import ArgumentParser
import Cortado
import Foundation

struct ComputeImageMeanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute-image-mean",
        abstract: "Average every image of an LMDB into a mean.binaryproto, like Caffe's compute_image_mean.",
        discussion: """
        Example:
          cortado compute-image-mean train_lmdb mean.binaryproto
        """
    )

    @Argument(help: "LMDB folder of Datum records.") var db: String
    @Argument(help: "Output BlobProto file.") var output: String
    @Option(name: [.long, .customLong("backend", withSingleDash: true)], help: "Only lmdb.") var backend = "lmdb"

    package func run() throws {
        try reportingErrors {
            guard backend.lowercased() == "lmdb" else { throw UsageError("--backend \(backend) is not available; Cortado reads LMDB only") }
            let (mean, channels, count) = try ImageSet.mean(db: db)
            try CaffeBinary.atomicWrite(CaffeBinary.encodeBlob(mean, legacy4D: true), to: output)
            Log.info("Processed \(count) records; wrote \(output)", "mean")
            for (c, v) in channels.enumerated() { Log.info("mean_value channel [\(c)]: \(caffeFloat(v))", "mean") }
        }
    }
}
