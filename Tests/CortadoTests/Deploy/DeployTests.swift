import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers
@testable import CortadoDeploy

/// `classify` and `extract-features` against `test`: the same net, weights and inputs give the
/// same numbers through each command.
@Suite struct DeployTests {
    static let repository = DataParallelTests.repository

    /// In `dir`: 12 random 28×28 gray images as PNGs and as an HDF5 test set (pixels / 256,
    /// as LeNet reads them), LeNet's deploy net with random weights saved as `w.caffemodel.h5`,
    /// and `test.prototxt`: the same net reading the HDF5 set instead of its Input layer.
    static func lenetProject(_ dir: String) throws -> [String] {
        var rng = RNG(seed: 21)
        let n = 12
        var pixels: [Float] = []
        var paths: [String] = []
        for i in 0..<n {
            let image = Image(channels: 1, height: 28, width: 28, pixels: (0..<784).map { _ in UInt8(rng.below(256)) })
            paths.append("\(dir)/image\(String(format: "%02d", i)).png")
            try Data(try ImageSet.encodePNG(image)).write(to: URL(fileURLWithPath: paths[i]))
            pixels += image.pixels.map { Float($0) / 256 }
        }
        let file = try HDF5File.create("\(dir)/test.h5")
        try file.write("data", floats: pixels, shape: [n, 1, 28, 28])
        try file.write("label", floats: (0..<n).map { Float($0 % 10) }, shape: [n])
        try write("\(dir)/test.h5\n", to: "\(dir)/list.txt")
        let deploy = try String(contentsOfFile: "\(repository)/models/lenet/lenet_deploy.prototxt", encoding: .utf8)
        // Drop the first layer (Input): everything from the first `layer {` to the second.
        let first = try #require(deploy.range(of: "layer {"))
        let second = try #require(deploy.range(of: "layer {", range: first.upperBound..<deploy.endIndex))
        let body = deploy.replacingCharacters(in: first.lowerBound..<second.lowerBound, with: "")
        try write(body.replacingOccurrences(of: "name: \"LeNet\"", with: """
            name: "LeNet"
            layer { name: "data" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(dir)/list.txt" batch_size: 4 } }
            """), to: "\(dir)/test.prototxt")
        var seed = RNG(seed: 5)
        let net = try Net(try NetParameter.load(file: "\(repository)/models/lenet/lenet_deploy.prototxt"), state: NetState(phase: .test), rng: &seed, verbose: false)
        // Large weights, so the probabilities are far from uniform.
        for b in net.learnableParams { for i in 0..<b.count { b.data[i] *= 4 } }
        try Snapshot.saveWeights(net, to: "\(dir)/w.caffemodel.h5")
        return paths
    }

    /// `Batch i, prob = x` lines of `cortado test`, in order.
    static func testOutputs(_ log: String, blob: String) -> [Float] {
        log.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: ", \(blob) = ") else { return nil }
            return Float(line[r.upperBound...])
        }
    }

    @Test func classifyGivesTestsProbabilities() throws {
        let dir = temporaryDirectory()
        let paths = try Self.lenetProject(dir)
        let test = try CLITests.run(["test", "--model", "\(dir)/test.prototxt", "--weights", "\(dir)/w.caffemodel.h5", "--iterations", "3"])
        #expect(test.status == 0, "\(test.stderr)")
        let expected = Self.testOutputs(test.stderr, blob: "prob")
        try #require(expected.count == 12 * 10)

        // A folder of images; batches of 64 (the deploy file's), so all 12 in one pass.
        let r = try CLITests.run(["classify", "--model", "\(Self.repository)/models/lenet/lenet_deploy.prototxt", "--weights", "\(dir)/w.caffemodel.h5",
                                  "--scale", "0.00390625", "--top-k", "10", "--json", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let results = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(results.map { $0["image"] as? String } == paths)
        for (i, result) in results.enumerated() {
            var row = [Float](repeating: -1, count: 10)
            for entry in result["top"] as? [[String: Any]] ?? [] { row[entry["index"] as! Int] = Float(entry["probability"] as! Double) }
            expectClose(row, Array(expected[(i * 10)..<((i + 1) * 10)]), tolerance: 1e-5)
        }

        // Caffe's text form, labels from a file, paths from standard input.
        try write((0..<10).map { "T\($0) shirt" }.joined(separator: "\n") + "\n", to: "\(dir)/labels.txt")
        let text = try CLITests.run(["/bin/sh", "-c", "echo \(paths[0]) | '\(CLITests.binary)' classify --model '\(Self.repository)/models/lenet/lenet_deploy.prototxt' --weights '\(dir)/w.caffemodel.h5' --scale 0.00390625 --labels '\(dir)/labels.txt' --top-k 2 -"], direct: true)
        let best = Classifier.top(Array(expected[0..<10]), k: 2)
        #expect(text.stdout == "---------- Prediction for \(paths[0]) ----------\n"
            + best.map { String(format: "%.4f", $0.probability) + " - \"T\($0.index) shirt\"\n" }.joined(), "\(text.stderr)")
    }

    /// Caffe's Python Transformer order: channel swap, raw scale, mean, scale.
    @Test func inputTransformAppliesCaffesSteps() throws {
        // 2×2 BGR image: B = 10, G = 20, R = 30 (then 40, 50, 60 … per pixel).
        let image = Image(channels: 3, height: 2, width: 2, pixels: [10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33])
        var t = InputTransform()
        t.channelSwap = [2, 1, 0]
        t.rawScale = 1
        t.channelMeans = [0.1, 0.0, 0.2]
        t.scale = 2
        var out = [Float](repeating: 0, count: 12)
        try t.check(channels: 3)
        out.withUnsafeMutableBufferPointer { t.apply(image, height: 2, width: 2, into: $0.baseAddress!) }
        expectClose(out, [30, 31, 32, 33].map { (Float($0) / 255 - 0.1) * 2 } + [20, 21, 22, 23].map { Float($0) / 255 * 2 }
            + [10, 11, 12, 13].map { (Float($0) / 255 - 0.2) * 2 })
        // Centre crop: a 2×4 gray image scaled to 2×4 for a 2×2 input keeps the middle columns.
        var crop = InputTransform()
        crop.centerCrop = true
        let wide = Image(channels: 1, height: 2, width: 4, pixels: [1, 2, 3, 4, 5, 6, 7, 8])
        var small = [Float](repeating: 0, count: 4)
        small.withUnsafeMutableBufferPointer { crop.apply(wide, height: 2, width: 2, into: $0.baseAddress!) }
        #expect(small == [2, 3, 6, 7])
    }

    @Test func classifyErrorsAreClear() throws {
        let dir = temporaryDirectory()
        _ = try Self.lenetProject(dir)
        let deploy = "\(Self.repository)/models/lenet/lenet_deploy.prototxt"
        func message(_ args: [String]) throws -> String { try CLITests.run(["classify", "--model"] + args).stderr }
        #expect(try message(["\(dir)/test.prototxt", "--weights", "\(dir)/w.caffemodel.h5", "\(dir)/image00.png"]).contains("needs a deploy net whose Input layer"))
        #expect(try message([deploy, "--weights", "\(dir)/w.caffemodel.h5", "\(dir)/none.png"]).contains("no such file or folder"))
        #expect(try message([deploy, "--weights", "\(dir)/w.caffemodel.h5", "--channel-swap", "1,0", "\(dir)/image00.png"]).contains("--channel-swap must list each of the 1 channels once"))
        try write("a\nb\n", to: "\(dir)/two.txt")
        #expect(try message([deploy, "--weights", "\(dir)/w.caffemodel.h5", "--labels", "\(dir)/two.txt", "\(dir)/image00.png"]).contains("names 2 classes, but prob has 10"))
    }

    @Test func extractFeaturesGivesTestsValuesInSummaryShapes() throws {
        let dir = temporaryDirectory()
        _ = try Self.lenetProject(dir)
        let r = try CLITests.run(["extract-features", "--model", "\(dir)/test.prototxt", "--weights", "\(dir)/w.caffemodel.h5",
                                  "--blobs", "pool2,prob", "--iterations", "3", "\(dir)/features.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        let file = try HDF5File.open("\(dir)/features.h5")
        let pool2 = try file.readFloats("pool2"), prob = try file.readFloats("prob"), label = try file.readFloats("label")
        let summary = NetSummary(try Net.shapesOnly(try NetParameter.load(file: "\(dir)/test.prototxt"), state: NetState(phase: .test)))
        let pool2Shape = summary.rows.first { $0.name == "pool2" }?.tops.first?.shape ?? []
        #expect(pool2.shape == [12] + pool2Shape.dropFirst())
        #expect(prob.shape == [12, 10])
        #expect(label.values == (0..<12).map { Float($0 % 10) })
        let test = try CLITests.run(["test", "--model", "\(dir)/test.prototxt", "--weights", "\(dir)/w.caffemodel.h5", "--iterations", "3"])
        expectClose(prob.values, Self.testOutputs(test.stderr, blob: "prob"), tolerance: 1e-6)

        let lmdb = try CLITests.run(["extract-features", "--model", "\(dir)/test.prototxt", "--weights", "\(dir)/w.caffemodel.h5",
                                     "--blobs", "prob", "--iterations", "3", "--format", "lmdb", "\(dir)/features"])
        #expect(lmdb.status == 0, "\(lmdb.stderr)")
        let db = try LMDB.openForReading("\(dir)/features/prob")
        #expect(try db.first())
        #expect(db.currentKey == "0000000000")
        let datum = try Datum.decode(db.currentValue, source: "prob")
        #expect(datum.floatData == Array(prob.values[0..<10]))
        #expect(try CLITests.run(["extract-features", "--model", "\(dir)/test.prototxt", "--weights", "\(dir)/w.caffemodel.h5", "--blobs", "pool3", "\(dir)/x.h5"])
            .stderr.contains("the net has no blob \"pool3\"; did you mean \"pool"))
    }
}
