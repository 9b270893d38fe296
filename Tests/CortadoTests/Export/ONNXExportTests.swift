import CONNXProto
import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoExport

/// The exported protobuf read back with protobuf-c: structure, Caffe's pooling rounding as
/// pads, and errors. (Numbers against onnxruntime: tools/check-onnx.sh, figures in docs/ONNX.md.)
@Suite struct ONNXExportTests {
    /// What a test needs of a written model.
    struct Decoded {
        var irVersion = 0, opset = 0
        var ops: [String] = []
        var nodes: [String: (op: String, inputs: [String], outputs: [String], ints: [String: [Int]], floats: [String: Float])] = [:]
        var initializers: [String: (dims: [Int], bytes: Int)] = [:]
        var inputs: [(name: String, dims: [String])] = []
        var outputs: [String] = []
    }

    static func decode(_ bytes: [UInt8]) throws -> Decoded {
        guard let m = bytes.withUnsafeBufferPointer({ onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }) else {
            throw TestFailure("not an ONNX model")
        }
        defer { onnx__model_proto__free_unpacked(m, nil) }
        var d = Decoded()
        d.irVersion = Int(m.pointee.ir_version)
        d.opset = Int(m.pointee.opset_import[0]!.pointee.version)
        let g = m.pointee.graph!.pointee
        func string(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
        for i in 0..<g.n_node {
            let n = g.node[i]!.pointee
            var ints: [String: [Int]] = [:], floats: [String: Float] = [:]
            for k in 0..<n.n_attribute {
                let a = n.attribute[k]!.pointee
                if a.has_i != 0 { ints[string(a.name)] = [Int(a.i)] }
                if a.n_ints > 0 { ints[string(a.name)] = (0..<a.n_ints).map { Int(a.ints[$0]) } }
                if a.has_f != 0 { floats[string(a.name)] = a.f }
            }
            let op = string(n.op_type)
            d.ops.append(op)
            d.nodes[string(n.name)] = (op, (0..<n.n_input).map { string(n.input[$0]) }, (0..<n.n_output).map { string(n.output[$0]) }, ints, floats)
        }
        for i in 0..<g.n_initializer {
            let t = g.initializer[i]!.pointee
            d.initializers[string(t.name)] = ((0..<t.n_dims).map { Int(t.dims[$0]) }, t.raw_data.len)
        }
        for i in 0..<g.n_input {
            let v = g.input[i]!.pointee
            let shape = v.type.pointee.tensor_type.pointee.shape.pointee
            d.inputs.append((string(v.name), (0..<shape.n_dim).map { k in
                let dim = shape.dim[k]!.pointee
                return dim.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? string(dim.dim_param) : String(dim.dim_value)
            }))
        }
        d.outputs = (0..<g.n_output).map { string(g.output[$0]!.pointee.name) }
        return d
    }

    static func export(_ text: String, opset: Int = 17, batch: Int? = nil) throws -> Decoded {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        try write(text, to: "\(dir)/net.prototxt")
        let net = try ONNXExport.net(model: "\(dir)/net.prototxt", weights: [], randomSeed: 3)
        var options = ONNXExport.Options()
        options.opset = opset
        options.batch = batch
        try ONNXExport.write(net, to: "\(dir)/net.onnx", options: options, version: "test")
        return try decode(Array(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/net.onnx"))))
    }

    @Test func lenetHasItsLayersWeightsAndASymbolicBatch() throws {
        let text = try String(contentsOfFile: "\(DataParallelTests.repository)/models/lenet/lenet_deploy.prototxt", encoding: .utf8)
        let d = try Self.export(text)
        #expect(d.irVersion == 8 && d.opset == 17)
        #expect(d.ops == ["Conv", "MaxPool", "Conv", "MaxPool", "Flatten", "Gemm", "Relu", "Flatten", "Gemm", "Softmax"])
        #expect(d.inputs.map(\.name) == ["data"] && d.inputs[0].dims == ["N", "1", "28", "28"])
        #expect(d.outputs == ["prob"])
        #expect(d.initializers["conv1_W"]?.dims == [20, 1, 5, 5] && d.initializers["conv1_W"]?.bytes == 2000)
        #expect(d.initializers["ip1_W"]?.dims == [500, 800])
        #expect(d.nodes["ip1"]?.ints["transB"] == [1])
        // ReLU in place: the first write of ip1 gets a version name, the last the blob's own.
        #expect(d.nodes["relu1"]?.outputs == ["ip1"])
        #expect(d.nodes["ip1"]?.outputs == ["ip1_v1"])
        let fixed = try Self.export(text, batch: 3)
        #expect(fixed.inputs[0].dims == ["3", "1", "28", "28"])
    }

    /// Caffe rounds pooling up and clips the last window: 6 → 3 with kernel 3, stride 2 (ONNX's
    /// floor would give 2), so the end pad is 1; AVE writes the real pad out and leaves the
    /// extra end pad out of the count.
    @Test func poolingKeepsCaffesRounding() throws {
        let d = try Self.export("""
            layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 6 dim: 6 } } }
            layer { name: "max" type: "Pooling" bottom: "x" top: "max" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
            layer { name: "ave" type: "Pooling" bottom: "x" top: "ave" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
            layer { name: "global" type: "Pooling" bottom: "x" top: "global" pooling_param { pool: AVE global_pooling: true } }
            """)
        let max = try #require(d.nodes.values.first { $0.op == "MaxPool" })
        #expect(max.ints["pads"] == [0, 0, 1, 1])
        let ave = try #require(d.nodes.values.first { $0.op == "AveragePool" })
        // Caffe: ceil((6 + 2 − 3) / 2) + 1 = 4 outputs; padded input 8, so one extra end pad.
        #expect(ave.ints["pads"] == [0, 0, 1, 1])
        #expect(ave.ints["count_include_pad"] == [0])
        #expect(d.ops.contains("Pad") && d.ops.contains("GlobalAveragePool"))
    }

    @Test func batchNormIsDividedByItsScaleFactor() throws {
        let d = try Self.export("""
            layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
            layer { name: "bn" type: "BatchNorm" bottom: "x" top: "x" }
            layer { name: "sc" type: "Scale" bottom: "x" top: "x" scale_param { bias_term: true } }
            """)
        #expect(d.ops == ["BatchNormalization", "Mul", "Add"])
        #expect(d.initializers["bn_mean"]?.dims == [3])
        #expect(d.initializers["sc_gamma"]?.dims == [3, 1, 1])
        #expect(d.outputs == ["x"])
    }

    @Test func unsupportedLayersAndDataLayersAreNamed() throws {
        func message(_ text: String) -> String {
            do { _ = try Self.export(text); return "" } catch { return "\(error)" }
        }
        let input = #"layer { name: "in" type: "Input" top: "x" top: "y" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }"#
        #expect(message(input + #" layer { name: "acc" type: "Accuracy" bottom: "x" bottom: "y" top: "acc" }"#)
            .contains(#"layer "acc" (Accuracy): has no ONNX export"#))
        #expect(message(#"layer { name: "d" type: "DummyData" top: "x" dummy_data_param { shape { dim: 1 dim: 2 } } }"#)
            .contains("reads data; export a deploy net"))
        #expect(message(input + #" layer { name: "p" type: "Pooling" bottom: "x" top: "p" pooling_param { pool: STOCHASTIC kernel_size: 1 } }"#) != "")
        let dir = temporaryDirectory()
        try write(input, to: "\(dir)/net.prototxt")
        let net = try ONNXExport.net(model: "\(dir)/net.prototxt", weights: [], randomSeed: 1)
        #expect(throws: ExportError.self) { try ONNXGraphBuilder(net: net, opset: 12) }
    }
}
