import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

extension NetGraph {
    /// The net drawn without Graphviz (for the dashboard): layers as coloured boxes top to
    /// bottom in file order, each with its type, key settings and top shapes; a blob that
    /// skips layers is drawn as an arc on the right, further out the further it reaches.
    package static func svg(_ param: NetParameter, phase: Phase, shapes: [String: [Int]] = [:]) -> String {
        let layers = param.layers.filter { $0.isIncluded(in: NetState(phase: phase)) }
        let box = (x: 30.0, width: 330.0, height: 42.0, gap: 18.0)
        let rowHeight = box.height + box.gap
        var arcs = ""
        var boxes = ""
        var producer: [String: Int] = [:]
        var depth = 0
        for (i, layer) in layers.enumerated() {
            let y = 20 + Double(i) * rowHeight
            for b in Set(layer.bottom).sorted() {
                guard let p = producer[b] else { continue }
                let fromY = 20 + Double(p) * rowHeight + box.height, toY = y
                if p == i - 1 {
                    arcs += "<line x1=\"\(box.x + box.width / 2)\" y1=\"\(fromY)\" x2=\"\(box.x + box.width / 2)\" y2=\"\(toY)\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n"
                } else {
                    depth = depth % 12 + 1
                    let out = box.x + box.width + 14 + Double(depth) * 9
                    let a = fromY - box.height / 2, c = toY + box.height / 2
                    arcs += "<path d=\"M\(box.x + box.width) \(a) C\(out) \(a) \(out) \(c) \(box.x + box.width) \(c)\" fill=\"none\" stroke=\"#888\" marker-end=\"url(#arrow)\"/>\n"
                }
            }
            for t in layer.top { producer[t] = i }
            let shown = NetGraph.box(layer, phase: phase)
            let details = ([layer.type] + shown.details).joined(separator: " · ")
            let tops = layer.top.compactMap { t in shapes[t].map { "\(t) \($0.map(String.init).joined(separator: "×"))" } }.joined(separator: ", ")
            boxes += """
                <g><rect x="\(box.x)" y="\(y)" width="\(box.width)" height="\(box.height)" rx="6" fill="\(shown.colour)" stroke="#666"/>
                <text x="\(box.x + 8)" y="\(y + 16)" font-weight="bold">\(escapeXML(layer.name))</text>
                <text x="\(box.x + 8)" y="\(y + 32)" font-size="10">\(escapeXML(details))\(tops.isEmpty ? "" : " → " + escapeXML(tops))</text></g>

                """
        }
        let height = 40 + Double(layers.count) * rowHeight
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(box.x + box.width + 160))" height="\(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#555"/></marker></defs>
            <rect width="100%" height="100%" fill="white"/>
            \(arcs)\(boxes)</svg>

            """
    }

    static func escapeXML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
