import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// Draws training curves as a standalone SVG: one panel each for training loss, test outputs
/// and learning rate against iterations, with axes, ticks, titles and legends.
package enum CurvePlot {
    package static let width = 900.0, panelHeight = 260.0, margin = (left: 78.0, right: 170.0, top: 36.0, bottom: 46.0)
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    struct Series {
        var name: String
        var points: [TrainingLog.Point]
    }

    package static func svg(_ log: TrainingLog, title: String) -> String {
        var panels: [(String, String, [Series])] = []
        if !log.trainLoss.isEmpty { panels.append(("Training loss", "loss", [Series(name: "train loss", points: log.trainLoss)])) }
        // One panel per test output: accuracy (0..1) and loss need their own y axes.
        for output in log.testOutputs {
            panels.append(("Test \(output.name)", output.name, [Series(name: output.name, points: output.points)]))
        }
        if !log.learningRate.isEmpty { panels.append(("Learning rate", "lr", [Series(name: "lr", points: log.learningRate)])) }
        let height = 40 + Double(panels.count) * panelHeight
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text class="title" x="\(width / 2)" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

            """
        var colour = 0
        for (i, panel) in panels.enumerated() {
            out += self.panel(title: panel.0, yLabel: panel.1, series: panel.2, top: 40 + Double(i) * panelHeight, colour: &colour)
        }
        return out + "</svg>\n"
    }

    static func panel(title: String, yLabel: String, series: [Series], top: Double, colour: inout Int) -> String {
        let x0 = margin.left, x1 = width - margin.right
        let y0 = top + margin.top, y1 = top + panelHeight - margin.bottom
        let all = series.flatMap(\.points)
        let (xmin, xmax) = range(all.map { Double($0.iteration) })
        let (ymin, ymax) = range(all.map(\.value).filter(\.isFinite))
        let xs = ticks(xmin, xmax), ys = ticks(ymin, ymax)
        let (xlo, xhi) = (min(xs.first ?? xmin, xmin), max(xs.last ?? xmax, xmax))
        let (ylo, yhi) = (min(ys.first ?? ymin, ymin), max(ys.last ?? ymax, ymax))
        func px(_ v: Double) -> Double { x0 + (v - xlo) / max(xhi - xlo, 1e-12) * (x1 - x0) }
        func py(_ v: Double) -> Double { y1 - (v - ylo) / max(yhi - ylo, 1e-12) * (y1 - y0) }

        var s = "<g class=\"panel\">\n"
        s += "<text class=\"panel-title\" x=\"\(fmt((x0 + x1) / 2))\" y=\"\(fmt(top + 22))\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n"
        for t in ys {
            s += "<line x1=\"\(fmt(x0))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(x1))\" y2=\"\(fmt(py(t)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text class=\"tick\" x=\"\(fmt(x0 - 6))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        for t in xs {
            s += "<line x1=\"\(fmt(px(t)))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(px(t)))\" y2=\"\(fmt(y1 + 5))\" stroke=\"black\"/>\n"
            s += "<text class=\"tick\" x=\"\(fmt(px(t)))\" y=\"\(fmt(y1 + 18))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        s += "<path class=\"axis\" d=\"M\(fmt(x0)),\(fmt(y0)) V\(fmt(y1)) H\(fmt(x1))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text class=\"axis-label\" x=\"\(fmt((x0 + x1) / 2))\" y=\"\(fmt(y1 + 36))\" text-anchor=\"middle\">iteration</text>\n"
        s += "<text class=\"axis-label\" transform=\"translate(\(fmt(x0 - 56)),\(fmt((y0 + y1) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (k, series) in series.enumerated() {
            let c = palette[colour % palette.count]
            colour += 1
            let d = series.points.filter { $0.value.isFinite }.enumerated().map { i, p in
                "\(i == 0 ? "M" : "L")\(fmt(px(Double(p.iteration)))),\(fmt(py(p.value)))"
            }.joined(separator: " ")
            s += "<path class=\"series\" data-name=\"\(escape(series.name))\" d=\"\(d)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.8\"/>\n"
            // Points as well where they are few, so a single test shows.
            let finite = series.points.filter { $0.value.isFinite }
            if finite.count <= 60 {
                for p in finite { s += "<circle cx=\"\(fmt(px(Double(p.iteration))))\" cy=\"\(fmt(py(p.value)))\" r=\"2.5\" fill=\"\(c)\"/>\n" }
            }
            let ly = y0 + 8 + Double(k) * 18
            s += "<g class=\"legend\"><line x1=\"\(fmt(x1 + 14))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(x1 + 36))\" y2=\"\(fmt(ly))\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(fmt(x1 + 42))\" y=\"\(fmt(ly + 4))\">\(escape(series.name))</text></g>\n"
        }
        return s + "</g>\n"
    }

    package static func range(_ v: [Double]) -> (Double, Double) {
        guard let lo = v.min(), let hi = v.max() else { return (0, 1) }
        return lo == hi ? (lo - 0.5 * max(abs(lo), 1), hi + 0.5 * max(abs(hi), 1)) : (lo, hi)
    }

    /// About five "nice" ticks (1, 2 or 5 × 10^k apart) covering lo...hi.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = floor(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 0.5 && out.count < 20 {
            out.append(t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e6 || abs(v) < 0.001 { return String(format: "%.2g", v) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    package static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
