import Foundation
import Testing
@testable import CortadoConfig
@testable import CortadoSolvers

/// Each update rule on a small least-squares problem, min ½N·‖x·Wᵀ + b − y‖², against the
/// rule's formula evaluated here by hand (as Caffe's solver tests do): momentum, weight decay
/// (decay_mult 0 on the bias) and lr_mult 2 on the bias included.
@Suite struct UpdateRuleTests {
    static let x: [Float] = [0.5, -1, 2, 1, 0.25, -0.5, -1.5, 1, 0.5, 0, 2, 1]   // 4 × 3
    static let y: [Float] = [1, -1, 0.5, 2, -0.5, 0, 1, 1]                        // 4 × 2

    func solver(_ settings: String, dir: String) throws -> Solver {
        quietTestEnvironment()
        try write("""
            name: "lsq"
            layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 4 dim: 3 } } }
            layer { name: "y" type: "Input" top: "y" input_param { shape { dim: 4 dim: 2 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"
                    param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
                    inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "constant" value: 0.1 } } }
            layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" }
            """, to: "\(dir)/net.prototxt")
        try write("net: \"net.prototxt\" random_seed: 3 weight_decay: 0.01 lr_policy: \"fixed\" snapshot_prefix: \"\(dir)/s\"\n" + settings,
                  to: "\(dir)/solver.prototxt")
        let s = try Solver(try SolverParameter.load(file: "\(dir)/solver.prototxt"), verbose: false)
        s.net.blob(named: "x")!.setData(Self.x)
        s.net.blob(named: "y")!.setData(Self.y)
        return s
    }

    /// Gradients of ½N·Σ(p − y)² for W (2×3) and b (2).
    static func gradients(_ w: [Float], _ b: [Float]) -> ([Float], [Float]) {
        var gw = [Float](repeating: 0, count: 6), gb = [Float](repeating: 0, count: 2)
        for n in 0..<4 {
            for o in 0..<2 {
                var p = b[o]
                for k in 0..<3 { p += x[n * 3 + k] * w[o * 3 + k] }
                let r = (p - y[n * 2 + o]) / 4
                gb[o] += r
                for k in 0..<3 { gw[o * 3 + k] += r * x[n * 3 + k] }
            }
        }
        return (gw, gb)
    }

    /// Runs `steps` updates of `rule` by hand; returns the final (W, b).
    static func reference(_ w0: [Float], _ b0: [Float], steps: Int, lr: Float,
                          rule: (_ g: Float, _ h: inout Float, _ h2: inout Float, _ rate: Float, _ t: Int) -> Float) -> ([Float], [Float]) {
        var w = w0, b = b0
        var hw = [Float](repeating: 0, count: 6), hw2 = hw, hb = [Float](repeating: 0, count: 2), hb2 = hb
        for t in 0..<steps {
            let (gw, gb) = gradients(w, b)
            for i in 0..<6 { w[i] -= rule(gw[i] + 0.01 * w[i], &hw[i], &hw2[i], lr, t) }
            for i in 0..<2 { b[i] -= rule(gb[i], &hb[i], &hb2[i], lr * 2, t) }
        }
        return (w, b)
    }

    func check(_ settings: String, lr: Float,
               rule: @escaping (_ g: Float, _ h: inout Float, _ h2: inout Float, _ rate: Float, _ t: Int) -> Float,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let s = try solver("base_lr: \(lr) " + settings, dir: temporaryDirectory())
        let w0 = s.net.learnableParams[0].dataArray, b0 = s.net.learnableParams[1].dataArray
        try s.step(4)
        let (w, b) = Self.reference(w0, b0, steps: 4, lr: lr, rule: rule)
        expectClose(s.net.learnableParams[0].dataArray, w, tolerance: 2e-5, sourceLocation: sourceLocation)
        expectClose(s.net.learnableParams[1].dataArray, b, tolerance: 2e-5, sourceLocation: sourceLocation)
        #expect(w != w0, sourceLocation: sourceLocation)
    }

    @Test func sgd() throws {
        try check("type: \"SGD\" momentum: 0.9", lr: 0.1) { g, v, _, rate, _ in
            v = 0.9 * v + rate * g; return v
        }
    }

    /// SGD with L2 decay runs in one pass (`UpdateRule.sgdInOnePass`); debug_info takes the
    /// step-by-step path (decay by axpy, the rule, then the update): the same weights.
    @Test(arguments: [1, 2]) func sgdInOnePassMatchesTheStepByStepPath(iterSize: Int) throws {
        let settings = "base_lr: 0.1 type: \"SGD\" momentum: 0.9 display: 1 iter_size: \(iterSize)"
        let fast = try solver(settings, dir: temporaryDirectory())
        let plain = try solver(settings + " debug_info: true", dir: temporaryDirectory())
        let w0 = fast.net.learnableParams[0].dataArray
        try fast.step(5)
        try plain.step(5)
        for (a, b) in zip(fast.net.learnableParams, plain.net.learnableParams) { expectClose(a.dataArray, b.dataArray, tolerance: 1e-6) }
        for (a, b) in zip(fast.history, plain.history) { expectClose(a.dataArray, b.dataArray, tolerance: 1e-6) }
        #expect(fast.net.learnableParams[0].dataArray != w0)
    }

    @Test func nesterov() throws {
        try check("type: \"Nesterov\" momentum: 0.9", lr: 0.1) { g, v, _, rate, _ in
            let previous = v
            v = 0.9 * v + rate * g
            return 1.9 * v - 0.9 * previous
        }
    }

    @Test func adaGrad() throws {
        try check("type: \"AdaGrad\" delta: 1e-6", lr: 0.1) { g, h, _, rate, _ in
            h += g * g; return rate * g / (h.squareRoot() + 1e-6)
        }
    }

    @Test func rmsProp() throws {
        try check("type: \"RMSProp\" rms_decay: 0.9 delta: 1e-6", lr: 0.01) { g, h, _, rate, _ in
            h = 0.9 * h + 0.1 * g * g; return rate * g / (h.squareRoot() + 1e-6)
        }
    }

    @Test func adaDelta() throws {
        try check("type: \"AdaDelta\" momentum: 0.95 delta: 1e-6", lr: 1) { g, hg, hu, rate, _ in
            hg = 0.95 * hg + 0.05 * g * g
            let u = g * ((hu + 1e-6) / (hg + 1e-6)).squareRoot()
            hu = 0.95 * hu + 0.05 * u * u
            return rate * u
        }
    }

    @Test func adam() throws {
        try check("type: \"Adam\" momentum: 0.9 momentum2: 0.999 delta: 1e-8", lr: 0.01) { g, m, v, rate, t in
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let k = Float(t + 1)
            return rate * (1 - powf(0.999, k)).squareRoot() / (1 - powf(0.9, k)) * m / (v.squareRoot() + 1e-8)
        }
    }

    @Test func oldSolverTypeEnumSelectsTheRule() throws {
        let s = try solver("solver_type: NESTEROV momentum: 0.9 base_lr: 0.1", dir: temporaryDirectory())
        #expect(s.param.type == .nesterov)
        #expect(throws: ConfigError.self) { _ = try solver("type: \"AdaGrad\" momentum: 0.9 base_lr: 0.1", dir: temporaryDirectory()) }
    }

    @Test func clipGradientsScalesByGlobalNorm() throws {
        // Clipping scales the raw gradients to a global L2 norm of clip_gradients; weight decay
        // is added after it (Caffe's order), and the bias has lr_mult 2 and decay_mult 0.
        let s = try solver("type: \"SGD\" clip_gradients: 0.001 base_lr: 1", dir: temporaryDirectory())
        let w0 = s.net.learnableParams[0].dataArray, b0 = s.net.learnableParams[1].dataArray
        try s.step(1)
        let (gw, gb) = Self.gradients(w0, b0)
        let norm = (gw + gb).map { $0 * $0 }.reduce(0, +).squareRoot()
        let expectedW = zip(w0, gw).map { $0 - ($1 * 0.001 / norm + 0.01 * $0) }
        let expectedB = zip(b0, gb).map { $0 - 2 * $1 * 0.001 / norm }
        expectClose(s.net.learnableParams[0].dataArray, expectedW, tolerance: 1e-6)
        expectClose(s.net.learnableParams[1].dataArray, expectedB, tolerance: 1e-6)
    }
}
