import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct ConvolutionLayerTests {
    @Test func forwardMatchesHandComputedValues() throws {
        // One 3×3 image, one 2×2 kernel of ones, bias 0.5: each output is a window sum + 0.5.
        let x = Blob([1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let (layer, tops) = try makeLayer("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 1 kernel_size: 2
              weight_filler { type: "constant" value: 1 } bias_filler { type: "constant" value: 0.5 } }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].shape == [1, 1, 2, 2])
        #expect(tops[0].dataArray == [12.5, 16.5, 24.5, 28.5])
        #expect(layer.blobs[0].shape == [1, 1, 2, 2])
    }

    @Test func padStrideAndRectangularKernel() throws {
        let x = Blob([1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let (layer, tops) = try makeLayer("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 1 kernel_h: 1 kernel_w: 3 pad_h: 0 pad_w: 1 stride_h: 2 stride_w: 1 bias_term: false
              weight_filler { type: "constant" value: 1 } }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        // Rows 0 and 2; each output sums a 1×3 window with one zero of padding at the edges.
        #expect(tops[0].shape == [1, 1, 2, 3])
        #expect(tops[0].dataArray == [3, 6, 5, 15, 24, 17])
    }

    @Test func outputShapeFollowsCaffeFormula() throws {
        // out = floor((in + 2·pad − (dilation·(k − 1) + 1)) / stride) + 1
        let x = Blob([2, 3, 13, 11])
        let (_, tops) = try makeLayer("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 4 kernel_size: 3 pad: 2 stride: 2 dilation: 2 }
            """, bottoms: [x])
        #expect(tops[0].shape == [2, 4, 7, 6])
    }

    @Test func gradientCheck() throws {
        let x = randomBlob([2, 3, 5, 4], seed: 3)
        let (layer, tops) = try makeLayer("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 4 kernel_size: 3 pad: 1 stride: 2
              weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    @Test func gradientCheckWithGroupsAndDilation() throws {
        let x = randomBlob([2, 4, 6, 6], seed: 4)
        let (layer, tops) = try makeLayer("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 6 kernel_size: 2 dilation: 2 group: 2
              weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } }
            """, bottoms: [x])
        #expect(layer.blobs[0].shape == [6, 2, 2, 2])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    @Test func chunkedBatchGivesSameResultAsOneChunk() throws {
        // A batch larger than one im2col chunk must give the same numbers.
        let x = randomBlob([3, 2, 4, 4], seed: 5)
        let text = """
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 3 kernel_size: 3 weight_filler { type: "gaussian" } }
            """
        let (layer, tops) = try makeLayer(text, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        for n in 0..<3 {
            let single = Blob([1, 2, 4, 4], values: Array(x.dataArray[(n * 32)..<((n + 1) * 32)]))
            let (l1, t1) = try makeLayer(text, bottoms: [single])
            l1.blobs[0].copyData(from: layer.blobs[0])
            try l1.forward(bottom: [single], top: t1)
            expectClose(Array(tops[0].dataArray[(n * 12)..<((n + 1) * 12)]), t1[0].dataArray)
        }
    }

    @Test func rejectsGroupThatDoesNotDivideChannels() throws {
        let x = Blob([1, 3, 4, 4])
        #expect(throws: ConfigError.self) {
            _ = try makeLayer("""
                name: "c" type: "Convolution" bottom: "x" top: "y"
                convolution_param { num_output: 4 kernel_size: 3 group: 2 }
                """, bottoms: [x])
        }
    }

    @Test func pointwiseFastPathMatchesTheGeneralPath() throws {
        // A 1×1 kernel goes straight to sgemm; with pad 1 the same weights take the im2col path,
        // and the centre of that output must match.
        let x = randomBlob([2, 4, 3, 3], seed: 13)
        let (fast, tf) = try makeLayer(#"name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 6 kernel_size: 1 group: 2 weight_filler { type: "gaussian" } bias_filler { type: "gaussian" } }"#, bottoms: [x])
        let (slow, ts) = try makeLayer(#"name: "c" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 6 kernel_size: 1 pad: 1 group: 2 }"#, bottoms: [x])
        slow.blobs[0].copyData(from: fast.blobs[0]); slow.blobs[1].copyData(from: fast.blobs[1])
        try fast.forward(bottom: [x], top: tf)
        try slow.forward(bottom: [x], top: ts)
        var centre: [Float] = []
        for nc in 0..<12 { for h in 1...3 { for w in 1...3 { centre.append(ts[0].data[nc * 25 + h * 5 + w]) } } }
        expectClose(tf[0].dataArray, centre)
        try GradientChecker().check(fast, bottoms: [x], tops: tf)
    }

    @Test func depthwiseDirectKernelMatchesGroupedGEMM() throws {
        // group = channels takes the direct kernel; the same weights as two half-size groups
        // per channel pair give the reference through the GEMM path.
        let x = randomBlob([2, 4, 5, 6], seed: 14)
        let settings = "num_output: 8 kernel_size: 3 stride: 2 pad: 1 dilation: 2 weight_filler { type: \"gaussian\" } bias_filler { type: \"gaussian\" }"
        let (dw, td) = try makeLayer("name: \"c\" type: \"Convolution\" bottom: \"x\" top: \"y\" convolution_param { \(settings) group: 4 }", bottoms: [x])
        #expect(dw.blobs[0].shape == [8, 1, 3, 3])
        try dw.forward(bottom: [x], top: td)
        var expected: [Float] = []
        for c in 0..<4 {
            let xc = Blob([2, 1, 5, 6])
            for n in 0..<2 { (xc.data + n * 30).update(from: x.data + (n * 4 + c) * 30, count: 30) }
            let (one, to) = try makeLayer("name: \"c\" type: \"Convolution\" bottom: \"x\" top: \"y\" convolution_param { \(settings) num_output: 2 }"
                .replacingOccurrences(of: "num_output: 8 ", with: ""), bottoms: [xc])
            (one.blobs[0].data).update(from: dw.blobs[0].data + c * 18, count: 18)
            (one.blobs[1].data).update(from: dw.blobs[1].data + c * 2, count: 2)
            try one.forward(bottom: [xc], top: to)
            expected.append(contentsOf: to[0].dataArray)
        }
        // Reorder [channel][n][2 outputs] into [n][8 outputs].
        let per = td[0].count / 16
        var reordered = [Float](repeating: 0, count: td[0].count)
        for c in 0..<4 { for n in 0..<2 { for j in 0..<(2 * per) { reordered[(n * 8 + c * 2) * per + j] = expected[(c * 2 + n) * 2 * per + j] } } }
        expectClose(td[0].dataArray, reordered)
        try GradientChecker().check(dw, bottoms: [x], tops: td)
    }

    @Test(arguments: [1, 2]) func depthwiseRowKernelsMatchThePlainFormulaAndAnyThreadCount(stride: Int) throws {
        // Rows long enough for the vector loops and their tails; two outputs per channel.
        let shape = [2, 3, 11, 21], (c, h, w, k, pad, mult) = (3, 11, 21, 3, 1, 2)
        let text = "name: \"c\" type: \"Convolution\" bottom: \"x\" top: \"y\" convolution_param { num_output: 6 group: 3 kernel_size: 3 pad: 1 stride: \(stride) weight_filler { type: \"gaussian\" } bias_filler { type: \"gaussian\" } }"
        let (one, layer) = try ParallelTests.pass(text, shape: shape, threads: 1)
        for threads in [2, 3] {
            let (split, _) = try ParallelTests.pass(text, shape: shape, threads: threads)
            #expect(split.top == one.top && split.bottomDiff == one.bottomDiff && split.paramDiffs == one.paramDiffs)
        }
        // The plain formula in double, tap by tap with bounds tests.
        let x = randomBlob(shape, seed: 5).dataArray.map(Double.init)
        let wt = layer.blobs[0].dataArray.map(Double.init), bias = layer.blobs[1].dataArray.map(Double.init)
        let (oh, ow) = ((h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1)
        let dy = randomBlob([2, 6, oh, ow], seed: 6).dataArray.map(Double.init)
        var y = [Double](repeating: 0, count: dy.count), dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0.25, count: wt.count), db = [Double](repeating: 0.25, count: 6)
        for n in 0..<2 { for o in 0..<(c * mult) { for oy in 0..<oh { for ox in 0..<ow {
            let at = ((n * 6 + o) * oh + oy) * ow + ox
            y[at] = bias[o]; db[o] += dy[at]
            for ky in 0..<k { for kx in 0..<k {
                let (iy, ix) = (oy * stride - pad + ky, ox * stride - pad + kx)
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let xi = ((n * c + o / mult) * h + iy) * w + ix, t = o * 9 + ky * 3 + kx
                y[at] += wt[t] * x[xi]; dw[t] += dy[at] * x[xi]; dx[xi] += wt[t] * dy[at]
            } }
        } } } }
        expectClose(one.top, y.map(Float.init))
        expectClose(one.bottomDiff, dx.map(Float.init))
        expectClose(one.paramDiffs[0], dw.map(Float.init), tolerance: 1e-4)
        expectClose(one.paramDiffs[1], db.map(Float.init), tolerance: 1e-4)
    }
}
