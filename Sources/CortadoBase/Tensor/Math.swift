import CBLAS
import CDNNL
import Foundation

/// Row-major wrappers over OpenBLAS and oneDNN's sgemm (`GemmBackend`) in Caffe's argument
/// order (caffe_cpu_gemm and friends): C = alpha·op(A)·op(B) + beta·C with op(A) M×K and
/// op(B) K×N. With `threads` > 1 a large product is split across threads by rows or columns
/// of C (never along K), so every element is computed by one single-threaded call and the
/// result does not depend on thread timing.
package func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
          _ alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
          _ beta: Float, _ c: UnsafeMutablePointer<Float>, threads: Int = Parallel.threads) {
    let lda = transA ? m : k, ldb = transB ? k : n
    let parts = min(threads, max(1, m * n * k / minSplitMultiplyAdds))
    guard parts > 1, max(m, n) >= 2 * gemmAlign else {
        return sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
    }
    if n >= m {
        Parallel.run(parts) { p in
            let cols = Parallel.range(p, of: parts, count: n, align: gemmAlign)
            guard !cols.isEmpty else { return }
            sgemm(transA, transB, m, cols.count, k, alpha, a, lda,
                  transB ? b + cols.lowerBound * ldb : b + cols.lowerBound, ldb, beta, c + cols.lowerBound, n)
        }
    } else {
        Parallel.run(parts) { p in
            let rows = Parallel.range(p, of: parts, count: m, align: gemmAlign)
            guard !rows.isEmpty else { return }
            sgemm(transA, transB, rows.count, n, k, alpha, transA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda,
                  b, ldb, beta, c + rows.lowerBound * n, n)
        }
    }
}

/// Products below this many multiply-adds per thread are not worth waking a thread for.
private let minSplitMultiplyAdds = 1 << 20
/// Split points fall on multiples of OpenBLAS's register block, so no part gets ragged edges.
private let gemmAlign = 16


/// One single-threaded sgemm with explicit leading dimensions.
@inline(__always)
func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
           _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
           _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
           backend: GemmBackend? = nil) {
    switch backend ?? .for(m: m, n: n, k: k, transB: transB, ldb: ldb) {
    case .oneDNN:
        // oneDNN's gemm takes as many OpenMP threads as the calling thread's setting allows;
        // Cortado splits products itself, so each call runs on the thread that makes it.
        omp_set_num_threads(1)
        let status = dnnl_sgemm(transposeFlag(transA), transposeFlag(transB), Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                                b, Int64(ldb), beta, c, Int64(ldc))
        // Only invalid arguments fail, and Cortado's shapes are valid by construction.
        assert(status == dnnl_success, "dnnl_sgemm: \(status)")
    case .openBLAS:
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// oneDNN's 'T' or 'N'.
@inline(__always)
private func transposeFlag(_ transpose: Bool) -> CChar { CChar(UInt8(ascii: transpose ? "T" : "N")) }

/// y = alpha·op(A)·x + beta·y with A M×N.
@inline(__always)
package func gemv(_ transA: Bool, _ m: Int, _ n: Int, _ alpha: Float, _ a: UnsafePointer<Float>,
          _ x: UnsafePointer<Float>, _ beta: Float, _ y: UnsafeMutablePointer<Float>) {
    cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
}

/// y += alpha·x
@inline(__always)
package func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
}

@inline(__always)
package func scal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) {
    cblas_sscal(Int32(n), alpha, x, 1)
}

@inline(__always)
package func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(Int32(n), x, 1, y, 1)
}

package func blasCoreName() -> String {
    String(cString: openblas_get_corename())
}
