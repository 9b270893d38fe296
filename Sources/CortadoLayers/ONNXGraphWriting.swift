/// What a layer needs to write itself into an ONNX graph (`cortado export-onnx`):
/// CortadoExport's graph builder implements it, and a layer's `writeONNX` override uses it,
/// so a layer's export lives in the layer's own file.
public protocol ONNXGraphWriting {
    /// Fresh value names for the layer's tops, in order; ask once, for the values the layer's
    /// last nodes produce.
    mutating func tops() -> [String]
    /// A node: an ONNX operator from value names to value names.
    mutating func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String], _ attributes: [(String, ONNXAttribute)])
    /// A float constant (weights, slopes), named after `base`; returns its value name.
    mutating func constant(_ base: String, floats: [Float], dims: [Int]) -> String
}

/// An ONNX node attribute.
public enum ONNXAttribute: Sendable {
    case int(Int)
    case ints([Int])
    case float(Float)
    case string(String)
}
