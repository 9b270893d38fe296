import CortadoBase
import CPNG
import CTurboJPEG
import Foundation

/// An 8-bit image in Caffe's layout: channels × height × width, colour channels in BGR order
/// (what OpenCV's imread gives Caffe, so means and weights trained there line up).
package struct Image: Sendable, Equatable {
    package var channels: Int
    package var height: Int
    package var width: Int
    package var pixels: [UInt8]   // C×H×W

    package init(channels: Int, height: Int, width: Int, pixels: [UInt8]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    /// Decodes a JPEG or PNG (told by its first bytes) into 1 (gray) or 3 (BGR) channels.
    package static func decode(_ bytes: UnsafeRawBufferPointer, color: Bool, source: String) throws -> Image {
        guard bytes.count >= 8 else { throw DataError("\(source): too short to be an image") }
        let b = bytes.bindMemory(to: UInt8.self)
        if b[0] == 0xFF && b[1] == 0xD8 { return try decodeJPEG(b, color: color, source: source) }
        if b[0] == 0x89 && b[1] == 0x50 && b[2] == 0x4E && b[3] == 0x47 { return try decodePNG(b, color: color, source: source) }
        throw DataError("\(source): not a JPEG or PNG image")
    }

    package static func load(_ path: String, color: Bool) throws -> Image {
        let data = try FileBytes.read(path, what: "image")
        return try data.withUnsafeBytes { try decode($0, color: color, source: path) }
    }

    static func decodeJPEG(_ b: UnsafeBufferPointer<UInt8>, color: Bool, source: String) throws -> Image {
        guard let tj = tjInitDecompress() else { throw DataError("cannot start the JPEG decoder") }
        defer { tjDestroy(tj) }
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, space: Int32 = 0
        guard tjDecompressHeader3(tj, b.baseAddress, UInt(b.count), &w, &h, &sub, &space) == 0, w > 0, h > 0 else {
            throw DataError("\(source): cannot decode JPEG: \(String(cString: tjGetErrorStr2(tj)))")
        }
        let c = color ? 3 : 1
        var hwc = [UInt8](repeating: 0, count: Int(w) * Int(h) * c)
        let format = Int32(color ? TJPF_BGR.rawValue : TJPF_GRAY.rawValue)
        let rc = hwc.withUnsafeMutableBufferPointer { tjDecompress2(tj, b.baseAddress, UInt(b.count), $0.baseAddress, w, 0, h, format, 0) }
        guard rc == 0 else { throw DataError("\(source): cannot decode JPEG: \(String(cString: tjGetErrorStr2(tj)))") }
        return fromHWC(hwc, channels: c, height: Int(h), width: Int(w))
    }

    static func decodePNG(_ b: UnsafeBufferPointer<UInt8>, color: Bool, source: String) throws -> Image {
        var img = png_image()
        img.version = cpng_image_version()
        guard png_image_begin_read_from_memory(&img, b.baseAddress, b.count) != 0 else {
            throw DataError("\(source): cannot decode PNG: \(message(img))")
        }
        img.format = color ? cpng_format_bgr() : cpng_format_gray()
        let c = color ? 3 : 1
        var hwc = [UInt8](repeating: 0, count: Int(img.width) * Int(img.height) * c)
        let ok = hwc.withUnsafeMutableBufferPointer { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else {
            let reason = message(img)
            png_image_free(&img)
            throw DataError("\(source): cannot decode PNG: \(reason)")
        }
        return fromHWC(hwc, channels: c, height: Int(img.height), width: Int(img.width))
    }

    static func message(_ img: png_image) -> String {
        withUnsafeBytes(of: img.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func fromHWC(_ hwc: [UInt8], channels c: Int, height h: Int, width w: Int) -> Image {
        var chw = [UInt8](repeating: 0, count: hwc.count)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c { chw[(k * h + y) * w + x] = hwc[(y * w + x) * c + k] }
            }
        }
        return Image(channels: c, height: h, width: w, pixels: chw)
    }

    /// Bilinear resize with pixel centres aligned, as OpenCV's INTER_LINEAR (cv::resize's default,
    /// which Caffe uses for new_height/new_width).
    package func resized(height nh: Int, width nw: Int) -> Image {
        guard nh > 0, nw > 0, nh != height || nw != width else { return self }
        var out = [UInt8](repeating: 0, count: channels * nh * nw)
        let sy = Double(height) / Double(nh), sx = Double(width) / Double(nw)
        for y in 0..<nh {
            let fy = max(0, (Double(y) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1), wy = fy - Double(y0)
            for x in 0..<nw {
                let fx = max(0, (Double(x) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), width - 1), x1 = min(x0 + 1, width - 1), wx = fx - Double(x0)
                for c in 0..<channels {
                    let p = c * height * width
                    let top = Double(pixels[p + y0 * width + x0]) * (1 - wx) + Double(pixels[p + y0 * width + x1]) * wx
                    let bottom = Double(pixels[p + y1 * width + x0]) * (1 - wx) + Double(pixels[p + y1 * width + x1]) * wx
                    out[(c * nh + y) * nw + x] = UInt8(max(0, min(255, (top * (1 - wy) + bottom * wy).rounded())))
                }
            }
        }
        return Image(channels: channels, height: nh, width: nw, pixels: out)
    }
}
