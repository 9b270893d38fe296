import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's TransformationParameter.
struct TransformationParameter: Sendable {
    package var scale: Float = 1
    var mirror = false
    /// 0: no crop.
    var cropSize = 0
    var meanFile: String? = nil
    /// One per channel, or one for all.
    var meanValues: [Float] = []
    var forceColor = false
    var forceGray = false
    /// Where the message is, for errors about its mean file found at set-up.
    let node: ConfigNode

    init(_ p: ConfigNode) throws {
        node = p
        scale = p.float("scale") ?? scale
        mirror = p.bool("mirror") ?? mirror
        cropSize = p.int("crop_size") ?? cropSize
        meanFile = p.string("mean_file")
        meanValues = p.floats("mean_value")
        forceColor = p.bool("force_color") ?? forceColor
        forceGray = p.bool("force_gray") ?? forceGray
        guard cropSize >= 0 else { throw p.error("crop_size must not be negative", field: "crop_size") }
        if meanFile != nil && !meanValues.isEmpty { throw p.error("give mean_file or mean_value, not both", field: "mean_value") }
    }

    init(of layer: LayerParameter) throws { try self.init(try layer.sub("transform_param")) }

    /// Channels forced by force_gray/force_color, nil to keep what the data has.
    var forcedColor: Bool? { forceGray ? false : (forceColor ? true : nil) }

    /// The C×H×W shape after cropping an input of the given size.
    func outputShape(channels: Int, height: Int, width: Int) -> [Int] {
        cropSize > 0 ? [channels, cropSize, cropSize] : [channels, height, width]
    }
}

/// Caffe's DataTransformer (transform_param): optional crop (random in TRAIN, centred in
/// TEST), optional random mirror, then (pixel − mean) × scale, the mean being a mean_file
/// blob (cropped the same way) or one mean_value per channel.
final class DataTransformer {
    package let scale: Float
    let mirror: Bool
    let cropSize: Int
    let phase: Phase
    private var mean: StoredBlob?
    private var meanValues: [Float]
    var rng: RNG

    init(_ settings: TransformationParameter, phase: Phase, rng: RNG) throws {
        scale = settings.scale
        mirror = settings.mirror
        cropSize = settings.cropSize
        self.phase = phase
        meanValues = settings.meanValues
        self.rng = rng
        if let file = settings.meanFile {
            do { mean = try CaffeBinary.readBlob(file) } catch let e as any CortadoFailure {
                throw settings.node.error(e.description, field: "mean_file")
            }
        }
    }

    /// The C×H×W shape after cropping an input of the given size.
    func outputShape(channels: Int, height: Int, width: Int) -> [Int] {
        cropSize > 0 ? [channels, cropSize, cropSize] : [channels, height, width]
    }

    /// Checks that the mean and crop fit inputs of this size, once, before data flows.
    func check(channels: Int, height: Int, width: Int, layer: Layer) throws {
        if cropSize > 0 && (cropSize > height || cropSize > width) {
            throw layer.error("crop_size \(cropSize) is larger than the \(height)×\(width) input images")
        }
        if let mean {
            let expected = [1, channels, height, width]
            guard mean.shape.suffix(3) == expected.suffix(3) else {
                throw layer.error("the mean file's shape \(mean.shape) does not fit the input images (\(channels)×\(height)×\(width)); compute it from the same database with `cortado compute-image-mean`")
            }
        }
        if !meanValues.isEmpty && meanValues.count != 1 && meanValues.count != channels {
            throw layer.error("mean_value is given \(meanValues.count) times for \(channels)-channel images; give one, or one per channel")
        }
    }

    /// Whether to mirror and where to crop an image of this size: the random draws of one
    /// image (a skipped image makes the same draws, so the stream stays in step).
    @discardableResult
    func placement(height: Int, width: Int) -> (mirror: Bool, hOff: Int, wOff: Int) {
        let doMirror = mirror && rng.below(2) == 1
        guard cropSize > 0 else { return (doMirror, 0, 0) }
        if phase == .train {
            let hOff = rng.below(height - cropSize + 1)
            return (doMirror, hOff, rng.below(width - cropSize + 1))
        }
        return (doMirror, (height - cropSize) / 2, (width - cropSize) / 2)
    }

    /// Transforms one C×H×W image of bytes (or floats) into `out`.
    func transform(_ pixel: (Int) -> Float, channels: Int, height: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let (doMirror, hOff, wOff) = placement(height: height, width: width)
        let oh = cropSize > 0 ? cropSize : height, ow = cropSize > 0 ? cropSize : width
        for c in 0..<channels {
            let mv: Float = meanValues.isEmpty ? 0 : meanValues[meanValues.count == 1 ? 0 : c]
            for h in 0..<oh {
                for w in 0..<ow {
                    let src = (c * height + h + hOff) * width + w + wOff
                    let dst = (c * oh + h) * ow + (doMirror ? ow - 1 - w : w)
                    let m = mean.map { $0.values[src] } ?? mv
                    out[dst] = (pixel(src) - m) * scale
                }
            }
        }
    }
}
