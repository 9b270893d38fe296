import Testing
@testable import CortadoBase

@Suite struct PoolingLayerTests {
    @Test func maxForwardHandComputed() throws {
        let x = Blob([1, 1, 4, 4], values: [1, 2, 5, 6,
                                            3, 4, 7, 8,
                                            9, 10, 13, 14,
                                            11, 12, 15, 16])
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 2 stride: 2 }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [4, 8, 12, 16])
    }

    @Test func averageDividesByWindowClippedToPaddedExtent() throws {
        // 3×3 input, kernel 2, stride 2, pad 1: ceil((3 + 2 − 2) / 2) + 1 = 3, but the last window
        // would start at 4 ≥ 3 + 1, inside the padding, so 2 outputs. A corner window covers 1 pixel of a 2×2 area.
        let x = Blob([1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 2 stride: 2 pad: 1 }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].shape == [1, 1, 2, 2])
        // Windows (rows × cols): [-1,0]×[-1,0] → 1/4; [-1,0]×[1,2] → (2+3)/4; [1,2]×[-1,0] → (4+7)/4; [1,2]×[1,2] → (5+6+8+9)/4
        #expect(tops[0].dataArray == [0.25, 1.25, 2.75, 7])
    }

    @Test func outputSizeUsesCeilAndPaddingCorrection() throws {
        // Caffe: 64 → 33 for k3 s2 p1... pool: ceil((64 + 2 − 3) / 2) + 1 = 33; conv would give 32.
        let x = Blob([1, 1, 64, 64])
        let (_, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }
            """, bottoms: [x])
        #expect(tops[0].shape == [1, 1, 33, 33])
        // CaffeNet pool1: 55 → 27 (k3 s2, no pad).
        let y = Blob([1, 96, 55, 55])
        let (_, t2) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 }
            """, bottoms: [y])
        #expect(t2[0].shape == [1, 96, 27, 27])
        // FLOOR rounding.
        let (_, t3) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 2 stride: 2 round_mode: FLOOR }
            """, bottoms: [Blob([1, 1, 5, 5])])
        #expect(t3[0].shape == [1, 1, 2, 2])
    }

    @Test func globalPooling() throws {
        let x = Blob([1, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE global_pooling: true }
            """, bottoms: [x])
        try layer.forward(bottom: [x], top: tops)
        #expect(tops[0].dataArray == [2.5, 6.5])
    }

    @Test func maxGradientCheck() throws {
        // Distinct, well-separated values so the arg-max does not flip under the probe step.
        var rng = RNG(seed: 11)
        var order = Array(0..<(2 * 3 * 5 * 5))
        rng.shuffle(&order)
        let x = Blob([2, 3, 5, 5], values: order.map { Float($0) * 0.1 })
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    @Test func averageGradientCheck() throws {
        let x = randomBlob([2, 2, 5, 4], seed: 12)
        let (layer, tops) = try makeLayer("""
            name: "p" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 }
            """, bottoms: [x])
        try GradientChecker().check(layer, bottoms: [x], tops: tops)
    }

    /// Caffe's pooling written plainly (one window at a time, scanned in order), for comparing
    /// the kernels that take eight windows at once against it.
    static func reference(_ x: Blob, kernel: Int, stride: Int, pad: Int, max isMax: Bool) -> (values: [Float], argmax: [Int]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func out(_ size: Int) -> Int {
            var o = Int((Float(size + 2 * pad - kernel) / Float(stride)).rounded(.up)) + 1
            if pad > 0 && (o - 1) * stride >= size + pad { o -= 1 }
            return o
        }
        let (oh, ow) = (out(h), out(w))
        var values: [Float] = [], argmax: [Int] = []
        for plane in 0..<(n * c) {
            for ph in 0..<oh {
                for pw in 0..<ow {
                    let hs = ph * stride - pad, ws = pw * stride - pad
                    let he = min(hs + kernel, h + pad), we = min(ws + kernel, w + pad)
                    let size = Float((he - hs) * (we - ws))
                    var best = -Float.greatestFiniteMagnitude, arg = -1, sum: Float = 0
                    for y in max(hs, 0)..<min(he, h) {
                        for xx in max(ws, 0)..<min(we, w) {
                            let v = x.data[plane * h * w + y * w + xx]
                            sum += v
                            if v > best { best = v; arg = y * w + xx }
                        }
                    }
                    values.append(isMax ? best : sum / size)
                    argmax.append(arg)
                }
            }
        }
        return (values, argmax)
    }

    /// Windows inside the image go eight at a time (strides 1 and 2), the edges one by one; both
    /// must give the plain computation's values and, for MAX, pick the same element (ties too:
    /// the input has many repeated values).
    @Test(arguments: [(3, 2, 0), (3, 1, 1), (2, 2, 0), (3, 2, 1), (5, 3, 2), (2, 1, 0)])
    func eightAtATimeMatchesPlainPooling(kernel: Int, stride: Int, pad: Int) throws {
        var rng = RNG(seed: 21)
        let x = Blob([2, 3, 29, 37], values: (0..<(2 * 3 * 29 * 37)).map { _ in Float(Int(rng.uniform(0, 8))) - 3.5 })
        for method in ["MAX", "AVE"] {
            let (layer, tops) = try makeLayer("""
                name: "p" type: "Pooling" bottom: "x" top: "y"
                pooling_param { pool: \(method) kernel_size: \(kernel) stride: \(stride) pad: \(pad) }
                """, bottoms: [x])
            try layer.forward(bottom: [x], top: tops)
            let expected = Self.reference(x, kernel: kernel, stride: stride, pad: pad, max: method == "MAX")
            #expect(tops[0].dataArray == expected.values, "\(method) k\(kernel) s\(stride) p\(pad)")
            guard method == "MAX" else { continue }
            // The gradient lands on the chosen element: one-hot top diffs reveal the choice.
            tops[0].setDiff([Float](repeating: 1, count: tops[0].count))
            layer.backward(top: tops, propagateDown: [true], bottom: [x])
            var counts = [Float](repeating: 0, count: x.count)
            let outPlane = tops[0].count / 6, inPlane = 29 * 37
            for (o, a) in expected.argmax.enumerated() where a >= 0 { counts[(o / outPlane) * inPlane + a] += 1 }
            #expect(x.diffArray == counts, "MAX k\(kernel) s\(stride) p\(pad) picks other elements")
        }
    }
}
