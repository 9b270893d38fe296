import CortadoBase
import Foundation

/// Weights files of either kind, as lists of layers: HDF5 (`data/<layer>/<i>`) and binary
/// NetParameter. The kind is told by content, never by the file name.
package enum WeightsFile {
    package static func read(_ path: String) throws -> (name: String, layers: [StoredLayer]) {
        try FileBytes.requireFile(path, what: "weights file")
        guard HDF5File.isHDF5(path) else { return try CaffeBinary.readNet(path) }
        if try Checksum.checkHDF5(path) != .verified, let helper = HDF5Isolation.helper {
            return ("", try HDF5Isolation.readWeights(path, helper: helper))
        }
        let file = try HDF5File.open(path)
        guard file.exists("data") else { throw FileError("\(path) has no \"data\" group, so it is not a Caffe weights file", path: path) }
        var layers: [StoredLayer] = []
        try collect(file, group: "data", prefix: "", into: &layers)
        return ("", layers)
    }

    /// A group whose children are numbered datasets is a layer; other child groups are the
    /// path segments of layer names that contain '/' (GoogLeNet's `inception_3a/1x1`).
    static func collect(_ file: HDF5File, group: String, prefix: String, into layers: inout [StoredLayer]) throws {
        for child in try file.children(group) {
            let path = "\(group)/\(child)", name = prefix.isEmpty ? child : "\(prefix)/\(child)"
            guard file.isGroup(path) else { continue }
            let entries = try file.children(path)
            let numbered = Set(entries.compactMap(Int.init).filter { $0 >= 0 })
            if !numbered.isEmpty || entries.isEmpty {
                let count = (numbered.max() ?? -1) + 1
                guard count <= numbered.count + 16 else {
                    throw FileError("\(file.path) is not a Caffe weights file: layer \"\(name)\" has a parameter numbered \(count - 1) but only \(numbered.count) parameters", path: file.path)
                }
                let blobs = try (0..<count).map { i -> StoredBlob in
                    guard numbered.contains(i) else { return StoredBlob(shape: [], values: []) }
                    let (shape, values) = try file.readFloats("\(path)/\(i)")
                    return StoredBlob(shape: shape, values: values)
                }
                var layer = StoredLayer(name: name, type: "", blobs: blobs)
                layer.absent = Set(0..<count).subtracting(numbered)
                layers.append(layer)
            }
            if entries.contains(where: { Int($0) == nil }) {
                try collect(file, group: path, prefix: name, into: &layers)
            }
        }
    }

    package static func writeHDF5(_ layers: [StoredLayer], to path: String) throws {
        try SnapshotFile.atomicWrite(path) { file in
            try file.createGroup("data")
            for l in layers {
                try file.createGroup("data/\(l.name)")
                for (j, b) in l.blobs.enumerated() where !l.absent.contains(j) {
                    try file.write("data/\(l.name)/\(j)", floats: b.values, shape: b.shape)
                }
            }
        }
    }
}
