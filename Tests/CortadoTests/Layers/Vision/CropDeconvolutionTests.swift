import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct CropDeconvolutionTests {
    @Test func cropHandComputed() throws {
        let x = Blob([1, 1, 3, 4], values: (0..<12).map(Float.init))
        let ref = Blob([1, 1, 2, 2])
        let (layer, tops) = try makeLayer(#"name: "c" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { offset: 1 offset: 2 }"#, bottoms: [x, ref])
        try layer.forward(bottom: [x, ref], top: tops)
        #expect(tops[0].shape == [1, 1, 2, 2])
        #expect(tops[0].dataArray == [6, 7, 10, 11])
        let r = randomBlob([2, 3, 5, 4], seed: 91)
        let (l2, t2) = try makeLayer(#"name: "c" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { axis: 1 offset: 1 }"#, bottoms: [r, Blob([2, 2, 3, 2])])
        #expect(t2[0].shape == [2, 2, 3, 2])
        try GradientChecker().check(l2, bottoms: [r, Blob([2, 2, 3, 2])], tops: t2, checkBottoms: [0])
        #expect(throws: ConfigError.self) { _ = try makeLayer(#"name: "c" type: "Crop" bottom: "x" bottom: "r" top: "y" crop_param { offset: 3 }"#, bottoms: [x, ref]) }
    }

    @Test func deconvolutionHandComputedAndShape() throws {
        // One pixel of value 2, kernel 2×2 of ones, stride 2: the output is a 2×2 patch of 2s (+ bias 1).
        let x = Blob([1, 1, 1, 1], values: [2])
        let (layer, tops) = try makeLayer("""
            name: "d" type: "Deconvolution" bottom: "x" top: "y"
            convolution_param { num_output: 1 kernel_size: 2 stride: 2 weight_filler { type: "constant" value: 1 } bias_filler { type: "constant" value: 1 } }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [3, 3, 3, 3])
        // FCN's ×2 upsampling: kernel 4, stride 2, pad 1 doubles 5×5 to 10×10; weights [C_in, out/group, k, k].
        let (up, t2) = try makeLayer("""
            name: "d" type: "Deconvolution" bottom: "x" top: "y"
            convolution_param { num_output: 3 kernel_size: 4 stride: 2 pad: 1 group: 3 bias_term: false weight_filler { type: "bilinear" } }
            """, bottoms: [Blob([1, 3, 5, 5])])
        #expect(t2[0].shape == [1, 3, 10, 10])
        #expect(up.blobs[0].shape == [3, 1, 4, 4])
    }

    @Test func deconvolutionGradientCheck() throws {
        let x = randomBlob([2, 4, 3, 3], seed: 92)
        let (layer, tops) = try makeLayer("""
            name: "d" type: "Deconvolution" bottom: "x" top: "y"
            convolution_param { num_output: 4 kernel_size: 3 stride: 2 pad: 1 group: 2
              weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }
}
