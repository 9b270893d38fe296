import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import CortadoSolvers
import CONNXProto
import Foundation

/// An ONNX model as Swift values (the subset `export-onnx` writes), and its protobuf encoding
/// through protobuf-c and proto/onnx_subset.proto.
struct ONNXModel {
    var graphName: String
    var opset: Int
    var nodes: [ONNXNode] = []
    var initializers: [ONNXTensor] = []
    var inputs: [ONNXValue] = []
    var outputs: [ONNXValue] = []
}

struct ONNXNode {
    var op: String
    var name: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [(String, ONNXAttribute)] = []
}

/// A constant: float weights or int64 shapes and indices, stored as raw little-endian bytes.
struct ONNXTensor {
    enum Values { case floats([Float]), int64s([Int64]) }
    var name: String
    var dims: [Int]
    var values: Values
}

/// A graph input or output: element type float, each dimension fixed or named (symbolic).
struct ONNXValue {
    enum Dim { case fixed(Int), named(String) }
    var name: String
    var dims: [Dim]
}

// MARK: encoding

extension ONNXModel {
    /// ONNX's IR version for the opset (IR 8 goes with opsets 17 and 18, 9 with 19–20, 10 with 21).
    var irVersion: Int { opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 17 ? 8 : 7 }

    /// The model as ONNX protobuf bytes.
    func encoded(producerVersion: String) -> [UInt8] {
        let arena = ONNXArena()
        defer { arena.free() }
        let model = arena.message(Onnx__ModelProto.self, onnx__model_proto__init)
        model.pointee.has_ir_version = 1
        model.pointee.ir_version = Int64(irVersion)
        model.pointee.producer_name = arena.string("Cortado")
        model.pointee.producer_version = arena.string(producerVersion)
        let opsetID = arena.message(Onnx__OperatorSetIdProto.self, onnx__operator_set_id_proto__init)
        opsetID.pointee.domain = arena.string("")
        opsetID.pointee.has_version = 1
        opsetID.pointee.version = Int64(opset)
        (model.pointee.n_opset_import, model.pointee.opset_import) = arena.list([opsetID])
        let graph = arena.message(Onnx__GraphProto.self, onnx__graph_proto__init)
        graph.pointee.name = arena.string(graphName)
        (graph.pointee.n_node, graph.pointee.node) = arena.list(nodes.map { encode($0, arena) })
        (graph.pointee.n_initializer, graph.pointee.initializer) = arena.list(initializers.map { encode($0, arena) })
        (graph.pointee.n_input, graph.pointee.input) = arena.list(inputs.map { encode($0, arena) })
        (graph.pointee.n_output, graph.pointee.output) = arena.list(outputs.map { encode($0, arena) })
        model.pointee.graph = graph
        let size = onnx__model_proto__get_packed_size(model)
        var bytes = [UInt8](repeating: 0, count: size)
        _ = bytes.withUnsafeMutableBufferPointer { onnx__model_proto__pack(model, $0.baseAddress) }
        return bytes
    }

    private func encode(_ node: ONNXNode, _ arena: ONNXArena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let n = arena.message(Onnx__NodeProto.self, onnx__node_proto__init)
        n.pointee.op_type = arena.string(node.op)
        n.pointee.name = arena.string(node.name)
        (n.pointee.n_input, n.pointee.input) = arena.list(node.inputs.map { arena.string($0) })
        (n.pointee.n_output, n.pointee.output) = arena.list(node.outputs.map { arena.string($0) })
        (n.pointee.n_attribute, n.pointee.attribute) = arena.list(node.attributes.map { name, value in
            let a = arena.message(Onnx__AttributeProto.self, onnx__attribute_proto__init)
            a.pointee.name = arena.string(name)
            a.pointee.has_type = 1
            switch value {
            case .int(let v):
                a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
                a.pointee.has_i = 1
                a.pointee.i = Int64(v)
            case .ints(let v):
                a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
                (a.pointee.n_ints, a.pointee.ints) = arena.list(v.map(Int64.init))
            case .float(let v):
                a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
                a.pointee.has_f = 1
                a.pointee.f = v
            case .string(let v):
                a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
                a.pointee.has_s = 1
                a.pointee.s = arena.bytes(Array(v.utf8))
            }
            return a
        })
        return n
    }

    private func encode(_ tensor: ONNXTensor, _ arena: ONNXArena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let t = arena.message(Onnx__TensorProto.self, onnx__tensor_proto__init)
        t.pointee.name = arena.string(tensor.name)
        (t.pointee.n_dims, t.pointee.dims) = arena.list(tensor.dims.map(Int64.init))
        t.pointee.has_data_type = 1
        t.pointee.has_raw_data = 1
        switch tensor.values {
        case .floats(let v):
            t.pointee.data_type = Int32(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT.rawValue)
            t.pointee.raw_data = v.withUnsafeBytes { arena.bytes(Array($0)) }
        case .int64s(let v):
            t.pointee.data_type = Int32(ONNX__TENSOR_PROTO__DATA_TYPE__INT64.rawValue)
            t.pointee.raw_data = v.withUnsafeBytes { arena.bytes(Array($0)) }
        }
        return t
    }

    private func encode(_ value: ONNXValue, _ arena: ONNXArena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let v = arena.message(Onnx__ValueInfoProto.self, onnx__value_info_proto__init)
        v.pointee.name = arena.string(value.name)
        let type = arena.message(Onnx__TypeProto.self, onnx__type_proto__init)
        let tensor = arena.message(Onnx__TypeProto__Tensor.self, onnx__type_proto__tensor__init)
        tensor.pointee.has_elem_type = 1
        tensor.pointee.elem_type = Int32(ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT.rawValue)
        let shape = arena.message(Onnx__TensorShapeProto.self, onnx__tensor_shape_proto__init)
        (shape.pointee.n_dim, shape.pointee.dim) = arena.list(value.dims.map { dim in
            let d = arena.message(Onnx__TensorShapeProto__Dimension.self, onnx__tensor_shape_proto__dimension__init)
            switch dim {
            case .fixed(let n):
                d.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                d.pointee.dim_value = Int64(n)
            case .named(let name):
                d.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                d.pointee.dim_param = arena.string(name)
            }
            return d
        })
        tensor.pointee.shape = shape
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensor
        v.pointee.type = type
        return v
    }
}

/// The C memory of one encoding: messages, strings, byte buffers and pointer lists, freed together.
private final class ONNXArena {
    private var blocks: [UnsafeMutableRawPointer] = []   // from Swift's allocate
    private var strings: [UnsafeMutablePointer<CChar>] = []   // from strdup

    func message<T>(_: T.Type, _ initialize: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        blocks.append(UnsafeMutableRawPointer(p))
        initialize(p)
        return p
    }

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        strings.append(p)
        return p
    }

    func bytes(_ b: [UInt8]) -> ProtobufCBinaryData {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(b.count, 1))
        p.initialize(from: b, count: b.count)
        blocks.append(UnsafeMutableRawPointer(p))
        return ProtobufCBinaryData(len: b.count, data: p)
    }

    func list<T>(_ items: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        guard !items.isEmpty else { return (0, nil) }
        let p = UnsafeMutablePointer<T>.allocate(capacity: items.count)
        p.initialize(from: items, count: items.count)
        blocks.append(UnsafeMutableRawPointer(p))
        return (items.count, p)
    }

    func free() {
        for b in blocks { b.deallocate() }
        for s in strings { Foundation.free(s) }
        blocks.removeAll()
        strings.removeAll()
    }
}
