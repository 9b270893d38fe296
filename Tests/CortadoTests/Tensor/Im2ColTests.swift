import Testing
@testable import CortadoBase

/// The dense im2col and col2im (unit stride and dilation, no padding) against the general
/// ones they stand in for, side by side in a wider column matrix as ConvolutionLayer lays out
/// several images.
@Suite struct Im2ColTests {
    static func geometry(channels: Int, height: Int, width: Int, kernel: Int) -> ConvGeometry {
        ConvGeometry(channels: channels, height: height, width: width, kernelH: kernel, kernelW: kernel,
                     padH: 0, padW: 0, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1)
    }

    @Test(arguments: [(1, 28, 28, 5), (20, 12, 12, 5), (3, 9, 7, 3), (2, 5, 5, 5), (4, 20, 19, 1), (2, 40, 36, 3)])
    func denseMatchesGeneral(channels: Int, height: Int, width: Int, kernel: Int) {
        let g = Self.geometry(channels: channels, height: height, width: width, kernel: kernel)
        #expect(g.isDense)
        let spatial = g.outHeight * g.outWidth, rows = channels * kernel * kernel, ldc = 3 * spatial
        let image = randomBlob([channels * height * width], seed: 4).dataArray
        var dense = [Float](repeating: -7, count: rows * ldc), general = dense
        dense.withUnsafeMutableBufferPointer { im2colDense(image, g, $0.baseAddress! + spatial, ldc: ldc) }
        general.withUnsafeMutableBufferPointer { im2colGeneral(image, g, $0.baseAddress! + spatial, ldc: ldc) }
        #expect(dense == general)

        let columns = randomBlob([rows * ldc], seed: 5).dataArray
        var back = [Float](repeating: 3, count: image.count), backGeneral = back
        back.withUnsafeMutableBufferPointer { col2imDense(columns, g, $0.baseAddress!, ldc: ldc) }
        backGeneral.withUnsafeMutableBufferPointer { col2imGeneral(columns, g, $0.baseAddress!, ldc: ldc) }
        #expect(back == backGeneral)
    }
}
