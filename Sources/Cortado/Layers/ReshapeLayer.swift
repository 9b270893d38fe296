/// Reshape: replaces axes axis…axis+num_axes by `shape`, where 0 copies the bottom's dimension
/// and one −1 is inferred; the values are copied unchanged.
final class ReshapeLayer: Layer {
    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }

    override func reshape(bottom: [Blob], top: [Blob]) throws {
        guard top[0] !== bottom[0] else { throw error("Reshape cannot work in place; give its top another name") }
        let p = param.sub("reshape_param")
        let dims = p.child("shape")?.ints("dim") ?? []
        let b = bottom[0].shape
        let axisParam = p.int("axis") ?? 0, numAxes = p.int("num_axes") ?? -1
        let start = axisParam < 0 ? b.count + axisParam + 1 : axisParam
        guard start >= 0, start <= b.count else { throw error("reshape axis \(axisParam) is out of range for bottom shape \(b)") }
        let end = numAxes == -1 ? b.count : start + numAxes
        guard numAxes >= -1, end <= b.count else { throw error("num_axes \(numAxes) from axis \(start) does not fit bottom shape \(b)") }
        var middle: [Int] = []
        for (i, d) in dims.enumerated() {
            if d == 0 {
                guard start + i < b.count else { throw error("dim \(i) is 0 (copy) but the bottom has no axis \(start + i)") }
                middle.append(b[start + i])
            } else {
                guard d >= -1 else { throw error("shape dim \(d) is invalid; use positive sizes, 0 (copy) or one -1 (infer)") }
                middle.append(d)
            }
        }
        guard middle.filter({ $0 == -1 }).count <= 1 else { throw error("only one shape dim may be -1") }
        var shape = Array(b[..<start]) + middle + Array(b[end...])
        if let i = shape.firstIndex(of: -1) {
            let known = shape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, bottom[0].count % known == 0 else { throw error("cannot infer the -1 dim: \(bottom[0].count) values do not divide by \(known)") }
            shape[i] = bottom[0].count / known
        }
        guard shape.reduce(1, *) == bottom[0].count else {
            throw error("shape \(shape) has \(shape.reduce(1, *)) values but the bottom \(b) has \(bottom[0].count)")
        }
        try top[0].reshape(shape)
    }

    override func forward(bottom: [Blob], top: [Blob]) throws { top[0].copyData(from: bottom[0]) }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        if propagateDown[0] { bottom[0].diff.update(from: top[0].diff, count: bottom[0].count) }
    }
}
