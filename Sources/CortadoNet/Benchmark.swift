import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import Foundation

/// `caffe time`: one warm-up pass, then every layer's forward and backward timed separately
/// over `iterations`, reported as Caffe prints it. A fused BatchNorm + Scale (+ ReLU) block
/// runs as the net runs it in training, and its time is the BatchNorm's (the others show 0). Layers that multiply (convolutions, inner
/// products) also get their GFLOP/s and its share of this machine's sgemm peak, measured at
/// the start with the thread count in use, so a slow layer shows itself.
package struct Benchmark {
    package var forwardMs: [Double]
    package var backwardMs: [Double]
    package var layerNames: [String]
    /// Floating-point operations of each layer's forward and backward pass (2 per multiply-add;
    /// backward counts the weight gradient and the bottom gradient when they are computed).
    package var forwardFlops: [Double]
    package var backwardFlops: [Double]
    /// GFLOP/s of one large single-precision matrix product on `Parallel.threads` threads.
    package var sgemmPeak: Double
    package var averageForward: Double
    package var averageBackward: Double
    package var averageTotal: Double
    package var totalMs: Double
    package var iterationLines: [String]

    /// `progress(done)` is called after the warm-up (0) and after each timed iteration.
    package static func run(_ net: Net, iterations: Int, progress: ((Int) -> Void)? = nil) throws -> Benchmark {
        let initial = try net.forward()
        try net.backward()
        var lines = ["Initial loss: \(caffeFloat(initial))"]
        let n = net.layers.count
        var fwd = [Double](repeating: 0, count: n), bwd = [Double](repeating: 0, count: n)
        var fwdTotal = 0.0, bwdTotal = 0.0
        progress?(0)
        let start = DispatchTime.now().uptimeNanoseconds
        for j in 0..<iterations {
            defer { progress?(j + 1) }
            let iterStart = DispatchTime.now().uptimeNanoseconds
            var i = 0
            while i < n {
                let t = DispatchTime.now().uptimeNanoseconds
                let ran = try net.fusedForward(at: i, through: n - 1) ?? { try net.forwardLayer(i); return 1 }()
                fwd[i] += ms(since: t)
                i += ran
            }
            fwdTotal += ms(since: iterStart)
            let backStart = DispatchTime.now().uptimeNanoseconds
            i = n - 1
            while i >= 0 {
                let t = DispatchTime.now().uptimeNanoseconds
                if let first = net.fusedBackward(endingAt: i, downTo: 0) {
                    bwd[first] += ms(since: t)
                    i = first - 1
                    continue
                }
                if net.entries[i].layer.hasBackward { try net.backwardLayer(i) }
                bwd[i] += ms(since: t)
                i -= 1
            }
            bwdTotal += ms(since: backStart)
            lines.append("Iteration: \(j + 1) forward-backward time: \(format(ms(since: iterStart))) ms.")
        }
        let total = ms(since: start)
        let k = Double(iterations)
        let (forwardFlops, backwardFlops) = flops(net)
        return Benchmark(forwardMs: fwd.map { $0 / k }, backwardMs: bwd.map { $0 / k }, layerNames: net.layers.map(\.name),
                         forwardFlops: forwardFlops, backwardFlops: backwardFlops, sgemmPeak: measureSgemmPeak(),
                         averageForward: fwdTotal / k, averageBackward: bwdTotal / k, averageTotal: total / k,
                         totalMs: total, iterationLines: lines)
    }

    /// Forward: 2 · multiply-adds. Backward (which `time` runs for every layer that has one):
    /// as much again for the weight gradient (when the first parameter needs one) and for the
    /// bottom gradient (when it is propagated).
    static func flops(_ net: Net) -> ([Double], [Double]) {
        var forward: [Double] = [], backward: [Double] = []
        for e in net.entries {
            let f = 2 * Double(e.layer.multiplyAdds(bottom: e.bottoms, top: e.tops))
            let passes = (e.layer.paramPropagateDown.first == true ? 1 : 0) + (e.bottomNeedsBackward.first == true ? 1 : 0)
            forward.append(f)
            backward.append(e.layer.hasBackward ? f * Double(passes) : 0)
        }
        return (forward, backward)
    }

    /// The best of five 1024³ products, split across threads as the layers split theirs.
    static func measureSgemmPeak() -> Double {
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<5 {
            let t = DispatchTime.now().uptimeNanoseconds
            c.withUnsafeMutableBufferPointer { c in gemm(false, false, n, n, n, 1, a, b, 0, c.baseAddress!) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    private static func ms(since t: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }

    static func format(_ v: Double) -> String { String(format: "%g", v) }

    /// `  (113.2 GFLOP/s, 0.56× sgemm)` for layers that multiply; empty for the others. A ratio
    /// to one large product's rate, not a share of a peak: oneDNN's direct convolutions beat
    /// its own sgemm (CIFAR-10 quick's conv3 ran at 1.37×, which read as "137% of peak").
    private func rate(_ flops: Double, _ ms: Double) -> String {
        guard flops > 0, ms > 0 else { return "" }
        let gflops = flops / ms / 1e6
        return String(format: "  (%.1f GFLOP/s, %.2f× sgemm)", gflops, gflops / max(sgemmPeak, 1e-9))
    }

    package var lines: [String] {
        var out = iterationLines
        out.append("Average time per layer: ")
        for i in layerNames.indices {
            let padded = String(repeating: " ", count: max(0, 10 - layerNames[i].count)) + layerNames[i]
            out.append("\(padded)\tforward: \(Self.format(forwardMs[i])) ms.\(rate(forwardFlops[i], forwardMs[i]))")
            out.append("\(padded)\tbackward: \(Self.format(backwardMs[i])) ms.\(rate(backwardFlops[i], backwardMs[i]))")
        }
        out.append("sgemm (1024³, the rate the layers are compared with) on \(Parallel.threads) thread\(Parallel.threads == 1 ? "" : "s") (\(GemmBackend.description)): \(String(format: "%.1f", sgemmPeak)) GFLOP/s")
        out.append("Average Forward pass: \(Self.format(averageForward)) ms.")
        out.append("Average Backward pass: \(Self.format(averageBackward)) ms.")
        out.append("Average Forward-Backward: \(Self.format(averageTotal)) ms.")
        out.append("Total Time: \(Self.format(totalMs)) ms.")
        out.append("*** Benchmark ends ***")
        return out
    }
}
