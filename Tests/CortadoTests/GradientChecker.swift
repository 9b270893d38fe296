import Testing
@testable import CortadoBase
@testable import CortadoLayers

/// Numeric gradient check by central differences, as Caffe's GradientChecker: the objective is
/// Σ top · r for fixed random weights r, so every top element matters. Each analytic gradient
/// (bottoms and params) must match (L(x+h) − L(x−h)) / 2h within `threshold`·max(|a|, |n|, 1).
/// Stochastic layers are re-run from the same saved state for every evaluation.
struct GradientChecker {
    var step: Float = 1e-2
    var threshold: Float = 1e-3

    func check(_ layer: Layer, bottoms: [Blob], tops: [Blob], checkBottoms: [Int]? = nil, checkParams: Bool = true,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let state = layer.saveState()
        var rng = RNG(seed: 99)
        let weights = tops.map { t in (0..<t.count).map { _ in rng.uniform(-1, 1) } }

        func objective() throws -> Float {
            try layer.restoreState(state)
            try layer.forward(bottom: bottoms, top: tops)
            var s: Float = 0
            for (t, w) in zip(tops, weights) { for i in 0..<t.count { s += t.data[i] * w[i] } }
            return s
        }

        _ = try objective()
        for (t, w) in zip(tops, weights) { t.setDiff(w) }
        for p in layer.blobs { p.zeroDiff() }
        let which = checkBottoms ?? Array(bottoms.indices)
        let propagate = bottoms.indices.map { which.contains($0) }
        layer.backward(top: tops, propagateDown: propagate, bottom: bottoms)
        let analyticBottoms = bottoms.map(\.diffArray)
        let analyticParams = layer.blobs.map(\.diffArray)

        var checked = 0
        func compare(_ blob: Blob, _ analytic: [Float], _ label: String) throws {
            for i in 0..<blob.count {
                let saved = blob.data[i]
                blob.data[i] = saved + step
                let plus = try objective()
                blob.data[i] = saved - step
                let minus = try objective()
                blob.data[i] = saved
                let numeric = (plus - minus) / (2 * step)
                let scale = max(abs(analytic[i]), abs(numeric), 1)
                #expect(abs(analytic[i] - numeric) <= threshold * scale,
                        "\(label)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", sourceLocation: sourceLocation)
                checked += 1
            }
        }
        for b in which { try compare(bottoms[b], analyticBottoms[b], "bottom \(b)") }
        if checkParams {
            for (j, p) in layer.blobs.enumerated() { try compare(p, analyticParams[j], "param \(j)") }
        }
        #expect(checked > 0, "nothing was checked", sourceLocation: sourceLocation)
    }
}
