/// Geometry of a 2-D convolution window over one image plane.
struct ConvGeometry: Sendable {
    var channels: Int
    var height: Int, width: Int
    var kernelH: Int, kernelW: Int
    var padH: Int, padW: Int
    var strideH: Int, strideW: Int
    var dilationH: Int, dilationW: Int

    var outHeight: Int { (height + 2 * padH - (dilationH * (kernelH - 1) + 1)) / strideH + 1 }
    var outWidth: Int { (width + 2 * padW - (dilationW * (kernelW - 1) + 1)) / strideW + 1 }
}

/// Unrolls one image (C×H×W) into columns: row (c, kh, kw), column (oh, ow), so a convolution
/// becomes one matrix product. `ldc` is the row stride of `col`, so several images can be
/// laid side by side for one GEMM over a whole batch.
func im2col(_ im: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    let oh = g.outHeight, ow = g.outWidth
    var row = 0
    for c in 0..<g.channels {
        let plane = im + c * g.height * g.width
        for kh in 0..<g.kernelH {
            for kw in 0..<g.kernelW {
                let dst = col + row * ldc
                var inRow = -g.padH + kh * g.dilationH
                for y in 0..<oh {
                    let out = dst + y * ow
                    if inRow < 0 || inRow >= g.height {
                        out.update(repeating: 0, count: ow)
                    } else {
                        let src = plane + inRow * g.width
                        var inCol = -g.padW + kw * g.dilationW
                        if g.strideW == 1 && inCol >= 0 && inCol + ow <= g.width {
                            out.update(from: src + inCol, count: ow)
                        } else {
                            for x in 0..<ow {
                                out[x] = (inCol >= 0 && inCol < g.width) ? src[inCol] : 0
                                inCol += g.strideW
                            }
                        }
                    }
                    inRow += g.strideH
                }
                row += 1
            }
        }
    }
}

/// The adjoint of im2col: adds each column entry back into the image position it came from.
/// `im` is overwritten.
func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ im: UnsafeMutablePointer<Float>, ldc: Int) {
    let oh = g.outHeight, ow = g.outWidth
    im.update(repeating: 0, count: g.channels * g.height * g.width)
    var row = 0
    for c in 0..<g.channels {
        let plane = im + c * g.height * g.width
        for kh in 0..<g.kernelH {
            for kw in 0..<g.kernelW {
                let src = col + row * ldc
                var inRow = -g.padH + kh * g.dilationH
                for y in 0..<oh {
                    if inRow >= 0 && inRow < g.height {
                        let dst = plane + inRow * g.width
                        let s = src + y * ow
                        var inCol = -g.padW + kw * g.dilationW
                        if g.strideW == 1 && inCol >= 0 && inCol + ow <= g.width {
                            let d = dst + inCol
                            for x in 0..<ow { d[x] += s[x] }
                        } else {
                            for x in 0..<ow {
                                if inCol >= 0 && inCol < g.width { dst[inCol] += s[x] }
                                inCol += g.strideW
                            }
                        }
                    }
                    inRow += g.strideH
                }
                row += 1
            }
        }
    }
}
