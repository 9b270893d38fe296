import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig
@testable import CortadoDistributed

/// Layers that move values around: forward values by hand and a gradient check each.
@Suite struct StructureLayerTests {
    @Test func concat() throws {
        let a = Blob([2, 1, 2], values: [1, 2, 3, 4]), b = Blob([2, 2, 2], values: [5, 6, 7, 8, 9, 10, 11, 12])
        let (layer, tops) = try makeLayer(#"name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y""#, bottoms: [a, b])
        try layer.forward(bottom: [a, b], top: tops)
        #expect(tops[0].shape == [2, 3, 2])
        #expect(tops[0].dataArray == [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
        let x = randomBlob([2, 3, 2], seed: 1), y = randomBlob([2, 3, 1], seed: 2)
        let (l2, t2) = try makeLayer(#"name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y" concat_param { axis: -1 }"#, bottoms: [x, y])
        #expect(t2[0].shape == [2, 3, 3])
        try GradientChecker().check(l2, bottoms: [x, y], tops: t2)
        #expect(throws: ConfigError.self) { _ = try makeLayer(#"name: "c" type: "Concat" bottom: "a" bottom: "b" top: "y""#, bottoms: [Blob([2, 1, 2]), Blob([2, 1, 3])]) }
    }

    @Test func slice() throws {
        let x = Blob([1, 4], values: [1, 2, 3, 4])
        let (layer, tops) = try makeLayer(#"name: "s" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { slice_point: 1 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [1] && tops[1].dataArray == [2, 3, 4])
        let r = randomBlob([2, 6, 2], seed: 3)
        let (l2, t2) = try makeLayer(#"name: "s" type: "Slice" bottom: "x" top: "a" top: "b" top: "c""#, bottoms: [r])
        #expect(t2.map(\.shape) == [[2, 2, 2], [2, 2, 2], [2, 2, 2]])
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }

    @Test func flattenAndReshape() throws {
        let x = randomBlob([2, 3, 4, 5], seed: 4)
        let (f, tf) = try makeLayer(#"name: "f" type: "Flatten" bottom: "x" top: "y""#, bottoms: [x])
        #expect(tf[0].shape == [2, 60])
        let (f2, tf2) = try makeLayer(#"name: "f" type: "Flatten" bottom: "x" top: "y" flatten_param { axis: 1 end_axis: 2 }"#, bottoms: [x])
        #expect(tf2[0].shape == [2, 12, 5])
        try f.forward(bottom: [x], top: tf)
        #expect(tf[0].dataArray == x.dataArray)
        try GradientChecker().check(f2, bottoms: [x], tops: tf2)
        let (r, tr) = try makeLayer(#"name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: 0 dim: -1 dim: 10 } }"#, bottoms: [x])
        #expect(tr[0].shape == [2, 6, 10])
        let (_, tr2) = try makeLayer(#"name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: 2 dim: 2 } axis: 1 num_axes: 1 }"#, bottoms: [Blob([2, 4, 5])])
        #expect(tr2[0].shape == [2, 2, 2, 5])
        try GradientChecker().check(r, bottoms: [x], tops: tr)
        #expect(throws: ConfigError.self) { _ = try makeLayer(#"name: "r" type: "Reshape" bottom: "x" top: "y" reshape_param { shape { dim: 7 dim: -1 } }"#, bottoms: [x]) }
    }

    @Test(arguments: ["PROD", "SUM", "MAX"]) func eltwise(op: String) throws {
        let a = Blob([3], values: [1, 5, -2]), b = Blob([3], values: [4, 2, -3])
        let coeff = op == "SUM" ? "coeff: 1 coeff: -2" : ""
        let (layer, tops) = try makeLayer(#"name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: \#(op) \#(coeff) }"#, bottoms: [a, b])
        try layer.forward(bottom: [a, b], top: tops)
        let expected: [Float] = op == "PROD" ? [4, 10, 6] : op == "SUM" ? [-7, 1, 4] : [4, 5, -2]
        #expect(tops[0].dataArray == expected)
        let x = awayFromZeroBlob([2, 3, 2], seed: 5), y = awayFromZeroBlob([2, 3, 2], seed: 6), z = awayFromZeroBlob([2, 3, 2], seed: 7)
        let c3 = op == "SUM" ? "coeff: 0.5 coeff: -1 coeff: 2" : ""
        let (l2, t2) = try makeLayer(#"name: "e" type: "Eltwise" bottom: "a" bottom: "b" bottom: "c" top: "y" eltwise_param { operation: \#(op) \#(c3) }"#, bottoms: [x, y, z])
        try GradientChecker().check(l2, bottoms: [x, y, z], tops: t2)
    }

    @Test func tile() throws {
        let x = Blob([2, 2], values: [1, 2, 3, 4])
        let (layer, tops) = try makeLayer(#"name: "t" type: "Tile" bottom: "x" top: "y" tile_param { axis: 1 tiles: 2 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [1, 2, 1, 2, 3, 4, 3, 4])
        let r = randomBlob([2, 3], seed: 8)
        let (l2, t2) = try makeLayer(#"name: "t" type: "Tile" bottom: "x" top: "y" tile_param { axis: 0 tiles: 3 }"#, bottoms: [r])
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }

    @Test(arguments: ["SUM", "ASUM", "SUMSQ", "MEAN"]) func reduction(op: String) throws {
        let x = Blob([2, 2], values: [1, -2, 3, 4])
        let (layer, tops) = try makeLayer(#"name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: \#(op) axis: 1 coeff: 2 }"#, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        let expected: [Float] = ["SUM": [-2, 14], "ASUM": [6, 14], "SUMSQ": [10, 50], "MEAN": [-1, 7]][op]!
        #expect(tops[0].dataArray == expected)
        let r = awayFromZeroBlob([2, 3, 2], seed: 9)
        let (l2, t2) = try makeLayer(#"name: "r" type: "Reduction" bottom: "x" top: "y" reduction_param { operation: \#(op) }"#, bottoms: [r])
        #expect(t2[0].shape == [])
        try GradientChecker().check(l2, bottoms: [r], tops: t2)
    }

    @Test func silenceZeroesGradients() throws {
        let x = randomBlob([3], seed: 10)
        x.setDiff([1, 2, 3])
        let (layer, _) = try makeLayer(#"name: "s" type: "Silence" bottom: "x""#, bottoms: [x])
        layer.backward(top: [], propagateDown: [true], bottom: [x])
        #expect(x.diffArray == [0, 0, 0])
    }
}
