/// Geometry of a 2-D convolution window over one image plane.
package struct ConvGeometry: Sendable, Equatable {
    package var channels: Int
    package var height: Int, width: Int
    package var kernelH: Int, kernelW: Int
    package var padH: Int, padW: Int
    package var strideH: Int, strideW: Int
    package var dilationH: Int, dilationW: Int

    package init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int, padH: Int, padW: Int,
                 strideH: Int, strideW: Int, dilationH: Int, dilationW: Int) {
        (self.channels, self.height, self.width, self.kernelH, self.kernelW) = (channels, height, width, kernelH, kernelW)
        (self.padH, self.padW, self.strideH, self.strideW, self.dilationH, self.dilationW) = (padH, padW, strideH, strideW, dilationH, dilationW)
    }

    /// Before a layer's first reshape.
    package static let empty = ConvGeometry(channels: 0, height: 0, width: 0, kernelH: 0, kernelW: 0, padH: 0, padW: 0,
                                    strideH: 1, strideW: 1, dilationH: 1, dilationW: 1)

    package var outHeight: Int { (height + 2 * padH - (dilationH * (kernelH - 1) + 1)) / strideH + 1 }
    package var outWidth: Int { (width + 2 * padW - (dilationW * (kernelW - 1) + 1)) / strideW + 1 }
}

/// Unrolls one image (C×H×W) into columns: row (c, kh, kw), column (oh, ow), so a convolution
/// becomes one matrix product. `ldc` is the row stride of `col`, so several images can be
/// laid side by side for one GEMM over a whole batch. Rows are short (LeNet's conv2: 8 values),
/// so the copies are inline loops over the valid span with wrapping index arithmetic, not
/// memcpy calls; the spans are computed once per kernel offset.
package func im2col(_ im: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    if g.isDense { im2colDense(im, g, col, ldc: ldc) } else { im2colGeneral(im, g, col, ldc: ldc) }
}

/// im2col for any geometry: zeros where a window leaves the image, strided copies.
func im2colGeneral(_ im: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    let oh = g.outHeight, ow = g.outWidth, sw = g.strideW
    var row = 0
    for c in 0..<g.channels {
        let plane = im + c * g.height * g.width
        for kh in 0..<g.kernelH {
            let rows = g.validRows(kh)
            for kw in 0..<g.kernelW {
                let dst = col + row * ldc
                let span = g.validColumns(kw)
                dst.update(repeating: 0, count: rows.lowerBound * ow)
                var src = plane + (rows.lowerBound * g.strideH - g.padH + kh * g.dilationH) * g.width - g.padW + kw * g.dilationW
                var out = dst + rows.lowerBound * ow
                let rowStep = g.strideH * g.width
                for _ in rows {
                    var x = 0
                    while x < span.lowerBound { out[x] = 0; x &+= 1 }
                    if sw == 1 {
                        copyFloats(out + x, src + x, span.upperBound &- x)
                        x = span.upperBound
                    } else {
                        while x < span.upperBound { out[x] = src[x &* sw]; x &+= 1 }
                    }
                    while x < ow { out[x] = 0; x &+= 1 }
                    src += rowStep
                    out += ow
                }
                out.update(repeating: 0, count: (oh - rows.upperBound) * ow)
                row += 1
            }
        }
    }
}

/// The adjoint of im2col: adds each column entry back into the image position it came from.
/// `im` is overwritten.
package func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ im: UnsafeMutablePointer<Float>, ldc: Int) {
    if g.isDense { col2imDense(col, g, im, ldc: ldc) } else { col2imGeneral(col, g, im, ldc: ldc) }
}

/// col2im for any geometry.
func col2imGeneral(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ im: UnsafeMutablePointer<Float>, ldc: Int) {
    let ow = g.outWidth, sw = g.strideW
    im.update(repeating: 0, count: g.channels * g.height * g.width)
    var row = 0
    for c in 0..<g.channels {
        let plane = im + c * g.height * g.width
        for kh in 0..<g.kernelH {
            let rows = g.validRows(kh)
            for kw in 0..<g.kernelW {
                let span = g.validColumns(kw)
                var dst = plane + (rows.lowerBound * g.strideH - g.padH + kh * g.dilationH) * g.width - g.padW + kw * g.dilationW
                var s = col + row * ldc + rows.lowerBound * ow
                let rowStep = g.strideH * g.width
                for _ in rows {
                    var x = span.lowerBound
                    if sw == 1 {
                        addFloats(dst + x, s + x, span.upperBound &- x)
                    } else {
                        while x < span.upperBound { dst[x &* sw] += s[x]; x &+= 1 }
                    }
                    dst += rowStep
                    s += ow
                }
                row += 1
            }
        }
    }
}

/// im2col when every window lies inside the image at unit stride and dilation (LeNet's
/// convolutions, and every padded one once its image is padded): each (c, kh, kw) row is
/// outHeight copies of outWidth floats, with none of the general path's bounds work per
/// output row. With 8-wide outputs (LeNet's conv2) that work cost more than the copies: this
/// path took im2col from 19.6% to 5.3% of LeNet's training samples (bench/RESULTS.md).
func im2colDense(_ im: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    let oh = g.outHeight, ow = g.outWidth, w = g.width
    forEachDenseRow(g, ldc: ldc) { offset, row in
        var src = im + offset, out = col + row
        if ow == 8 {
            for _ in 0..<oh { copy8(out, src); src += w; out += 8 }
        } else {
            for _ in 0..<oh { copyFloats(out, src, ow); src += w; out += ow }
        }
    }
}

/// The adjoint of `im2colDense`; `im` is overwritten.
func col2imDense(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ im: UnsafeMutablePointer<Float>, ldc: Int) {
    let oh = g.outHeight, ow = g.outWidth, w = g.width
    im.update(repeating: 0, count: g.channels * g.height * w)
    forEachDenseRow(g, ldc: ldc) { offset, row in
        var dst = im + offset, src = col + row
        for _ in 0..<oh { addFloats(dst, src, ow); dst += w; src += ow }
    }
}

/// The column rows of a dense geometry in im2col's order (c, kh, kw): `body(offset, row)`
/// with the offset of the row's first input in the image and of the row in the columns.
@inline(__always)
private func forEachDenseRow(_ g: ConvGeometry, ldc: Int, _ body: (Int, Int) -> Void) {
    var row = 0
    for c in 0..<g.channels {
        for kh in 0..<g.kernelH {
            for kw in 0..<g.kernelW {
                body((c * g.height + kh) * g.width + kw, row)
                row += ldc
            }
        }
    }
}

@inline(__always)
private func copy8(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>) {
    UnsafeMutableRawPointer(dst).storeBytes(of: UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
}

extension ConvGeometry {
    package var hasPadding: Bool { padH > 0 || padW > 0 }

    /// Every window inside the image at unit stride and dilation: im2col copies whole rows.
    var isDense: Bool { !hasPadding && strideH == 1 && strideW == 1 && dilationH == 1 && dilationW == 1 }

    /// The same convolution over the image with its zero padding written out (`pad(_:_:into:)`):
    /// im2col over it copies whole rows, with no bounds to check.
    package var unpadded: ConvGeometry {
        ConvGeometry(channels: channels, height: height + 2 * padH, width: width + 2 * padW, kernelH: kernelH, kernelW: kernelW,
                     padH: 0, padW: 0, strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW)
    }

    /// Floats of one image with its padding written out.
    package var paddedImageCount: Int { channels * (height + 2 * padH) * (width + 2 * padW) }

    /// The output columns whose input column, for kernel column `kw`, lies inside the image.
    @inline(__always)
    func validColumns(_ kw: Int) -> Range<Int> {
        Self.valid(offset: -padW + kw * dilationW, stride: strideW, size: width, outputs: outWidth)
    }

    /// The output rows whose input row, for kernel row `kh`, lies inside the image.
    @inline(__always)
    func validRows(_ kh: Int) -> Range<Int> {
        Self.valid(offset: -padH + kh * dilationH, stride: strideH, size: height, outputs: outHeight)
    }

    /// The outputs o in 0..<outputs with 0 ≤ offset + o·stride < size.
    @inline(__always)
    static func valid(offset: Int, stride: Int, size: Int, outputs: Int) -> Range<Int> {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let end = offset >= size ? 0 : (size - offset + stride - 1) / stride
        let lo = min(first, outputs)
        return lo..<min(max(end, lo), outputs)
    }
}

/// dst[0..<n] = src[0..<n], eight lanes at a time: the rows im2col copies are often 8–30
/// values, too short for memcpy's call or for a compiler's 16-lane loop to pay. The last
/// eight lanes may overlap the ones before (copying a value twice is harmless), so no
/// scalar tail is left for n ≥ 8.
@inline(__always)
func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    guard n >= 8 else {
        var i = 0
        while i < n { dst[i] = src[i]; i &+= 1 }
        return
    }
    var i = 0
    while i &+ 8 < n {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        i &+= 8
    }
    i = n &- 8
    UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
}

/// dst[0..<n] += src[0..<n], eight lanes at a time (col2im's rows; the gradient sums of
/// `iter_size` and of the ordered MPI reduction, which must add element by element alike).
@inline(__always)
package func addFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 8 <= n {
        let d = UnsafeMutableRawPointer(dst + i)
        d.storeBytes(of: d.loadUnaligned(as: SIMD8<Float>.self) + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
        i &+= 8
    }
    while i < n { dst[i] += src[i]; i &+= 1 }
}

/// Copies one image (C×H×W) into `padded` (C×(H+2·padH)×(W+2·padW)) with zero borders.
package func pad(_ im: UnsafePointer<Float>, _ g: ConvGeometry, into padded: UnsafeMutablePointer<Float>) {
    let pw = g.width + 2 * g.padW, ph = g.height + 2 * g.padH
    for c in 0..<g.channels {
        let src = im + c * g.height * g.width, dst = padded + c * ph * pw
        dst.update(repeating: 0, count: g.padH * pw)
        for y in 0..<g.height {
            let row = dst + (g.padH + y) * pw
            for x in 0..<g.padW { row[x] = 0 }
            copyFloats(row + g.padW, src + y * g.width, g.width)
            for x in (g.padW + g.width)..<pw { row[x] = 0 }
        }
        (dst + (g.padH + g.height) * pw).update(repeating: 0, count: g.padH * pw)
    }
}

/// The adjoint of `pad`: the interior of `padded` into `im` (overwritten).
package func crop(_ padded: UnsafePointer<Float>, _ g: ConvGeometry, into im: UnsafeMutablePointer<Float>) {
    let pw = g.width + 2 * g.padW, ph = g.height + 2 * g.padH
    for c in 0..<g.channels {
        let src = padded + c * ph * pw, dst = im + c * g.height * g.width
        for y in 0..<g.height { copyFloats(dst + y * g.width, src + (g.padH + y) * pw + g.padW, g.width) }
    }
}
