import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import Foundation

/// `cortado summary`: every layer with its type, top shapes, parameter count and
/// multiply-adds, as a table or as one JSON object other tools can read.
package struct NetSummary: Sendable {
    package struct Row: Sendable {
        package var name: String
        package var type: String
        package var tops: [(name: String, shape: [Int])]
        package var params: Int
        package var macs: Int
    }

    package var name: String
    package var rows: [Row]
    package var params: Int { rows.reduce(0) { $0 + $1.params } }
    package var macs: Int { rows.reduce(0) { $0 + $1.macs } }

    package init(_ net: Net) {
        name = net.name
        var owned: Set<ObjectIdentifier> = []
        rows = net.entries.map { e in
            let layer = e.layer
            let tops = e.topIDs.map { (net.namedBlobs[$0].name, net.namedBlobs[$0].blob.shape) }
            let params = layer.blobs.filter { owned.insert(ObjectIdentifier($0)).inserted }.reduce(0) { $0 + $1.count }
            return Row(name: layer.name, type: layer.param.declaredType ?? layer.type, tops: tops, params: params,
                       macs: layer.multiplyAdds(bottom: e.bottoms, top: e.tops))
        }
    }

    package var table: String {
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

    package var json: String {
        let layers = rows.map { r in
            let tops = r.tops.map { "{\"name\":\(quote($0.name)),\"shape\":[\($0.shape.map(String.init).joined(separator: ","))]}" }.joined(separator: ",")
            return "{\"name\":\(quote(r.name)),\"type\":\(quote(r.type)),\"tops\":[\(tops)],\"params\":\(r.params),\"macs\":\(r.macs)}"
        }.joined(separator: ",")
        return "{\"name\":\(quote(name)),\"layers\":[\(layers)],\"params\":\(params),\"macs\":\(macs)}"
    }
}
