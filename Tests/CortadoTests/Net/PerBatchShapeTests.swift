import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers

/// Caffe reshapes every layer before its forward pass, so shapes that change per batch (a
/// Filter whose selector keeps a different number of rows each time) flow through the net.
@Suite struct PerBatchShapeTests {
    /// 12 examples of 3 features in batches of 4; the selector keeps 1, 3 and 2 rows.
    static let selector: [Float] = [0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1]

    /// Writes the data file and the net `HDF5Data (data, label, sel) → Filter → InnerProduct → SoftmaxWithLoss`.
    static func project(_ dir: String) throws -> String {
        var rng = RNG(seed: 11)
        let file = try HDF5File.create("\(dir)/f.h5")
        try file.write("data", floats: (0..<36).map { _ in rng.uniform(-2, 2) }, shape: [12, 3])
        try file.write("label", floats: (0..<12).map { Float($0 % 3) }, shape: [12])
        try file.write("sel", floats: selector, shape: [12])
        try write("\(dir)/f.h5\n", to: "\(dir)/list.txt")
        let net = "\(dir)/filter.prototxt"
        try write("""
            name: "filtered"
            layer { name: "d" type: "HDF5Data" top: "data" top: "label" top: "sel" hdf5_data_param { source: "\(dir)/list.txt" batch_size: 4 } }
            layer { name: "filter" type: "Filter" bottom: "data" bottom: "label" bottom: "sel" top: "fdata" top: "flabel" }
            layer { name: "ip" type: "InnerProduct" bottom: "fdata" top: "ip"
                    inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" min: -0.5 max: 0.5 } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "flabel" top: "loss" }
            """, to: net)
        return net
    }

    /// The mean over kept rows of −log softmax(W·x + b)[label], computed here from the raw data.
    static func expectedLoss(batch k: Int, weights: [Float], bias: [Float], data: [Float]) -> Float {
        var total: Double = 0, kept = 0
        for row in (4 * k)..<(4 * k + 4) where selector[row] != 0 {
            let x = data[(3 * row)..<(3 * row + 3)].map(Double.init)
            var scores = [Double](repeating: 0, count: 3)
            for c in 0..<3 {
                var score = Double(bias[c])
                for j in 0..<3 { score += Double(weights[3 * c + j]) * x[j] }
                scores[c] = score
            }
            let top = scores.max()!
            let logSum = log(scores.reduce(0) { $0 + exp($1 - top) }) + top
            total += logSum - scores[row % 3]
            kept += 1
        }
        return Float(total / Double(kept))
    }

    @Test func filterWithChangingSelectorGivesCaffesLosses() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        let file = try Self.project(dir)
        var rng = RNG(seed: 5)
        let net = try Net(try NetParameter.load(file: file), state: NetState(phase: .test), rng: &rng, verbose: false)
        let data = try HDF5File.open("\(dir)/f.h5").readFloats("data").values
        let ip = net.layer(named: "ip")!
        let weights = Array(UnsafeBufferPointer(start: ip.blobs[0].data, count: 9))
        let bias = Array(UnsafeBufferPointer(start: ip.blobs[1].data, count: 3))
        for k in 0..<3 {
            let loss = try net.forward()
            #expect(net.blob(named: "fdata")!.shape == [[1, 3, 2][k], 3])
            #expect(net.blob(named: "ip")!.shape == [[1, 3, 2][k], 3])
            let expected = Self.expectedLoss(batch: k, weights: weights, bias: bias, data: data)
            #expect(abs(loss - expected) < 1e-5, "batch \(k): \(loss) vs \(expected)")
        }
    }

    @Test func gradientsFollowTheFilteredRows() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        var rng = RNG(seed: 5)
        let net = try Net(try NetParameter.load(file: try Self.project(dir)), state: NetState(phase: .train), rng: &rng, verbose: false)
        for _ in 0..<3 {
            net.clearParamDiffs()
            _ = try net.forwardBackward()
            let d = net.layer(named: "ip")!.blobs[0]
            #expect((0..<d.count).allSatisfy { d.diff[$0].isFinite })
        }
    }

    @Test func cortadoTestPrintsEachBatchLoss() throws {
        let dir = temporaryDirectory()
        let file = try Self.project(dir)
        // Weights from a net built here, so the expected numbers can be computed.
        quietTestEnvironment()
        var rng = RNG(seed: 9)
        let net = try Net(try NetParameter.load(file: file), state: NetState(phase: .test), rng: &rng, verbose: false)
        try Snapshot.saveWeights(net, to: "\(dir)/w.caffemodel.h5")
        let r = try CLITests.run(["test", "--model", file, "--weights", "\(dir)/w.caffemodel.h5", "--iterations", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let data = try HDF5File.open("\(dir)/f.h5").readFloats("data").values
        let ip = net.layer(named: "ip")!
        let weights = Array(UnsafeBufferPointer(start: ip.blobs[0].data, count: 9))
        let bias = Array(UnsafeBufferPointer(start: ip.blobs[1].data, count: 3))
        for k in 0..<3 {
            let expected = Self.expectedLoss(batch: k, weights: weights, bias: bias, data: data)
            let line = r.stderr.split(separator: "\n").first { $0.contains("Batch \(k), loss = ") }
            let printed = line.flatMap { Float($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) }
            #expect(printed != nil && abs(printed! - expected) < 1e-4, "batch \(k): \(String(describing: line)) vs \(expected)")
        }
    }
}
