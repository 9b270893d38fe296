import CortadoBase
import CortadoIO
import CortadoConfig

/// The tops a data layer declares when its source is absent (`Layer.syntheticTopShapes`, for
/// `SyntheticData`): batch × image from batch_size and the transform, with a label vector.
enum DeclaredDataShape {
    /// Batch × image, and a label vector when the layer has a second top.
    static func shapes(batch: Int, image: [Int], labels: Bool) -> [[Int]] {
        [[batch] + image] + (labels ? [[batch]] : [])
    }

    /// The C×H×W an LMDB data layer declares: from its mean file, from a well-known source
    /// name (MNIST, CIFAR), or from crop_size; cropped as the transform would.
    static func imageShape(_ t: TransformationParameter, source: String, channels: Int, for layer: Layer) throws -> [Int] {
        if let size = meanSize(t) { return t.outputShape(channels: size.c, height: size.h, width: size.w) }
        let lower = source.lowercased()
        if lower.contains("mnist") { return t.outputShape(channels: 1, height: 28, width: 28) }
        if lower.contains("cifar") { return t.outputShape(channels: 3, height: 32, width: 32) }
        guard t.cropSize > 0 else {
            throw layer.error("its source \(source) is absent and it declares no image size (crop_size or a mean_file), so its shape cannot be known; make the data available")
        }
        return [channels, t.cropSize, t.cropSize]
    }

    static func meanSize(_ t: TransformationParameter) -> (c: Int, h: Int, w: Int)? {
        guard let file = t.meanFile, let blob = try? CaffeBinary.readBlob(file), blob.shape.count >= 3 else { return nil }
        let s = blob.shape.suffix(3).map { $0 }
        return (s[0], s[1], s[2])
    }
}
