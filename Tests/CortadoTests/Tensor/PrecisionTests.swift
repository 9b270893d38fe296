import Testing
@testable import CortadoBase
@testable import CortadoLayers

/// bf16 convolutions (`--precision bf16`) against fp32 on the same layer: within bf16's
/// rounding of the inputs (8 significant bits) of every output and gradient, yet not equal,
/// so the bf16 kernels did run. Skipped on CPUs without AVX512_BF16 or AMX.
@Suite(.enabled(if: Precision.bf16Supported)) struct PrecisionTests {
    func pass(_ precision: Precision, threads: Int) throws -> (ParallelTests.Pass, Bool) {
        let (result, layer) = try ParallelTests.pass("""
            name: "c" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 32 pad: 1 kernel_size: 3 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "gaussian" std: 0.3 } }
            """, shape: [4, 32, 10, 10], threads: threads, seed: 4) { ($0 as? ConvolutionLayer)?.precision = precision }
        return (result, (layer as? ConvolutionLayer)?.backwardOnOneDNN == true)
    }

    /// Each value within `share` of the largest magnitude of the fp32 result.
    func expectNear(_ low: [Float], _ full: [Float], share: Float) {
        let scale = full.map(abs).max() ?? 1
        let worst = zip(low, full).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= share * scale, "bf16 off by \(worst) of \(scale)")
        #expect(worst > 0, "bf16 gave fp32's bits: its kernels did not run")
    }

    @Test(arguments: [1, 2]) func bf16IsFp32WithinItsRounding(threads: Int) throws {
        let (full, fullOnOneDNN) = try pass(.fp32, threads: threads)
        let (low, lowOnOneDNN) = try pass(.bf16, threads: threads)
        #expect(fullOnOneDNN && lowOnOneDNN)
        expectNear(low.top, full.top, share: 0.02)
        expectNear(low.bottomDiff, full.bottomDiff, share: 0.02)
        for (a, b) in zip(low.paramDiffs, full.paramDiffs) { expectNear(a, b, share: 0.02) }
        let (again, _) = try pass(.bf16, threads: threads)
        #expect(again.top == low.top && again.bottomDiff == low.bottomDiff && again.paramDiffs == low.paramDiffs,
                "bf16 must repeat bit for bit")
    }

    @Test func theDefaultIsCaffesFp32() {
        #expect(Precision.current == .fp32)
        #expect(Precision(rawValue: "bf16") == .bf16 && Precision(rawValue: "fp16") == nil)
    }
}
