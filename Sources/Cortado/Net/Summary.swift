import Foundation

/// `cortado summary`: every layer with its type, top shapes, parameter count and
/// multiply-adds, as a table or as one JSON object other tools can read.
public struct NetSummary: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var type: String
        public var tops: [(name: String, shape: [Int])]
        public var params: Int
        public var macs: Int
    }

    public var name: String
    public var rows: [Row]
    public var params: Int { rows.reduce(0) { $0 + $1.params } }
    public var macs: Int { rows.reduce(0) { $0 + $1.macs } }

    public init(_ net: Net) {
        name = net.name
        var owned: Set<ObjectIdentifier> = []
        rows = net.layers.indices.map { i in
            let layer = net.layers[i]
            let tops = net.topIDs[i].map { (net.blobNames[$0], net.blobs[$0].shape) }
            let params = layer.blobs.filter { owned.insert(ObjectIdentifier($0)).inserted }.reduce(0) { $0 + $1.count }
            return Row(name: layer.name, type: layer.param.declaredType ?? layer.type, tops: tops, params: params,
                       macs: Self.macs(layer, bottoms: net.bottomVecs[i], tops: net.topVecs[i]))
        }
    }

    /// Multiply-adds of one forward pass: the products of convolutions and inner products.
    static func macs(_ layer: Layer, bottoms: [Blob], tops: [Blob]) -> Int {
        guard let w = layer.blobs.first else { return 0 }
        switch layer {
        case is ConvolutionLayer:
            return (tops.first?.count ?? 0) * w.count(1)        // each output: (C/g)·kh·kw products
        case is DeconvolutionLayer:
            return (bottoms.first?.count ?? 0) * w.count(1)     // each input spreads over (out/g)·kh·kw
        case is InnerProductLayer:
            guard let t = tops.first else { return 0 }
            return t.count * (w.count / max(t.shape.last ?? 1, 1))
        default:
            return 0
        }
    }

    public var table: String {
        var lines: [[String]] = [["layer", "type", "top shapes", "params", "MACs"]]
        for r in rows {
            let tops = r.tops.map { "\($0.name) \($0.shape.map(String.init).joined(separator: "×"))" }.joined(separator: ", ")
            lines.append([r.name, r.type, tops, grouped(r.params), grouped(r.macs)])
        }
        lines.append(["total", "", "", grouped(params), grouped(macs)])
        let widths = (0..<5).map { c in lines.map { $0[c].count }.max() ?? 0 }
        return lines.enumerated().map { n, row in
            let cells = row.enumerated().map { c, cell in
                c >= 3 ? String(repeating: " ", count: widths[c] - cell.count) + cell : cell + String(repeating: " ", count: widths[c] - cell.count)
            }
            let line = cells.joined(separator: "  ")
            return n == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n") + "\n"
    }

    func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    public var json: String {
        let layers = rows.map { r in
            let tops = r.tops.map { "{\"name\":\(quote($0.name)),\"shape\":[\($0.shape.map(String.init).joined(separator: ","))]}" }.joined(separator: ",")
            return "{\"name\":\(quote(r.name)),\"type\":\(quote(r.type)),\"tops\":[\(tops)],\"params\":\(r.params),\"macs\":\(r.macs)}"
        }.joined(separator: ",")
        return "{\"name\":\(quote(name)),\"layers\":[\(layers)],\"params\":\(params),\"macs\":\(macs)}"
    }
}
