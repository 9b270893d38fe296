import Foundation

/// Caffe's Blob: an N-D array of `Float` data with a gradient (`diff`) of the same shape.
/// Memory grows on reshape and is never given back, so a net that reshapes to the same or a
/// smaller size inside the training loop allocates nothing. Every size that comes from a file
/// or a flag goes through `reshape` or `init(checked:)`, which refuse a shape that overflows or
/// would not fit in memory with an error instead of a crash.
public final class Blob {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    /// Floats of storage `data` and `diff` each have (at least `count`).
    package private(set) var capacity: Int
    public private(set) var data: UnsafeMutablePointer<Float>
    public private(set) var diff: UnsafeMutablePointer<Float>
    /// Set when `data` lies in memory other blobs share (`Net.shareActivationMemory`); the
    /// blob then frees only its diff, and a reshape beyond the shared capacity gives it its
    /// own memory again.
    private var sharedData: SharedFloats?

    /// An empty blob (one float of storage) that a layer sizes later with `reshape`.
    public init() {
        shape = []
        count = 1
        capacity = 1
        data = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        data.initialize(to: 0)
        diff = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        diff.initialize(to: 0)
    }

    /// A blob of a shape that a file, a flag or a dataset decided: checked like `reshape`.
    public convenience init(checked shape: [Int]) throws {
        self.init()
        try reshape(shape)
    }

    /// A blob of a shape the code itself decides (small fixed buffers, tests).
    public convenience init(_ shape: [Int]) {
        self.init()
        do { try reshape(shape) } catch { preconditionFailure("internal blob shape \(shape): \(error)") }
    }

    /// Blobs larger than this (data and gradient together) are refused: half the machine's memory.
    static let byteLimit = Double(ProcessInfo.processInfo.physicalMemory) / 2

    public convenience init(_ shape: [Int], values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "values do not fill the blob")
        data.update(from: values, count: count)
    }

    deinit {
        if sharedData == nil { Self.release(data, capacity: capacity) }
        Self.release(diff, capacity: capacity)
    }

    /// Storage of one float comes from `allocate` (`init()`), larger storage from calloc.
    private static func release(_ p: UnsafeMutablePointer<Float>, capacity: Int) {
        if capacity == 1 { p.deallocate() } else { free(p) }
    }

    /// Points `data` at `shared` (at least `capacity` floats), freeing its own. The
    /// contents are not carried over: callers share blobs only between passes.
    package func useSharedData(_ shared: SharedFloats) {
        precondition(shared.count >= capacity, "shared storage smaller than the blob")
        if sharedData == nil { Self.release(data, capacity: capacity) }
        sharedData = shared
        data = shared.pointer
    }

    /// Sets the shape, growing the storage when needed. Zeroed memory comes from calloc, so
    /// large blocks are untouched pages until used (shape-only nets, diffs never written).
    public func reshape(_ newShape: [Int]) throws {
        guard let newCount = checkedCount(newShape) else {
            throw ResourceError("blob shape \(newShape) is impossible: a dimension is negative or the size overflows")
        }
        if newCount > capacity {
            let bytes = Double(newCount) * Double(2 * MemoryLayout<Float>.stride)
            guard bytes <= Self.byteLimit else {
                throw ResourceError("a blob of shape \(newShape) needs \(formatBytes(bytes)) for its data and gradient, more than half of this machine's \(formatBytes(Double(ProcessInfo.processInfo.physicalMemory))) of memory")
            }
            guard let d = calloc(newCount, MemoryLayout<Float>.stride) else {
                throw ResourceError("out of memory allocating a blob of shape \(newShape) (\(formatBytes(bytes)))")
            }
            guard let g = calloc(newCount, MemoryLayout<Float>.stride) else {
                free(d)
                throw ResourceError("out of memory allocating a blob of shape \(newShape) (\(formatBytes(bytes)))")
            }
            if sharedData == nil { Self.release(data, capacity: capacity) }
            Self.release(diff, capacity: capacity)
            sharedData = nil
            capacity = newCount
            data = d.bindMemory(to: Float.self, capacity: newCount)
            diff = g.bindMemory(to: Float.self, capacity: newCount)
        }
        shape = newShape
        count = newCount
    }

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
package func checkedCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// 1536 → "1.5 KiB", for messages about memory.
package func formatBytes(_ b: Double) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var v = b, i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    return String(format: "%.1f %@", v, units[i])
}

/// Floats several blobs use as their data, one at a time (`Net.shareActivationMemory`).
package final class SharedFloats {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// nil when memory runs out.
    package init?(count: Int) {
        guard let p = calloc(max(count, 1), MemoryLayout<Float>.stride) else { return nil }
        pointer = p.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(pointer) }
}
