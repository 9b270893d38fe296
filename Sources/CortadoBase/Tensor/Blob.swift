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
    /// The objects that own `data` and `diff` (a `FloatStorage`, or `SharedFloats` when
    /// `Net.shareActivationMemory` gave the blob shared data). A reshape that grows the blob
    /// replaces them; whoever still holds an old one (a numpy array from Python) keeps
    /// valid memory, as pycaffe's arrays keep their blob alive.
    package private(set) var dataOwner: AnyObject
    package private(set) var diffOwner: AnyObject

    /// An empty blob (one float of storage) that a layer sizes later with `reshape`.
    public init() {
        shape = []
        count = 1
        capacity = 1
        let d = FloatStorage.one(), g = FloatStorage.one()
        data = d.pointer
        diff = g.pointer
        dataOwner = d
        diffOwner = g
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

    /// Points `data` at `shared` (at least `capacity` floats). The contents are not carried
    /// over: callers share blobs only between passes.
    package func useSharedData(_ shared: SharedFloats) {
        precondition(shared.count >= capacity, "shared storage smaller than the blob")
        dataOwner = shared
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
            guard let d = FloatStorage(zeroed: newCount), let g = FloatStorage(zeroed: newCount) else {
                throw ResourceError("out of memory allocating a blob of shape \(newShape) (\(formatBytes(bytes)))")
            }
            capacity = newCount
            data = d.pointer
            diff = g.pointer
            dataOwner = d
            diffOwner = g
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

/// Floats one blob owns, zeroed by calloc (or one float from `allocate`, for empty blobs).
package final class FloatStorage {
    public let pointer: UnsafeMutablePointer<Float>
    private let allocated: Bool

    init?(zeroed count: Int) {
        guard let p = calloc(max(count, 1), MemoryLayout<Float>.stride) else { return nil }
        pointer = p.bindMemory(to: Float.self, capacity: max(count, 1))
        allocated = false
    }

    private init(one: ()) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
        allocated = true
    }

    static func one() -> FloatStorage { FloatStorage(one: ()) }

    deinit { if allocated { pointer.deallocate() } else { free(pointer) } }
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
