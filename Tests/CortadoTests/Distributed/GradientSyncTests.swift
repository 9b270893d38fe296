import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoConfig
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoDistributed

@Suite struct GradientSyncTests {
    /// A shared weight is complete only after the lowest layer that uses it ran backward, so
    /// it is sent after that layer, not after its owner.
    @Test func sharedParametersAreSentAfterTheirLastWriter() throws {
        quietTestEnvironment()
        var parser = TextFormatParser(text: """
            name: "shared"
            layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
            layer { name: "a" type: "InnerProduct" bottom: "x" top: "a" param { name: "w" } inner_product_param { num_output: 3 bias_term: false } }
            layer { name: "b" type: "InnerProduct" bottom: "a" top: "b" param { name: "w" } inner_product_param { num_output: 3 bias_term: false } }
            layer { name: "c" type: "InnerProduct" bottom: "b" top: "c" inner_product_param { num_output: 2 } }
            """, file: "shared.prototxt")
        LayerRegistry.installSchemas()
        let param = try NetParameter(try ConfigNode.validated(try parser.parseTopLevel(), as: "NetParameter"), file: "shared.prototxt")
        var rng = RNG(seed: 1)
        let net = try Net(param, state: NetState(phase: .train), rng: &rng, verbose: false)
        #expect(net.learnable.map(\.layer) == [1, 3, 3])
        // "w" is owned by layer a (1) and used by b (2): last written by a's backward.
        #expect(GradientSync.lastWriters(net) == [[], [0], [], [1, 2]])
    }

    /// The single-process iter_size path and the ordered reduction add with one function,
    /// element by element (eight lanes at a time and the tail give the same sums).
    @Test func addFloatsAddsElementwise() {
        var sum: [Float] = [1, 2, 3], term: [Float] = [0.5, -2, 1e-8]
        sum.withUnsafeMutableBufferPointer { s in term.withUnsafeMutableBufferPointer { t in addFloats(s.baseAddress!, t.baseAddress!, 3) } }
        #expect(sum == [1.5, 0, 3 + 1e-8])
        var rng = RNG(seed: 3)
        var long = (0..<19).map { _ in rng.uniform(-1, 1) }
        let other = (0..<19).map { _ in rng.uniform(-1, 1) }
        let expected = zip(long, other).map { $0 + $1 }
        long.withUnsafeMutableBufferPointer { s in other.withUnsafeBufferPointer { t in addFloats(s.baseAddress!, t.baseAddress!, 19) } }
        #expect(long == expected)
    }
}
