import Foundation
import Testing
import Cortado

/// A program that embeds Cortado, compiled as if it came from another package (Package.swift
/// gives this target its own -package-name), so it sees only the public API: a net and a
/// solver from prototxt files, a layer of its own, training, snapshots and loading them back.
@Suite struct EmbeddingTests {
    /// The program's own layer: y = x + 1, with its gradient.
    final class AddOne: Layer {
        override var exactNumBottoms: Int? { 1 }
        override var exactNumTops: Int? { 1 }
        override func reshape(bottom: [Blob], top: [Blob]) throws { try top[0].reshape(bottom[0].shape) }
        override func forward(bottom: [Blob], top: [Blob]) throws {
            for i in 0..<bottom[0].count { top[0].data[i] = bottom[0].data[i] + 1 }
        }
        override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
            guard propagateDown[0] else { return }
            for i in 0..<bottom[0].count { bottom[0].diff[i] = top[0].diff[i] }
        }
    }

    static let net = """
        name: "client"
        layer { name: "data" type: "DummyData" top: "x" top: "label"
                dummy_data_param { shape { dim: 8 dim: 4 } shape { dim: 8 }
                                   data_filler { type: "gaussian" } data_filler { type: "constant" value: 1 } } }
        layer { name: "shift" type: "AddOne" bottom: "x" top: "shifted" }
        layer { name: "ip" type: "InnerProduct" bottom: "shifted" top: "ip"
                inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """

    func folder() throws -> String {
        let dir = NSTemporaryDirectory() + "cortado-client-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func buildsRunsTrainsAndSnapshotsThroughThePublicAPI() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.net.write(toFile: dir + "/net.prototxt", atomically: true, encoding: .utf8)
        try """
            net: "\(dir)/net.prototxt"
            base_lr: 0.5 lr_policy: "fixed" max_iter: 30 display: 0 snapshot_after_train: false
            snapshot_prefix: "\(dir)/client" random_seed: 3
            """.write(toFile: dir + "/solver.prototxt", atomically: true, encoding: .utf8)
        Log.enabled = false
        try LayerRegistry.withRegistered(AddOne.self, as: "AddOne") {
            // A net on its own: forward runs the program's layer.
            var rng = RNG(seed: 1)
            let net = try Net(try NetParameter.load(file: dir + "/net.prototxt"), state: NetState(phase: .train), rng: &rng, verbose: false)
            try net.forward()
            let x = try #require(net.blob(named: "x")), shifted = try #require(net.blob(named: "shifted"))
            #expect(shifted.dataArray == x.dataArray.map { $0 + 1 })

            // A solver: the constant label is learnt, so the loss falls.
            let solver = try Solver(try SolverParameter.load(file: dir + "/solver.prototxt"), verbose: false)
            let first = try solver.net.forward()
            #expect(try solver.solve())
            let last = try solver.net.forward()
            #expect(solver.iter == 30)
            #expect(last < first / 2, "loss \(first) → \(last)")

            // Weights out and back in.
            try Snapshot.saveWeights(solver.net, to: dir + "/trained.caffemodel.h5")
            let loaded = try Net.withWeights(model: dir + "/net.prototxt", weights: [dir + "/trained.caffemodel.h5"], state: NetState(phase: .train))
            #expect(loaded.blob(named: "ip") != nil)
            let ip = try #require(loaded.layers.first { $0.name == "ip" })
            let trained = try #require(solver.net.layers.first { $0.name == "ip" })
            #expect(ip.blobs[0].dataArray == trained.blobs[0].dataArray)
        }
    }
}
