import Foundation

/// Caffe's Blob: an N-D array of `Float` data with a gradient (`diff`) of the same shape.
/// Memory grows on reshape and is never given back, so a net that reshapes to the same or a
/// smaller size inside the training loop allocates nothing.
public final class Blob {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    private var capacity: Int
    public private(set) var data: UnsafeMutablePointer<Float>
    public private(set) var diff: UnsafeMutablePointer<Float>

    public init(_ shape: [Int] = []) {
        self.shape = shape
        count = shape.reduce(1, *)
        capacity = max(count, 1)
        data = Self.zeroed(capacity)
        diff = Self.zeroed(capacity)
    }

    /// Zeroed memory from calloc: large blocks come as untouched pages, so a blob costs
    /// nothing until it is used (shape-only nets, diffs never written).
    private static func zeroed(_ n: Int) -> UnsafeMutablePointer<Float> {
        guard let raw = calloc(n, MemoryLayout<Float>.stride) else {
            fatalError("out of memory allocating \(n) floats")   // sizes are checked against memory before this
        }
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    public convenience init(_ shape: [Int], values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "values do not fill the blob")
        data.update(from: values, count: count)
    }

    deinit {
        free(data)
        free(diff)
    }

    public func reshape(_ newShape: [Int]) {
        let newCount = newShape.reduce(1, *)
        if newCount > capacity {
            free(data)
            free(diff)
            capacity = newCount
            data = Self.zeroed(capacity)
            diff = Self.zeroed(capacity)
        }
        shape = newShape
        count = newCount
    }

    public func reshapeLike(_ other: Blob) { reshape(other.shape) }

    public var numAxes: Int { shape.count }

    /// Axis index with Python-style negatives, as Caffe's CanonicalAxisIndex.
    public func canonicalAxis(_ axis: Int) -> Int? {
        let a = axis < 0 ? axis + shape.count : axis
        return (a >= 0 && a < max(shape.count, 1)) ? a : nil
    }

    /// Product of the dimensions in `start..<end`.
    public func count(_ start: Int, _ end: Int? = nil) -> Int {
        let e = end ?? shape.count
        guard start < e else { return 1 }
        return shape[start..<e].reduce(1, *)
    }

    public var dataArray: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    public var diffArray: [Float] { Array(UnsafeBufferPointer(start: diff, count: count)) }

    public func setData(_ values: [Float]) {
        precondition(values.count == count)
        data.update(from: values, count: count)
    }

    public func setDiff(_ values: [Float]) {
        precondition(values.count == count)
        diff.update(from: values, count: count)
    }

    public func zeroData() { data.update(repeating: 0, count: count) }
    public func zeroDiff() { diff.update(repeating: 0, count: count) }

    public func copyData(from other: Blob) {
        precondition(other.count == count)
        data.update(from: other.data, count: count)
    }

    /// `Top shape: 64 20 24 24 (737280)` as Caffe logs it.
    public var shapeString: String {
        shape.map(String.init).joined(separator: " ") + " (\(count))"
    }

    public var asumData: Float { (0..<count).reduce(0) { $0 + abs(data[$1]) } }
    public var asumDiff: Float { (0..<count).reduce(0) { $0 + abs(diff[$1]) } }
}

/// The number of values of a shape read from a file, or nil when a dimension is negative or
/// the product overflows (a damaged or hostile header must not trap).
func checkedCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}
