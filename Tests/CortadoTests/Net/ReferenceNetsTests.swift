import Foundation
import Testing
@testable import CortadoLayers
@testable import CortadoNet

/// Walks every net definition of Caffe's own examples and models (copied into Tests/CortadoTests/Fixtures/bvlc)
/// and builds it in both phases, with synthetic data where the dataset is absent.
@Suite struct ReferenceNetsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/bvlc").standardized.path

    /// Files that cannot build without something Cortado does not have, and why.
    static let expectedFailures: [String: String] = [
        "examples/finetune_pascal_detection/pascal_finetune_trainval_test.prototxt": "WindowData layer (R-CNN window files) is not implemented",
        "examples/hdf5_classification/nonlinear_auto_test.prototxt": "HDF5Data needs its .h5 files to know its shapes (made by a notebook)",
        "examples/hdf5_classification/nonlinear_auto_train.prototxt": "HDF5Data needs its .h5 files to know its shapes (made by a notebook)",
        "examples/hdf5_classification/nonlinear_train_val.prototxt": "HDF5Data needs its .h5 files to know its shapes (made by a notebook)",
        "examples/hdf5_classification/train_val.prototxt": "HDF5Data needs its .h5 files to know its shapes (made by a notebook)",
        "examples/pycaffe/linreg.prototxt": "Python layer (needs pycaffe)",
        "examples/siamese/mnist_siamese_train_test.prototxt": "LevelDB database of image pairs (2×28×28), which Cortado cannot read and whose shape the file does not declare",
    ]

    /// Stages a file's solver sets for its test nets (without one, Caffe cannot build them either).
    static let testStages: [String: [String]] = ["examples/mnist/mnist_autoencoder.prototxt": ["test-on-test"]]

    static func netFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".prototxt") }.filter { rel in
            let text = (try? String(contentsOfFile: root + "/" + rel, encoding: .utf8)) ?? ""
            return !text.contains("base_lr")
        }.sorted()
    }

    static func build(_ rel: String, _ phase: Phase) throws -> Net {
        quietTestEnvironment()
        let (param, _) = try SyntheticData.replace(in: try NetParameter.load(file: root + "/" + rel))
        return try Net.shapesOnly(param, state: NetState(phase: phase, stages: phase == .test ? testStages[rel] ?? [] : []))
    }

    @Test func everyReferenceNetBuildsInBothPhases() throws {
        let files = Self.netFiles()
        var built = 0
        for rel in files {
            for phase in [Phase.train, .test] {
                do {
                    _ = try Self.build(rel, phase)
                    #expect(Self.expectedFailures[rel] == nil, "\(rel) was expected to fail: \(Self.expectedFailures[rel] ?? "")")
                    built += 1
                } catch {
                    #expect(Self.expectedFailures[rel] != nil, "\(rel) (\(phase.rawValue)): \(error)")
                }
            }
        }
        #expect(built >= 40)
    }

    @Test func shapesCaffeDocuments() throws {
        let caffenet = try Self.build("models/bvlc_reference_caffenet/deploy.prototxt", .test)
        #expect(caffenet.blob(named: "conv1")?.shape == [10, 96, 55, 55])
        #expect(caffenet.blob(named: "pool5")?.shape == [10, 256, 6, 6])
        let googlenet = try Self.build("models/bvlc_googlenet/deploy.prototxt", .test)
        #expect(googlenet.blob(named: "inception_5b/output")?.shape == [10, 1024, 7, 7])
        #expect(NetSummary(googlenet).params == 6_998_552)
        let trainVal = try Self.build("models/bvlc_googlenet/train_val.prototxt", .train)
        #expect(trainVal.blob(named: "data")?.shape == [32, 3, 224, 224])
        let cifar = try Self.build("examples/cifar10/cifar10_quick_train_test.prototxt", .test)
        #expect(cifar.blob(named: "ip1")?.shape == [100, 64])
        let alexnet = try Self.build("models/bvlc_alexnet/train_val.prototxt", .train)
        #expect(alexnet.blob(named: "fc6")?.shape == [256, 4096])
    }

    @Test func summaryJSONListsEveryLayerWithSplits() throws {
        let net = try Self.build("examples/mnist/lenet_train_test.prototxt", .test)
        let json = NetSummary(net).json
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let layers = object["layers"] as! [[String: Any]]
        #expect(layers.map { $0["name"] as! String }.contains("label_mnist_1_split"))
        #expect(layers[0]["type"] as? String == "Data", "a synthetic stand-in keeps the declared type")
        let conv1 = layers.first { $0["name"] as? String == "conv1" }!
        #expect((conv1["tops"] as! [[String: Any]])[0]["shape"] as! [Int] == [100, 20, 24, 24])
        #expect(conv1["params"] as? Int == 520)
        #expect(conv1["macs"] as? Int == 100 * 20 * 24 * 24 * 25)
        #expect(object["params"] as? Int == 431_080)
    }
}
