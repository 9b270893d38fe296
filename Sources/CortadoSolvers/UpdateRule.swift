import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import Foundation

/// The per-parameter step of each of Caffe's solvers (ComputeUpdateValue), as a value.
/// On entry `diff` holds the normalised, regularised gradient g; on exit it holds the
/// update v that the net subtracts (W ← W − v). `history` holds one blob per learnable
/// parameter, or two (all first moments, then all second) for AdaDelta and Adam.
package enum UpdateRule: Sendable {
    case sgd(momentum: Float)
    case nesterov(momentum: Float)
    case adaGrad(delta: Float)
    case rmsProp(decay: Float, delta: Float)
    case adaDelta(momentum: Float, delta: Float)
    case adam(beta1: Float, beta2: Float, delta: Float)

    package init(_ p: SolverParameter) throws {
        switch p.type {
        case .sgd: self = .sgd(momentum: p.momentum)
        case .nesterov: self = .nesterov(momentum: p.momentum)
        case .adaGrad:
            guard p.momentum == 0 else { throw p.node.error("AdaGrad does not use momentum; remove it or set it to 0", field: "momentum") }
            self = .adaGrad(delta: p.delta)
        case .rmsProp:
            guard p.momentum == 0 else { throw p.node.error("RMSProp does not use momentum; remove it or set it to 0", field: "momentum") }
            guard p.rmsDecay >= 0 && p.rmsDecay < 1 else { throw p.node.error("rms_decay must be in [0, 1)", field: "rms_decay") }
            self = .rmsProp(decay: p.rmsDecay, delta: p.delta)
        case .adaDelta: self = .adaDelta(momentum: p.momentum, delta: p.delta)
        case .adam: self = .adam(beta1: p.momentum, beta2: p.momentum2, delta: p.delta)
        }
    }

    /// History blobs per learnable parameter.
    package var historyPerParam: Int {
        switch self {
        case .adaDelta, .adam: return 2
        default: return 1
        }
    }

    /// Computes the update for one parameter in place in `w.diff`.
    /// `h`/`h2` are its history blobs; `rate` already includes the parameter's lr_mult.
    func apply(_ w: Blob, _ h: Blob, _ h2: Blob?, rate: Float, iter: Int) {
        let n = w.count, g = w.diff, hist = h.data
        switch self {
        case .sgd(let mu):
            for i in 0..<n { hist[i] = rate * g[i] + mu * hist[i] }
            g.update(from: hist, count: n)
        case .nesterov(let mu):
            for i in 0..<n {
                let previous = hist[i]
                hist[i] = rate * g[i] + mu * hist[i]
                g[i] = (1 + mu) * hist[i] - mu * previous
            }
        case .adaGrad(let delta):
            for i in 0..<n {
                hist[i] += g[i] * g[i]
                g[i] = rate * g[i] / (hist[i].squareRoot() + delta)
            }
        case .rmsProp(let decay, let delta):
            for i in 0..<n {
                hist[i] = decay * hist[i] + (1 - decay) * g[i] * g[i]
                g[i] = rate * g[i] / (hist[i].squareRoot() + delta)
            }
        case .adaDelta(let mu, let delta):
            let hu = h2!.data
            for i in 0..<n {
                hist[i] = mu * hist[i] + (1 - mu) * g[i] * g[i]
                let u = g[i] * ((hu[i] + delta) / (hist[i] + delta)).squareRoot()
                hu[i] = mu * hu[i] + (1 - mu) * u * u
                g[i] = rate * u
            }
        case .adam(let b1, let b2, let eps):
            let v = h2!.data
            // Caffe computes the bias correction in double (C++ pow(float, int)), then stores a float.
            let t = Double(iter + 1)
            let correction = Float((1 - pow(Double(b2), t)).squareRoot() / (1 - pow(Double(b1), t)))
            let step = rate * correction
            for i in 0..<n {
                hist[i] = (1 - b1) * g[i] + b1 * hist[i]
                v[i] = (1 - b2) * (g[i] * g[i]) + b2 * v[i]
                g[i] = step * (hist[i] / (v[i].squareRoot() + eps))
            }
        }
    }

    /// SGD's whole step for one parameter in one pass over its memory, element by element:
    /// g ← s·g + λ·w (iter_size normalisation, L2 decay), h ← r·g + μ·h, g ← h (the diff holds
    /// the update, as in Caffe), w ← w − h. The separate steps stream the three arrays four
    /// times; on CaffeNet's 61 M weights that was a third of a training step. Elements are
    /// independent, so splitting them across threads leaves every bit as it is.
    package static func sgdInOnePass(_ w: Blob, history h: Blob, rate: Float, momentum mu: Float, decay: Float, scale: Float) {
        let data = w.data, g = w.diff, hist = h.data
        Parallel.forRanges(w.count, threads: Parallel.threads) { range in
            for i in range {
                var d = scale == 1 ? g[i] : g[i] * scale
                if decay != 0 { d += decay * data[i] }
                let v = rate * d + mu * hist[i]
                hist[i] = v
                g[i] = v
                data[i] -= v
            }
        }
    }
}
