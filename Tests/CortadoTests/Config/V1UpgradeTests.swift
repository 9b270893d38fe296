import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoConfig
@testable import CortadoLayers
@testable import CortadoNet

/// Old V1 files, written here as users have them, must upgrade to today's form and build with
/// the same shapes as Caffe's modern definitions (copies in Tests/CortadoTests/Fixtures/bvlc).
@Suite struct V1UpgradeTests {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/bvlc").standardized.path

    static let v1LeNet = """
        name: "LeNet"
        input: "data"
        input_dim: 64
        input_dim: 1
        input_dim: 28
        input_dim: 28
        layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 blobs_lr: 2
                 convolution_param { num_output: 20 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layers { name: "conv2" type: CONVOLUTION bottom: "pool1" top: "conv2" blobs_lr: 1 blobs_lr: 2
                 convolution_param { num_output: 50 kernel_size: 5 stride: 1 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layers { name: "pool2" type: POOLING bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layers { name: "ip1" type: INNER_PRODUCT bottom: "pool2" top: "ip1" blobs_lr: 1 blobs_lr: 2
                 inner_product_param { num_output: 500 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layers { name: "relu1" type: RELU bottom: "ip1" top: "ip1" }
        layers { name: "ip2" type: INNER_PRODUCT bottom: "ip1" top: "ip2" blobs_lr: 1 blobs_lr: 2
                 inner_product_param { num_output: 10 weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
        layers { name: "prob" type: SOFTMAX bottom: "ip2" top: "prob" }
        """

    static let v1CaffeNet = """
        name: "CaffeNet"
        input: "data"
        input_dim: 10 input_dim: 3 input_dim: 227 input_dim: 227
        layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
                 convolution_param { num_output: 96 kernel_size: 11 stride: 4 } }
        layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
        layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layers { name: "norm1" type: LRN bottom: "pool1" top: "norm1" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
        layers { name: "conv2" type: CONVOLUTION bottom: "norm1" top: "conv2" blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
                 convolution_param { num_output: 256 pad: 2 kernel_size: 5 group: 2 } }
        layers { name: "relu2" type: RELU bottom: "conv2" top: "conv2" }
        layers { name: "pool2" type: POOLING bottom: "conv2" top: "pool2" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layers { name: "norm2" type: LRN bottom: "pool2" top: "norm2" lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
        layers { name: "conv3" type: CONVOLUTION bottom: "norm2" top: "conv3" convolution_param { num_output: 384 pad: 1 kernel_size: 3 } }
        layers { name: "relu3" type: RELU bottom: "conv3" top: "conv3" }
        layers { name: "conv4" type: CONVOLUTION bottom: "conv3" top: "conv4" convolution_param { num_output: 384 pad: 1 kernel_size: 3 group: 2 } }
        layers { name: "relu4" type: RELU bottom: "conv4" top: "conv4" }
        layers { name: "conv5" type: CONVOLUTION bottom: "conv4" top: "conv5" convolution_param { num_output: 256 pad: 1 kernel_size: 3 group: 2 } }
        layers { name: "relu5" type: RELU bottom: "conv5" top: "conv5" }
        layers { name: "pool5" type: POOLING bottom: "conv5" top: "pool5" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
        layers { name: "fc6" type: INNER_PRODUCT bottom: "pool5" top: "fc6" inner_product_param { num_output: 4096 } }
        layers { name: "relu6" type: RELU bottom: "fc6" top: "fc6" }
        layers { name: "drop6" type: DROPOUT bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 } }
        layers { name: "fc7" type: INNER_PRODUCT bottom: "fc6" top: "fc7" inner_product_param { num_output: 4096 } }
        layers { name: "relu7" type: RELU bottom: "fc7" top: "fc7" }
        layers { name: "drop7" type: DROPOUT bottom: "fc7" top: "fc7" dropout_param { dropout_ratio: 0.5 } }
        layers { name: "fc8" type: INNER_PRODUCT bottom: "fc7" top: "fc8" inner_product_param { num_output: 1000 } }
        layers { name: "prob" type: SOFTMAX bottom: "fc8" top: "prob" }
        """

    func shapes(_ param: NetParameter, phase: Phase = .test) throws -> [String: [Int]] {
        quietTestEnvironment()
        var rng = RNG(seed: 1)
        let net = try Net(param, state: NetState(phase: phase), rng: &rng, verbose: false)
        var out: [String: [Int]] = [:]
        for (i, n) in net.blobNames.enumerated() { out[n] = net.blobs[i].shape }
        for l in net.layers { for (j, b) in l.blobs.enumerated() { out["\(l.name)/\(j)"] = b.shape } }
        return out
    }

    @Test(arguments: [("lenet", "examples/mnist/lenet.prototxt"), ("caffenet", "models/bvlc_reference_caffenet/deploy.prototxt")])
    func upgradesAndBuildsLikeTheModernFile(name: String, modern: String) throws {
        let old = try netParam(name == "lenet" ? Self.v1LeNet : Self.v1CaffeNet)
        let new = try NetParameter.load(file: Self.reference + "/" + modern)
        let a = try shapes(old), b = try shapes(new)
        #expect(a == b)
        if name == "caffenet" {
            #expect(a["pool5"] == [10, 256, 6, 6])
            #expect(a["conv1"] == [10, 96, 55, 55])
            #expect(a["conv2/0"] == [256, 48, 5, 5])
        }
    }

    @Test func blobsLrAndWeightDecayBecomeParamSpecs() throws {
        let net = try netParam(Self.v1CaffeNet)
        let conv1 = net.layers.first { $0.name == "conv1" }!
        #expect(conv1.type == "Convolution")
        #expect(conv1.param.map(\.lrMult) == [1, 2])
        #expect(conv1.param.map(\.decayMult) == [1, 0])
        #expect(net.layers[0].type == "Input" && net.layers[0].top == ["data"])
    }

    @Test func dataTransformFieldsMoveToTransformParam() throws {
        var parser = TextFormatParser(text: """
            layers { name: "data" type: DATA top: "data" top: "label"
                     data_param { source: "x_lmdb" backend: LMDB batch_size: 4 scale: 0.5 crop_size: 3 mirror: true mean_file: "m.binaryproto" }
                     include { phase: TRAIN } }
            """, file: "old.prototxt")
        let tree = try parser.parseTopLevel()
        LayerRegistry.installSchemas()
        _ = try ConfigNode.validated(tree, as: "NetParameter")
        let upgraded = try V1Upgrade.upgradeNet(tree)
        let text = printTextFormat(upgraded)
        #expect(text.contains("transform_param {\n    scale: 0.5\n    crop_size: 3\n    mirror: true\n    mean_file: \"m.binaryproto\"\n  }"))
        #expect(text.contains("data_param {\n    source: \"x_lmdb\"\n    backend: LMDB\n    batch_size: 4\n  }"))
        #expect(text.contains("type: \"Data\""))
    }

    @Test func printedUpgradeParsesBackToTheSameNet() throws {
        var parser = TextFormatParser(text: Self.v1CaffeNet, file: "old.prototxt")
        let text = printTextFormat(try V1Upgrade.upgradeNet(try parser.parseTopLevel()))
        #expect(!text.contains("layers {"))
        let again = try netParam(text, file: "new.prototxt")
        let original = try netParam(Self.v1CaffeNet)
        #expect(again.layers.map(\.name) == original.layers.map(\.name))
        #expect(again.layers.map(\.type) == original.layers.map(\.type))
        #expect(try shapes(again) == shapes(original))
    }

    @Test func mixingOldAndNewLayersIsAnError() {
        #expect(throws: ConfigError.self) {
            _ = try netParam(#"layers { name: "a" type: RELU } layer { name: "b" type: "ReLU" }"#)
        }
    }

    @Test func oldSolverTypeUpgrades() throws {
        var parser = TextFormatParser(text: "net: \"x.prototxt\"\nsolver_type: NESTEROV\nbase_lr: 0.1\n", file: "s.prototxt")
        let text = printTextFormat(try V1Upgrade.upgradeSolver(try parser.parseTopLevel()))
        #expect(text == "net: \"x.prototxt\"\ntype: \"Nesterov\"\nbase_lr: 0.1\n")
    }
}
