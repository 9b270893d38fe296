import Foundation

/// Pooling (MAX or AVE) over H×W of an N×C×H×W blob, with Caffe's output size rule: ceil by
/// default, minus one when the last window would start inside the padding. MAX windows are
/// clipped to the image; AVE divides by the window clipped to the padded extent.
final class PoolingLayer: Layer {
    enum Method: String { case max = "MAX", ave = "AVE", stochastic = "STOCHASTIC" }

    private var method = Method.max
    private var global = false
    private var ceilMode = true
    private var kernel = (h: 0, w: 0), pad = (h: 0, w: 0), stride = (h: 1, w: 1)
    private var channels = 0, height = 0, width = 0, num = 0
    private var pooledH = 0, pooledW = 0
    /// Index of the winning input per output for MAX (kept as Int32 to stay small).
    private var mask: [Int32] = []

    override var exactNumBottoms: Int? { 1 }
    override var minTops: Int? { 1 }
    override var maxTops: Int? { method == .max ? 2 : 1 }

    override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let p = param.sub("pooling_param")
        method = Method(rawValue: p.enumValue("pool") ?? "MAX") ?? .max
        guard method != .stochastic else {
            throw p.error("STOCHASTIC pooling is not available in Cortado yet; use MAX or AVE", field: "pool")
        }
        global = p.bool("global_pooling") ?? false
        ceilMode = (p.enumValue("round_mode") ?? "CEIL") == "CEIL"
        if global {
            if p.has("kernel_size") || p.has("kernel_h") || p.has("kernel_w") {
                throw p.error("global_pooling takes the whole image as its kernel; remove kernel_size", field: "global_pooling")
            }
        } else {
            kernel = try ConvolutionLayer.pairSingle(p, "kernel_size", "kernel_h", "kernel_w", default: nil)
            guard kernel.h > 0, kernel.w > 0 else { throw p.error("kernel size must be positive", field: "kernel_size") }
        }
        pad = try ConvolutionLayer.pairSingle(p, "pad", "pad_h", "pad_w", default: 0)
        stride = try ConvolutionLayer.pairSingle(p, "stride", "stride_h", "stride_w", default: 1)
        guard stride.h > 0, stride.w > 0 else { throw p.error("stride must be positive", field: "stride") }
        if global {
            guard pad == (0, 0), stride == (1, 1) else {
                throw p.error("global_pooling needs pad 0 and stride 1", field: "global_pooling")
            }
        } else if pad.h >= kernel.h || pad.w >= kernel.w {
            throw p.error("pad (\(pad.h)×\(pad.w)) must be smaller than the kernel (\(kernel.h)×\(kernel.w))", field: "pad")
        }
    }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let b = bottom[0]
        guard b.numAxes == 4 else {
            throw error("Pooling needs a 4-axis bottom (N×C×H×W); found shape \(b.shape)")
        }
        num = b.shape[0]; channels = b.shape[1]; height = b.shape[2]; width = b.shape[3]
        if global { kernel = (height, width) }
        pooledH = outputSize(height, kernel.h, pad.h, stride.h)
        pooledW = outputSize(width, kernel.w, pad.w, stride.w)
        guard pooledH > 0, pooledW > 0 else {
            throw error("the \(kernel.h)×\(kernel.w) pooling window does not fit the \(height)×\(width) input")
        }
        top[0].reshape([num, channels, pooledH, pooledW])
        if top.count > 1 { top[1].reshape(top[0].shape) }
        if method == .max && mask.count < top[0].count { mask = [Int32](repeating: 0, count: top[0].count) }
    }

    private func outputSize(_ input: Int, _ k: Int, _ p: Int, _ s: Int) -> Int {
        let span = Float(input + 2 * p - k) / Float(s)
        var out = Int(ceilMode ? ceil(span) : floor(span)) + 1
        if p > 0 && (out - 1) * s >= input + p { out -= 1 }
        return out
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        let x = bottom[0].data, y = top[0].data
        let planes = num * channels, inPlane = height * width, outPlane = pooledH * pooledW
        let maskTop: UnsafeMutablePointer<Float>? = top.count > 1 ? top[1].data : nil
        mask.withUnsafeMutableBufferPointer { m in
            for plane in 0..<planes {
                let xp = x + plane * inPlane, yp = y + plane * outPlane
                for ph in 0..<pooledH {
                    for pw in 0..<pooledW {
                        var hs = ph * stride.h - pad.h, ws = pw * stride.w - pad.w
                        let o = ph * pooledW + pw
                        if method == .max {
                            let he = min(hs + kernel.h, height), we = min(ws + kernel.w, width)
                            hs = max(hs, 0); ws = max(ws, 0)
                            var best = -Float.greatestFiniteMagnitude, arg = -1
                            for h in hs..<he {
                                for w in ws..<we where xp[h * width + w] > best {
                                    best = xp[h * width + w]; arg = h * width + w
                                }
                            }
                            yp[o] = best
                            m[plane * outPlane + o] = Int32(arg)
                            maskTop?[plane * outPlane + o] = Float(arg)
                        } else {
                            var he = min(hs + kernel.h, height + pad.h), we = min(ws + kernel.w, width + pad.w)
                            let size = Float((he - hs) * (we - ws))
                            hs = max(hs, 0); ws = max(ws, 0); he = min(he, height); we = min(we, width)
                            var sum: Float = 0
                            for h in hs..<max(he, hs) { for w in ws..<max(we, ws) { sum += xp[h * width + w] } }
                            yp[o] = sum / size
                        }
                    }
                }
            }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        let dy = top[0].diff, dx = bottom[0].diff
        let planes = num * channels, inPlane = height * width, outPlane = pooledH * pooledW
        dx.update(repeating: 0, count: bottom[0].count)
        mask.withUnsafeBufferPointer { m in
            for plane in 0..<planes {
                let dxp = dx + plane * inPlane, dyp = dy + plane * outPlane
                for ph in 0..<pooledH {
                    for pw in 0..<pooledW {
                        let o = ph * pooledW + pw
                        if method == .max {
                            let arg = Int(m[plane * outPlane + o])
                            if arg >= 0 { dxp[arg] += dyp[o] }
                        } else {
                            var hs = ph * stride.h - pad.h, ws = pw * stride.w - pad.w
                            var he = min(hs + kernel.h, height + pad.h), we = min(ws + kernel.w, width + pad.w)
                            let share = dyp[o] / Float((he - hs) * (we - ws))
                            hs = max(hs, 0); ws = max(ws, 0); he = min(he, height); we = min(we, width)
                            for h in hs..<max(he, hs) { for w in ws..<max(we, ws) { dxp[h * width + w] += share } }
                        }
                    }
                }
            }
        }
    }
}

extension ConvolutionLayer {
    /// Pooling's kernel/pad/stride: a single value or the _h/_w pair.
    static func pairSingle(_ p: ConfigNode, _ name: String, _ hName: String, _ wName: String, default value: Int?) throws -> (h: Int, w: Int) {
        try pair(p, name, hName, wName, default: value)
    }
}
