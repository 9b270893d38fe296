import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoSolvers

/// Training N iterations, snapshotting, and resuming to 2N must give the same weights bit
/// for bit as 2N iterations in one run: data position, shuffling and dropout streams included.
@Suite struct ResumeTests {
    static func setUp(_ dir: String, rule: String = "type: \"SGD\" momentum: 0.9") throws -> String {
        var rng = RNG(seed: 8)
        let file = try HDF5File.create("\(dir)/train.h5")
        let n = 37
        let x = (0..<(n * 6)).map { _ in rng.uniform(-1, 1) }
        let y = (0..<n).map { _ in Float(rng.below(3)) }
        try file.write("data", floats: x, shape: [n, 6])
        try file.write("label", floats: y, shape: [n])
        try write("\(dir)/train.h5\n", to: "\(dir)/list.txt")
        try write("""
            name: "resume"
            layer { name: "d" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(dir)/list.txt" batch_size: 5 shuffle: true } }
            layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" inner_product_param { num_output: 8 weight_filler { type: "gaussian" std: 0.3 } } }
            layer { name: "relu" type: "ReLU" bottom: "ip1" top: "ip1" }
            layer { name: "drop" type: "Dropout" bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.3 } }
            layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
            """, to: "\(dir)/net.prototxt")
        try write("""
            net: "net.prototxt" base_lr: 0.05 \(rule) weight_decay: 0.001 lr_policy: "multistep" gamma: 0.5
            stepvalue: 4 stepvalue: 9 max_iter: 12 snapshot: 6 snapshot_prefix: "\(dir)/snap" random_seed: 42
            """, to: "\(dir)/solver.prototxt")
        return "\(dir)/solver.prototxt"
    }

    static let rules = [
        "type: \"SGD\" momentum: 0.9",
        "type: \"Nesterov\" momentum: 0.9",
        "type: \"AdaGrad\"",
        "type: \"RMSProp\" rms_decay: 0.95",
        "type: \"AdaDelta\" momentum: 0.95 delta: 1e-6",
        "type: \"Adam\" momentum: 0.9 momentum2: 0.999",
    ]

    @Test(arguments: rules) func resumeIsBitIdentical(rule: String) throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        let solverPath = try Self.setUp(dir, rule: rule)

        let full = try Solver(try SolverParameter.load(file: solverPath), verbose: false)
        try full.solve()
        let expected = full.net.learnableParams.map(\.dataArray)

        let resumed = try Solver(try SolverParameter.load(file: solverPath), verbose: false)
        try resumed.restore(from: "\(dir)/snap_iter_6.solverstate.h5")
        #expect(resumed.iter == 6)
        #expect(resumed.currentStep == 1)
        try resumed.solve()
        let got = resumed.net.learnableParams.map(\.dataArray)
        #expect(got == expected)
        #expect(got != (try Solver(try SolverParameter.load(file: solverPath), verbose: false)).net.learnableParams.map(\.dataArray))
    }

    @Test func sameRandomSeedGivesTheSameRun() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        let solverPath = try Self.setUp(dir)
        func train() throws -> [[Float]] {
            let s = try Solver(try SolverParameter.load(file: solverPath), verbose: false)
            try s.step(8)
            return s.net.learnableParams.map(\.dataArray)
        }
        #expect(try train() == train())
    }

    @Test func binaryProtoSnapshotsResumeBitIdentically() throws {
        quietTestEnvironment()
        let dir = temporaryDirectory()
        let solverPath = try Self.setUp(dir, rule: "type: \"Adam\" momentum: 0.9")
        try write(try String(contentsOfFile: solverPath, encoding: .utf8) + "\nsnapshot_format: BINARYPROTO\n", to: solverPath)
        let full = try Solver(try SolverParameter.load(file: solverPath), verbose: false)
        try full.solve()
        #expect(FileManager.default.fileExists(atPath: "\(dir)/snap_iter_6.caffemodel"))
        let resumed = try Solver(try SolverParameter.load(file: solverPath), verbose: false)
        try resumed.restore(from: "\(dir)/snap_iter_6.solverstate")
        try resumed.solve()
        #expect(resumed.net.learnableParams.map(\.dataArray) == full.net.learnableParams.map(\.dataArray))
    }
}
