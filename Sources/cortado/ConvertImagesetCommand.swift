import ArgumentParser
import Cortado
import Foundation

struct ConvertImagesetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-imageset",
        abstract: "Convert images listed as `path label` lines into an LMDB of Datum records, like Caffe's convert_imageset.",
        discussion: """
        Keys are %08d_path as in Caffe; pixels are stored C×H×W in BGR order, or the image file itself with --encoded.
        Example:
          cortado convert-imageset images/ train.txt train_lmdb --resize_height 32 --resize_width 32 --shuffle
        """
    )

    @Argument(help: "Folder the list's paths are relative to (with a trailing /).") var root: String
    @Argument(help: "List file: one `path label` per line.") var list: String
    @Argument(help: "LMDB folder to create.") var db: String
    @Option(name: [.customLong("resize_height"), .customLong("resize-height"), .customLong("resize_height", withSingleDash: true)], help: "Resize to this height (0 = keep).") var resizeHeight = 0
    @Option(name: [.customLong("resize_width"), .customLong("resize-width"), .customLong("resize_width", withSingleDash: true)], help: "Resize to this width (0 = keep).") var resizeWidth = 0
    @Flag(name: [.long, .customLong("shuffle", withSingleDash: true)], help: "Shuffle the lines (seed 0, so runs repeat).") var shuffle = false
    @Flag(name: [.long, .customLong("gray", withSingleDash: true)], help: "Store gray images.") var gray = false
    @Flag(name: [.long, .customLong("encoded", withSingleDash: true)], help: "Store the encoded image (PNG when resized or gray).") var encoded = false
    @Option(name: [.long, .customLong("backend", withSingleDash: true)], help: "Only lmdb.") var backend = "lmdb"

    package func run() throws {
        try reportingErrors {
            guard backend.lowercased() == "lmdb" else { throw UsageError("--backend \(backend) is not available; Cortado writes LMDB only") }
            guard (resizeHeight == 0) == (resizeWidth == 0), resizeHeight >= 0 else {
                throw UsageError("give both --resize_height and --resize_width (positive), or neither")
            }
            var o = ImageSet.Options()
            o.resizeHeight = resizeHeight
            o.resizeWidth = resizeWidth
            o.shuffle = shuffle
            o.gray = gray
            o.encoded = encoded
            let n = try ImageSet.convert(root: root, list: list, db: db, options: o)
            Log.info("Processed \(n) files into \(db)", "convert")
        }
    }
}
