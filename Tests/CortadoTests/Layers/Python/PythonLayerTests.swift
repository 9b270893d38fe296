import CortadoBase
import CortadoLayers
import CortadoNet
import Foundation
import Testing

/// A host in Swift that plays the Python side: it doubles in forward and backward, adds a
/// parameter blob in setup, and fails where told to.
private final class DoublingHost: PythonLayerHost {
    var calls: [PythonLayerStep] = []
    var failIn: PythonLayerStep?
    var released: [Int64] = []

    func create(_ layer: PythonLayer, settings: PythonParameter) throws -> Int64 {
        #expect(settings.module == "m" && settings.layer == "Double" && settings.paramStr == "p")
        return 41
    }

    func call(_ instance: Int64, _ step: PythonLayerStep, layer: PythonLayer, bottom: [Blob], top: [Blob], propagateDown: [Bool]) throws {
        calls.append(step)
        if step == failIn { throw PythonLayerError(layer: layer.name, traceback: "Traceback …\nValueError: told to") }
        switch step {
        case .setup: _ = try layer.addBlob([3])
        case .reshape: try top[0].reshape(bottom[0].shape)
        case .forward: for i in 0..<bottom[0].count { top[0].data[i] = 2 * bottom[0].data[i] }
        case .backward: for i in 0..<bottom[0].count { bottom[0].diff[i] = 2 * top[0].diff[i] }
        }
    }

    func release(_ instance: Int64) { released.append(instance) }
}

@Suite(.serialized) struct PythonLayerTests {
    private let net = """
        force_backward: true input: "x" input_shape { dim: 2 dim: 3 }
        layer { name: "twice" type: "Python" bottom: "x" top: "y" python_param { module: "m" layer: "Double" param_str: "p" } }
        """

    @Test func theHostRunsEachStepAndOwnsTheLayersBlobs() throws {
        let host = DoublingHost()
        PythonLayers.install(host)
        defer { PythonLayers.install(nil) }
        var rng = RNG(seed: 1)
        do {
            let n = try Net(try netParam(net), state: NetState(phase: .train), rng: &rng, verbose: false)
            n.blob(named: "x")!.setData([1, 2, 3, 4, 5, 6])
            try n.forward()
            #expect(n.blob(named: "y")!.dataArray == [2, 4, 6, 8, 10, 12])
            n.blob(named: "y")!.setDiff([1, 1, 1, 1, 1, 1])
            try n.backward(from: 1, to: 1)
            #expect(n.blob(named: "x")!.diffArray == [2, 2, 2, 2, 2, 2])
            #expect(n.learnableParams.map(\.shape) == [[3]])
            #expect(host.calls.prefix(2) == [.setup, .reshape])
            host.failIn = .backward
            #expect(throws: PythonLayerError.self) { try n.backward() }
            host.failIn = .forward
            #expect(throws: PythonLayerError.self) { try n.forward() }
        }
        #expect(host.released == [41])
    }

    @Test func withoutAnInterpreterTheNetIsAnErrorNamingTheLayer() throws {
        PythonLayers.install(nil)
        let starter = PythonLayers.starter
        PythonLayers.starter = nil
        defer { PythonLayers.starter = starter }
        var rng = RNG(seed: 1)
        let error = #expect(throws: (any Error).self) {
            try Net(try netParam(net), state: NetState(phase: .train), rng: &rng, verbose: false)
        }
        #expect(String(describing: error!).contains("twice"))
        #expect(String(describing: error!).contains("no Python interpreter"))
    }
}
