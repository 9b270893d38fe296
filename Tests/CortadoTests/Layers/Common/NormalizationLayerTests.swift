import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig
@testable import CortadoLayers
@testable import CortadoNet

@Suite struct NormalizationLayerTests {
    @Test func batchNormTrainingNormalisesAndUpdatesStatistics() throws {
        // Channel 0: 1, 3 (mean 2, variance 1); channel 1: 2, 4 (mean 3, variance 1).
        let x = Blob([2, 2, 1, 1], values: [1, 2, 3, 4])
        let (layer, tops) = try makeLayer(#"name: "bn" type: "BatchNorm" bottom: "x" top: "y" batch_norm_param { eps: 0 moving_average_fraction: 0.5 }"#, bottoms: [x])
        #expect(layer.blobs.map(\.shape) == [[2], [2], [1]])
        try layer.forward(bottom: [x], top: tops)
        expectClose(tops[0].dataArray, [-1, -1, 1, 1])
        #expect(layer.blobs[2].dataArray == [1])
        #expect(layer.blobs[0].dataArray == [2, 3])
        #expect(layer.blobs[1].dataArray == [2, 2])   // unbiased: m/(m−1) · 1 with m = 2
        try layer.forward(bottom: [x], top: tops)
        #expect(layer.blobs[2].dataArray == [1.5])     // s ← 0.5·s + 1
        #expect(layer.blobs[0].dataArray == [3, 4.5])
    }

    @Test func batchNormGlobalStatsUseStoredSums() throws {
        let x = Blob([1, 1, 1, 2], values: [3, 5])
        let (layer, tops) = try makeLayer(#"name: "bn" type: "BatchNorm" bottom: "x" top: "y" batch_norm_param { eps: 0 }"#, bottoms: [x], phase: .test)
        layer.blobs[0].setData([8]); layer.blobs[1].setData([4]); layer.blobs[2].setData([2])   // μ = 4, σ² = 2
        try layer.forward(bottom: [x], top: tops)
        expectClose(tops[0].dataArray, [-1 / 2.0.squareRoot(), 1 / 2.0.squareRoot()].map(Float.init))
    }

    @Test(arguments: [false, true]) func batchNormGradientCheck(global: Bool) throws {
        let x = randomBlob([3, 2, 2, 2], seed: 81)
        let (layer, tops) = try makeLayer(#"name: "bn" type: "BatchNorm" bottom: "x" top: "y" batch_norm_param { use_global_stats: \#(global) }"#, bottoms: [x])
        if global { layer.blobs[0].setData([0.5, -1]); layer.blobs[1].setData([2, 3]); layer.blobs[2].setData([1]) }
        try GradientChecker().check(layer, bottoms: [x], tops: tops, checkParams: false)
    }

    @Test func batchNormStatisticsAreNotLearnable() throws {
        var rng = RNG(seed: 1)
        quietTestEnvironment()
        let net = try Net(try netParam("""
            layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 dim: 2 dim: 2 } } }
            layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" }
            """), state: NetState(phase: .train), rng: &rng, verbose: false)
        #expect(net.learnable.map(\.lrMult) == [0, 0, 0])
        #expect(throws: ConfigError.self) {
            _ = try Net(try netParam("""
                layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
                layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" param { lr_mult: 1 } }
                """), state: NetState(phase: .train), rng: &rng, verbose: false)
        }
    }

    @Test func scaleAndBiasHandComputed() throws {
        let x = Blob([1, 2, 2], values: [1, 2, 3, 4])
        let (layer, tops) = try makeLayer(#"name: "s" type: "Scale" bottom: "x" top: "y" scale_param { bias_term: true }"#, bottoms: [x])
        #expect(layer.blobs.map(\.shape) == [[2], [2]])
        layer.blobs[0].setData([2, -1]); layer.blobs[1].setData([0.5, 1])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [2.5, 4.5, -2, -3])
        let s = Blob([2], values: [3, 4])
        let (two, t2) = try makeLayer(#"name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y""#, bottoms: [x, s])
        try two.forward(bottom: [x, s], top: t2)
        #expect(t2[0].dataArray == [3, 6, 12, 16])
        let (bias, tb) = try makeLayer(#"name: "b" type: "Bias" bottom: "x" top: "y" bias_param { axis: 1 num_axes: 2 filler { type: "constant" value: 1 } }"#, bottoms: [x])
        #expect(bias.blobs[0].shape == [2, 2])
        try bias.forward(bottom: [x], top: tb)
        #expect(tb[0].dataArray == [2, 3, 4, 5])
    }

    @Test func scaleGradientChecks() throws {
        let x = randomBlob([2, 3, 2, 2], seed: 82)
        let (layer, tops) = try makeLayer(#"name: "s" type: "Scale" bottom: "x" top: "y" scale_param { bias_term: true filler { type: "gaussian" } bias_filler { type: "gaussian" } }"#, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
        let y = randomBlob([2, 3, 2, 2], seed: 83), s = randomBlob([3, 2], seed: 84)
        let (two, t2) = try makeLayer(#"name: "s" type: "Scale" bottom: "x" bottom: "s" top: "y""#, bottoms: [y, s])
        try GradientChecker().check(two, bottoms: [y, s], tops: t2)
        let z = randomBlob([2, 3, 2], seed: 85), b = randomBlob([2, 3], seed: 86)
        let (bias, tb) = try makeLayer(#"name: "b" type: "Bias" bottom: "x" bottom: "b" top: "y" bias_param { axis: 0 }"#, bottoms: [z, b])
        try GradientChecker().check(bias, bottoms: [z, b], tops: tb)
        let (own, to) = try makeLayer(#"name: "b" type: "Bias" bottom: "x" top: "y" bias_param { filler { type: "gaussian" } }"#, bottoms: [z])
        try GradientChecker().check(own, bottoms: [z], tops: to)
    }

    @Test func batchNormSplitsByChannelWithTheSameBitsAndThePlainFormula() throws {
        // Enough floats (3·6·61·67) for Parallel.forItems to wake a second and third thread.
        let shape = [3, 6, 61, 67], plane = 61 * 67
        let text = #"name: "bn" type: "BatchNorm" bottom: "x" top: "y""#
        let (one, _) = try ParallelTests.pass(text, shape: shape, threads: 1)
        for threads in [2, 3] {
            let (split, _) = try ParallelTests.pass(text, shape: shape, threads: threads)
            #expect(split.top == one.top && split.bottomDiff == one.bottomDiff)
        }
        let x = randomBlob(shape, seed: 5).dataArray.map(Double.init), dy = randomBlob(shape, seed: 6).dataArray.map(Double.init)
        var y = x, dx = x
        for c in 0..<6 {
            var at: [Int] = []
            for n in 0..<3 { let start = (n * 6 + c) * plane; at += Array(start..<(start + plane)) }
            let count = Double(at.count)
            var m = 0.0, v = 0.0, meanDy = 0.0, meanDyZ = 0.0
            for i in at { m += x[i] }
            m /= count
            for i in at { v += (x[i] - m) * (x[i] - m) }
            let std = (v / count + 1e-5).squareRoot()
            for i in at { y[i] = (x[i] - m) / std; meanDy += dy[i] / count; meanDyZ += dy[i] * y[i] / count }
            for i in at { dx[i] = (dy[i] - meanDy - meanDyZ * y[i]) / std }
        }
        expectClose(one.top, y.map(Float.init), tolerance: 1e-4)
        expectClose(one.bottomDiff, dx.map(Float.init), tolerance: 1e-4)
    }

    @Test func scaleSplitsWithTheSameBitsAndThePlainFormula() throws {
        let shape = [3, 6, 61, 67], plane = 61 * 67
        let text = #"name: "s" type: "Scale" bottom: "x" top: "y" scale_param { bias_term: true filler { type: "gaussian" } bias_filler { type: "gaussian" } }"#
        let (one, layer) = try ParallelTests.pass(text, shape: shape, threads: 1)
        for threads in [2, 3] {
            let (split, _) = try ParallelTests.pass(text, shape: shape, threads: threads)
            #expect(split.top == one.top && split.bottomDiff == one.bottomDiff && split.paramDiffs == one.paramDiffs)
        }
        let x = randomBlob(shape, seed: 5).dataArray.map(Double.init), dy = randomBlob(shape, seed: 6).dataArray.map(Double.init)
        let k = layer.blobs[0].dataArray.map(Double.init), b = layer.blobs[1].dataArray.map(Double.init)
        var y = x, dx = x, dk = [Double](repeating: 0.25, count: 6), db = dk
        for i in 0..<x.count {
            let c = i / plane % 6
            y[i] = x[i] * k[c] + b[c]; dx[i] = dy[i] * k[c]; dk[c] += dy[i] * x[i]; db[c] += dy[i]
        }
        expectClose(one.top, y.map(Float.init))
        expectClose(one.bottomDiff, dx.map(Float.init))
        expectClose(one.paramDiffs[0], dk.map(Float.init), tolerance: 1e-4)
        expectClose(one.paramDiffs[1], db.map(Float.init), tolerance: 1e-4)
    }
}
