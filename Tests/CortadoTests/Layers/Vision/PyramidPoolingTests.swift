import Testing
@testable import CortadoBase

@Suite struct PyramidPoolingTests {
    @Test func stochasticTrainPicksAWindowValueInProportion() throws {
        let x = Blob([1, 1, 2, 2], values: [0, 1, 0, 3])   // one 2×2 window: picks 1 or 3, never a 0
        let (layer, tops) = try makeLayer(#"name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }"#, bottoms: [x])
        var picks: [Float: Int] = [:]
        for _ in 0..<400 {
            try layer.forward(bottom: [x], top: tops)
            picks[tops[0].data[0], default: 0] += 1
        }
        #expect(Set(picks.keys) == [1, 3])
        #expect(picks[3]! > 240 && picks[3]! < 360)   // p = 3/4
        tops[0].setDiff([2])
        layer.backward(top: tops, propagateDown: [true], bottom: [x])
        let picked = tops[0].data[0] == 3 ? 3 : 1
        #expect(x.diffArray == (0..<4).map { $0 == picked ? 2 : 0 })
    }

    @Test func stochasticTestTakesTheValueWeightedMean() throws {
        let x = Blob([1, 1, 2, 2], values: [0, 1, 0, 3])
        let (layer, tops) = try makeLayer(#"name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }"#, bottoms: [x], phase: .test)
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [2.5])   // (1 + 9) / 4
        let r = randomBlob([2, 2, 4, 4], seed: 121, lo: 0.1, hi: 1)
        let (l2, t2) = try makeLayer(#"name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: STOCHASTIC kernel_size: 3 stride: 2 }"#, bottoms: [r], phase: .test)
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }

    @Test func sppShapesAndValues() throws {
        let x = randomBlob([2, 3, 13, 13], seed: 122)
        let (layer, tops) = try makeLayer(#"name: "spp" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 3 pool: MAX }"#, bottoms: [x])
        #expect(tops[0].shape == [2, 3 * (1 + 4 + 16)])
        try layer.forward(bottom: [x], top: tops)
        // Level 0 is the global max of each channel.
        for c in 0..<3 {
            let plane = Array(x.dataArray[(c * 169)..<((c + 1) * 169)])
            #expect(tops[0].data[c] == plane.max()!)
        }
        // Other image sizes give the same output length.
        let (_, t2) = try makeLayer(#"name: "spp" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 3 }"#, bottoms: [Blob([1, 3, 20, 17])])
        #expect(t2[0].shape == [1, 63])
    }

    @Test func sppGradientCheck() throws {
        let x = randomBlob([2, 2, 6, 6], seed: 123)
        let (layer, tops) = try makeLayer(#"name: "spp" type: "SPP" bottom: "x" top: "y" spp_param { pyramid_height: 2 pool: AVE }"#, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }
}
