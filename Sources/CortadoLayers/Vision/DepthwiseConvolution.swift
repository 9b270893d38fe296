import CortadoBase
import CortadoIO
import CortadoConfig

/// The direct kernel for depthwise convolution (group = input channels, as in MobileNet):
/// each output channel reads one input channel, so one small loop nest per channel beats
/// one tiny GEMM per group. Output channel o reads input channel o / multiplier.
struct DepthwiseConvolution {
    var geometry: ConvGeometry       // channels = input channels
    var multiplier: Int              // output channels per input channel

    var outPlane: Int { geometry.outHeight * geometry.outWidth }
    var inPlane: Int { geometry.height * geometry.width }

    /// Calls body(outputIndex, inputIndex, kernelIndex) for every tap that lands inside the image.
    @inline(__always)
    private func taps(_ body: (Int, Int, Int) -> Void) {
        let g = geometry
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                let o = oy * g.outWidth + ox
                for ky in 0..<g.kernelH {
                    let iy = oy * g.strideH - g.padH + ky * g.dilationH
                    if iy < 0 || iy >= g.height { continue }
                    for kx in 0..<g.kernelW {
                        let ix = ox * g.strideW - g.padW + kx * g.dilationW
                        if ix < 0 || ix >= g.width { continue }
                        body(o, iy * g.width + ix, ky * g.kernelW + kx)
                    }
                }
            }
        }
    }

    package func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, num: Int) {
        let k = geometry.kernelH * geometry.kernelW, outChannels = geometry.channels * multiplier
        for n in 0..<num {
            for oc in 0..<outChannels {
                let xp = x + (n * geometry.channels + oc / multiplier) * inPlane
                let yp = y + (n * outChannels + oc) * outPlane, wp = w + oc * k
                let b = bias?[oc] ?? 0
                for i in 0..<outPlane { yp[i] = b }
                taps { o, i, t in yp[o] += wp[t] * xp[i] }
            }
        }
    }

    func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?, num: Int) {
        let k = geometry.kernelH * geometry.kernelW, outChannels = geometry.channels * multiplier
        dx?.update(repeating: 0, count: num * geometry.channels * inPlane)
        for n in 0..<num {
            for oc in 0..<outChannels {
                let ic = oc / multiplier
                let xp = x + (n * geometry.channels + ic) * inPlane, dyp = dy + (n * outChannels + oc) * outPlane
                if let db { for i in 0..<outPlane { db[oc] += dyp[i] } }
                if let dw { let dwp = dw + oc * k; taps { o, i, t in dwp[t] += dyp[o] * xp[i] } }
                if let dx { let dxp = dx + (n * geometry.channels + ic) * inPlane, wp = w + oc * k; taps { o, i, t in dxp[i] += wp[t] * dyp[o] } }
            }
        }
    }
}
