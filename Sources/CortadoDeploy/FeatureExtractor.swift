import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// Caffe's `extract_features` tool: named blobs of a net over a number of batches, row by row
/// (one row per example), into an HDF5 file (one dataset per blob) or LMDBs of Datum records.
public struct FeatureExtractor {
    public let net: Net
    public let names: [String]

    /// The rows collected so far per blob, and each row's shape.
    public private(set) var rows: [String: [Float]] = [:]
    public private(set) var rowShapes: [String: [Int]] = [:]
    public private(set) var count = 0

    /// `blobs` must name blobs of `net`; a blob named `label` is added when the net has one.
    public init(net: Net, blobs: [String]) throws {
        self.net = net
        var names = blobs
        for name in names where net.blob(named: name) == nil {
            let near = nearestName(to: name, in: net.blobNames).map { "; did you mean \"\($0)\"?" } ?? ""
            throw DataError("the net has no blob \"\(name)\"\(near) (its blobs: \(net.blobNames.joined(separator: ", ")))")
        }
        if net.blob(named: "label") != nil && !names.contains("label") { names.append("label") }
        self.names = names
    }

    /// Runs one forward pass and keeps each blob's rows.
    public mutating func extractBatch() throws {
        try net.forward()
        var batch = 0
        for name in names {
            let blob = net.blob(named: name)!
            let n = blob.shape.first ?? 1
            if batch == 0 { batch = n }
            guard n == batch else { throw DataError("blob \"\(name)\" has \(n) rows, but \"\(names[0])\" has \(batch); name blobs of one batch") }
            let shape = Array(blob.shape.dropFirst())
            if let known = rowShapes[name], known != shape { throw DataError("blob \"\(name)\" changed shape from \(known) to \(shape) between batches") }
            rowShapes[name] = shape
            rows[name, default: []] += UnsafeBufferPointer(start: blob.data, count: blob.count)
        }
        count += batch
    }

    /// One dataset per blob, shaped [examples] + the row shape; written atomically.
    public func writeHDF5(_ path: String) throws {
        try SnapshotFile.atomicWrite(path) { file in
            for name in names { try file.write(name, floats: rows[name] ?? [], shape: [count] + (rowShapes[name] ?? [])) }
        }
    }

    /// One LMDB per blob, `folder/<blob>`: Datum records with float_data, keyed by the example's
    /// index in ten digits, as Caffe's tool writes them.
    public func writeLMDB(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in names {
            let shape = rowShapes[name] ?? []
            let size = shape.reduce(1, *)
            let dims = shape + Array(repeating: 1, count: max(0, 3 - shape.count))
            let values = rows[name] ?? []
            let db = try LMDB.create((folder as NSString).appendingPathComponent(name.replacingOccurrences(of: "/", with: "_")))
            var records: [(key: String, value: [UInt8])] = []
            for i in 0..<count {
                let datum = Datum(channels: dims[0], height: dims[1], width: dims.count > 2 ? dims[2...].reduce(1, *) : 1,
                                  floatData: Array(values[(i * size)..<((i + 1) * size)]))
                records.append((String(format: "%010d", i), datum.encode()))
                if records.count == 1000 { try db.put(records); records.removeAll() }
            }
            if !records.isEmpty { try db.put(records) }
        }
    }
}
