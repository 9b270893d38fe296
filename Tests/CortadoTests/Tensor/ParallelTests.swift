import Testing
@testable import CortadoBase
@testable import CortadoLayers

/// Layers split across threads against the same layer on one thread: the same forward, bottom
/// gradients and parameter gradients on random inputs, and the same bits on every run.
@Suite struct ParallelTests {
    struct Pass { var top: [Float]; var bottomDiff: [Float]; var paramDiffs: [[Float]] }

    /// Forward and backward of one layer built from `text` with `threads`, on a fixed random input;
    /// `configure` may set more on the layer before it is reshaped.
    static func pass(_ text: String, shape: [Int], threads: Int, seed: UInt64 = 5,
                     configure: (Layer) -> Void = { _ in }) throws -> (Pass, Layer) {
        let x = randomBlob(shape, seed: seed)
        let (layer, tops) = try makeLayer(text, bottoms: [x])
        layer.threads = threads
        configure(layer)
        try layer.reshape(bottom: [x], top: tops)
        try layer.forward(bottom: [x], top: tops)
        tops[0].setDiff(randomBlob(tops[0].shape, seed: seed + 1).dataArray)
        // Non-zero starting diffs: parameter gradients are added, not written.
        for p in layer.blobs { p.setDiff([Float](repeating: 0.25, count: p.count)) }
        layer.backward(top: tops, propagateDown: [true], bottom: [x])
        return (Pass(top: tops[0].dataArray, bottomDiff: x.diffArray, paramDiffs: layer.blobs.map(\.diffArray)), layer)
    }

    func pass(_ text: String, shape: [Int], threads: Int, configure: (Layer) -> Void = { _ in }) throws -> Pass {
        try Self.pass(text, shape: shape, threads: threads, configure: configure).0
    }

    func expectSplitMatchesSingle(_ text: String, shape: [Int], configure: (Layer) -> Void = { _ in },
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let single = try pass(text, shape: shape, threads: 1, configure: configure)
        for threads in [2, 3] {
            let split = try pass(text, shape: shape, threads: threads, configure: configure)
            expectClose(split.top, single.top, tolerance: 1e-5, sourceLocation: sourceLocation)
            expectClose(split.bottomDiff, single.bottomDiff, tolerance: 1e-5, sourceLocation: sourceLocation)
            for (a, b) in zip(split.paramDiffs, single.paramDiffs) { expectClose(a, b, tolerance: 1e-4, sourceLocation: sourceLocation) }
            let again = try pass(text, shape: shape, threads: threads, configure: configure)
            #expect(again.top == split.top && again.bottomDiff == split.bottomDiff && again.paramDiffs == split.paramDiffs,
                    "a split run must repeat bit for bit", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [
        // LeNet's conv1 and conv2 (several images unrolled per chunk, and one per chunk).
        ("num_output: 20 kernel_size: 5", [7, 1, 28, 28]),
        ("num_output: 50 kernel_size: 5", [5, 20, 12, 12]),
        // Padding, stride, groups, dilation; pointwise; a batch of one (the product is split).
        ("num_output: 6 kernel_size: 3 pad: 1 stride: 2 group: 2 dilation: 2", [5, 4, 9, 9]),
        ("num_output: 8 kernel_size: 1", [5, 6, 7, 7]),
        ("num_output: 64 kernel_size: 3 pad: 1", [1, 16, 40, 40]),
        ("num_output: 4 kernel_size: 3 bias_term: false", [4, 3, 8, 8]),
    ])
    func convolution(settings: String, shape: [Int]) throws {
        // The im2col path; ConvolutionOneDNNTests splits oneDNN's.
        try expectSplitMatchesSingle("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { \(settings) weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.3 } }
            """, shape: shape) { ($0 as? ConvolutionLayer)?.allowsOneDNN = false }
    }

    @Test(arguments: ["pool: MAX kernel_size: 2 stride: 2", "pool: MAX kernel_size: 3 stride: 2 pad: 1",
                      "pool: AVE kernel_size: 3 stride: 2", "pool: AVE global_pooling: true"])
    func pooling(settings: String) throws {
        try expectSplitMatchesSingle("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { \(settings) }
            """, shape: [6, 20, 24, 24])
    }

    @Test func innerProduct() throws {
        try expectSplitMatchesSingle("""
            name: "ip" type: "InnerProduct" bottom: "x" top: "y"
            inner_product_param { num_output: 500 weight_filler { type: "gaussian" std: 0.05 } bias_filler { type: "gaussian" std: 0.1 } }
            """, shape: [64, 50, 4, 4])
    }

    @Test(arguments: ["", "relu_param { negative_slope: 0.1 }"])
    func relu(settings: String) throws {
        // 2 · 70,000 values: enough for two threads to take a range each.
        try expectSplitMatchesSingle("""
            name: "r" type: "ReLU" bottom: "x" top: "y" \(settings)
            """, shape: [2, 7, 100, 100])
    }

    /// The split product against one call, for every transpose pair, on shapes that split by
    /// columns (N ≥ M) and by rows.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemmSplitsMatchOneCall(transA: Bool, transB: Bool) throws {
        for (m, n, k) in [(50, 4096, 500), (500, 300, 64), (37, 1000, 130)] {
            let a = randomBlob([m * k], seed: 1), b = randomBlob([k * n], seed: 2)
            let one = randomBlob([m * n], seed: 3), split = randomBlob([m * n], seed: 3)
            gemm(transA, transB, m, n, k, 0.5, a.data, b.data, 0.75, one.data, threads: 1)
            gemm(transA, transB, m, n, k, 0.5, a.data, b.data, 0.75, split.data, threads: 2)
            expectClose(split.dataArray, one.dataArray, tolerance: 1e-5)
        }
    }

    @Test func rangesCoverCountInOrder() {
        for (count, parts, align) in [(10, 3, 1), (64, 2, 1), (100, 3, 16), (5, 4, 16), (0, 2, 1)] {
            let ranges = (0..<parts).map { Parallel.range($0, of: parts, count: count, align: align) }
            #expect(ranges.flatMap { Array($0) } == Array(0..<count))
            for r in ranges.dropLast() where !r.isEmpty && r.upperBound < count { #expect(r.upperBound % align == 0) }
        }
    }
}
