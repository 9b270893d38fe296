import Testing
@testable import Cortado

@Suite struct PoolingLayerTests {
    @Test func maxForwardHandComputed() throws {
        let x = Blob([1, 1, 4, 4], values: [1, 2, 5, 6,
                                            3, 4, 7, 8,
                                            9, 10, 13, 14,
                                            11, 12, 15, 16])
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 2 stride: 2 }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [4, 8, 12, 16])
    }

    @Test func averageDividesByWindowClippedToPaddedExtent() throws {
        // 3×3 input, kernel 2, stride 2, pad 1: ceil((3 + 2 − 2) / 2) + 1 = 3, but the last window
        // would start at 4 ≥ 3 + 1, inside the padding, so 2 outputs. A corner window covers 1 pixel of a 2×2 area.
        let x = Blob([1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 2 stride: 2 pad: 1 }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].shape == [1, 1, 2, 2])
        // Windows (rows × cols): [-1,0]×[-1,0] → 1/4; [-1,0]×[1,2] → (2+3)/4; [1,2]×[-1,0] → (4+7)/4; [1,2]×[1,2] → (5+6+8+9)/4
        #expect(tops[0].dataArray == [0.25, 1.25, 2.75, 7])
    }

    @Test func outputSizeUsesCeilAndPaddingCorrection() throws {
        // Caffe: 64 → 33 for k3 s2 p1... pool: ceil((64 + 2 − 3) / 2) + 1 = 33; conv would give 32.
        let x = Blob([1, 1, 64, 64])
        let (_, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }
            """, bottoms: [x])
        #expect(tops[0].shape == [1, 1, 33, 33])
        // CaffeNet pool1: 55 → 27 (k3 s2, no pad).
        let y = Blob([1, 96, 55, 55])
        let (_, t2) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 }
            """, bottoms: [y])
        #expect(t2[0].shape == [1, 96, 27, 27])
        // FLOOR rounding.
        let (_, t3) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR }
            """, bottoms: [Blob([1, 1, 5, 5])])
        #expect(t3[0].shape == [1, 1, 2, 2])
    }

    @Test func globalPooling() throws {
        let x = Blob([1, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE global_pooling: true }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [2.5, 6.5])
    }

    @Test func maxGradientCheck() throws {
        // Distinct, well-separated values so the arg-max does not flip under the probe step.
        var rng = RNG(seed: 11)
        var order = Array(0..<(2 * 3 * 5 * 5))
        rng.shuffle(&order)
        let x = Blob([2, 3, 5, 5], values: order.map { Float($0) * 0.1 })
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    @Test func averageGradientCheck() throws {
        let x = randomBlob([2, 2, 5, 4], seed: 12)
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }
}
