import CortadoBase
import CPNG
import Foundation

/// Caffe's convert_imageset and compute_image_mean: images listed as `path label` lines into
/// an LMDB of Datum records (keys `%08d_path`), and the mean image of such a database.
package enum ImageSet {
    package struct Options: Sendable {
        package var resizeHeight = 0, resizeWidth = 0
        package var shuffle = false
        package var gray = false
        package var encoded = false
        package var seed: UInt64 = 0
        package init() {}
    }

    /// Reads a list of `path label` lines (split at the last space, as Caffe does).
    package static func readList(_ list: String) throws -> [(path: String, label: Int)] {
        guard let text = try? String(contentsOfFile: list, encoding: .utf8) else { throw DataError("cannot read the image list \(list): no such file") }
        var lines: [(path: String, label: Int)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let space = line.lastIndex(of: " "), let label = Int(line[line.index(after: space)...]) else {
                throw DataError("\(list):\(n + 1): expected `path label`, found \"\(line)\"")
            }
            lines.append((String(line[..<space]).trimmingCharacters(in: .whitespaces), label))
        }
        guard !lines.isEmpty else { throw DataError("the image list \(list) is empty") }
        return lines
    }

    /// Writes the database; returns the number of records. As Caffe's convert_imageset, an
    /// image that cannot be read is skipped with a warning; unlike it, ROOT works without its
    /// trailing slash, and a conversion that fails removes the database it began, so that
    /// running it again works.
    @discardableResult
    package static func convert(root: String, list: String, db path: String, options: Options) throws -> Int {
        var lines = try readList(list)
        if options.shuffle {
            var order = Array(lines.indices)
            var rng = RNG(seed: options.seed)
            rng.shuffle(&order)
            lines = order.map { lines[$0] }
        }
        let folder = root.isEmpty || root.hasSuffix("/") ? root : root + "/"
        let db = try LMDB.create(path)   // refuses an existing database, which stays untouched
        do {
            let written = try write(lines, root: folder, to: db, options: options)
            guard written > 0 else { throw DataError("none of the \(lines.count) images listed in \(list) could be read under \(folder.isEmpty ? "." : folder)") }
            return written
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    private static func write(_ lines: [(String, Int)], root: String, to db: LMDB, options: Options) throws -> Int {
        var pending: [(key: String, value: [UInt8])] = []
        var written = 0, skipped = 0
        for (i, (file, label)) in lines.enumerated() {
            let datum: Datum
            do { datum = try makeDatum(root + file, label: label, options: options) } catch let e as any CortadoFailure {
                skipped += 1
                if skipped <= 10 { Log.warning("skipping \(root + file): \(e.description)", "convert") }
                continue
            }
            pending.append((String(format: "%08d_", i) + file, datum.encode()))
            written += 1
            if pending.count == 1000 { try db.put(pending); pending.removeAll() }
        }
        if !pending.isEmpty { try db.put(pending) }
        if skipped > 0 { Log.warning("skipped \(skipped) of \(lines.count) images that could not be read", "convert") }
        return written
    }

    static func makeDatum(_ path: String, label: Int, options: Options) throws -> Datum {
        let resize = options.resizeHeight > 0 && options.resizeWidth > 0
        if options.encoded && !resize && !options.gray {
            let bytes = try FileBytes.read(path, what: "image")
            _ = try bytes.withUnsafeBytes { try Image.decode($0, color: true, source: path) }   // refuse undecodable files now
            return Datum(data: [UInt8](bytes), label: label, encoded: true)
        }
        var img = try Image.load(path, color: !options.gray)
        if resize { img = img.resized(height: options.resizeHeight, width: options.resizeWidth) }
        if options.encoded { return Datum(data: try encodePNG(img), label: label, encoded: true) }
        return Datum(image: img, label: label)
    }

    /// Encodes an image as PNG (lossless), for --encoded with resizing or gray.
    static func encodePNG(_ img: Image) throws -> [UInt8] {
        var hwc = [UInt8](repeating: 0, count: img.pixels.count)
        for c in 0..<img.channels {
            for i in 0..<(img.height * img.width) { hwc[i * img.channels + c] = img.pixels[c * img.height * img.width + i] }
        }
        var png = png_image()
        png.version = cpng_image_version()
        png.width = UInt32(img.width)
        png.height = UInt32(img.height)
        png.format = img.channels == 3 ? cpng_format_bgr() : cpng_format_gray()
        var size: Int = 0
        guard png_image_write_to_memory(&png, nil, &size, 0, hwc, 0, nil) != 0 else { throw DataError("cannot encode PNG") }
        var out = [UInt8](repeating: 0, count: size)
        guard out.withUnsafeMutableBytes({ png_image_write_to_memory(&png, $0.baseAddress, &size, 0, hwc, 0, nil) }) != 0 else {
            throw DataError("cannot encode PNG")
        }
        return Array(out.prefix(size))
    }

    /// The mean of every record (1×C×H×W), as compute_image_mean writes it; also the per-channel means.
    package static func mean(db path: String) throws -> (mean: Blob, channelMeans: [Float], count: Int) {
        let db = try LMDB.openForReading(path)
        guard try db.first() else { throw DataError("the LMDB \(path) is empty") }
        var sum: [Double] = []
        var shape = (c: 0, h: 0, w: 0)
        var count = 0
        repeat {
            let key = db.currentKey
            let datum = try Datum.decode(db.currentValue, source: "\(path) record \(key)")
            let img: (c: Int, h: Int, w: Int, values: [Float])
            if datum.encoded || !datum.data.isEmpty {
                let i = try datum.image(source: "\(path) record \(key)")
                img = (i.channels, i.height, i.width, i.pixels.map(Float.init))
            } else {
                img = (datum.channels, datum.height, datum.width, datum.floatData)
            }
            if count == 0 {
                shape = (img.c, img.h, img.w)
                sum = [Double](repeating: 0, count: img.values.count)
            }
            guard (img.c, img.h, img.w) == shape else {
                throw DataError("record \(key) of \(path) is \(img.c)×\(img.h)×\(img.w), unlike the first (\(shape.c)×\(shape.h)×\(shape.w)); a mean needs one size (convert with --resize_height/--resize_width)")
            }
            for k in sum.indices { sum[k] += Double(img.values[k]) }
            count += 1
        } while try db.next()
        let mean = try Blob(checked: [1, shape.c, shape.h, shape.w])
        mean.setData(sum.map { Float($0 / Double(count)) })
        let plane = shape.h * shape.w
        let channelMeans = (0..<shape.c).map { c in Float(sum[(c * plane)..<((c + 1) * plane)].reduce(0, +) / Double(plane * count)) }
        return (mean, channelMeans, count)
    }
}
