import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import Foundation

/// Turns a TEST-phase deploy net into an ONNX graph with its weights. Each Caffe layer becomes
/// one or a few ONNX nodes, written by the layer itself (`Layer.writeONNX`, in its own file,
/// through this builder as `ONNXGraphWriting`); where ONNX's operator differs from Caffe's
/// arithmetic (pooling's ceil rounding and clipped last window, LRN within a channel, Power,
/// Exp and Log with a base), the nodes spell out Caffe's formula, so onnxruntime gives
/// Cortado's numbers. A layer with no export is an error that names it.
package struct ONNXGraphBuilder: ONNXGraphWriting {
    /// Opsets the exporter's operators are valid for (Split and Unsqueeze take inputs from 13).
    package static let opsets = 13...21

    let net: Net
    /// Fixed batch size, or nil for a symbolic batch dimension `N`.
    let batch: Int?
    var model: ONNXModel
    /// The ONNX value that holds each Caffe blob (by blob id) now.
    private var current: [Int: String] = [:]
    /// Writes still to come per blob id: the last one gets the blob's own name.
    private var writesLeft: [Int: Int] = [:]
    private var usedNames: Set<String> = []
    private let reservedNames: Set<String>
    private var nodeNames: Set<String> = []
    /// The layer being written, whose tops `tops()` names.
    private var emitting: LayerEntry? = nil

    package init(net: Net, opset: Int = 17, batch: Int? = nil) throws {
        guard Self.opsets.contains(opset) else { throw ExportError("--opset must be between \(Self.opsets.lowerBound) and \(Self.opsets.upperBound)") }
        self.net = net
        self.batch = batch
        model = ONNXModel(graphName: net.name.isEmpty ? "cortado" : net.name, opset: opset)
        reservedNames = Set(net.blobNames)
        for e in net.entries where !Self.aliases(e.layer) {
            for id in e.topIDs { writesLeft[id, default: 0] += 1 }
        }
    }

    /// The ONNX protobuf of the whole net.
    package mutating func export(producerVersion: String) throws -> [UInt8] {
        for (i, e) in net.entries.enumerated() {
            do {
                try add(e, index: i)
            } catch let error as any CortadoFailure {
                throw ExportError("layer \"\(e.layer.name)\" (\(e.layer.type)): \(error.description)")
            }
        }
        for id in net.outputBlobIDs {
            model.outputs.append(ONNXValue(name: current[id]!, dims: dims(of: net.namedBlobs[id].blob)))
        }
        return model.encoded(producerVersion: producerVersion)
    }

    /// Split layers (inserted where a blob feeds several layers) and in-place Dropout only
    /// rename values.
    static func aliases(_ layer: Layer) -> Bool { layer.type == "Split" || layer.type == "Dropout" }

    private mutating func add(_ e: LayerEntry, index: Int) throws {
        if Self.aliases(e.layer) {
            for id in e.topIDs { current[id] = try input(e.bottomIDs[0]) }
            return
        }
        if e.layer.type == "Input" {
            for id in e.topIDs {
                let name = output(id)
                model.inputs.append(ONNXValue(name: name, dims: dims(of: net.namedBlobs[id].blob)))
            }
            return
        }
        // Every exported layer writes itself (Layer.writeONNX, in its own file).
        emitting = e
        defer { emitting = nil }
        if try e.layer.writeONNX(&self, inputs: try e.bottomIDs.map { try input($0) }) { return }
        if e.layer.dataSource != nil || e.layer.type.hasSuffix("Data") {
            throw ExportError("reads data; export a deploy net, whose images come from an Input layer")
        }
        throw ExportError("has no ONNX export (a layer exports itself by overriding Layer.writeONNX)")
    }

    /// The graph's dimensions of a blob: the batch (first) dimension symbolic unless fixed.
    func dims(of blob: Blob) -> [ONNXValue.Dim] {
        blob.shape.enumerated().map { i, n in i == 0 && batch == nil ? .named("N") : .fixed(n) }
    }

    // MARK: names

    func input(_ id: Int) throws -> String {
        guard let name = current[id] else { throw ExportError("reads \"\(net.namedBlobs[id].name)\" before anything writes it") }
        return name
    }

    /// A fresh value for a write of blob `id`: the blob's own name on its last write.
    mutating func output(_ id: Int) -> String {
        let blob = net.namedBlobs[id].name
        writesLeft[id, default: 1] -= 1
        let name = writesLeft[id]! <= 0 ? blob : unique("\(blob)_v\(writesLeft[id]!)")
        usedNames.insert(name)
        current[id] = name
        return name
    }

    /// A name no other value or constant has (Caffe's blob names are kept for their last writes).
    package mutating func unique(_ base: String) -> String {
        var name = base, k = 1
        while usedNames.contains(name) || reservedNames.contains(name) { name = "\(base)_\(k)"; k += 1 }
        usedNames.insert(name)
        return name
    }

    package mutating func constant(_ base: String, floats: [Float], dims: [Int]) -> String {
        let name = unique(base)
        model.initializers.append(ONNXTensor(name: name, dims: dims, values: .floats(floats)))
        return name
    }

    package mutating func constant(_ base: String, int64s: [Int64]) -> String {
        let name = unique(base)
        model.initializers.append(ONNXTensor(name: name, dims: [int64s.count], values: .int64s(int64s)))
        return name
    }

    package var bottomShapes: [[Int]] { emitting?.bottoms.map(\.shape) ?? [] }
    package var topShapes: [[Int]] { emitting?.tops.map(\.shape) ?? [] }

    package mutating func tops() -> [String] {
        (emitting?.topIDs ?? []).map { output($0) }
    }

    package mutating func node(_ op: String, _ name: String, _ inputs: [String], _ outputs: [String], _ attributes: [(String, ONNXAttribute)] = []) {
        var nodeName = name, k = 1
        while nodeNames.contains(nodeName) { nodeName = "\(name)_\(k)"; k += 1 }
        nodeNames.insert(nodeName)
        model.nodes.append(ONNXNode(op: op, name: nodeName, inputs: inputs, outputs: outputs, attributes: attributes))
    }
}
