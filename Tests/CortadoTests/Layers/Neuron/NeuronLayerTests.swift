import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct NeuronLayerTests {
    @Test func reluForward() throws {
        let x = Blob([4], values: [-2, -0.5, 0.5, 3])
        let (layer, tops) = try makeLayer(#"name: "r" type: "ReLU" bottom: "x" top: "y""#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [0, 0, 0.5, 3])
        let (leaky, t2) = try makeLayer(#"name: "r" type: "ReLU" bottom: "x" top: "y" relu_param { negative_slope: 0.1 }"#, bottoms: [x])
        try leaky.forward(bottom: [x], top: t2)
        expectClose(t2[0].dataArray, [-0.2, -0.05, 0.5, 3])
    }

    @Test(arguments: [0, 0.2]) func reluGradientCheck(slope: Float) throws {
        let x = awayFromZeroBlob([2, 3, 4], seed: 31)
        let (layer, tops) = try makeLayer(#"name: "r" type: "ReLU" bottom: "x" top: "y" relu_param { negative_slope: \#(slope) }"#, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    @Test func reluInPlaceBackward() throws {
        // In place, the bottom holds y when backward runs; the mask must still be right.
        let x = Blob([4], values: [-2, -0.5, 0.5, 3])
        let (layer, _) = try makeLayer(#"name: "r" type: "ReLU" bottom: "x" top: "x""#, bottoms: [x])
        try layer.forward(bottom: [x], top: [x])
        x.setDiff([1, 1, 1, 1])
        layer.backward(top: [x], propagateDown: [true], bottom: [x])
        #expect(x.diffArray == [0, 0, 1, 1])
    }

    @Test func sigmoidForwardAndGradient() throws {
        let x = Blob([3], values: [0, 2, -1])
        let (layer, tops) = try makeLayer(#"name: "s" type: "Sigmoid" bottom: "x" top: "y""#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        expectClose(tops[0].dataArray, [0.5, 1 / (1 + expf(-2)), 1 / (1 + expf(1))])
        let r = randomBlob([2, 5], seed: 32, lo: -3, hi: 3)
        let (l2, t2) = try makeLayer(#"name: "s" type: "Sigmoid" bottom: "x" top: "y""#, bottoms: [r])
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }

    @Test func tanhForwardAndGradient() throws {
        let x = Blob([3], values: [0, 1, -0.5])
        let (layer, tops) = try makeLayer(#"name: "t" type: "TanH" bottom: "x" top: "y""#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        expectClose(tops[0].dataArray, [0, tanhf(1), tanhf(-0.5)])
        let r = randomBlob([2, 5], seed: 33, lo: -2, hi: 2)
        let (l2, t2) = try makeLayer(#"name: "t" type: "TanH" bottom: "x" top: "y""#, bottoms: [r])
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }

    @Test func dropoutScalesKeptUnitsInTrainAndIsIdentityInTest() throws {
        let x = Blob([1000], values: [Float](repeating: 1, count: 1000))
        let text = #"name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 0.25 }"#
        let (train, t1) = try makeLayer(text, bottoms: [x], phase: .train)
        try train.forward(bottom: [x], top: t1)
        let values = Set(t1[0].dataArray)
        #expect(values.isSubset(of: [0, Float(1) / 0.75]))
        let kept = t1[0].dataArray.filter { $0 != 0 }.count
        #expect(kept > 700 && kept < 800)
        let (test, t2) = try makeLayer(text, bottoms: [x], phase: .test)
        try test.forward(bottom: [x], top: t2)
        #expect(t2[0].dataArray == x.dataArray)
    }

    @Test func dropoutWithoutScaleTrainScalesAtTestTime() throws {
        let x = Blob([4], values: [1, 1, 1, 1])
        let text = #"name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 0.25 scale_train: false }"#
        let (train, t1) = try makeLayer(text, bottoms: [x], phase: .train)
        try train.forward(bottom: [x], top: t1)
        #expect(Set(t1[0].dataArray).isSubset(of: [0, 1]))
        let (test, t2) = try makeLayer(text, bottoms: [x], phase: .test)
        try test.forward(bottom: [x], top: t2)
        #expect(t2[0].dataArray == [0.75, 0.75, 0.75, 0.75])
        try GradientChecker().check(test, bottoms: [x], tops: t2)
    }

    @Test func dropoutGradientCheck() throws {
        let x = randomBlob([3, 4], seed: 34)
        let (layer, tops) = try makeLayer(#"name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 0.5 }"#, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    @Test func dropoutRejectsRatioOfOne() throws {
        #expect(throws: ConfigError.self) {
            _ = try makeLayer(#"name: "d" type: "Dropout" bottom: "x" top: "y" dropout_param { dropout_ratio: 1 }"#, bottoms: [Blob([2])])
        }
    }
}
