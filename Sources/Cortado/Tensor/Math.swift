import CBLAS

/// Row-major wrappers over OpenBLAS in Caffe's argument order (caffe_cpu_gemm and friends):
/// C = alpha·op(A)·op(B) + beta·C with op(A) M×K and op(B) K×N.
@inline(__always)
func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
          _ alpha: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
          _ beta: Float, _ c: UnsafeMutablePointer<Float>) {
    let lda = transA ? m : k
    let ldb = transB ? k : n
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
}

/// y = alpha·op(A)·x + beta·y with A M×N.
@inline(__always)
func gemv(_ transA: Bool, _ m: Int, _ n: Int, _ alpha: Float, _ a: UnsafePointer<Float>,
          _ x: UnsafePointer<Float>, _ beta: Float, _ y: UnsafeMutablePointer<Float>) {
    cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
}

/// y += alpha·x
@inline(__always)
func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
}

@inline(__always)
func scal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) {
    cblas_sscal(Int32(n), alpha, x, 1)
}

@inline(__always)
func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(Int32(n), x, 1, y, 1)
}


/// Sets the number of OpenBLAS threads (1 makes results independent of thread timing).
public func setBLASThreads(_ n: Int) {
    openblas_set_num_threads(Int32(n))
}

public func blasCoreName() -> String {
    String(cString: openblas_get_corename())
}
