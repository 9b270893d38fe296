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
}
