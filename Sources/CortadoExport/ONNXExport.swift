import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// `cortado export-onnx` as a library call: a deploy net and its weights to an ONNX file, and
/// optionally a reference file (a random input and Cortado's outputs for it) that
/// tools/check-onnx.sh feeds to onnxruntime.
public enum ONNXExport {
    public struct Options: Sendable {
        public var opset = 17
        /// Fixed batch size; nil keeps it symbolic.
        public var batch: Int? = nil
        public init() {}
    }

    /// Builds the TEST-phase net of `model`; `weights` are loaded in order, or with none,
    /// `randomSeed` fills every parameter with random values of sensible scale (for checks).
    public static func net(model: String, weights: [String], randomSeed: UInt64?) throws -> Net {
        let net = try Net.withWeights(model: model, weights: weights, missing: .refuse)
        if let randomSeed {
            var random = RNG(seed: randomSeed)
            try fillForCheck(net, &random)
        }
        return net
    }

    /// Writes the ONNX model atomically; returns its node and initializer counts.
    @discardableResult
    public static func write(_ net: Net, to path: String, options: Options, version: String) throws -> (nodes: Int, constants: Int) {
        if let batch = options.batch { try setBatch(net, batch) }
        var exporter = try ONNXGraphBuilder(net: net, opset: options.opset, batch: options.batch)
        let bytes = try exporter.export(producerVersion: version)
        try AtomicFile.write(bytes, to: path)
        return (exporter.model.nodes.count, exporter.model.initializers.count)
    }

    /// Runs the net on a seeded random input of `batch` examples and writes, in one HDF5
    /// file, each input (named by its blob) and each output.
    public static func writeReference(_ net: Net, to path: String, batch: Int, seed: UInt64) throws {
        try setBatch(net, batch)
        var rng = RNG(seed: seed)
        let inputs = net.entries.filter { $0.layer.type == "Input" }.flatMap { zip($0.topIDs, $0.tops) }
        for (_, blob) in inputs { for i in 0..<blob.count { blob.data[i] = rng.uniform(-1, 1) } }
        try net.forward()
        try SnapshotFile.atomicWrite(path) { file in
            for (id, blob) in inputs { try file.write("input/" + net.namedBlobs[id].name, floats: blob.dataArray, shape: blob.shape) }
            for id in net.outputBlobIDs {
                let blob = net.namedBlobs[id].blob
                try file.write("output/" + net.namedBlobs[id].name, floats: blob.dataArray, shape: blob.shape)
            }
        }
    }

    /// One backward pass of a net with a loss, from the parameters and input of a check
    /// (`fillForCheck`): writes each layer's parameter gradients as `LAYER/i` in one HDF5 file.
    /// tools/onednn-check.sh compares the files of the oneDNN and im2col convolutions.
    public static func writeGradients(_ net: Net, to path: String, blobs: Bool = false) throws {
        try net.forward()
        net.clearParamDiffs()
        try net.backward()
        try SnapshotFile.atomicWrite(path) { file in
            for layer in net.layers {
                for (i, blob) in layer.blobs.enumerated() where layer.type != "BatchNorm" {
                    try file.write("\(layer.name)/\(i)", floats: blob.diffArray, shape: blob.shape)
                }
            }
            // With `blobs`, every blob's data and diff too, to find where two runs part.
            for named in net.namedBlobs where blobs {
                try file.write("blob-data/\(named.name)", floats: named.blob.dataArray, shape: named.blob.shape)
                try file.write("blob-diff/\(named.name)", floats: named.blob.diffArray, shape: named.blob.shape)
            }
        }
    }

    static func setBatch(_ net: Net, _ batch: Int) throws {
        guard batch > 0 else { throw ExportError("--batch must be positive") }
        for e in net.entries where e.layer.type == "Input" {
            for t in e.tops { try t.reshape([batch] + t.shape.dropFirst()) }
        }
        try net.reshape()
    }

    /// Random parameters that keep activations in a useful range, so a check compares
    /// outputs that are neither saturated nor vanishing: weights uniform with variance 2 /
    /// fan-in, small biases, Scale factors near 1, PReLU slopes in (0.05, 0.3), and BatchNorm
    /// statistics measured on a random input as the net runs (times a random factor in
    /// 0.5…1.5 for the variances), as trained statistics would be.
    static func fillForCheck(_ net: Net, _ rng: inout RNG) throws {
        for layer in net.layers where layer.type != "BatchNorm" {
            for (i, blob) in layer.blobs.enumerated() {
                let (lo, hi): (Float, Float)
                switch (layer.type, i) {
                case ("Scale", 0): (lo, hi) = (0.5, 1.5)
                case ("PReLU", _): (lo, hi) = (0.05, 0.3)
                case (_, 0) where blob.shape.count > 1:
                    let fanIn = Float(blob.count / max(blob.shape[0], 1))
                    let a = (6 / max(fanIn, 1)).squareRoot()
                    (lo, hi) = (-a, a)
                default: (lo, hi) = (-0.1, 0.1)
                }
                for k in 0..<blob.count { blob.data[k] = rng.uniform(lo, hi) }
            }
        }
        for e in net.entries where e.layer.type == "Input" {
            for t in e.tops { for k in 0..<t.count { t.data[k] = rng.uniform(-1, 1) } }
        }
        for (i, e) in net.entries.enumerated() {
            if e.layer.type == "BatchNorm" { calibrate(e.layer.blobs, from: e.bottoms[0], &rng) }
            try net.forward(from: i, to: i)
        }
    }

    /// A BatchNorm's stored mean and variance from the channels of `input` (axis 1).
    private static func calibrate(_ blobs: [Blob], from input: Blob, _ rng: inout RNG) {
        let n = input.shape[0], c = input.shape.count > 1 ? input.shape[1] : 1
        let plane = input.count / max(n * c, 1)
        for ch in 0..<c {
            var sum = 0.0, squares = 0.0
            for b in 0..<n {
                let p = input.data + (b * c + ch) * plane
                for k in 0..<plane { sum += Double(p[k]); squares += Double(p[k]) * Double(p[k]) }
            }
            let count = Double(max(n * plane, 1)), mean = sum / count
            blobs[0].data[ch] = Float(mean)
            blobs[1].data[ch] = Float(max(squares / count - mean * mean, 1e-3)) * rng.uniform(0.5, 1.5)
        }
        blobs[2].data[0] = 1
    }
}
