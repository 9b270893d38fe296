import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers

/// A few protobuf wire-format helpers, to build files byte by byte from caffe.proto's field numbers.
enum Wire {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        repeat {
            var b = UInt8(v & 0x7F)
            v >>= 7
            if v != 0 { b |= 0x80 }
            out.append(b)
        } while v != 0
        return out
    }
    static func int(_ field: Int, _ v: Int) -> [UInt8] { varint(UInt64(field << 3)) + varint(UInt64(v)) }
    static func bytes(_ field: Int, _ b: [UInt8]) -> [UInt8] { varint(UInt64(field << 3 | 2)) + varint(UInt64(b.count)) + b }
    static func string(_ field: Int, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }
    static func floats(_ field: Int, _ v: [Float]) -> [UInt8] {
        bytes(field, v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }
}

@Suite struct CaffeBinaryTests {
    func lenet(seed: UInt64, phase: Phase = .train) throws -> Net {
        quietTestEnvironment()
        var rng = RNG(seed: seed)
        return try Net(try netParam(NetTests.lenetLike), state: NetState(phase: phase), rng: &rng, verbose: false)
    }

    @Test func binaryCaffemodelRoundTrip() throws {
        let dir = temporaryDirectory()
        let a = try lenet(seed: 1)
        try Snapshot.saveWeightsBinary(a, to: "\(dir)/w.caffemodel")
        let b = try lenet(seed: 2, phase: .test)
        #expect(b.learnableParams[0].dataArray != a.learnableParams[0].dataArray)
        let (missing, _) = try Snapshot.loadWeights(b, from: "\(dir)/w.caffemodel")
        #expect(missing.isEmpty)
        #expect(b.learnableParams.map(\.dataArray) == a.learnableParams.map(\.dataArray))
        let stored = try CaffeBinary.readNet("\(dir)/w.caffemodel")
        #expect(stored.layers.map(\.name).prefix(3) == ["data", "conv1", "pool1"])
        #expect(stored.layers[1].type == "Convolution" && stored.layers[1].bottom == ["data"])
    }

    @Test func binaryToHDF5ToBinaryKeepsEveryBit() throws {
        let dir = temporaryDirectory()
        let net = try lenet(seed: 3)
        // Awkward values survive: subnormals, negative zero, extremes.
        net.learnableParams[1].data[0] = -0.0
        net.learnableParams[1].data[1] = Float.leastNonzeroMagnitude
        net.learnableParams[1].data[2] = -Float.greatestFiniteMagnitude
        try Snapshot.saveWeightsBinary(net, to: "\(dir)/a.caffemodel")
        let (name, layers) = try WeightsFile.read("\(dir)/a.caffemodel")
        try WeightsFile.writeHDF5(layers, to: "\(dir)/b.caffemodel.h5")
        let (_, fromH5) = try WeightsFile.read("\(dir)/b.caffemodel.h5")
        try CaffeBinary.atomicWrite(CaffeBinary.encodeNet(name: name, stored: fromH5), to: "\(dir)/c.caffemodel")
        let (_, final) = try WeightsFile.read("\(dir)/c.caffemodel")
        func bits(_ ls: [StoredLayer]) -> [String: [[UInt32]]] {
            Dictionary(uniqueKeysWithValues: ls.filter { !$0.blobs.isEmpty }.map { ($0.name, $0.blobs.map { $0.values.map(\.bitPattern) }) })
        }
        #expect(bits(final) == bits(layers))
        #expect(bits(layers)["conv1"]?[1][0] == (-0.0 as Float).bitPattern)
        #expect(bits(final)["conv1"]?[1][1] == Float.leastNonzeroMagnitude.bitPattern)
    }

    @Test func handBuiltV1CaffemodelLoadsIntoTodaysShapes() throws {
        // NetParameter { name: "v1" layers (2) { name (4): "ip" type (5): INNER_PRODUCT = 14
        //   blobs (6) { num 1 channels 1 height 2 width 3 data (5) } blobs (6) { ... width 2 data } } }
        let weight: [Float] = [1, 2, 3, 4, 5, 6], bias: [Float] = [0.5, -0.5]
        let blob1 = Wire.int(1, 1) + Wire.int(2, 1) + Wire.int(3, 2) + Wire.int(4, 3) + Wire.floats(5, weight)
        let blob2 = Wire.int(1, 1) + Wire.int(2, 1) + Wire.int(3, 1) + Wire.int(4, 2) + Wire.floats(5, bias)
        let layer = Wire.string(4, "ip") + Wire.int(5, 14) + Wire.bytes(6, blob1) + Wire.bytes(6, blob2)
        let relu = Wire.string(4, "relu") + Wire.int(5, 18)
        let file = Wire.string(1, "v1") + Wire.bytes(2, layer) + Wire.bytes(2, relu)
        let dir = temporaryDirectory()
        try Data(file).write(to: URL(fileURLWithPath: "\(dir)/v1.caffemodel"))
        let stored = try CaffeBinary.readNet("\(dir)/v1.caffemodel")
        #expect(stored.layers.map(\.type) == ["InnerProduct", "ReLU"])
        #expect(stored.layers[0].blobs[0].legacy && stored.layers[0].blobs[0].shape == [1, 1, 2, 3])
        var rng = RNG(seed: 1)
        let net = try Net(try netParam("""
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 } }
            """), state: NetState(phase: .test), rng: &rng, verbose: false)
        try Snapshot.loadWeights(net, from: "\(dir)/v1.caffemodel")
        net.blob(named: "x")!.setData([1, 1, 1])
        try net.forward()
        #expect(net.blob(named: "y")!.dataArray == [6.5, 14.5])
    }

    @Test func doubleDataIsRead() throws {
        let doubles: [Double] = [0.25, -2]
        let packed = doubles.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let blob = Wire.bytes(7, Wire.bytes(1, Wire.varint(2))) + Wire.bytes(8, packed)   // shape { dim: 2 } double_data
        let dir = temporaryDirectory()
        try Data(blob).write(to: URL(fileURLWithPath: "\(dir)/m.binaryproto"))
        let b = try CaffeBinary.readBlob("\(dir)/m.binaryproto")
        #expect(b.shape == [2] && b.values == [0.25, -2])
    }

    @Test func truncatedOrForeignFilesAreClearErrors() throws {
        let dir = temporaryDirectory()
        try Snapshot.saveWeightsBinary(try lenet(seed: 4), to: "\(dir)/w.caffemodel")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/w.caffemodel"))
        try bytes.prefix(bytes.count - 1000).write(to: URL(fileURLWithPath: "\(dir)/cut.caffemodel"))
        let net = try lenet(seed: 5)
        do {
            try Snapshot.loadWeights(net, from: "\(dir)/cut.caffemodel")
            Issue.record("a truncated file must fail")
        } catch let e as any CortadoFailure {
            #expect(e.description.contains("cut.caffemodel"))
        }
        try Data("definitely not protobuf \u{0}\u{1}\u{2}".utf8).write(to: URL(fileURLWithPath: "\(dir)/junk.caffemodel"))
        #expect(throws: DataError.self) { try Snapshot.loadWeights(net, from: "\(dir)/junk.caffemodel") }
        #expect(throws: DataError.self) { _ = try CaffeBinary.readSolverState("\(dir)/junk.caffemodel") }
        #expect(throws: DataError.self) { _ = try CaffeBinary.readBlob("\(dir)/cut.caffemodel") }
    }

    @Test func impossibleShapesInHeadersAreErrorsNotTraps() throws {
        let dir = temporaryDirectory()
        // A BlobProto whose shape overflows: dims 2^40 × 2^40.
        let huge = Wire.bytes(7, Wire.bytes(1, Wire.varint(1 << 40) + Wire.varint(1 << 40)))
        try Data(huge).write(to: URL(fileURLWithPath: "\(dir)/huge.binaryproto"))
        #expect(throws: DataError.self) { _ = try CaffeBinary.readBlob("\(dir)/huge.binaryproto") }
        // An IDX header of four dimensions of 2^31 − 1.
        let idx: [UInt8] = [0, 0, 8, 4] + Array(repeating: [0x7F, 0xFF, 0xFF, 0xFF], count: 4).flatMap { $0 }
        try Data(idx).write(to: URL(fileURLWithPath: "\(dir)/huge.idx"))
        #expect(throws: DataError.self) { _ = try IDXFile.read("\(dir)/huge.idx") }
    }
}

/// Inputs the fuzzers found, kept as tests (tools/fuzz.sh; docs/RELIABILITY.md).
@Suite struct FuzzFindingsTests {
    /// An empty file: Foundation's reader leaked a page on it; every reader now refuses it cleanly.
    @Test func emptyFilesAreRefusedByEveryReader() throws {
        let path = temporaryDirectory() + "/empty"
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(throws: DataError.self) { _ = try CaffeBinary.readNet(path) }
        #expect(throws: DataError.self) { _ = try CaffeBinary.readSolverState(path) }
        #expect(throws: DataError.self) { _ = try CaffeBinary.readBlob(path) }
        #expect(throws: DataError.self) { _ = try IDXFile.read(path) }
        #expect(throws: (any Error).self) { _ = try WeightsFile.read(path) }
    }
}
