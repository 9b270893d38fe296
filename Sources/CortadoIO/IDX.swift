import CortadoBase
import Foundation

/// IDX files (the MNIST / Fashion-MNIST format): a big-endian header of dimension sizes,
/// then unsigned bytes.
package struct IDXFile {
    package var dims: [Int]
    package var bytes: [UInt8]

    package static func read(_ path: String) throws -> IDXFile {
        let data = try FileBytes.read(path, what: "IDX file")
        let b = [UInt8](data)
        guard b.count >= 4, b[0] == 0, b[1] == 0 else {
            throw DataError("\(path) is not an IDX file (is it still gzip-compressed? run gunzip first)")
        }
        guard b[2] == 0x08 else { throw DataError("\(path) holds IDX type 0x\(String(b[2], radix: 16)); only unsigned bytes (0x08) are supported") }
        let n = Int(b[3])
        guard b.count >= 4 + 4 * n else { throw DataError("\(path) is truncated in its header") }
        var dims: [Int] = []
        for i in 0..<n {
            let o = 4 + 4 * i
            dims.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        guard let count = checkedCount(dims) else { throw DataError("\(path) declares impossible dimensions \(dims): the file is damaged") }
        let start = 4 + 4 * n
        guard b.count - start == count else {
            throw DataError("\(path) should hold \(count) values after its header but holds \(b.count - start): the file is truncated or damaged")
        }
        return IDXFile(dims: dims, bytes: Array(b[start...]))
    }

    /// Writes images and labels as the HDF5 datasets `data` (N×1×H×W, pixels × scale) and
    /// `label` (N, as float), which an HDF5Data layer with tops data and label reads.
    package static func convert(images: String, labels: String, to output: String, scale: Float = 0.00390625) throws {
        let im = try read(images), lb = try read(labels)
        guard im.dims.count == 3 else { throw DataError("\(images) should be N×H×W images, found dims \(im.dims)") }
        guard lb.dims.count == 1, lb.dims[0] == im.dims[0] else {
            throw DataError("\(labels) has \(lb.dims.first ?? 0) labels for \(im.dims[0]) images")
        }
        let pixels = im.bytes.map { Float($0) * scale }
        let labelValues = lb.bytes.map { Float($0) }
        try SnapshotFile.atomicWrite(output) { file in
            try file.write("data", floats: pixels, shape: [im.dims[0], 1, im.dims[1], im.dims[2]])
            try file.write("label", floats: labelValues, shape: [lb.dims[0]])
        }
    }
}
