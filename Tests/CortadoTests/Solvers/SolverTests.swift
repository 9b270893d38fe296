import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoSolvers

@Suite struct SolverTests {
    /// A one-layer least-squares net y = W·x with a Euclidean-like loss built from InnerProduct
    /// (loss_weight on the output), so gradients are known in closed form.
    static func linearNet(dir: String) throws -> String {
        let net = """
            name: "linear"
            layer { name: "x" type: "DummyData" top: "x" dummy_data_param { shape { dim: 1 dim: 2 } data_filler { type: "constant" value: 1 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" loss_weight: 1
                    param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
                    inner_product_param { num_output: 1 weight_filler { type: "constant" value: 0.5 } bias_filler { type: "constant" value: 0 } } }
            """
        try write(net, to: "\(dir)/linear.prototxt")
        return "\(dir)/linear.prototxt"
    }

    func solver(_ extra: String, dir: String) throws -> Solver {
        quietTestEnvironment()
        _ = try Self.linearNet(dir: dir)
        let path = "\(dir)/solver.prototxt"
        try write("net: \"linear.prototxt\"\nsnapshot_prefix: \"\(dir)/snap\"\n" + extra, to: path)
        return try Solver(try SolverParameter.load(file: path), verbose: false)
    }

    @Test func sgdWithMomentumWeightDecayAndLrMult() throws {
        // Loss = w1 + w2 + b, so dL/dw = 1, dL/db = 1 every step.
        let dir = temporaryDirectory()
        let s = try solver("base_lr: 0.1 lr_policy: \"fixed\" momentum: 0.9 weight_decay: 0.01 max_iter: 2", dir: dir)
        try s.step(2)
        var w: Float = 0.5, vw: Float = 0, b: Float = 0, vb: Float = 0
        for _ in 0..<2 {
            vw = 0.9 * vw + 0.1 * (1 + 0.01 * w); w -= vw          // L2 decay × decay_mult 1
            vb = 0.9 * vb + 0.2 * 1; b -= vb                       // lr_mult 2, decay_mult 0
        }
        expectClose(s.net.learnableParams[0].dataArray, [w, w], tolerance: 1e-6)
        expectClose(s.net.learnableParams[1].dataArray, [b], tolerance: 1e-6)
        expectClose(s.history[0].dataArray, [vw, vw], tolerance: 1e-6)
    }

    @Test func l1Regularization() throws {
        let dir = temporaryDirectory()
        let s = try solver("base_lr: 0.1 lr_policy: \"fixed\" weight_decay: 0.5 regularization_type: \"L1\"", dir: dir)
        try s.step(1)
        expectClose(s.net.learnableParams[0].dataArray, [0.5 - 0.1 * (1 + 0.5), 0.5 - 0.1 * 1.5])
    }

    @Test func iterSizeAveragesGradients() throws {
        let dir = temporaryDirectory()
        let s = try solver("base_lr: 0.1 lr_policy: \"fixed\" iter_size: 3", dir: dir)
        try s.step(1)
        // Three passes accumulate 3 × the gradient; normalising by 1/3 gives one step.
        expectClose(s.net.learnableParams[0].dataArray, [0.4, 0.4])
    }

    @Test func divergingLossStopsWithAClearError() throws {
        let dir = temporaryDirectory()
        let s = try solver("base_lr: 1e38 lr_policy: \"fixed\" momentum: 0.9", dir: dir)
        do {
            try s.step(10)
            Issue.record("expected the run to stop")
        } catch let e as TrainingError {
            #expect(e.description.contains("the loss became"))
            #expect(e.description.contains("base_lr"))
        }
    }

    @Test func severalTestNetsByTestState() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        try write("""
            name: "staged"
            layer { name: "x" type: "DummyData" top: "x" dummy_data_param { shape { dim: 1 dim: 2 } data_filler { type: "constant" value: 1 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y" loss_weight: 1
                    inner_product_param { num_output: 1 weight_filler { type: "constant" value: 0.5 } } }
            layer { name: "a" type: "ReLU" bottom: "y" top: "a" include { stage: "a" } }
            layer { name: "double" type: "InnerProduct" bottom: "y" top: "b" include { stage: "b" }
                    param { lr_mult: 0 } param { lr_mult: 0 }
                    inner_product_param { num_output: 1 weight_filler { type: "constant" value: 2 } } }
            """, to: "\(dir)/net.prototxt")
        try write("""
            net: "net.prototxt" base_lr: 0.1 lr_policy: "fixed" test_iter: 1 test_iter: 2 test_interval: 1 test_compute_loss: true
            test_state { stage: "a" } test_state { stage: "b" } snapshot_prefix: "\(dir)/s"
            """, to: "\(dir)/solver.prototxt")
        let s = try Solver(try SolverParameter.load(file: "\(dir)/solver.prototxt"), verbose: false)
        #expect(s.testNets.count == 2)
        try s.step(1)
        // Before the update: y = 0.5 + 0.5 = 1, so net #0 outputs a = relu(y) = 1 and y itself;
        // net #1 outputs y and b = 2·y = 2 (outputs come in blob order).
        #expect(s.lastTestScores[0] == [1, 1])
        #expect(s.lastTestScores[1] == [1, 2])
    }
}
