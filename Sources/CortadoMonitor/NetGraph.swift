import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// A net as a Graphviz DOT graph: layers are boxes with their type and key parameters, blobs
/// are edges labelled with their name and shape (when the net could be built to know them).
package enum NetGraph {
    package static func dot(_ param: NetParameter, phase: Phase, rankdir: String = "LR", shapes: [String: [Int]] = [:]) -> String {
        let layers = param.layers.filter { $0.isIncluded(in: NetState(phase: phase)) }
        var out = "digraph \(quote(param.name.isEmpty ? "net" : param.name)) {\n"
        out += "  rankdir=\(rankdir);\n  graph [fontname=\"Helvetica\"];\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n"
        out += "  labelloc=t; label=\(quote("\(param.name) (\(phase.rawValue))"));\n"
        var producer: [String: Int] = [:]
        var consumed: Set<String> = []
        var edges: [String] = []
        for (i, layer) in layers.enumerated() {
            let box = box(layer, phase: phase)
            let label = ([layer.name, layer.type] + box.details).joined(separator: "\\n")
            out += "  l\(i) [shape=box, style=\"rounded,filled\", fillcolor=\(quote(box.colour)), label=\(quote(label))];\n"
            for b in layer.bottom {
                if let p = producer[b] { edges.append("  l\(p) -> l\(i) [label=\(quote(blobLabel(b, shapes)))];") }
                consumed.insert("\(b)@\(producer[b] ?? -1)")
            }
            for t in layer.top { producer[t] = i }
        }
        var outputs = 0
        for (name, p) in producer.sorted(by: { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) })
            where !consumed.contains("\(name)@\(p)") {
            out += "  o\(outputs) [shape=ellipse, label=\(quote(name))];\n"
            edges.append("  l\(p) -> o\(outputs) [label=\(quote(blobLabel(name, shapes)))];")
            outputs += 1
        }
        return out + edges.joined(separator: "\n") + "\n}\n"
    }

    static func blobLabel(_ name: String, _ shapes: [String: [Int]]) -> String {
        guard let s = shapes[name] else { return name }
        return "\(name)\\n\(s.map(String.init).joined(separator: "×"))"
    }

    /// What a box shows of a layer, made once: the settings a reader wants to see (kernel,
    /// stride, outputs, …) as the layer itself describes them, and its fill colour; only the
    /// colour of its kind when its settings do not decode.
    static func box(_ l: LayerParameter, phase: Phase) -> (details: [String], colour: String) {
        let layer = try? LayerRegistry.create(l, phase: phase)
        return (layer?.graphDetails ?? [], colour(layer, l))
    }

    /// The layer's own colour (`Layer.graphColour`), else one for its kind.
    static func colour(_ layer: Layer?, _ l: LayerParameter) -> String {
        if let own = layer?.graphColour { return own }
        if layer?.isLoss == true || l.type.hasSuffix("Loss") { return "#ea80fc" }
        if layer?.dataSource != nil || l.type.hasSuffix("Data") || l.type == "Input" { return "#e0e0e0" }
        return "#fff9c4"
    }

    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
