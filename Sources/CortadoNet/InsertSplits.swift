import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers

/// Caffe's InsertSplits: where one top feeds several bottoms (a non-zero loss_weight counts as
/// one more consumer), a Split layer is inserted right after the producer, with Caffe's names,
/// so each blob has one reader and gradients from all readers are summed.
func insertSplits(_ layers: [LayerParameter]) -> [LayerParameter] {
    struct Top: Hashable { var layer: Int; var index: Int }
    var lastTop: [String: Top] = [:]
    var source: [Int: [Int: Top]] = [:]        // layer → bottom index → producing top
    var consumers: [Top: Int] = [:]
    var lossWeight: [Top: Float] = [:]

    for (i, layer) in layers.enumerated() {
        for (j, name) in layer.bottom.enumerated() {
            guard let t = lastTop[name] else { continue }   // the net reports the missing blob
            source[i, default: [:]][j] = t
            consumers[t, default: 0] += 1
        }
        for (j, name) in layer.top.enumerated() {
            lastTop[name] = Top(layer: i, index: j)
        }
        for (j, w) in layer.lossWeight.enumerated() where w != 0 && j < layer.top.count {
            let t = Top(layer: i, index: j)
            lossWeight[t] = w
            consumers[t, default: 0] += 1
        }
    }

    var nextSplit: [Top: Int] = [:]
    var out: [LayerParameter] = []
    for (i, var layer) in layers.enumerated() {
        for j in layer.bottom.indices {
            guard let t = source[i]?[j], let n = consumers[t], n > 1 else { continue }
            let k = nextSplit[t, default: 0]
            nextSplit[t] = k + 1
            layer.bottom[j] = splitBlobName(layers[t.layer].name, layer.bottom[j], t.index, k)
        }
        var splits: [LayerParameter] = []
        for (j, name) in layer.top.enumerated() {
            let t = Top(layer: i, index: j)
            guard let n = consumers[t], n > 1 else { continue }
            var split = LayerParameter(name: splitLayerName(layer.name, name, j), type: "Split", bottom: [name],
                                       top: (0..<n).map { splitBlobName(layer.name, name, j, $0) })
            if let w = lossWeight[t] {
                split.lossWeight = [w] + Array(repeating: 0, count: n - 1)
                if j < layer.lossWeight.count { layer.lossWeight[j] = 0 }
                nextSplit[t] = 1   // the loss takes the first split top
            }
            splits.append(split)
        }
        out.append(layer)
        out += splits
    }
    return out
}

func splitLayerName(_ layer: String, _ blob: String, _ topIndex: Int) -> String {
    "\(blob)_\(layer)_\(topIndex)_split"
}

func splitBlobName(_ layer: String, _ blob: String, _ topIndex: Int, _ k: Int) -> String {
    "\(blob)_\(layer)_\(topIndex)_split_\(k)"
}
