import CortadoBase
import CCaffeProto
import Foundation

/// Caffe's Datum, the record of an LMDB made by convert_imageset: a label and either raw
/// uint8 pixels (C×H×W), float features, or an encoded JPEG/PNG.
package struct Datum: Sendable, Equatable {
    package var channels = 0, height = 0, width = 0
    package var data: [UInt8] = []
    package var floatData: [Float] = []
    package var label = 0
    package var encoded = false

    package init(channels: Int = 0, height: Int = 0, width: Int = 0, data: [UInt8] = [], floatData: [Float] = [], label: Int = 0, encoded: Bool = false) {
        self.channels = channels
        self.height = height
        self.width = width
        self.data = data
        self.floatData = floatData
        self.label = label
        self.encoded = encoded
    }

    package init(image: Image, label: Int) {
        self.init(channels: image.channels, height: image.height, width: image.width, data: image.pixels, label: label)
    }

    /// Parses a record; `source` names it in errors.
    package static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws -> Datum {
        guard let p = caffe__datum__unpack(nil, bytes.count, bytes.bindMemory(to: UInt8.self).baseAddress) else {
            throw DataError("\(source) is not a Caffe Datum (the record is damaged, or the database holds something else)")
        }
        defer { caffe__datum__free_unpacked(p, nil) }
        let d = p.pointee
        var datum = Datum(channels: Int(d.channels), height: Int(d.height), width: Int(d.width), label: Int(d.label), encoded: d.encoded != 0)
        if d.has_data != 0 { datum.data = Array(UnsafeBufferPointer(start: d.data.data, count: d.data.len)) }
        datum.floatData = Array(UnsafeBufferPointer(start: d.float_data, count: d.n_float_data))
        guard datum.encoded || datum.channels > 0 && datum.height > 0 && datum.width > 0 else {
            throw DataError("\(source) is not a usable Datum: it gives no channels/height/width")
        }
        let n = datum.channels * datum.height * datum.width
        guard datum.encoded || datum.data.count == n || datum.floatData.count == n else {
            throw DataError("\(source) is a damaged Datum: \(datum.channels)×\(datum.height)×\(datum.width) needs \(n) values, it has \(max(datum.data.count, datum.floatData.count))")
        }
        return datum
    }

    package func encode() -> [UInt8] {
        var d = Caffe__Datum()
        caffe__datum__init(&d)
        (d.has_channels, d.channels) = (1, Int32(channels))
        (d.has_height, d.height) = (1, Int32(height))
        (d.has_width, d.width) = (1, Int32(width))
        (d.has_label, d.label) = (1, Int32(label))
        if encoded { (d.has_encoded, d.encoded) = (1, 1) }
        var bytes = data, floats = floatData
        return bytes.withUnsafeMutableBufferPointer { b in
            floats.withUnsafeMutableBufferPointer { f in
                if !b.isEmpty { d.has_data = 1; d.data = ProtobufCBinaryData(len: b.count, data: b.baseAddress) }
                d.n_float_data = f.count
                d.float_data = f.baseAddress
                return withUnsafeMutablePointer(to: &d) {
                    $0.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { CaffeBinary.pack($0) }
                }
            }
        }
    }

    /// The pixels as an image, decoding JPEG/PNG when `encoded`.
    package func image(color: Bool? = nil, source: String) throws -> Image {
        if encoded {
            return try data.withUnsafeBytes { try Image.decode($0, color: color ?? true, source: source) }
        }
        return Image(channels: channels, height: height, width: width, pixels: data)
    }
}
