import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers
@testable import CortadoMonitor
@testable import CortadoExport

// A new activation layer added the way a layer is added: this file (its settings with their
// schema, the layer, its graph notes and colour, and its ONNX export) and one registry line (here
// `LayerRegistry.withRegistered`, in the test). Nothing else in the tree knows about it, and
// the decoder, validate, summary, draw and ONNX export all handle it.

/// softsign_param { scale: S }: y = S · x / (1 + |x|).
struct SoftsignParameter: LayerSettings {
    static let field = "softsign_param"
    static let schema = "scale:float"
    var scale: Float
    init(_ node: ConfigNode) throws { scale = node.float("scale") ?? 1 }
}

final class SoftsignLayer: Layer {
    let settings: SoftsignParameter

    required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings()
        try super.init(param, phase: phase)
    }

    override var exactNumBottoms: Int? { 1 }
    override var exactNumTops: Int? { 1 }
    override var graphDetails: [String] { ["scale \(settings.scale)"] }
    override var graphColour: String? { "#b2dfdb" }

    override func reshape(bottom: [Blob], top: [Blob]) throws { try top[0].reshape(bottom[0].shape) }

    override func forward(bottom: [Blob], top: [Blob]) throws {
        for i in 0..<bottom[0].count {
            let x = bottom[0].data[i]
            top[0].data[i] = settings.scale * x / (1 + abs(x))
        }
    }

    override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        guard propagateDown[0] else { return }
        for i in 0..<bottom[0].count {
            let d = 1 + abs(bottom[0].data[i])
            bottom[0].diff[i] = top[0].diff[i] * settings.scale / (d * d)
        }
    }

    override func writeONNX(_ graph: inout some ONNXGraphWriting, inputs: [String]) throws -> Bool {
        let scale = graph.constant("\(name)_scale", floats: [settings.scale], dims: [])
        let soft = "\(name)/Softsign"
        graph.node("Softsign", soft, inputs, [soft], [])
        let tops = graph.tops()
        graph.node("Mul", name, [soft, scale], tops, [])
        return true
    }
}

@Suite struct SoftsignFixtureTests {
    static let net = """
        name: "soft"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
        layer { name: "soft" type: "Softsign" bottom: "data" top: "soft" softsign_param { scale: 2 } }
        layer { name: "ip" type: "InnerProduct" bottom: "soft" top: "ip" inner_product_param { num_output: 2 } }
        """

    func withSoftsign<R>(_ body: () throws -> R) rethrows -> R {
        quietTestEnvironment()
        return try LayerRegistry.withRegistered(SoftsignLayer.self, as: "Softsign", body)
    }

    @Test func decodesItsSettingsAndNamesAMisspeltOne() throws {
        try withSoftsign {
            var rng = RNG(seed: 1)
            let net = try Net(try netParam(Self.net), state: NetState(phase: .test), rng: &rng, verbose: false)
            let layer = try #require(net.layers.first { $0.type == "Softsign" } as? SoftsignLayer)
            #expect(layer.settings.scale == 2)
            do {
                _ = try netParam(Self.net.replacingOccurrences(of: "scale: 2", with: "scael: 2"))
                Issue.record("a misspelt setting should be an error")
            } catch let error as ConfigError {
                #expect(error.message.contains("test.prototxt:3:") && error.message.contains("did you mean \"scale\""), "\(error)")
            }
        }
    }

    @Test func gradientChecks() throws {
        try withSoftsign {
            let x = randomBlob([2, 3, 4], seed: 5)
            let (layer, tops) = try makeLayer(#"name: "s" type: "Softsign" bottom: "x" top: "y" softsign_param { scale: 1.5 }"#, bottoms: [x])
            try GradientChecker().check(layer, bottoms: [x], tops: tops)
        }
    }

    @Test func validateSummaryAndDrawSeeIt() throws {
        try withSoftsign {
            let path = temporaryDirectory() + "/soft.prototxt"
            try write(Self.net, to: path)
            let report = Validator.validate(files: [path])
            #expect(report.problems.isEmpty, "\(report.problems.map(\.message))")
            var rng = RNG(seed: 1)
            let summary = NetSummary(try Net(try NetParameter.load(file: path), state: NetState(phase: .test), rng: &rng, verbose: false))
            #expect(summary.table.contains("Softsign"))
            let param = try NetParameter.load(file: path)
            #expect(NetGraph.dot(param, phase: .test).contains("scale 2.0"))
            #expect(NetGraph.svg(param, phase: .test).contains("Softsign"))
            #expect(NetGraph.svg(param, phase: .test).contains(##"fill="#b2dfdb""##))
        }
    }

    @Test func exportsToONNX() throws {
        try withSoftsign {
            var rng = RNG(seed: 1)
            let net = try Net(try netParam(Self.net), state: NetState(phase: .test), rng: &rng, verbose: false)
            var builder = try ONNXGraphBuilder(net: net)
            _ = try builder.export(producerVersion: "test")
            let ops = builder.model.nodes.map(\.op)
            #expect(ops.starts(with: ["Softsign", "Mul"]), "\(ops)")
            #expect(builder.model.nodes[1].outputs == ["soft"])
        }
    }
}
