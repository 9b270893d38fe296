import CBLAS
import CDNNL
import Foundation

/// Which library multiplies matrices. oneDNN's JIT sgemm uses the AVX-512 kernels of CPUs that
/// have them, whatever `OPENBLAS_CORETYPE` pins OpenBLAS to: single-threaded it ran LeNet's
/// and CIFAR-10's products at 1.2–2.4× OpenBLAS's speed on this machine kind (bench/RESULTS.md).
/// OpenBLAS keeps the products where oneDNN measured slower, and every other BLAS call;
/// `CORTADO_GEMM=openblas` gives it all of them, for comparison.
package enum GemmBackend: Sendable {
    case oneDNN, openBLAS

    /// The library the environment asks for.
    static let preferred: GemmBackend = ProcessInfo.processInfo.environment["CORTADO_GEMM"] == "openblas" ? .openBLAS : .oneDNN

    /// oneDNN, except for (a) products under 2¹⁷ multiply-adds, where its call costs more
    /// (16³: 2.2× OpenBLAS's time), and (b) op(B) transposed with rows a multiple of 4 KB
    /// apart and fewer than 128 columns of C (CIFAR-10 quick's ip1, 64 × 1024: 1.3–3.4×),
    /// where its packing of B thrashes one cache set. Depends only on the shape, so a
    /// product's rounding does not change from run to run.
    /// `preferring` is the environment's choice; tests pass .oneDNN to check the rule itself.
    static func `for`(m: Int, n: Int, k: Int, transB: Bool, ldb: Int, preferring: GemmBackend = preferred) -> GemmBackend {
        guard preferring == .oneDNN else { return .openBLAS }
        if m * n * k < 1 << 17 || (transB && ldb % 1024 == 0 && n < 128) { return .openBLAS }
        return .oneDNN
    }

    /// For `cortado time`: "oneDNN" or "OpenBLAS Haswell kernels".
    package static var description: String { preferred == .oneDNN ? "oneDNN" : "OpenBLAS \(blasCoreName()) kernels" }
}
