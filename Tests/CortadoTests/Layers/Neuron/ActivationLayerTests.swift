import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig
@testable import CortadoLayers

/// Element-wise activations and maths layers: a forward value by hand and a gradient check each.
@Suite struct ActivationLayerTests {
    func forward(_ text: String, _ input: [Float]) throws -> [Float] {
        let x = Blob([input.count], values: input)
        let (layer, tops) = try makeLayer(text, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        return tops[0].dataArray
    }

    func check(_ text: String, lo: Float = -1, hi: Float = 1, awayFromZero: Bool = false) throws {
        let x = awayFromZero ? awayFromZeroBlob([2, 3, 2, 2], seed: 71) : randomBlob([2, 3, 2, 2], seed: 71, lo: lo, hi: hi)
        let (layer, tops) = try makeLayer(text, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    static func layer(_ type: String, _ params: String = "") -> String {
        #"name: "l" type: "\#(type)" bottom: "x" top: "y" \#(params)"#
    }

    @Test func absVal() throws {
        #expect(try forward(Self.layer("AbsVal"), [-2, 0, 3]) == [2, 0, 3])
        try check(Self.layer("AbsVal"), awayFromZero: true)
    }

    @Test func power() throws {
        #expect(try forward(Self.layer("Power", "power_param { power: 2 scale: 3 shift: 1 }"), [1, -1]) == [16, 4])
        try check(Self.layer("Power", "power_param { power: 2 scale: 0.5 shift: 2 }"))
        try check(Self.layer("Power", "power_param { power: 0.5 scale: 1 shift: 2 }"))
    }

    @Test func exp() throws {
        expectClose(try forward(Self.layer("Exp", "exp_param { base: 2 scale: 2 shift: 1 }"), [0, 1]), [2, 8])
        expectClose(try forward(Self.layer("Exp"), [1]), [expf(1)])
        try check(Self.layer("Exp", "exp_param { base: 3 scale: 0.5 }"))
    }

    @Test func log() throws {
        expectClose(try forward(Self.layer("Log", "log_param { base: 10 scale: 10 shift: 0 }"), [1, 10]), [1, 2])
        try check(Self.layer("Log", "log_param { shift: 2 }"))
    }

    @Test func bnll() throws {
        expectClose(try forward(Self.layer("BNLL"), [0, 2, -2]), [logf(2), logf(1 + expf(2)), logf(1 + expf(-2))])
        try check(Self.layer("BNLL"), lo: -3, hi: 3)
    }

    @Test func thresholdHasNoGradient() throws {
        #expect(try forward(Self.layer("Threshold", "threshold_param { threshold: 0.5 }"), [0.2, 0.5, 0.7]) == [0, 0, 1])
        let (layer, _) = try makeLayer(Self.layer("Threshold"), bottoms: [Blob([2])])
        #expect(!layer.hasBackward)
    }

    @Test func elu() throws {
        expectClose(try forward(Self.layer("ELU", "elu_param { alpha: 2 }"), [1, -1]), [1, 2 * (expf(-1) - 1)])
        try check(Self.layer("ELU", "elu_param { alpha: 0.5 }"), awayFromZero: true)
    }

    @Test func swish() throws {
        expectClose(try forward(Self.layer("Swish", "swish_param { beta: 2 }"), [1, 0]), [1 / (1 + expf(-2)), 0])
        try check(Self.layer("Swish", "swish_param { beta: 1.5 }"), lo: -3, hi: 3)
    }

    @Test func clip() throws {
        #expect(try forward(Self.layer("Clip", "clip_param { min: -1 max: 2 }"), [-3, 0.5, 5]) == [-1, 0.5, 2])
        let x = Blob([4], values: [-3, -0.5, 0.5, 5])
        let (layer, tops) = try makeLayer(Self.layer("Clip", "clip_param { min: -1 max: 2 }"), bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
        #expect(throws: ConfigError.self) { _ = try makeLayer(Self.layer("Clip", "clip_param { min: 1 }"), bottoms: [Blob([1])]) }
    }

    @Test func prelu() throws {
        let x = Blob([1, 2, 1, 2], values: [-1, 2, -4, 3])
        let (layer, tops) = try makeLayer(Self.layer("PReLU", "prelu_param { filler { type: \"constant\" value: 0.5 } }"), bottoms: [x])
        #expect(layer.blobs[0].shape == [2])
        layer.blobs[0].setData([0.5, 0.25])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [-0.5, 2, -1, 3])
        let (shared, _) = try makeLayer(Self.layer("PReLU", "prelu_param { channel_shared: true }"), bottoms: [Blob([1, 2, 1, 2])])
        #expect(shared.blobs[0].count == 1 && shared.blobs[0].data[0] == 0.25)
        try check(Self.layer("PReLU", "prelu_param { filler { type: \"uniform\" min: 0.1 max: 0.5 } }"), awayFromZero: true)
        try check(Self.layer("PReLU", "prelu_param { channel_shared: true }"), awayFromZero: true)
    }

    @Test func preluInPlaceMatchesOutOfPlace() throws {
        let a = awayFromZeroBlob([2, 3, 2], seed: 3), b = awayFromZeroBlob([2, 3, 2], seed: 3)
        let (l1, t1) = try makeLayer(Self.layer("PReLU"), bottoms: [a])
        let p = try layerParam(#"name: "l" type: "PReLU" bottom: "x" top: "x""#)
        let l2 = try LayerRegistry.create(p, phase: .train)
        try l2.setUp(bottom: [b], top: [b], context: LayerContext(rng: RNG(seed: 7), phase: .train))
        try l2.reshape(bottom: [b], top: [b])
        try l1.forward(bottom: [a], top: t1)
        try l2.forward(bottom: [b], top: [b])
        #expect(t1[0].dataArray == b.dataArray)
        let g = randomBlob([2, 3, 2], seed: 4)
        t1[0].setDiff(g.dataArray); b.setDiff(g.dataArray)
        l1.backward(top: t1, propagateDown: [true], bottom: [a])
        l2.backward(top: [b], propagateDown: [true], bottom: [b])
        #expect(a.diffArray == b.diffArray)
        #expect(l1.blobs[0].diffArray == l2.blobs[0].diffArray)
    }
}
