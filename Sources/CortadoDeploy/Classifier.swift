import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// How `classify` turns an 8-bit image into the net's input, in the order of Caffe's Python
/// `Transformer`: resize to the input size (or scale the shorter side and take the centre),
/// channel swap, raw scale, mean, input scale. Images arrive in BGR order, as Caffe's C++ tools
/// and Cortado's data layers read them.
public struct InputTransform: Sendable {
    /// Subtracted per channel (one value for every channel, or one per channel; empty: none).
    public var channelMeans: [Float] = []
    /// Multiplies the mean-subtracted value (Caffe's `input_scale`, a data layer's `scale`).
    public var scale: Float = 1
    /// Pixels are first mapped from 0…255 to 0…rawScale (Caffe's `raw_scale`; 255 keeps them).
    public var rawScale: Float = 255
    /// Input channel i takes image channel channelSwap[i] (nil: as decoded, BGR).
    public var channelSwap: [Int]? = nil
    /// Scale the shorter side to the input size and take the centre, instead of stretching.
    public var centerCrop = false

    public init() {}

    /// The per-channel average of a mean image, as Caffe's cpp_classification example uses it
    /// (so a 256×256 ImageNet mean serves a 227×227 input).
    public static func channelMeans(ofMeanFile path: String) throws -> [Float] {
        let blob = try CaffeBinary.readBlob(path)
        let shape = blob.shape.count == 4 ? Array(blob.shape.dropFirst()) : blob.shape
        guard shape.count == 3, shape[0] > 0, shape[1] * shape[2] > 0 else {
            throw DataError("\(path): a mean file holds one C×H×W image; this one has shape \(blob.shape)")
        }
        let plane = shape[1] * shape[2]
        return (0..<shape[0]).map { c in
            Float(blob.values[(c * plane)..<((c + 1) * plane)].reduce(0.0) { $0 + Double($1) } / Double(plane))
        }
    }

    /// Whether the settings fit a `c`-channel input; checked once, before any image.
    public func check(channels c: Int) throws {
        if let swap = channelSwap, swap.count != c || Set(swap) != Set(0..<c) {
            throw DataError("--channel-swap must list each of the \(c) channels once, e.g. \((0..<c).reversed().map(String.init).joined(separator: ","))")
        }
        if channelMeans.count > 1 && channelMeans.count != c {
            throw DataError("\(channelMeans.count) mean values for \(c)-channel input; give one, or one per channel")
        }
    }

    /// The image, resized or cropped to height × width, transformed into `out` (C×H×W floats).
    /// The settings must have passed `check(channels:)` for the image's channel count.
    package func apply(_ image: Image, height: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let sized = fitted(image, height: height, width: width)
        let c = sized.channels, plane = height * width
        for k in 0..<c {
            let source = channelSwap?[k] ?? k
            let mean = channelMeans.isEmpty ? 0 : channelMeans[channelMeans.count == 1 ? 0 : k]
            for i in 0..<plane {
                let raw = Float(sized.pixels[source * plane + i]) * (rawScale / 255)
                out[k * plane + i] = (raw - mean) * scale
            }
        }
    }

    private func fitted(_ image: Image, height: Int, width: Int) -> Image {
        guard centerCrop else { return image.resized(height: height, width: width) }
        let factor = max(Double(height) / Double(image.height), Double(width) / Double(image.width))
        let h = max(height, Int((Double(image.height) * factor).rounded())), w = max(width, Int((Double(image.width) * factor).rounded()))
        let scaled = image.resized(height: h, width: w)
        let top = (h - height) / 2, left = (w - width) / 2
        var pixels = [UInt8](repeating: 0, count: scaled.channels * height * width)
        for k in 0..<scaled.channels {
            for y in 0..<height {
                for x in 0..<width { pixels[(k * height + y) * width + x] = scaled.pixels[(k * h + y + top) * w + x + left] }
            }
        }
        return Image(channels: scaled.channels, height: height, width: width, pixels: pixels)
    }
}

/// One class of a prediction.
public struct Prediction: Sendable, Equatable {
    public let index: Int
    public let probability: Float
}

/// Caffe's cpp_classification example as a library: a deploy net (an Input layer), trained
/// weights and an input transform; images in, the net's output (usually `prob`) per image out.
public final class Classifier {
    public let net: Net
    public let transform: InputTransform
    private let input: Blob
    private let output: Blob
    /// The input's channels, height and width (from the deploy file).
    public let channels: Int, height: Int, width: Int
    /// Images per forward pass: the deploy file's batch.
    public let batchSize: Int
    /// The name of the blob whose rows are reported.
    public let outputName: String

    public init(model: String, weights: [String], transform: InputTransform) throws {
        net = try Net.withWeights(model: model, weights: weights)
        guard let entry = net.entries.first(where: { $0.layer.type == "Input" }), let blob = entry.tops.first, blob.shape.count == 4 else {
            throw DataError("\(model): classify needs a deploy net whose Input layer gives N×C×H×W images (such as models/lenet/lenet_deploy.prototxt)")
        }
        input = blob
        (batchSize, channels, height, width) = (blob.shape[0], blob.shape[1], blob.shape[2], blob.shape[3])
        guard channels == 1 || channels == 3 else { throw DataError("\(model): the input has \(channels) channels; images give 1 (gray) or 3 (BGR)") }
        let built = net
        let outputs = built.outputBlobIDs.map { (name: built.namedBlobs[$0].name, blob: built.namedBlobs[$0].blob) }
        guard let chosen = outputs.first(where: { $0.name == "prob" }) ?? outputs.last else { throw DataError("\(model): the net has no output blob") }
        output = chosen.blob
        outputName = chosen.name
        try transform.check(channels: channels)
        try net.shareActivationMemory()
        self.transform = transform
    }

    /// The output row of each image (up to `batchSize` per forward pass).
    package func outputs(_ images: [Image]) throws -> [[Float]] {
        var rows: [[Float]] = []
        var start = 0
        while start < images.count {
            let batch = Array(images[start..<min(start + batchSize, images.count)])
            try input.reshape([batch.count, channels, height, width])
            let size = channels * height * width
            for (i, image) in batch.enumerated() { transform.apply(image, height: height, width: width, into: input.data + i * size) }
            try net.forward()
            let row = output.count / batch.count
            for i in batch.indices { rows.append(Array(UnsafeBufferPointer(start: output.data + i * row, count: row))) }
            start += batch.count
        }
        return rows
    }

    /// Class names, one per line (line i names class i), trailing blank lines dropped.
    public static func readLabels(_ path: String) throws -> [String] {
        let text = try String(decoding: FileBytes.read(path, what: "labels file"), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
            .reversed().drop { $0.isEmpty }.reversed()
    }

    /// The k largest entries of a row, largest first (ties: lower index first).
    public static func top(_ row: [Float], k: Int) -> [Prediction] {
        row.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
            .prefix(k).map { Prediction(index: $0.offset, probability: $0.element) }
    }
}
