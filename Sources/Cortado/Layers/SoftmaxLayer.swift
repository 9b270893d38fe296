import Foundation

/// Softmax along `axis` (default 1): y = exp(x − max) / Σ exp(x − max).
final class SoftmaxLayer: Layer {
    private var axis = 1
    private var outer = 1, channels = 1, inner = 1

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        let requested = param.sub("softmax_param").int("axis") ?? 1
        guard let a = bottom[0].canonicalAxis(requested) else {
            throw error("softmax axis \(requested) is out of range for a bottom of shape \(bottom[0].shape)")
        }
        axis = a
        outer = bottom[0].count(0, a)
        channels = bottom[0].shape[a]
        inner = bottom[0].count(a + 1)
        top[0].reshape(bottom[0].shape)
    }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        softmax(bottom[0].data, top[0].data, outer: outer, channels: channels, inner: inner)
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        // dx = y ⊙ (dy − Σ_c dy·y)
        let y = top[0].data, dy = top[0].diff, dx = bottom[0].diff
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * channels * inner + i
                var s: Float = 0
                for c in 0..<channels { s += dy[base + c * inner] * y[base + c * inner] }
                for c in 0..<channels { let k = base + c * inner; dx[k] = y[k] * (dy[k] - s) }
            }
        }
    }
}

/// Softmax over the channel axis of an (outer, channels, inner) array; `x` and `y` may alias.
func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, channels: Int, inner: Int) {
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * channels * inner + i
            var m = -Float.infinity
            for c in 0..<channels { m = max(m, x[base + c * inner]) }
            var s: Float = 0
            for c in 0..<channels { let e = expf(x[base + c * inner] - m); y[base + c * inner] = e; s += e }
            let inv = 1 / s
            for c in 0..<channels { y[base + c * inner] *= inv }
        }
    }
}
