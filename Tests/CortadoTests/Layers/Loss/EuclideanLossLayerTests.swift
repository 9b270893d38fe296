import Testing
@testable import CortadoBase

@Suite struct EuclideanLossLayerTests {
    @Test func forwardHandComputed() throws {
        let a = Blob([2, 2], values: [1, 2, 3, 4]), b = Blob([2, 2], values: [1, 0, 0, 4])
        let (layer, tops) = try makeLayer(#"name: "l" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss""#, bottoms: [a, b])
        try layer.forward(bottom: [a, b], top: tops)
        #expect(tops[0].dataArray == [(4 + 9) / 4])   // Σ(a − b)² / 2N, N = 2
    }

    @Test func gradientCheckBothBottoms() throws {
        let a = randomBlob([3, 4], seed: 51), b = randomBlob([3, 4], seed: 52)
        let (layer, tops) = try makeLayer(#"name: "l" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss""#, bottoms: [a, b])
        try GradientChecker().check(layer, bottoms: [a, b], tops: tops)
    }
}
