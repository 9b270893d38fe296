import Foundation
import Testing
@testable import CortadoConfig
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers

/// `validate` checks every layer's settings, even where a layer upstream is broken, and refuses
/// what `train`, `test` and `time` would refuse.
@Suite struct ValidatorTests {
    func validate(_ net: String) throws -> Validator.Report {
        let dir = temporaryDirectory()
        try write(net, to: "\(dir)/net.prototxt")
        return Validator.validate(files: ["\(dir)/net.prototxt"])
    }

    @Test func settingsDownstreamOfABrokenLayerAreChecked() throws {
        let report = try validate("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 8 dim: 8 } } }
            layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernal_size: 3 } }
            layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
                    convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavire" } } }
            layer { name: "pool" type: "Pooling" bottom: "conv2" top: "pool" pooling_param { pool: AVE kernel_size: 2 stride: 0 } }
            """)
        let text = report.problems.map { "\($0.location?.description ?? ""): \($0.path): \($0.message)" }
        #expect(text.contains { $0.contains("kernal_size") && $0.contains("did you mean \"kernel_size\"?") })
        #expect(text.contains { $0.contains("net.prototxt:4:") && $0.contains("unknown filler type \"xavire\"") && $0.contains("did you mean \"xavier\"?") })
        #expect(text.contains { $0.contains("layer \"pool\"") && $0.contains("stride must be positive") })
    }

    /// Absent data is a note whether the list itself or a file it names is absent.
    @Test(arguments: [false, true]) func absentHDF5DataIsANote(listPresent: Bool) throws {
        let dir = temporaryDirectory()
        if listPresent { try write("\(dir)/missing.h5\n", to: "\(dir)/list.txt") }
        let report = try validate("""
            layer { name: "d" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(dir)/list.txt" batch_size: 4 } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
            """)
        #expect(report.problems.isEmpty, "\(report.problems.map(\.message))")
        #expect(report.warnings.contains { $0.contains(listPresent ? "missing.h5" : "list.txt") })
    }

    @Test func averagePoolingWithTwoTopsIsRefused() throws {
        let report = try validate("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 8 dim: 8 } } }
            layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" top: "mask" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
            """)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.location?.line == 2)
        #expect(report.problems.first?.message.contains("at most 1 top") == true)
    }

    @Test func netsWithNoLayersAreRefusedButOnePhaseNetsAreNot() throws {
        let empty = try validate("name: \"nothing\"\n")
        #expect(empty.problems.first?.message.contains("no layers") == true)
        #expect(empty.problems.first?.location?.line == 1)
        let trainOnly = try validate("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } include { phase: TRAIN } }
            """)
        #expect(trainOnly.problems.isEmpty)
    }

    /// Every setting the layers read is a field of Caffe's schema: decoding every layer type
    /// (empty settings, and the reference nets' real ones) records no read of an unknown field.
    @Test func everyFieldTheCodeReadsExists() throws {
        let unknown = try FieldReads.recording { try readEveryField() }
        #expect(unknown.isEmpty, "fields read but not in the schema: \(unknown.sorted())")
        // The recorder sees a misspelt read.
        let misspelt = FieldReads.recording { _ = ConfigNode.empty("LayerParameter").int("num_ouptut") }
        #expect(misspelt == ["LayerParameter.num_ouptut"])
    }

    private func readEveryField() throws {
        for type in LayerRegistry.builtInTypes {
            _ = try? LayerRegistry.create(LayerParameter(name: "x", type: type, bottom: ["a", "b"], top: ["t"]), phase: .train)
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/bvlc").standardized
        let files = FileManager.default.enumerator(atPath: fixtures.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".prototxt") } ?? []
        #expect(files.count > 10)
        for f in files {
            guard let net = try? NetParameter.load(file: fixtures.appendingPathComponent(f).path) else { continue }
            for layer in net.layers { _ = try? LayerRegistry.create(layer, phase: .train) }
            for p in [Phase.train, .test] { _ = Net.check(net, state: net.state(in: p)) }
        }
    }
}
