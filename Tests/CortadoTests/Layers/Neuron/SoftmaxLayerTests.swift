import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct SoftmaxLayerTests {
    @Test func forwardHandComputed() throws {
        let x = Blob([1, 3], values: [1, 2, 3])
        let (layer, tops) = try makeLayer(#"name: "s" type: "Softmax" bottom: "x" top: "y""#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        let z = expf(1) + expf(2) + expf(3)
        expectClose(tops[0].dataArray, [expf(1) / z, expf(2) / z, expf(3) / z])
    }

    @Test func alongAnotherAxis() throws {
        // Softmax over axis 2 of a 1×2×2 blob: each pair along the last axis sums to 1.
        let x = Blob([1, 2, 2], values: [0, 0, 1, 3])
        let (layer, tops) = try makeLayer(#"name: "s" type: "Softmax" bottom: "x" top: "y" softmax_param { axis: 2 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        let y = tops[0].dataArray
        expectClose([y[0], y[1]], [0.5, 0.5])
        expectClose([y[2] + y[3]], [1])
        #expect(y[3] > y[2])
    }

    @Test func gradientCheck() throws {
        let x = randomBlob([2, 4, 2, 3], seed: 41, lo: -2, hi: 2)
        let (layer, tops) = try makeLayer(#"name: "s" type: "Softmax" bottom: "x" top: "y""#, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }
}

@Suite struct SoftmaxWithLossLayerTests {
    @Test func forwardHandComputed() throws {
        let x = Blob([2, 2], values: [0, 0, 1, 3])
        let label = Blob([2], values: [1, 0])
        let (layer, tops) = try makeLayer(#"name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" top: "loss""#, bottoms: [x, label])
        try layer.forward(bottom: [x, label], top: tops)
        // (−log 0.5 − log(e/(e + e³))) / 2
        let expected = (logf(2) + logf(1 + expf(2))) / 2
        expectClose(tops[0].dataArray, [expected])
    }

    @Test func ignoreLabelAndNormalizations() throws {
        let x = Blob([3, 2], values: [0, 0, 0, 0, 0, 0])
        let label = Blob([3], values: [0, 5, 1])   // 5 is ignored
        let cases: [(String, Float)] = [("VALID", 2), ("FULL", 3), ("BATCH_SIZE", 3), ("NONE", 1)]
        for (mode, divisor) in cases {
            let (layer, tops) = try makeLayer("""
                name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" top: "loss"
                loss_param { ignore_label: 5 normalization: \(mode) }
                """, bottoms: [x, label])
            try layer.forward(bottom: [x, label], top: tops)
            expectClose(tops[0].dataArray, [2 * logf(2) / divisor])
        }
    }

    @Test func labelOutOfRangeIsAnError() throws {
        let x = Blob([1, 3]), label = Blob([1], values: [7])
        let (layer, tops) = try makeLayer(#"name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" top: "loss""#, bottoms: [x, label])
        #expect(throws: ConfigError.self) { try layer.forward(bottom: [x, label], top: tops) }
    }

    @Test func gradientCheck() throws {
        let x = randomBlob([3, 4, 2, 2], seed: 42, lo: -2, hi: 2)
        var rng = RNG(seed: 5)
        let label = Blob([3, 1, 2, 2], values: (0..<12).map { _ in Float(rng.below(4)) })
        label.data[3] = 2   // ignored below
        let (layer, tops) = try makeLayer("""
            name: "l" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" top: "loss" loss_param { ignore_label: 2 }
            """, bottoms: [x, label])
        try GradientChecker().check(layer, bottoms: [x, label], tops: tops, checkBottoms: [0])
    }
}

@Suite struct AccuracyLayerTests {
    @Test func topOneAndTopTwoHandComputed() throws {
        let x = Blob([3, 3], values: [0.1, 0.7, 0.2,
                                      0.5, 0.3, 0.2,
                                      0.2, 0.3, 0.5])
        let label = Blob([3], values: [1, 1, 0])
        let (top1, t1) = try makeLayer(#"name: "a" type: "Accuracy" bottom: "x" bottom: "l" top: "acc""#, bottoms: [x, label])
        try top1.forward(bottom: [x, label], top: t1)
        expectClose(t1[0].dataArray, [1.0 / 3])
        let (top2, t2) = try makeLayer(#"name: "a" type: "Accuracy" bottom: "x" bottom: "l" top: "acc" accuracy_param { top_k: 2 }"#, bottoms: [x, label])
        try top2.forward(bottom: [x, label], top: t2)
        expectClose(t2[0].dataArray, [2.0 / 3])
    }

    @Test func tiesCountAgainstAndIgnoredLabelsAreSkipped() throws {
        let x = Blob([2, 2], values: [0.5, 0.5, 0.9, 0.1])
        let label = Blob([2], values: [0, 3])
        let (layer, tops) = try makeLayer(#"name: "a" type: "Accuracy" bottom: "x" bottom: "l" top: "acc" top: "per_class" accuracy_param { ignore_label: 3 }"#, bottoms: [x, label])
        try layer.forward(bottom: [x, label], top: tops)
        #expect(tops[0].dataArray == [0])
        #expect(tops[1].dataArray == [0, 0])
    }

    @Test func hasNoGradient() throws {
        let (layer, _) = try makeLayer(#"name: "a" type: "Accuracy" bottom: "x" bottom: "l" top: "acc""#, bottoms: [Blob([1, 2]), Blob([1])])
        #expect(!layer.hasBackward)
        #expect(!layer.allowForceBackward(0))
    }
}
