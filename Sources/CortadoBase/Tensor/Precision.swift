import CDNNL

/// The arithmetic convolutions run in. fp32 is Caffe's. bf16 (opt in, `--precision bf16`) runs
/// the convolutions that are on oneDNN through its bf16 kernels, as mixed precision does
/// elsewhere: their inputs, weights and output gradients are rounded to bf16 on the way in,
/// while products accumulate in fp32, results and gradients come out in fp32, and the
/// weights the solver updates stay fp32. Convolutions on im2col, inner products and every
/// other layer stay fp32.
public enum Precision: String, Sendable, CaseIterable {
    case fp32, bf16

    /// The precision nets built from now on use (as `Parallel.threads`); set once by the CLI.
    nonisolated(unsafe) public private(set) static var current = Precision.fp32

    /// Whether this CPU has bf16 dot products (AVX512_BF16, or AMX) that oneDNN uses: without
    /// them oneDNN's bf16 convolutions are emulated and slower than fp32.
    public static var bf16Supported: Bool {
        let want = dnnl_cpu_isa_avx512_core_bf16.rawValue
        return dnnl_get_effective_cpu_isa().rawValue & want == want
    }

    /// Chooses the precision for nets built from now on; bf16 on a CPU without it is an error.
    public static func use(_ precision: Precision) throws {
        if precision == .bf16 && !bf16Supported {
            throw UsageError("--precision bf16 needs a CPU with AVX512_BF16 or AMX (this one has neither); use fp32")
        }
        current = precision
    }

    /// What the log says of it.
    public var summary: String {
        switch self {
        case .fp32: "fp32"
        case .bf16: "bf16 (convolutions on oneDNN take bf16 inputs, weights and gradients; accumulation, results, weights and the update stay fp32)"
        }
    }

    /// oneDNN's type for the values a convolution reads.
    var dnnlInputType: dnnl_data_type_t { self == .bf16 ? dnnl_bf16 : dnnl_f32 }
}
