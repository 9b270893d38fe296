import Testing
@testable import CortadoBase
@testable import CortadoLayers

/// Convolution through oneDNN against the im2col + sgemm path: the same outputs, bottom
/// gradients and parameter gradients on random inputs, for every geometry Caffe allows.
@Suite struct ConvolutionOneDNNTests {
    /// `paddingLimit` nil keeps the layer's own rule; the comparisons lift it so that oneDNN
    /// serves every geometry.
    func pass(_ settings: String, shape: [Int], oneDNN: Bool, threads: Int, paddingLimit: Double? = .infinity) throws -> (ParallelTests.Pass, Bool) {
        let (result, layer) = try ParallelTests.pass("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { \(settings) weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.3 } }
            """, shape: shape, threads: threads, seed: 9) {
                ($0 as? ConvolutionLayer)?.allowsOneDNN = oneDNN
                if let limit = paddingLimit { ($0 as? ConvolutionLayer)?.oneDNNChannelPaddingLimit = limit }
            }
        return (result, (layer as? ConvolutionLayer)?.runsOnOneDNN == true)
    }

    /// A batch smaller than the thread count (one image to classify) stays on im2col, whose
    /// products split across threads.
    @Test func smallBatchStaysOnIm2col() throws {
        let (_, used) = try pass("num_output: 16 kernel_size: 3", shape: [1, 16, 12, 12], oneDNN: true, threads: 2)
        #expect(!used)
    }

    /// Channels that fill oneDNN's blocks of 16 go to it; LeNet's, padded to 32 → 64, stay on
    /// im2col, which was faster there.
    @Test func channelPaddingDecidesThePath() throws {
        let cifar = try pass("num_output: 32 pad: 2 kernel_size: 5", shape: [4, 32, 16, 16], oneDNN: true, threads: 2, paddingLimit: nil)
        let lenet = try pass("num_output: 50 kernel_size: 5", shape: [4, 20, 12, 12], oneDNN: true, threads: 2, paddingLimit: nil)
        #expect(cifar.1)
        #expect(!lenet.1)
    }

    /// A first layer on RGB images (3 channels, stride 2: SqueezeNet v1.0's conv1, MobileNet
    /// v2's at half size): oneDNN's weight gradient for an input with fewer channels than its
    /// block was 1.6–3e-6 from an exact sum (im2col: 4e-7), which through a real net came to
    /// 400× Caffe's own sensitivity; such layers' backward passes run on im2col.
    @Test(arguments: [
        ("num_output: 96 kernel_size: 7 stride: 2", [2, 3, 227, 227]),
        ("num_output: 32 kernel_size: 3 stride: 2 pad: 1", [8, 3, 112, 112]),
    ])
    func firstLayerWeightGradientMatchesIm2col(settings: String, shape: [Int]) throws {
        for threads in [1, 2] {
            let (plain, _) = try pass(settings, shape: shape, oneDNN: false, threads: threads, paddingLimit: nil)
            let (fast, fastUsed) = try pass(settings, shape: shape, oneDNN: true, threads: threads, paddingLimit: nil)
            #expect(fastUsed, "the forward pass of \(settings) should still run on oneDNN")
            // The starting diffs (0.25) are taken off: they are not part of the gradient.
            let gradient = { (p: ParallelTests.Pass) in p.paramDiffs[0].map { Double($0) - 0.25 } }
            let a = gradient(fast), b = gradient(plain)
            let difference = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            let norm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
            #expect(difference <= 1e-6 * norm, "relative difference \(difference / norm) at \(threads) threads")
        }
    }

    @Test(arguments: [
        // First layers (LeNet's and CIFAR-10's conv1) at batch 4 on one thread: before oneDNN was
        // told it runs on one thread, their weight gradient changed from run to run.
        ("num_output: 20 kernel_size: 5", [4, 1, 28, 28]),
        ("num_output: 32 pad: 2 kernel_size: 5", [4, 3, 32, 32]),
        ("num_output: 20 kernel_size: 5", [4, 16, 28, 28]),
        ("num_output: 50 kernel_size: 5", [4, 20, 12, 12]),
        ("num_output: 6 kernel_size: 3 pad: 1 stride: 2", [3, 16, 9, 10]),
        ("num_output: 8 kernel_size: 3 group: 2", [2, 32, 7, 7]),
        ("num_output: 4 kernel_size: 3 dilation: 2 pad: 1", [2, 16, 9, 9]),
        ("num_output: 5 kernel_h: 3 kernel_w: 1 stride_h: 2 pad_w: 1", [2, 16, 8, 6]),
        ("num_output: 8 kernel_size: 1", [2, 16, 5, 5]),
        ("num_output: 16 kernel_size: 11 stride: 4", [2, 16, 35, 35]),
        ("num_output: 4 kernel_size: 3 bias_term: false", [3, 16, 6, 6]),
        // CIFAR-10 quick's conv2 and conv3 at batch 20, and at batch 4 (one thread's share).
        ("num_output: 32 pad: 2 kernel_size: 5 stride: 1", [20, 32, 16, 16]),
        ("num_output: 32 pad: 2 kernel_size: 5 stride: 1", [4, 32, 16, 16]),
        ("num_output: 64 pad: 2 kernel_size: 5 stride: 1", [20, 32, 8, 8]),
    ])
    func oneDNNMatchesIm2col(settings: String, shape: [Int]) throws {
        for threads in [1, 2] {
            let (plain, plainUsed) = try pass(settings, shape: shape, oneDNN: false, threads: threads)
            let (fast, fastUsed) = try pass(settings, shape: shape, oneDNN: true, threads: threads)
            #expect(!plainUsed && fastUsed, "oneDNN should serve \(settings)")
            expectClose(fast.top, plain.top, tolerance: 1e-4)
            expectClose(fast.bottomDiff, plain.bottomDiff, tolerance: 1e-4)
            for (a, b) in zip(fast.paramDiffs, plain.paramDiffs) { expectClose(a, b, tolerance: 1e-4) }
            let (again, _) = try pass(settings, shape: shape, oneDNN: true, threads: threads)
            #expect(again.top == fast.top && again.bottomDiff == fast.bottomDiff && again.paramDiffs == fast.paramDiffs,
                    "oneDNN must repeat bit for bit")
        }
    }
}
