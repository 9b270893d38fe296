import CortadoBase
import CortadoIO
import CortadoConfig

/// Filter: keeps the examples whose selector (the last bottom) is non-zero, in every other
/// bottom; filtered-out examples get zero gradient. The selector gets no gradient.
final class FilterLayer: Layer {
    private var kept: [Int] = []

    override var minBottoms: Int? { 2 }
    override var minTops: Int? { 1 }
    override func allowForceBackward(_ i: Int) -> Bool { i != param.bottom.count - 1 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard top.count == bottom.count - 1 else { throw error("Filter needs one top per bottom before the selector: \(bottom.count - 1), found \(top.count)") }
        let selector = bottom[bottom.count - 1]
        let n = bottom[0].shape.first ?? 0
        guard selector.count == n else { throw error("the selector has \(selector.count) values for \(n) examples") }
        for b in bottom.dropLast() where b.shape.first != n { throw error("every filtered bottom needs \(n) examples; found \(b.shape)") }
        kept.removeAll(keepingCapacity: true)
        for i in 0..<n where selector.data[i] != 0 { kept.append(i) }
        for (t, b) in zip(top, bottom) { try t.reshape([kept.count] + b.shape.dropFirst()) }
    }

    /// The net reshapes before every forward, which picks the kept rows for this batch.
    package override func forward(bottom: [Blob], top: [Blob]) throws {
        for (t, b) in zip(top, bottom) {
            let item = b.count(1)
            for (m, i) in kept.enumerated() { (t.data + m * item).update(from: b.data + i * item, count: item) }
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        for (k, (t, b)) in zip(top, bottom).enumerated() where propagateDown[k] {
            b.zeroDiff()
            let item = b.count(1)
            for (m, i) in kept.enumerated() { (b.diff + i * item).update(from: t.diff + m * item, count: item) }
        }
    }
}
