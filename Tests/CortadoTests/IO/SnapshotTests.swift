import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers

@Suite struct SnapshotTests {
    func lenet() throws -> Net {
        quietTestEnvironment()
        var rng = RNG(seed: 1)
        return try Net(try netParam(NetTests.lenetLike), state: NetState(phase: .train), rng: &rng, verbose: false)
    }

    @Test func weightsUseCaffeLayout() throws {
        let dir = temporaryDirectory()
        let net = try lenet()
        try Snapshot.saveWeights(net, to: "\(dir)/w.caffemodel.h5")
        let f = try HDF5File.open("\(dir)/w.caffemodel.h5")
        #expect(try f.shape("data/conv1/0") == [20, 1, 5, 5])
        #expect(try f.shape("data/conv1/1") == [20])
        #expect(try f.shape("data/ip1/0") == [10, 2880])
        #expect(f.isGroup("data/pool1"), "layers without params still get a group")
        #expect(try f.children("data/pool1").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/w.caffemodel.h5.tmp-\(getpid())"))
    }

    @Test func roundTripAndFineTuneRules() throws {
        let dir = temporaryDirectory()
        let a = try lenet()
        try Snapshot.saveWeights(a, to: "\(dir)/w.h5")
        var rng = RNG(seed: 99)
        let b = try Net(try netParam(NetTests.lenetLike), state: NetState(phase: .test), rng: &rng, verbose: false)
        #expect(b.learnableParams[0].dataArray != a.learnableParams[0].dataArray)
        let (missing, ignored) = try Snapshot.loadWeights(b, from: "\(dir)/w.h5")
        #expect(missing.isEmpty && ignored.isEmpty)
        #expect(b.learnableParams.map(\.dataArray) == a.learnableParams.map(\.dataArray))

        // A renamed layer keeps its filler and is reported; the old name is ignored.
        let renamed = NetTests.lenetLike.replacingOccurrences(of: #"name: "ip1""#, with: #"name: "ip1_new""#)
        let c = try Net(try netParam(renamed), state: NetState(phase: .train), rng: &rng, verbose: false)
        let (m2, i2) = try Snapshot.loadWeights(c, from: "\(dir)/w.h5")
        #expect(m2 == ["ip1_new"])
        #expect(i2 == ["ip1"])
    }

    @Test func shapeMismatchNamesLayerAndShapes() throws {
        let dir = temporaryDirectory()
        try Snapshot.saveWeights(try lenet(), to: "\(dir)/w.h5")
        let wider = NetTests.lenetLike.replacingOccurrences(of: "num_output: 20", with: "num_output: 32")
        var rng = RNG(seed: 2)
        let net = try Net(try netParam(wider), state: NetState(phase: .train), rng: &rng, verbose: false)
        do {
            try Snapshot.loadWeights(net, from: "\(dir)/w.h5")
            Issue.record("expected a shape mismatch")
        } catch let e as NetError {
            #expect(e.layer == "conv1")
            #expect(e.description.contains("layer \"conv1\""))
            #expect(e.description.contains("20 1 5 5"))
            #expect(e.description.contains("32 1 5 5"))
            #expect(e.description.contains("rename the layer"))
        }
    }

    @Test func truncatedAndMissingFilesAreErrors() throws {
        let dir = temporaryDirectory()
        try Snapshot.saveWeights(try lenet(), to: "\(dir)/w.h5")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/w.h5"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: "\(dir)/half.h5"))
        let net = try lenet()
        #expect(throws: FileError.self) { try Snapshot.loadWeights(net, from: "\(dir)/half.h5") }
        #expect(throws: FileError.self) { try Snapshot.loadWeights(net, from: "\(dir)/nothere.h5") }
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: "\(dir)/junk.caffemodel"))
        #expect(throws: DataError.self) { try Snapshot.loadWeights(net, from: "\(dir)/junk.caffemodel") }
    }
}
