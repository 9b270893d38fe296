import Testing
@testable import CortadoBase
@testable import CortadoLayers
@testable import CortadoNet

/// `Net.shareActivationMemory` and the per-call scratch a net's convolutions share: the same
/// outputs, bit for bit, as a net that keeps every blob and every buffer apart.
@Suite struct ActivationSharingTests {
    /// Branches (a split into two convolutions joined by Concat), in-place ReLUs, and
    /// convolutions with 16 channels (oneDNN's path) and 20 (im2col's).
    static let branching = """
        name: "branching"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 4 dim: 16 dim: 12 dim: 12 } } }
        layer { name: "a" type: "Convolution" bottom: "data" top: "a" convolution_param { num_output: 16 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.2 } } }
        layer { name: "a_relu" type: "ReLU" bottom: "a" top: "a" }
        layer { name: "b1" type: "Convolution" bottom: "a" top: "b1" convolution_param { num_output: 16 kernel_size: 1 weight_filler { type: "gaussian" std: 0.2 } } }
        layer { name: "b2" type: "Convolution" bottom: "a" top: "b2" convolution_param { num_output: 20 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.2 } } }
        layer { name: "cat" type: "Concat" bottom: "b1" bottom: "b2" top: "cat" }
        layer { name: "pool" type: "Pooling" bottom: "cat" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "c" type: "Convolution" bottom: "pool" top: "c" convolution_param { num_output: 16 kernel_size: 3 weight_filler { type: "gaussian" std: 0.2 } } }
        layer { name: "c_relu" type: "ReLU" bottom: "c" top: "c" }
        layer { name: "ip" type: "InnerProduct" bottom: "c" top: "ip" inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.2 } } }
        layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
        """

    func build(threads: Int) throws -> Net {
        quietTestEnvironment()
        var rng = RNG(seed: 11)
        let net = try Net(try netParam(Self.branching), state: NetState(phase: .test), rng: &rng, verbose: false)
        for layer in net.layers { layer.threads = threads }
        try net.reshape()
        return net
    }

    /// Two forward passes with different inputs, so that a blob read after another has
    /// reused its memory would show.
    func outputs(_ net: Net) throws -> [[Float]] {
        var seen: [[Float]] = []
        for seed in [UInt64(21), 22] {
            net.blob(named: "data")!.setData(randomBlob([4, 16, 12, 12], seed: seed).dataArray)
            try net.forward()
            seen.append(net.blob(named: "prob")!.dataArray)
            seen.append(net.blob(named: "pool")!.dataArray)
        }
        return seen
    }

    @Test(arguments: [1, 2])
    func sharingGivesTheSameOutputs(threads: Int) throws {
        let plain = try build(threads: threads), shared = try build(threads: threads)
        let saved = try shared.shareActivationMemory(keeping: ["pool"])
        #expect(saved > 0)
        #expect(try outputs(shared) == outputs(plain))
    }

    /// No two blobs of a group are needed at once, and kept blobs, outputs and the data
    /// layer's tops are in no group.
    @Test func groupsHoldOnlyBlobsNeverLiveTogether() throws {
        let net = try build(threads: 1)
        var span: [ObjectIdentifier: ClosedRange<Int>] = [:]
        for (i, e) in net.entries.enumerated() {
            for b in e.bottoms + e.tops {
                let id = ObjectIdentifier(b)
                span[id] = (span[id]?.lowerBound ?? i)...i
            }
        }
        let plan = ActivationPlan(net, keeping: ["pool"])
        let grouped = plan.groups.flatMap(\.members).map(ObjectIdentifier.init)
        for name in ["pool", "prob", "data"] {
            #expect(!grouped.contains(ObjectIdentifier(net.blob(named: name)!)), "\(name) must keep its memory")
        }
        #expect(plan.groups.contains { $0.members.count > 1 })
        for group in plan.groups {
            let spans = group.members.map { span[ObjectIdentifier($0)]! }.sorted { $0.lowerBound < $1.lowerBound }
            for (a, b) in zip(spans, spans.dropFirst()) { #expect(a.upperBound < b.lowerBound) }
            #expect(group.count >= group.members.map(\.capacity).max() ?? 0)
        }
    }

    /// A blob that outgrows its shared memory (a larger batch) takes its own again.
    @Test func aLargerBatchLeavesTheSharedMemory() throws {
        let net = try build(threads: 1), plain = try build(threads: 1)
        try net.shareActivationMemory()
        for n in [net, plain] {
            try n.blob(named: "data")!.reshape([7, 16, 12, 12])
            n.blob(named: "data")!.setData(randomBlob([7, 16, 12, 12], seed: 5).dataArray)
            try n.forward()
        }
        #expect(net.blob(named: "prob")!.dataArray == plain.blob(named: "prob")!.dataArray)
    }
}
