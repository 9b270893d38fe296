/// Flatten: merges axes axis…end_axis into one; the values are copied unchanged.
final class FlattenLayer: Layer {
    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard top[0] !== bottom[0] else { throw error("Flatten cannot work in place; give its top another name") }
        let p = param.sub("flatten_param")
        let b = bottom[0]
        guard let start = b.canonicalAxis(p.int("axis") ?? 1), let end = b.canonicalAxis(p.int("end_axis") ?? -1), start <= end else {
            throw error("flatten axes \(p.int("axis") ?? 1)…\(p.int("end_axis") ?? -1) do not fit bottom shape \(b.shape)")
        }
        try top[0].reshape(Array(b.shape[..<start]) + [b.count(start, end + 1)] + Array(b.shape[(end + 1)...]))
    }

    override func forward(bottom: [Blob], top: [Blob]) throws { top[0].copyData(from: bottom[0]) }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if propagateDown[0] { bottom[0].diff.update(from: top[0].diff, count: bottom[0].count) }
    }
}
