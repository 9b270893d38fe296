import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoLayers
@testable import CortadoSolvers
@testable import CortadoDistributed

/// One net that uses every layer type at least once trains a few iterations without NaN.
@Suite struct EveryLayerNetTests {
    static let net = """
        name: "everything"
        layer { name: "data" type: "DummyData" top: "data" top: "label" top: "index" top: "select" top: "similar"
                dummy_data_param { shape { dim: 4 dim: 3 dim: 8 dim: 8 } shape { dim: 4 } shape { dim: 4 } shape { dim: 4 } shape { dim: 4 }
                                   data_filler { type: "gaussian" std: 0.5 } data_filler { type: "constant" value: 1 }
                                   data_filler { type: "constant" value: 2 } data_filler { type: "constant" value: 1 } data_filler { type: "constant" value: 1 } } }
        layer { name: "input" type: "Input" top: "extra" input_param { shape { dim: 4 dim: 2 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "msra" } } }
        layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" }
        layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
        layer { name: "prelu" type: "PReLU" bottom: "conv" top: "conv" }
        layer { name: "lrn" type: "LRN" bottom: "conv" top: "lrn" lrn_param { local_size: 3 } }
        layer { name: "pool" type: "Pooling" bottom: "lrn" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "stochastic" type: "Pooling" bottom: "conv" top: "stoch" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 } }
        layer { name: "spp" type: "SPP" bottom: "stoch" top: "spp" spp_param { pyramid_height: 2 } }
        layer { name: "deconv" type: "Deconvolution" bottom: "pool" top: "deconv" convolution_param { num_output: 4 kernel_size: 2 stride: 2 weight_filler { type: "bilinear" } } }
        layer { name: "crop" type: "Crop" bottom: "deconv" bottom: "conv" top: "crop" }
        layer { name: "concat" type: "Concat" bottom: "crop" bottom: "conv" top: "concat" }
        layer { name: "slice" type: "Slice" bottom: "concat" top: "s1" top: "s2" }
        layer { name: "eltwise" type: "Eltwise" bottom: "s1" bottom: "s2" top: "sum" eltwise_param { operation: SUM coeff: 1 coeff: 0.5 } }
        layer { name: "elu" type: "ELU" bottom: "sum" top: "elu" }
        layer { name: "abs" type: "AbsVal" bottom: "elu" top: "abs" }
        layer { name: "power" type: "Power" bottom: "abs" top: "power" power_param { power: 2 scale: 0.5 shift: 1 } }
        layer { name: "log" type: "Log" bottom: "power" top: "log" }
        layer { name: "exp" type: "Exp" bottom: "log" top: "exp" exp_param { scale: 0.1 } }
        layer { name: "bnll" type: "BNLL" bottom: "exp" top: "bnll" }
        layer { name: "swish" type: "Swish" bottom: "bnll" top: "swish" }
        layer { name: "clip" type: "Clip" bottom: "swish" top: "clip" clip_param { min: -5 max: 5 } }
        layer { name: "mvn" type: "MVN" bottom: "clip" top: "mvn" }
        layer { name: "sigmoid" type: "Sigmoid" bottom: "mvn" top: "sigmoid" }
        layer { name: "tanh" type: "TanH" bottom: "sigmoid" top: "tanh" }
        layer { name: "relu" type: "ReLU" bottom: "tanh" top: "relu" relu_param { negative_slope: 0.1 } }
        layer { name: "dropout" type: "Dropout" bottom: "relu" top: "relu" }
        layer { name: "flatten" type: "Flatten" bottom: "relu" top: "flat" }
        layer { name: "reshape" type: "Reshape" bottom: "flat" top: "reshaped" reshape_param { shape { dim: 0 dim: -1 } } }
        layer { name: "bias" type: "Bias" bottom: "reshaped" top: "biased" }
        layer { name: "ip" type: "InnerProduct" bottom: "biased" top: "ip" inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
        layer { name: "reindex" type: "BatchReindex" bottom: "ip" bottom: "index" top: "reindexed" }
        layer { name: "filter" type: "Filter" bottom: "reindexed" bottom: "select" top: "scores" }
        layer { name: "embed" type: "Embed" bottom: "label" top: "embedded" embed_param { num_output: 5 input_dim: 3 weight_filler { type: "uniform" } } }
        layer { name: "param" type: "Parameter" top: "offset" parameter_param { shape { dim: 4 dim: 5 } } }
        layer { name: "add" type: "Eltwise" bottom: "scores" bottom: "embedded" bottom: "offset" top: "logits" }
        layer { name: "tile" type: "Tile" bottom: "extra" top: "tiled" tile_param { axis: 1 tiles: 2 } }
        layer { name: "reduce" type: "Reduction" bottom: "tiled" top: "reduced" reduction_param { operation: SUMSQ axis: 1 } }
        layer { name: "argmax" type: "ArgMax" bottom: "logits" top: "argmax" }
        layer { name: "threshold" type: "Threshold" bottom: "reduced" top: "above" }
        layer { name: "silence" type: "Silence" bottom: "argmax" bottom: "above" bottom: "spp" }
        layer { name: "split_logits" type: "Split" bottom: "logits" top: "l1" top: "l2" top: "l3" top: "l4" top: "l5" top: "l6" }
        layer { name: "softmax_loss" type: "SoftmaxWithLoss" bottom: "l1" bottom: "label" top: "softmax_loss" }
        layer { name: "sigmoid_loss" type: "SigmoidCrossEntropyLoss" bottom: "l2" bottom: "h_target" top: "sigmoid_loss" }
        layer { name: "h_target" type: "DummyData" top: "h_target" top: "h" dummy_data_param { shape { dim: 4 dim: 5 } shape { dim: 5 dim: 5 } data_filler { type: "uniform" } data_filler { type: "uniform" } } }
        layer { name: "hinge" type: "HingeLoss" bottom: "l3" bottom: "label" top: "hinge_loss" }
        layer { name: "softmax" type: "Softmax" bottom: "l4" top: "prob" }
        layer { name: "multinomial" type: "MultinomialLogisticLoss" bottom: "prob" bottom: "label" top: "multinomial_loss" }
        layer { name: "infogain" type: "InfogainLoss" bottom: "l5" bottom: "label" bottom: "h" top: "infogain_loss" }
        layer { name: "contrastive" type: "ContrastiveLoss" bottom: "l6" bottom: "target" bottom: "similar" top: "contrastive_loss" }
        layer { name: "target" type: "DummyData" top: "target" dummy_data_param { shape { dim: 4 dim: 5 } data_filler { type: "gaussian" } } }
        layer { name: "euclidean" type: "EuclideanLoss" bottom: "reduced" bottom: "zero" top: "euclidean_loss" loss_weight: 0.01 }
        layer { name: "zero" type: "DummyData" top: "zero" dummy_data_param { shape { dim: 4 } } }
        layer { name: "accuracy" type: "Accuracy" bottom: "prob" bottom: "label" top: "accuracy" }
        layer { name: "sequence" type: "DummyData" top: "seq" top: "seqcont" dummy_data_param { shape { dim: 3 dim: 4 dim: 5 } shape { dim: 3 dim: 4 }
                data_filler { type: "gaussian" } data_filler { type: "constant" value: 1 } } }
        layer { name: "lstm" type: "LSTM" bottom: "seq" bottom: "seqcont" top: "lstm_out" recurrent_param { num_output: 3 weight_filler { type: "uniform" min: -0.3 max: 0.3 } } }
        layer { name: "rnn" type: "RNN" bottom: "lstm_out" bottom: "seqcont" top: "rnn_out" loss_weight: 0.01 recurrent_param { num_output: 2 weight_filler { type: "uniform" min: -0.3 max: 0.3 } } }
        """

    @Test func trainsWithoutNaN() throws {
        quietTestEnvironment()
        // Layers that read blobs defined further down are moved after them (a net is ordered).
        var lines = Self.net.split(separator: "\n").map(String.init)
        for late in ["\"sigmoid_loss\"", "\"contrastive\"", "\"euclidean\"", "\"infogain\""] {
            if let i = lines.firstIndex(where: { $0.contains("name: \(late)") }) { lines.append(lines.remove(at: i)) }
        }
        let dir = temporaryDirectory()
        try write(lines.joined(separator: "\n"), to: "\(dir)/net.prototxt")
        try write("net: \"net.prototxt\" base_lr: 0.01 momentum: 0.9 lr_policy: \"fixed\" random_seed: 3 snapshot_prefix: \"\(dir)/s\"", to: "\(dir)/solver.prototxt")
        let s = try Solver(try SolverParameter.load(file: "\(dir)/solver.prototxt"), verbose: false)
        let used = Set(s.net.layers.map(\.type))
        let missing = Set(LayerRegistry.builtInTypes).subtracting(used).subtracting(["HDF5Data", "Data", "ImageData", "Python"])
        #expect(missing.isEmpty, "layer types not in the net: \(missing.sorted())")
        var losses: [Float] = []
        s.observers.append { if case .iteration(_, _, let loss, _) = $0 { losses.append(loss) } }
        try s.step(5)
        #expect(losses.count == 5 && losses.allSatisfy { $0.isFinite })
        for p in s.net.learnableParams { #expect(p.dataArray.allSatisfy { $0.isFinite }) }
    }
}
