import Testing
@testable import CortadoBase
@testable import CortadoLayers
@testable import CortadoNet

/// `FusedBatchNorm`: BatchNorm + Scale (+ ReLU) blocks run as one pass give the same bits as
/// the layers run one by one: outputs, every gradient, and the running statistics.
@Suite struct FusedBatchNormTests {
    /// Blocks of each kind: in place with ReLU, with a leaky ReLU, not in place without one
    /// and without a bias, and with the stored statistics (use_global_stats) in training.
    static let net = """
        name: "blocks"
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 4 dim: 3 dim: 48 dim: 48 } shape { dim: 4 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 8 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } } }
        layer { name: "bn1" type: "BatchNorm" bottom: "conv" top: "conv" }
        layer { name: "scale1" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true filler { type: "gaussian" std: 1 } bias_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "relu1" type: "ReLU" bottom: "conv" top: "conv" }
        layer { name: "bn2" type: "BatchNorm" bottom: "conv" top: "n2" }
        layer { name: "scale2" type: "Scale" bottom: "n2" top: "n2" scale_param { filler { type: "gaussian" std: 1 } } }
        layer { name: "bn3" type: "BatchNorm" bottom: "n2" top: "n2" batch_norm_param { use_global_stats: true } }
        layer { name: "scale3" type: "Scale" bottom: "n2" top: "n2" scale_param { bias_term: true filler { type: "gaussian" std: 1 } bias_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "relu3" type: "ReLU" bottom: "n2" top: "n2" relu_param { negative_slope: 0.1 } }
        layer { name: "ip" type: "InnerProduct" bottom: "n2" top: "ip" inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.01 } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """

    struct Pass: Equatable { var blobs: [[Float]]; var diffs: [[Float]]; var params: [[Float]]; var paramDiffs: [[Float]] }

    func run(fused: Bool, threads: Int, passes: Int = 2, start: Int = 0) throws -> Pass {
        quietTestEnvironment()
        var rng = RNG(seed: 3)
        let net = try Net(try netParam(Self.net), state: NetState(phase: .train), rng: &rng, verbose: false)
        net.fusesBatchNorm = fused
        for layer in net.layers { layer.threads = threads }
        let bn3 = net.layer(named: "bn3")!
        bn3.blobs[0].setData((0..<8).map { Float($0) * 0.1 }); bn3.blobs[1].setData((0..<8).map { 1 + Float($0) * 0.2 }); bn3.blobs[2].setData([1])
        for p in 0..<passes {
            net.blob(named: "data")!.setData(randomBlob([4, 3, 48, 48], seed: 40 + UInt64(p)).dataArray)
            net.blob(named: "label")!.setData([0, 3, 1, 4])
            net.clearParamDiffs()
            try net.forward(from: p == 0 ? 0 : start)   // the first pass whole, so every layer has run
            try net.backward()
        }
        return Pass(blobs: net.blobs.map(\.dataArray), diffs: net.blobs.map(\.diffArray),
                    params: net.layers.flatMap { $0.blobs.map(\.dataArray) }, paramDiffs: net.layers.flatMap { $0.blobs.map(\.diffArray) })
    }

    @Test func fusedBlocksGiveTheLayersOwnBits() throws {
        // Convolution gradients depend on the thread count, so each count is compared with itself.
        for threads in [1, 2] { #expect(try run(fused: true, threads: threads) == run(fused: false, threads: threads)) }
    }

    @Test func theNetFindsEachBlock() throws {
        var rng = RNG(seed: 3)
        let net = try Net(try netParam(Self.net), state: NetState(phase: .train), rng: &rng, verbose: false)
        let names = net.layers.map(\.name)
        let firsts = names.indices.filter { net.entries.count > $0 && (try? net.fusedForward(at: $0, through: names.count - 1)) != nil }
        // Running a block's forward needs its bottoms shaped, as they are after set-up.
        #expect(firsts.map { names[$0] } == ["bn1", "bn2", "bn3"])
        #expect(try net.fusedForward(at: names.firstIndex(of: "bn1")!, through: names.firstIndex(of: "relu1")!) == 3)
        #expect(try net.fusedForward(at: names.firstIndex(of: "bn2")!, through: names.firstIndex(of: "scale2")!) == 2)
        #expect(try net.fusedForward(at: names.firstIndex(of: "bn1")!, through: names.firstIndex(of: "scale1")!) == nil)
    }

    @Test func aRangeThatCutsABlockRunsItsLayersOneByOne() throws {
        // A second pass starting inside the first block (at scale1) runs scale1 and relu1 on
        // their own, on what the first pass left in the blob, and so must their backward.
        let plain = try run(fused: false, threads: 1, start: 3)
        #expect(try run(fused: true, threads: 1, start: 3) == plain)
    }
}
