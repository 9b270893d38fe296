import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoMonitor

@Suite struct PlotTests {
    /// Lines as Caffe itself writes them (glog prefix, solver.cpp / sgd_solver.cpp phrases).
    static let caffeLog = """
        I0210 13:39:22.381027 25210 solver.cpp:280] Solving LeNet
        I0210 13:39:22.381037 25210 solver.cpp:281] Learning Rate Policy: inv
        I0210 13:39:22.382100 25210 solver.cpp:338] Iteration 0, Testing net (#0)
        I0210 13:39:23.100000 25210 solver.cpp:406]     Test net output #0: accuracy = 0.0635
        I0210 13:39:23.100010 25210 solver.cpp:406]     Test net output #1: loss = 2.41864 (* 1 = 2.41864 loss)
        I0210 13:39:23.120000 25210 solver.cpp:229] Iteration 0, loss = 2.46688
        I0210 13:39:23.120010 25210 solver.cpp:245]     Train net output #0: loss = 2.46688 (* 1 = 2.46688 loss)
        I0210 13:39:23.120020 25210 sgd_solver.cpp:106] Iteration 0, lr = 0.01
        I0210 13:39:25.000000 25210 solver.cpp:229] Iteration 100 (54.8 iter/s, 1.82s/100 iters), loss = 0.664493
        I0210 13:39:25.000010 25210 sgd_solver.cpp:106] Iteration 100, lr = 0.00992565
        I0210 13:39:27.000000 25210 solver.cpp:338] Iteration 200, Testing net (#0)
        I0210 13:39:27.900000 25210 solver.cpp:406]     Test net output #0: accuracy = 0.8179
        I0210 13:39:27.900010 25210 solver.cpp:406]     Test net output #1: loss = 0.499553 (* 1 = 0.499553 loss)
        I0210 13:39:27.920000 25210 solver.cpp:229] Iteration 200 (50 iter/s, 2s/100 iters), loss = 0.506425
        I0210 13:39:27.920010 25210 sgd_solver.cpp:106] Iteration 200, lr = 0.00985258
        """

    static let jsonLog = """
        {"type":"test","iteration":0,"seconds":0.5,"net":0,"outputs":{"accuracy":0.06,"loss":2.4}}
        {"type":"train","iteration":0,"seconds":0.6,"loss":2.46,"lr":0.01,"outputs":{"loss":2.46}}
        {"type":"train","iteration":100,"seconds":2.4,"loss":0.66,"lr":0.0099,"outputs":{"loss":0.66}}
        {"type":"test","iteration":200,"seconds":4.1,"net":0,"outputs":{"accuracy":0.82,"loss":0.5}}
        {"type":"train","iteration":200,"seconds":4.2,"loss":0.5,"lr":0.0098,"outputs":{"loss":0.5}}
        """

    @Test func parsesCaffeTextLikeParseLog() {
        let log = TrainingLog.parseText(Self.caffeLog)
        #expect(log.trainLoss == [.init(iteration: 0, value: 2.46688), .init(iteration: 100, value: 0.664493), .init(iteration: 200, value: 0.506425)])
        #expect(log.learningRate.map(\.iteration) == [0, 100, 200])
        #expect(log.testOutputs.map(\.name) == ["accuracy", "loss"])
        #expect(log.testOutputs[0].points == [.init(iteration: 0, value: 0.0635), .init(iteration: 200, value: 0.8179)])
    }

    func svg(_ text: String, _ name: String) throws -> String {
        let path = temporaryDirectory() + "/" + name
        try write(text, to: path)
        return CurvePlot.svg(try TrainingLog.load(path), title: "LeNet")
    }

    @Test(arguments: [("caffe.log", caffeLog), ("train.jsonl", jsonLog)]) func svgHasPanelsAxesAndLegends(name: String, text: String) throws {
        let s = try svg(text, name)
        #expect(s.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(s.hasSuffix("</svg>\n"))
        // A panel per test output: accuracy and loss do not share a y axis.
        #expect(s.components(separatedBy: "class=\"panel\"").count - 1 == 4)
        #expect(s.components(separatedBy: "class=\"series\"").count - 1 == 4)   // loss, accuracy, test loss, lr
        for title in ["Training loss", "Test accuracy", "Test loss", "Learning rate"] { #expect(s.contains(">\(title)</text>")) }
        #expect(s.components(separatedBy: ">iteration</text>").count - 1 == 4)
        #expect(s.contains("<circle"), "few points are drawn as points too")
        for legend in ["train loss", "accuracy", "loss", "lr"] { #expect(s.contains("<text x=\"") && s.contains(">\(legend)</text></g>")) }
        #expect(s.contains("class=\"tick\""))
        #expect(s.contains(">LeNet</text>"))
        // Every series path has as many points as the log has values.
        #expect(s.contains("data-name=\"accuracy\" d=\"M"))
    }

    /// A run killed while writing its JSON log leaves a last line cut short: it is skipped,
    /// where a broken line inside the log is an error that names it.
    @Test func aJSONLogCutShortLoadsWhatIsWhole() throws {
        let dir = temporaryDirectory()
        let whole = #"{"type":"train","iteration":0,"loss":2.3,"lr":0.01}"# + "\n" + #"{"type":"train","iteration":100,"loss":0.9,"lr":0.01}"# + "\n"
        try write(whole + #"{"type":"train","itera"#, to: dir + "/cut.jsonl")
        #expect(try TrainingLog.load(dir + "/cut.jsonl").trainLoss.map(\.iteration) == [0, 100])
        try write(#"{"type":"tr"# + "\n" + whole, to: dir + "/broken.jsonl")
        #expect(throws: DataError.self) { _ = try TrainingLog.load(dir + "/broken.jsonl") }
    }

    @Test func rejectsALogWithNothingToPlot() throws {
        let path = temporaryDirectory() + "/empty.log"
        try write("hello\n", to: path)
        #expect(throws: DataError.self) { _ = try TrainingLog.load(path) }
    }

    @Test func niceTicks() {
        #expect(CurvePlot.ticks(0, 10000) == [0, 2000, 4000, 6000, 8000, 10000])
        #expect(CurvePlot.ticks(0.06, 0.9).first == 0)
    }
}

@Suite struct StatusLineTests {
    @Test func formatShowsProgressRateEtaLossLrAndAccuracy() {
        let s = StatusLine.format(iter: 1200, maxIter: 10000, itersPerSecond: 58.3, loss: 0.34123, lr: 0.00972, test: "accuracy 0.8853")
        #expect(s == "[ 1200/10000]  58.3 it/s  ETA 2m31s  loss 0.3412  lr 0.00972  accuracy 0.8853")
    }

    @Test func drawsInPlaceAndPrintsLogLinesAbove() {
        var out = ""
        let line = StatusLine { out += $0 }
        line.record(.iteration(iter: 1, maxIter: 10, smoothedLoss: 1.5, lr: 0.1))
        #expect(out.hasPrefix("\r\u{1B}[K[ 1/10]"))
        #expect(out.contains("loss 1.5000"))
        line.record(.test(iter: 1, net: 0, outputs: [("accuracy", 0.5), ("loss", 1)], loss: nil))
        line.record(.iteration(iter: 10, maxIter: 10, smoothedLoss: 1.0, lr: 0.1))
        #expect(out.hasSuffix("accuracy 0.5000"))
    }

    /// The line's loss is the log's: the smoothed loss of the last display step, not each
    /// iteration's value (which, with average_loss 1, jumped between log lines).
    @Test func showsTheLossOfTheLastDisplayStep() {
        var out = ""
        let line = StatusLine { out = $0 }
        line.record(.iteration(iter: 1, maxIter: 1000, smoothedLoss: 2.5, lr: 0.1))
        #expect(out.contains("loss 2.5000"))
        line.record(.display(iter: 100, loss: 0.75, lr: 0.1, outputs: [("loss", 0.75)]))
        line.record(.iteration(iter: 1000, maxIter: 1000, smoothedLoss: 1.25, lr: 0.1))
        #expect(out.contains("loss 0.7500"))
    }
}
