import Foundation
import Testing
@testable import CortadoBase

@Suite struct LRNLayerTests {
    @Test func acrossChannelsHandComputed() throws {
        // 3 channels, 1 pixel, local_size 3: channel 1 sums all three squares.
        let x = Blob([1, 3, 1, 1], values: [1, 2, 3])
        let (layer, tops) = try makeLayer(#"name: "n" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 3 alpha: 0.3 beta: 0.5 k: 2 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        let s: [Float] = [2 + 0.1 * (1 + 4), 2 + 0.1 * (1 + 4 + 9), 2 + 0.1 * (4 + 9)]
        expectClose(tops[0].dataArray, [1 / s[0].squareRoot(), 2 / s[1].squareRoot(), 3 / s[2].squareRoot()])
    }

    @Test func withinChannelHandComputed() throws {
        // 1×1×1×2 with local_size 3: each window covers both pixels (zero padding), divisor 9.
        let x = Blob([1, 1, 1, 2], values: [1, 2])
        let (layer, tops) = try makeLayer(#"name: "n" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 3 alpha: 0.9 beta: 1 norm_region: WITHIN_CHANNEL }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        let s: Float = 1 + 0.1 * 5
        expectClose(tops[0].dataArray, [1 / s, 2 / s])
    }

    @Test(arguments: ["ACROSS_CHANNELS", "WITHIN_CHANNEL"]) func gradientCheck(region: String) throws {
        let x = randomBlob([2, 7, 3, 3], seed: 61)
        let (layer, tops) = try makeLayer(#"name: "n" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 5 alpha: 1 beta: 0.75 norm_region: \#(region) }"#, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    /// Threads take whole images, so any count gives the same bits; and the across-channel
    /// backward (window sums added a plane at a time) is the plain per-position formula.
    @Test(arguments: ["ACROSS_CHANNELS", "WITHIN_CHANNEL"]) func threadsGiveTheSameBitsAsThePlainFormula(region: String) throws {
        let text = #"name: "n" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 5 alpha: 0.7 beta: 0.75 k: 2 norm_region: \#(region) }"#
        let shape = [3, 7, 4, 5]
        let (one, _) = try ParallelTests.pass(text, shape: shape, threads: 1)
        let (two, _) = try ParallelTests.pass(text, shape: shape, threads: 2)
        #expect(one.top == two.top && one.bottomDiff == two.bottomDiff)
        guard region == "ACROSS_CHANNELS" else { return }
        // The plain formula in double: dx = dy·s^−β − 2αβ/n · x · Σ_window dy·y/s.
        let x = randomBlob(shape, seed: 5).dataArray.map(Double.init), dy = randomBlob(shape, seed: 6).dataArray.map(Double.init)
        let (c, plane) = (7, 20)
        var s = [Double](repeating: 0, count: x.count), y = s, want = s
        for n in 0..<3 { for ch in 0..<c { for i in 0..<plane {
            let at = (n * c + ch) * plane + i
            let window = max(0, ch - 2)...min(c - 1, ch + 2)
            s[at] = 2 + 0.7 / 5 * window.reduce(0) { $0 + x[(n * c + $1) * plane + i] * x[(n * c + $1) * plane + i] }
            y[at] = x[at] * pow(s[at], -0.75)
        } } }
        for n in 0..<3 { for ch in 0..<c { for i in 0..<plane {
            let at = (n * c + ch) * plane + i
            let window = max(0, ch - 2)...min(c - 1, ch + 2)
            let sum = window.reduce(0) { let j = (n * c + $1) * plane + i; return $0 + dy[j] * y[j] / s[j] }
            want[at] = dy[at] * pow(s[at], -0.75) - 2 * 0.7 / 5 * 0.75 * x[at] * sum
        } } }
        expectClose(one.top, y.map(Float.init), tolerance: 1e-5)
        expectClose(one.bottomDiff, want.map(Float.init), tolerance: 1e-5)
    }
}
