import ArgumentParser
import Cortado
import Foundation

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify images with a deploy net and trained weights; print each image's top classes.",
        discussion: """
        Examples:
          cortado classify --model models/lenet/lenet_deploy.prototxt --weights snapshots/lenet_iter_10000.caffemodel.h5 --scale 0.00390625 shirt.png
          cortado classify --model deploy.prototxt --weights caffenet.caffemodel --mean-file imagenet_mean.binaryproto --labels synset_words.txt photos/
          find photos -name '*.jpg' | cortado classify --model deploy.prototxt --weights w.caffemodel --mean-value 104,117,123 --json -
        Images are decoded in BGR order (as Caffe's C++ tools read them) and resized to the input layer's size;
        then, as Caffe's Python Transformer: --channel-swap, --raw-scale, the mean, --scale.
        A mean file is averaged per channel, as Caffe's cpp_classification example does.
        """
    )

    @Option(name: [.long, .customLong("model", withSingleDash: true)], help: "The deploy net (an Input layer).")
    var model: String

    @Option(name: [.long, .customLong("weights", withSingleDash: true)], help: "Trained weights (comma-separated, applied in order).")
    var weights: String

    @Option(name: .customLong("mean-file"), help: "A mean .binaryproto; its per-channel averages are subtracted.")
    var meanFile: String?

    @Option(name: .customLong("mean-value"), help: "Values subtracted per channel (B,G,R), or one for all.")
    var meanValue: String?

    @Option(help: "Multiplies the input after the mean is subtracted (a data layer's `scale`).")
    package var scale: Float = 1

    @Option(name: .customLong("raw-scale"), help: "Pixels are mapped from 0…255 to 0…raw-scale before the mean.")
    var rawScale: Float = 255

    @Option(name: .customLong("channel-swap"), help: "Input channel i takes image channel k_i, e.g. 2,1,0 for RGB.")
    var channelSwap: String?

    @Flag(help: "Decode images in gray (automatic when the input has one channel).")
    var gray = false

    @Flag(name: .customLong("center-crop"), help: "Scale the shorter side to the input size and take the centre, instead of stretching.")
    var centerCrop = false

    @Option(help: "One class name per line, line i naming class i (e.g. synset_words.txt).")
    var labels: String?

    @Option(name: .customLong("top-k"), help: "Classes to print per image.")
    package var topK: Int = 5

    @Flag(help: "Print one JSON array (image, then each class's index, label and probability).")
    var json = false

    @OptionGroup var state: NetStateOptions
    @OptionGroup var verify: VerifyOption

    @Argument(help: "Images (JPEG, PNG), folders of them, or - for a list of paths on standard input.")
    var images: [String] = []

    package func run() throws {
        try reportingErrors {
            try state.applyThreadsAndPrecision()
            verify.apply()
            guard topK > 0 else { throw UsageError("--top-k must be positive") }
            guard !images.isEmpty else { throw UsageError("give images, folders of images, or - to read paths from standard input") }
            try checkFile(model, "model file")
            let classifier = try Classifier(model: model, weights: commaList(weights),
                                            transform: try inputTransform())
            let names = try labels.map(Classifier.readLabels) ?? []
            let paths = try ImagePaths.expand(images)
            guard !paths.isEmpty else { throw UsageError("no JPEG or PNG images in \(images.joined(separator: " "))") }
            let color = classifier.channels == 3 && !gray
            if gray && classifier.channels == 3 { throw UsageError("--gray gives one channel, but \(model)'s input has 3") }
            var results: [(path: String, top: [Prediction])] = []
            let progress = paths.count > classifier.batchSize && isatty(STDERR_FILENO) != 0
            for start in stride(from: 0, to: paths.count, by: classifier.batchSize) {
                let batch = Array(paths[start..<min(start + classifier.batchSize, paths.count)])
                let rows = try classifier.outputs(try batch.map { try Image.load($0, color: color) })
                for (path, row) in zip(batch, rows) {
                    if !names.isEmpty && row.count != names.count {
                        throw UsageError("\(labels!) names \(names.count) classes, but \(classifier.outputName) has \(row.count)")
                    }
                    results.append((path, Classifier.top(row, k: topK)))
                }
                if progress { FileHandle.standardError.write(Data("\r[\(results.count)/\(paths.count)] images classified".utf8)) }
            }
            if progress { FileHandle.standardError.write(Data("\n".utf8)) }
            print(json ? Self.json(results, names: names) : Self.text(results, names: names), terminator: "")
        }
    }

    private func inputTransform() throws -> InputTransform {
        var t = InputTransform()
        if meanFile != nil && meanValue != nil { throw UsageError("give --mean-file or --mean-value, not both") }
        if let meanFile { t.channelMeans = try InputTransform.channelMeans(ofMeanFile: meanFile) }
        if let meanValue { t.channelMeans = try Self.numbers(meanValue, "--mean-value") }
        if let channelSwap { t.channelSwap = try Self.numbers(channelSwap, "--channel-swap").map { Int($0) } }
        t.scale = scale
        t.rawScale = rawScale
        t.centerCrop = centerCrop
        return t
    }

    static func numbers(_ text: String, _ flag: String) throws -> [Float] {
        try text.split(separator: ",").map {
            guard let v = Float($0.trimmingCharacters(in: .whitespaces)) else { throw UsageError("\(flag) takes numbers separated by commas, not \"\(text)\"") }
            return v
        }
    }

    static func label(_ index: Int, _ names: [String]) -> String { names.isEmpty ? "class \(index)" : names[index] }

    /// Caffe's example: a header per image, then `0.8123 - "n02123045 tabby, tabby cat"`.
    static func text(_ results: [(path: String, top: [Prediction])], names: [String]) -> String {
        results.map { r in
            "---------- Prediction for \(r.path) ----------\n"
                + r.top.map { String(format: "%.4f", $0.probability) + " - \"\(label($0.index, names))\"\n" }.joined()
        }.joined()
    }

    static func json(_ results: [(path: String, top: [Prediction])], names: [String]) -> String {
        let objects: [[String: Any]] = results.map { r in
            ["image": r.path, "top": r.top.map { ["index": $0.index, "label": label($0.index, names), "probability": Double($0.probability)] as [String: Any] }]
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// The image files named by the command line: files as given, folders searched (sorted), and
/// `-` for paths read from standard input, one per line.
enum ImagePaths {
    static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    static func expand(_ arguments: [String]) throws -> [String] {
        var paths: [String] = []
        for argument in arguments {
            if argument == "-" {
                while let line = readLine() {
                    let path = line.trimmingCharacters(in: .whitespaces)
                    if !path.isEmpty { paths.append(path) }
                }
                continue
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else { throw UsageError("\(argument): no such file or folder") }
            if !isFolder.boolValue { paths.append(argument); continue }
            let found = (FileManager.default.enumerator(atPath: argument)?.allObjects as? [String] ?? [])
                .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            paths += found.map { (argument as NSString).appendingPathComponent($0) }
        }
        return paths
    }
}
