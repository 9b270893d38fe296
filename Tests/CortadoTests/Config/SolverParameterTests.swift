import Foundation
import Testing
@testable import CortadoSolvers

@Suite struct SolverParameterTests {
    func solverFile(_ body: String, dir: String) throws -> String {
        try write("""
            name: "tiny"
            layer { name: "in" type: "DummyData" top: "x" dummy_data_param { shape { dim: 1 dim: 2 } } }
            """, to: "\(dir)/net.prototxt")
        let path = "\(dir)/solver.prototxt"
        try write(body, to: path)
        return path
    }

    @Test func defaultsAndNetBesideTheSolver() throws {
        let dir = temporaryDirectory()
        let s = try SolverParameter.load(file: try solverFile("net: \"net.prototxt\"\nbase_lr: 0.1\nlr_policy: \"fixed\"", dir: dir))
        #expect(s.trainNet.name == "tiny")
        #expect(s.type == .sgd)
        #expect(s.iterSize == 1 && s.averageLoss == 1)
        #expect(s.testInitialization)
        #expect(s.regularizationType == .l2)
        #expect(s.snapshotAfterTrain)
        #expect(s.snapshotPrefix == "\(dir)/solver")
        #expect(s.trainState.phase == .train)
    }

    @Test func testNetsFromGenericNet() throws {
        let dir = temporaryDirectory()
        let s = try SolverParameter.load(file: try solverFile("""
            net: "net.prototxt" test_iter: 5 test_iter: 7 test_interval: 10 base_lr: 0.1 lr_policy: "fixed"
            test_state { stage: "a" } test_state { stage: "b" }
            """, dir: dir))
        #expect(s.testNets.count == 2)
        #expect(s.testStates.map(\.stages) == [["a"], ["b"]])
        #expect(s.testStates.allSatisfy { $0.phase == .test })
    }

    @Test func badValuesAreErrorsWithPositions() throws {
        let dir = temporaryDirectory()
        func message(_ body: String) -> String {
            do { _ = try SolverParameter.load(file: try solverFile(body, dir: dir)); return "" } catch { return "\(error)" }
        }
        #expect(message("net: \"net.prototxt\" lr_policy: \"stepp\"").contains("did you mean \"step\"?"))
        #expect(message("net: \"net.prototxt\" lr_policy: \"step\"").contains("stepsize"))
        #expect(message("net: \"net.prototxt\" lr_policy: \"fixed\" type: \"Adamm\"").contains("did you mean \"Adam\"?"))
        #expect(message("net: \"nothere.prototxt\" lr_policy: \"fixed\"").contains("not found"))
        #expect(message("net: \"net.prototxt\" lr_policy: \"fixed\" regularization_type: \"L3\"").contains("regularization_type"))
        #expect(message("net: \"net.prototxt\"").contains("lr_policy"))
        #expect(message("train_net: \"net.prototxt\" lr_policy: \"fixed\" test_iter: 5 test_iter: 6 test_net: \"net.prototxt\"").contains("test_iter"))
        #expect(message("net: \"net.prototxt\" base_lrr: 0.1").contains("solver.prototxt:1:"))
    }

    @Test func lrPolicies() {
        func rate(_ p: LRPolicy, _ iter: Int) -> Float { var step = 0; return p.rate(iter: iter, currentStep: &step) }
        #expect(rate(.fixed(base: 0.1), 50) == 0.1)
        expectClose([rate(.step(base: 0.1, gamma: 0.5, stepsize: 10), 25)], [0.025])
        expectClose([rate(.exp(base: 0.1, gamma: 0.9), 2)], [0.081])
        expectClose([rate(.inv(base: 0.01, gamma: 0.0001, power: 0.75), 100)], [0.01 * powf(1.01, -0.75)])
        expectClose([rate(.poly(base: 0.1, power: 2, maxIter: 100), 50)], [0.025])
        expectClose([rate(.sigmoid(base: 0.1, gamma: 0.5, stepsize: 10), 10)], [0.05])
        // multistep advances one step per call at most, as Caffe's.
        let m = LRPolicy.multistep(base: 1, gamma: 0.1, stepvalues: [2, 4])
        var step = 0
        let rates = (0..<6).map { m.rate(iter: $0, currentStep: &step) }
        expectClose(rates, [1, 1, 0.1, 0.1, 0.01, 0.01])
        #expect(step == 2)
    }
}
