import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig
@testable import CortadoLayers

/// Global settings every test wants (no log output, one BLAS thread), set exactly once:
/// Swift Testing runs tests in parallel, so tests must not each write these globals.
private let testEnvironment: Void = {
    Log.enabled = false
    Parallel.setThreads(1)
}()

func quietTestEnvironment() { _ = testEnvironment }

/// Parses a `layer { ... }` body written as prototxt.
func layerParam(_ text: String) throws -> LayerParameter {
    LayerRegistry.installSchemas()
    var parser = TextFormatParser(text: text, file: "test.prototxt")
    let node = try ConfigNode.validated(try parser.parseTopLevel(), as: "LayerParameter")
    return try LayerParameter(node)
}

/// Parses a whole net written as prototxt.
func netParam(_ text: String, file: String = "test.prototxt") throws -> NetParameter {
    LayerRegistry.installSchemas()
    var parser = TextFormatParser(text: text, file: file)
    return try NetParameter(ConfigNode.validated(try parser.parseTopLevel(), as: "NetParameter"), file: file)
}

/// Creates a layer from prototxt, sets it up on `bottoms` and returns it with its tops.
func makeLayer(_ text: String, bottoms: [Blob], phase: Phase = .train, seed: UInt64 = 7) throws -> (Layer, [Blob]) {
    quietTestEnvironment()
    let p = try layerParam(text)
    let layer = try LayerRegistry.create(p, phase: phase)
    let tops = p.top.map { _ in Blob() }
    try layer.setUp(bottom: bottoms, top: tops, context: LayerContext(rng: RNG(seed: seed), phase: phase))
    try layer.reshape(bottom: bottoms, top: tops)
    layer.paramPropagateDown = layer.blobs.map { _ in true }
    return (layer, tops)
}

/// A blob filled with reproducible values in [lo, hi).
func randomBlob(_ shape: [Int], seed: UInt64 = 1, lo: Float = -1, hi: Float = 1) -> Blob {
    var rng = RNG(seed: seed)
    let b = Blob(shape)
    for i in 0..<b.count { b.data[i] = rng.uniform(lo, hi) }
    return b
}

/// Values far from 0 (|x| in [0.1, 1)), for layers with a kink at zero.
func awayFromZeroBlob(_ shape: [Int], seed: UInt64 = 1) -> Blob {
    var rng = RNG(seed: seed)
    let b = Blob(shape)
    for i in 0..<b.count {
        let v = rng.uniform(0.1, 1)
        b.data[i] = rng.uniform() < 0.5 ? -v : v
    }
    return b
}

/// A fresh temporary folder for one test.
func temporaryDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "cortado-\(safe)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) {
        #expect(abs(x - y) <= tolerance * max(1, abs(y)), "\(x) vs \(y)", sourceLocation: sourceLocation)
    }
}

/// A test's own failure to set something up (a socket, an encoder), not Cortado's.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
