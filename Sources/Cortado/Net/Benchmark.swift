import Foundation

/// `caffe time`: one warm-up pass, then every layer's forward and backward timed separately
/// over `iterations`, reported as Caffe prints it.
public struct Benchmark {
    public var forwardMs: [Double]
    public var backwardMs: [Double]
    public var layerNames: [String]
    public var averageForward: Double
    public var averageBackward: Double
    public var averageTotal: Double
    public var totalMs: Double
    public var iterationLines: [String]

    public static func run(_ net: Net, iterations: Int) throws -> Benchmark {
        let initial = try net.forward()
        net.backward()
        var lines = ["Initial loss: \(caffeFloat(initial))"]
        let n = net.layers.count
        var fwd = [Double](repeating: 0, count: n), bwd = [Double](repeating: 0, count: n)
        var fwdTotal = 0.0, bwdTotal = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        for j in 0..<iterations {
            let iterStart = DispatchTime.now().uptimeNanoseconds
            for i in 0..<n {
                let t = DispatchTime.now().uptimeNanoseconds
                try net.forwardLayer(i)
                fwd[i] += ms(since: t)
            }
            fwdTotal += ms(since: iterStart)
            let backStart = DispatchTime.now().uptimeNanoseconds
            for i in (0..<n).reversed() where net.entries[i].layer.hasBackward {
                let t = DispatchTime.now().uptimeNanoseconds
                net.backwardLayer(i)
                bwd[i] += ms(since: t)
            }
            bwdTotal += ms(since: backStart)
            lines.append("Iteration: \(j + 1) forward-backward time: \(format(ms(since: iterStart))) ms.")
        }
        let total = ms(since: start)
        let k = Double(iterations)
        return Benchmark(forwardMs: fwd.map { $0 / k }, backwardMs: bwd.map { $0 / k }, layerNames: net.layers.map(\.name),
                         averageForward: fwdTotal / k, averageBackward: bwdTotal / k, averageTotal: total / k,
                         totalMs: total, iterationLines: lines)
    }

    private static func ms(since t: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
    }

    static func format(_ v: Double) -> String { String(format: "%g", v) }

    public var lines: [String] {
        var out = iterationLines
        out.append("Average time per layer: ")
        for i in layerNames.indices {
            let padded = String(repeating: " ", count: max(0, 10 - layerNames[i].count)) + layerNames[i]
            out.append("\(padded)\tforward: \(Self.format(forwardMs[i])) ms.")
            out.append("\(padded)\tbackward: \(Self.format(backwardMs[i])) ms.")
        }
        out.append("Average Forward pass: \(Self.format(averageForward)) ms.")
        out.append("Average Backward pass: \(Self.format(averageBackward)) ms.")
        out.append("Average Forward-Backward: \(Self.format(averageTotal)) ms.")
        out.append("Total Time: \(Self.format(totalMs)) ms.")
        out.append("*** Benchmark ends ***")
        return out
    }
}
