import Testing
@testable import CortadoBase

@Suite struct InnerProductLayerTests {
    @Test func forwardHandComputed() throws {
        let x = Blob([2, 3], values: [1, 2, 3, 4, 5, 6])
        let (layer, tops) = try makeLayer("""
            name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 2 }
            """, bottoms: [x])
        layer.blobs[0].setData([1, 0, -1, 0.5, 0.5, 0.5])   // W [2, 3]
        layer.blobs[1].setData([10, 20])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [8, 23, 8, 27.5])
    }

    @Test func transposeStoresWeightsAsKByN() throws {
        let x = Blob([1, 2], values: [1, 2])
        let (layer, tops) = try makeLayer("""
            name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 3 transpose: true bias_term: false }
            """, bottoms: [x])
        #expect(layer.blobs.count == 1)
        #expect(layer.blobs[0].shape == [2, 3])
        layer.blobs[0].setData([1, 2, 3, 4, 5, 6])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [9, 12, 15])
    }

    @Test func flattensFromAxis() throws {
        let x = Blob([2, 3, 4, 5])
        let (layer, tops) = try makeLayer("""
            name: "ip" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 7 axis: 2 }
            """, bottoms: [x])
        #expect(layer.blobs[0].shape == [7, 20])
        #expect(tops[0].shape == [2, 3, 7])
    }

    @Test(arguments: [false, true]) func gradientCheck(transpose: Bool) throws {
        let x = randomBlob([3, 2, 2, 2], seed: 21)
        let (layer, tops) = try makeLayer("""
            name: "ip" type: "InnerProduct" bottom: "x" top: "y"
            inner_product_param { num_output: 5 transpose: \(transpose)
              weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }
}
