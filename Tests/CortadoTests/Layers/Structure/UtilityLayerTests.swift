import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct UtilityLayerTests {
    @Test func argMaxHasNoGradient() throws {
        let x = Blob([2, 3], values: [1, 5, 3, 9, 2, 4])
        let (layer, tops) = try makeLayer(#"name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { out_max_val: true top_k: 2 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].shape == [2, 2, 2])
        #expect(tops[0].dataArray == [1, 2, 5, 3, 0, 2, 9, 4])
        let (axis, ta) = try makeLayer(#"name: "a" type: "ArgMax" bottom: "x" top: "y" argmax_param { axis: 0 }"#, bottoms: [x])
        try axis.forward(bottom: [x], top: ta)
        #expect(ta[0].shape == [1, 3] && ta[0].dataArray == [1, 0, 1])
        #expect(!layer.hasBackward)
    }

    @Test func embed() throws {
        let x = Blob([3], values: [2, 0, 2])
        let (layer, tops) = try makeLayer(#"name: "e" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 2 input_dim: 3 }"#, bottoms: [x])
        layer.blobs[0].setData([1, 2, 3, 4, 5, 6]); layer.blobs[1].setData([10, 20])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].shape == [3, 2])
        #expect(tops[0].dataArray == [15, 26, 11, 22, 15, 26])
        let (l2, t2) = try makeLayer(#"name: "e" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 3 input_dim: 4 weight_filler { type: "gaussian" } bias_filler { type: "gaussian" } }"#, bottoms: [Blob([2, 2], values: [3, 1, 1, 0])])
        // Only the parameters have gradients (the bottom holds indices).
        try GradientChecker().check(l2, bottoms: [Blob([2, 2], values: [3, 1, 1, 0])], tops: t2, checkBottoms: [])
        #expect(throws: ConfigError.self) { try layer.forward(bottom: [Blob([1], values: [3])], top: tops) }
    }

    @Test func parameter() throws {
        let (layer, tops) = try makeLayer(#"name: "p" type: "Parameter" top: "w" parameter_param { shape { dim: 2 dim: 3 } }"#, bottoms: [])
        #expect(layer.blobs[0].shape == [2, 3] && tops[0].shape == [2, 3])
        layer.blobs[0].setData([1, 2, 3, 4, 5, 6])
        try layer.forward(bottom: [], top: tops)
        #expect(tops[0].dataArray == [1, 2, 3, 4, 5, 6])
        try GradientChecker().check(layer, bottoms: [], tops: tops)
    }

    @Test func batchReindex() throws {
        let x = Blob([3, 2], values: [1, 2, 3, 4, 5, 6]), idx = Blob([4], values: [2, 0, 2, 1])
        let (layer, tops) = try makeLayer(#"name: "b" type: "BatchReindex" bottom: "x" bottom: "i" top: "y""#, bottoms: [x, idx])
        try layer.forward(bottom: [x, idx], top: tops)
        #expect(tops[0].dataArray == [5, 6, 1, 2, 5, 6, 3, 4])
        let r = randomBlob([3, 2], seed: 111)
        try GradientChecker().check(layer, bottoms: [r, idx], tops: tops, checkBottoms: [0])
    }

    @Test func filter() throws {
        let x = Blob([3, 2], values: [1, 2, 3, 4, 5, 6]), sel = Blob([3], values: [1, 0, 1])
        let (layer, tops) = try makeLayer(#"name: "f" type: "Filter" bottom: "x" bottom: "s" top: "y""#, bottoms: [x, sel])
        try layer.forward(bottom: [x, sel], top: tops)
        #expect(tops[0].shape == [2, 2] && tops[0].dataArray == [1, 2, 5, 6])
        let r = randomBlob([3, 2], seed: 112)
        try GradientChecker().check(layer, bottoms: [r, sel], tops: tops, checkBottoms: [0])
    }

    @Test(arguments: [(true, false), (true, true), (false, false)]) func mvn(normalize: Bool, across: Bool) throws {
        let x = Blob([1, 2, 1, 2], values: [1, 3, 2, 6])
        let (layer, tops) = try makeLayer(#"name: "m" type: "MVN" bottom: "x" top: "y" mvn_param { normalize_variance: \#(normalize) across_channels: \#(across) eps: 0 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        // Per channel: (1, 3) and (2, 6); across channels: mean 3, variance 3.5.
        let std = Float(3.5).squareRoot()
        let expected: [Float] = !normalize ? [-1, 1, -2, 2] : across ? [-2 / std, 0, -1 / std, 3 / std] : [-1, 1, -1, 1]
        expectClose(tops[0].dataArray, expected)
        let r = randomBlob([2, 3, 2, 2], seed: 113)
        let (l2, t2) = try makeLayer(#"name: "m" type: "MVN" bottom: "x" top: "y" mvn_param { normalize_variance: \#(normalize) across_channels: \#(across) }"#, bottoms: [r])
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }
}
