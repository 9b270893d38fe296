import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers

/// Runs the built `cortado` binary as a user would and checks exit codes and messages.
@Suite struct CLITests {
    /// The `cortado` executable SwiftPM built for this test run (the test target depends on
    /// it), in the products folder that holds the test bundle.
    static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("cortado").path
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs `cortado args…`, or with `direct` the program `args[0]` (a wrapper such as strace).
    static func run(_ args: [String], cwd: String? = nil, environment: [String: String]? = nil, direct: Bool = false) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: direct ? args[0] : binary)
        p.arguments = direct ? Array(args.dropFirst()) : args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // stderr on its own thread: read one after the other, a child that fills the second
        // pipe (64 KB of log) while we wait on the first never exits.
        let e = readInBackground(err.fileHandleForReading)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e(), as: UTF8.self))
    }

    /// Starts reading `handle` to its end on a thread; the returned function waits for the bytes.
    static func readInBackground(_ handle: FileHandle) -> () -> Data {
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread { box.data = handle.readDataToEndOfFile(); done.signal() }.start()
        return { done.wait(); return box.data }
    }

    /// A tiny trainable net on an HDF5 file, with a solver, in `dir`.
    static func tinyProject(_ dir: String) throws {
        var rng = RNG(seed: 4)
        let file = try HDF5File.create("\(dir)/d.h5")
        try file.write("data", floats: (0..<(20 * 4)).map { _ in rng.uniform(-1, 1) }, shape: [20, 4])
        try file.write("label", floats: (0..<20).map { Float($0 % 2) }, shape: [20])
        try write("\(dir)/d.h5\n", to: "\(dir)/list.txt")
        try write("""
            name: "tiny"
            layer { name: "d" type: "HDF5Data" top: "data" top: "label" hdf5_data_param { source: "\(dir)/list.txt" batch_size: 4 } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
            layer { name: "acc" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """, to: "\(dir)/net.prototxt")
        try write("""
            net: "net.prototxt" base_lr: 0.1 lr_policy: "fixed" max_iter: 10 display: 5 test_iter: 2 test_interval: 5
            snapshot: 5 snapshot_prefix: "\(dir)/snap" random_seed: 1
            """, to: "\(dir)/solver.prototxt")
    }

    /// A child that writes more than a pipe holds to stderr before its stdout ends (a long
    /// log) finishes: `run` reads both at once, where reading stdout first deadlocked.
    @Test func aChildWithALongLogFinishes() throws {
        let r = try Self.run(["/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x >&2; echo done"], direct: true)
        #expect(r.status == 0 && r.stdout == "done\n" && r.stderr.count == 200_000)
    }

    @Test func trainTestAndTimeWithCaffeSpellings() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let train = try Self.run(["train", "-solver", "\(dir)/solver.prototxt"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("Iteration 5 ("))
        #expect(train.stderr.contains("Iteration 5, lr = 0.1"))
        #expect(train.stderr.contains("Test net output #0: accuracy = "))
        #expect(train.stderr.contains("Optimization Done."))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/snap_iter_10.caffemodel.h5"))
        let test = try Self.run(["test", "--model=\(dir)/net.prototxt", "--weights=\(dir)/snap_iter_10.caffemodel.h5", "-iterations", "5"])
        #expect(test.status == 0, "\(test.stderr)")
        #expect(test.stderr.contains("] accuracy = "))
        let time = try Self.run(["time", "--model", "\(dir)/net.prototxt", "--iterations", "2"])
        #expect(time.status == 0, "\(time.stderr)")
        #expect(time.stderr.contains("Average Forward-Backward:"))
        let bf16 = try Self.run(["time", "--model", "\(dir)/net.prototxt", "--iterations", "2", "--precision", "bf16"])
        if Precision.bf16Supported {
            #expect(bf16.status == 0 && bf16.stderr.contains("Precision: bf16"), "\(bf16.stderr)")
        } else {
            #expect(bf16.status == 1 && bf16.stderr.contains("needs a CPU with AVX512_BF16"), "\(bf16.stderr)")
        }
        let fp16 = try Self.run(["time", "--model", "\(dir)/net.prototxt", "--precision", "fp16"])
        #expect(fp16.status != 0 && fp16.stderr.contains("'fp32' and 'bf16'"), "\(fp16.stderr)")
        let resume = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", "\(dir)/snap_iter_5.solverstate.h5"])
        #expect(resume.status == 0, "\(resume.stderr)")
    }

    /// A bf16 run says so in its snapshots (a `cortado_precision` dataset beside Caffe's
    /// `data/`, which Caffe ignores) and in its run record; an fp32 run's files are Caffe's own.
    @Test(.enabled(if: Precision.bf16Supported)) func aBf16RunSaysSoInItsSnapshots() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let fp32 = try Self.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(fp32.status == 0, "\(fp32.stderr)")
        #expect(try !HDF5File.open("\(dir)/snap_iter_10.caffemodel.h5").exists("cortado_precision"))
        let bf16 = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--precision", "bf16"])
        #expect(bf16.status == 0 && bf16.stderr.contains("Precision: bf16"), "\(bf16.stderr)")
        #expect(try HDF5File.open("\(dir)/snap_iter_10.caffemodel.h5").readString("cortado_precision") == "bf16")
        let record = try String(contentsOfFile: "\(dir)/snap_run.json", encoding: .utf8)
        #expect(record.contains("\"precision\" : \"bf16\""), "\(record)")
        let scored = try Self.run(["test", "--model", "\(dir)/net.prototxt", "--weights", "\(dir)/snap_iter_10.caffemodel.h5", "--iterations", "2"])
        #expect(scored.status == 0, "\(scored.stderr)")
    }

    func expectCleanFailure(_ r: Result, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 1, "exit status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("error: ") || r.stderr.contains("\nerror: "), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
        for f in fragments { #expect(r.stderr.contains(f), "missing \"\(f)\" in: \(r.stderr)", sourceLocation: sourceLocation) }
    }

    @Test func misspeltFieldInNet() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let net = try String(contentsOfFile: "\(dir)/net.prototxt", encoding: .utf8)
        try write(net.replacingOccurrences(of: "inner_product_param", with: "inner_product_parm"), to: "\(dir)/net.prototxt")
        expectCleanFailure(try Self.run(["train", "--solver", "\(dir)/solver.prototxt"]),
                           ["net.prototxt:3:", "did you mean \"inner_product_param\"?"])
    }

    @Test func unknownLayerType() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let net = try String(contentsOfFile: "\(dir)/net.prototxt", encoding: .utf8)
        try write(net.replacingOccurrences(of: "\"InnerProduct\"", with: "\"InnerProdcut\""), to: "\(dir)/net.prototxt")
        expectCleanFailure(try Self.run(["test", "--model", "\(dir)/net.prototxt", "--weights", "x.h5"]),
                           ["unknown layer type \"InnerProdcut\"", "did you mean \"InnerProduct\"?"])
    }

    @Test func bottomThatNoLayerProduces() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let net = try String(contentsOfFile: "\(dir)/net.prototxt", encoding: .utf8)
        try write(net.replacingOccurrences(of: #"bottom: "data" top: "ip""#, with: #"bottom: "dat" top: "ip""#), to: "\(dir)/net.prototxt")
        expectCleanFailure(try Self.run(["train", "--solver", "\(dir)/solver.prototxt"]),
                           ["unknown bottom blob \"dat\"", "did you mean \"data\"?", "net.prototxt:3:"])
    }

    @Test func missingDataFile() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        try FileManager.default.removeItem(atPath: "\(dir)/d.h5")
        expectCleanFailure(try Self.run(["train", "--solver", "\(dir)/solver.prototxt"]), ["d.h5", "no such file"])
        expectCleanFailure(try Self.run(["train", "--solver", "\(dir)/nosolver.prototxt"]), ["no such file"])
    }

    @Test func truncatedWeightsFile() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        try Data(repeating: 0x89, count: 100).write(to: URL(fileURLWithPath: "\(dir)/bad.caffemodel.h5"))
        expectCleanFailure(try Self.run(["test", "--model", "\(dir)/net.prototxt", "--weights", "\(dir)/bad.caffemodel.h5"]),
                           ["bad.caffemodel.h5", "truncated"])
    }

    @Test func weightsOfTheWrongShape() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        do {
            let file = try HDF5File.create("\(dir)/wrong.h5")
            try file.write("data/ip/0", floats: [Float](repeating: 0, count: 12), shape: [3, 4])
            try file.write("data/ip/1", floats: [0, 0, 0], shape: [3])
        }
        expectCleanFailure(try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--weights", "\(dir)/wrong.h5"]),
                           ["layer \"ip\"", "3 4 (12)", "2 4 (8)", "rename the layer"])
    }

    @Test func sigintStopsCleanlyAndLeavesAResumableSnapshot() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let solver = try String(contentsOfFile: "\(dir)/solver.prototxt", encoding: .utf8)
        try write(solver.replacingOccurrences(of: "max_iter: 10", with: "max_iter: 100000000")
                        .replacingOccurrences(of: "snapshot: 5 ", with: "")
                        .replacingOccurrences(of: "display: 5", with: "display: 100000")
                        .replacingOccurrences(of: "test_interval: 5", with: "test_interval: 100000"), to: "\(dir)/solver.prototxt")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["train", "--solver", "\(dir)/solver.prototxt"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(p.processIdentifier, SIGINT)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(log)")
        #expect(log.contains("Optimization stopped early."))
        let states = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".solverstate.h5") }
        #expect(states.count == 1)
        guard let state = states.first else { return }
        let iter = Int(state.split(separator: "_").last!.split(separator: ".").first!)!
        try write(solver.replacingOccurrences(of: "max_iter: 10", with: "max_iter: \(iter + 3)"), to: "\(dir)/solver.prototxt")
        let resume = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", "\(dir)/\(state)"])
        #expect(resume.status == 0, "\(resume.stderr)")
        #expect(resume.stderr.contains("Optimization Done."))
    }

    /// Every run keeps a JSON log beside its snapshots, without --log-json, up to max_iter, and
    /// copies of its solver and net, so the dashboard shows a run started plainly.
    @Test func everyRunKeepsItsJSONLogToTheLastIteration() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let r = try Self.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: "\(dir)/snap_log.jsonl", encoding: .utf8).split(separator: "\n")
        let train = lines.filter { $0.contains("\"type\":\"train\"") }
        #expect(train.last?.contains("\"iteration\":10,") == true, "\(train)")
        for copy in ["snap_solver.prototxt", "snap_net.prototxt", "snap_run.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/\(copy)"), "\(copy)")
        }
    }

    /// `--log-json` naming the run's own log by another spelling writes it once, not twice over.
    @Test func logJSONOfTheRunsOwnLogIsWrittenOnce() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let r = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--log-json", "\(dir)/./snap_log.jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: "\(dir)/snap_log.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }

    /// A misspelt subcommand or option names the nearest valid one.
    @Test func misspeltCommandsAndOptionsGetTheNearestName() throws {
        let command = try Self.run(["trian", "--solver", "x"])
        #expect(command.status != 0 && command.stderr.contains("unknown command 'trian'; did you mean 'train'?"), "\(command.stderr)")
        let option = try Self.run(["test", "--model", "m", "--weights", "w", "--iters", "5"])
        #expect(option.status != 0 && option.stderr.contains("Unknown option '--iters'; did you mean '--iterations'?"), "\(option.stderr)")
        let phase = try Self.run(["time", "--model", "m", "--phase", "test"])
        #expect(!phase.stderr.contains("--phase must be"), "\(phase.stderr)")
    }

    @Test func debugInfoPrintsPerLayerMagnitudes() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let solver = try String(contentsOfFile: "\(dir)/solver.prototxt", encoding: .utf8)
        try write(solver + "\ndebug_info: true\n", to: "\(dir)/solver.prototxt")
        let r = try Self.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(r.status == 0, "\(r.stderr)")
        for fragment in ["[Forward] Layer ip, top blob ip data: ", "[Forward] Layer ip, param blob 0 data: ",
                         "[Backward] Layer ip, param blob 1 diff: ", "[Update] Layer ip, param 0 data: "] {
            #expect(r.stderr.contains(fragment), "missing \(fragment)")
        }
    }

    @Test func validateReportsEveryMistakeWithPositions() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let net = try String(contentsOfFile: "\(dir)/net.prototxt", encoding: .utf8)
        try write(net.replacingOccurrences(of: "num_output: 2", with: "num_outputs: 2")
                     .replacingOccurrences(of: "\"Accuracy\"", with: "\"Acuracy\"")
                     .replacingOccurrences(of: #"bottom: "ip" bottom: "label" top: "loss""#, with: #"bottom: "ipp" bottom: "label" top: "loss""#),
                  to: "\(dir)/net.prototxt")
        let r = try Self.run(["validate", "\(dir)/solver.prototxt"])
        expectCleanFailure(r, ["net.prototxt:3:", "did you mean \"num_output\"?",
                               "net.prototxt:4:", "unknown layer type \"Acuracy\"",
                               "net.prototxt:5:", "unknown bottom blob \"ipp\"", "3 problem(s) found"])
        let ok = try Self.run(["validate", "\(URL(fileURLWithPath: #filePath).deletingLastPathComponent().path)/../../../solvers/lenet_solver_adam.prototxt"],
                              cwd: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardized.path)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    /// Caffe's tools/extra/parse_log.py and extract_seconds.py patterns, applied to Cortado's plain log.
    @Test func plainLogMatchesCaffeParseLogPatterns() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let r = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--log-json", "\(dir)/log.jsonl"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}["), "no terminal codes on a pipe")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let glog = try Regex(#"^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) +\d+ \S+\] "#)
        #expect(lines.allSatisfy { $0.firstMatch(of: glog) != nil || $0.hasPrefix("error") })
        let train = try Regex(#"Train net output #(\d+): (\S+) = ([\.\deE+-]+)"#)
        let test = try Regex(#"Test net output #(\d+): (\S+) = ([\.\deE+-]+)"#)
        let lr = try Regex(#"lr = ([-+]?[0-9]*\.?[0-9]+([eE]?[-+]?[0-9]+)?)"#)
        let iteration = try Regex(#"Iteration (\d+)"#)
        #expect(lines.contains { $0.contains("Solving tiny") })
        #expect(lines.filter { $0.firstMatch(of: train) != nil }.count == 2)   // iterations 0 and 5 (the final forward prints the loss only)
        #expect(lines.contains { $0.hasSuffix("] Iteration 10, loss = \($0.split(separator: " ").last!)") })
        #expect(lines.filter { $0.firstMatch(of: test) != nil }.count == 6)    // 3 tests × (accuracy, loss)
        #expect(lines.filter { $0.firstMatch(of: lr) != nil }.count == 2)
        #expect(lines.contains { $0.contains("Iteration 5 (") && $0.contains(" iter/s, ") && $0.contains("s/5 iters), loss = ") && $0.firstMatch(of: iteration) != nil })
        let json = try String(contentsOfFile: "\(dir)/log.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(json.count == 6)   // train at 0, 5 and the final 10, tests at 0, 5, 10
        #expect(json.first?.hasPrefix("{\"type\":\"test\",\"iteration\":0,") == true)
        let plot = try Self.run(["plot", "\(dir)/log.jsonl", "-o", "\(dir)/curves.svg"])
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/curves.svg", encoding: .utf8).contains("class=\"series\""))
    }

    @Test func forcedTerminalModeDrawsALiveStatusLine() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let r = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--progress", "always"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("\r\u{1B}[K[10/10]"))
        #expect(r.stderr.contains("lr 0.1"))
        #expect(r.stderr.contains("accuracy "))
    }

    @Test func drawWritesDotWithShapes() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let r = try Self.run(["draw", "\(dir)/net.prototxt", "-o", "\(dir)/net.dot", "--phase", "TEST"])
        #expect(r.status == 0, "\(r.stderr)")
        let dot = try String(contentsOfFile: "\(dir)/net.dot", encoding: .utf8)
        #expect(dot.hasPrefix("digraph \"tiny\" {"))
        #expect(dot.contains("label=\"ip\\nInnerProduct\\n2 out\""))
        #expect(dot.contains("l0 -> l1 [label=\"data\\n4×4\"]"))
        #expect(dot.contains("shape=ellipse, label=\"accuracy\""))
        let bad = try Self.run(["draw", "\(dir)/net.prototxt", "-o", "\(dir)/net.txt"])
        expectCleanFailure(bad, [".dot, .svg or .png"])
        // Without Graphviz, SVG is drawn by Cortado (as in the dashboard); PNG needs dot.
        let noGraphviz = try Self.run(["draw", "\(dir)/net.prototxt", "-o", "\(dir)/net.svg"], environment: ["PATH": dir])
        #expect(noGraphviz.status == 0, "\(noGraphviz.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/net.svg", encoding: .utf8).hasPrefix("<svg"))
        let png = try Self.run(["draw", "\(dir)/net.prototxt", "-o", "\(dir)/net.png"], environment: ["PATH": dir])
        expectCleanFailure(png, ["apt-get install graphviz", ".svg (drawn without it)"])
    }

    @Test func sigintWithSnapshotEffectWritesASnapshotAndGoesOn() throws {
        let dir = temporaryDirectory()
        try Self.tinyProject(dir)
        let solver = try String(contentsOfFile: "\(dir)/solver.prototxt", encoding: .utf8)
        let endless = solver.replacingOccurrences(of: "max_iter: 10", with: "max_iter: 100000000")
            .replacingOccurrences(of: "snapshot: 5 ", with: "").replacingOccurrences(of: "display: 5", with: "display: 100000")
            .replacingOccurrences(of: "test_interval: 5", with: "test_interval: 100000")
        try write(endless, to: "\(dir)/solver.prototxt")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["train", "--solver", "\(dir)/solver.prototxt", "--sigint_effect", "snapshot"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: 1.0)
        kill(p.processIdentifier, SIGINT)
        var states: [String] = []
        for _ in 0..<100 where states.isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
            states = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".solverstate.h5") }
        }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(p.isRunning, "snapshot effect keeps training")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(states.count == 1)
        guard let state = states.first else { return }
        let iter = Int(state.split(separator: "_").last!.split(separator: ".").first!)!
        try write(solver.replacingOccurrences(of: "max_iter: 10", with: "max_iter: \(iter + 2)"), to: "\(dir)/solver.prototxt")
        let resume = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", "\(dir)/\(state)"])
        #expect(resume.status == 0, "\(resume.stderr)")
        #expect(try !FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.contains(".tmp-") }, "no temporary files left")
    }

    @Test func caffeFilesThroughTheTools() throws {
        let dir = temporaryDirectory()
        // Images → LMDB → mean, with Caffe's tool names and flag spellings.
        let list = try ImageDataTests.makeFolder(dir)
        let convert = try Self.run(["convert-imageset", dir + "/", list, "\(dir)/lmdb", "-resize_height", "8", "--resize_width=8", "--shuffle"])
        #expect(convert.status == 0, "\(convert.stderr)")
        let mean = try Self.run(["compute-image-mean", "\(dir)/lmdb", "\(dir)/mean.binaryproto"])
        #expect(mean.status == 0, "\(mean.stderr)")
        #expect(try CaffeBinary.readBlob("\(dir)/mean.binaryproto").shape == [1, 3, 8, 8])
        #expect(try Self.run(["convert-imageset", dir + "/", list, "\(dir)/lmdb"]).stderr.contains("already exists"))

        // An old V1 net with a Data layer whose transform fields sit in data_param; binary snapshots.
        try write("""
            name: "oldnet"
            layers { name: "d" type: DATA top: "data" top: "label"
                     data_param { source: "\(dir)/lmdb" backend: LMDB batch_size: 4 mean_file: "\(dir)/mean.binaryproto" scale: 0.0078125 } }
            layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip" blobs_lr: 1 blobs_lr: 2
                     inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
            layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" top: "loss" }
            """, to: "\(dir)/old.prototxt")
        try write("""
            net: "old.prototxt" solver_type: NESTEROV base_lr: 0.01 momentum: 0.9 lr_policy: "fixed" max_iter: 6 snapshot: 3
            snapshot_prefix: "\(dir)/snap" snapshot_format: BINARYPROTO random_seed: 2
            """, to: "\(dir)/solver.prototxt")
        let train = try Self.run(["train", "--solver", "\(dir)/solver.prototxt"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.components(separatedBy: "old V1 syntax").count - 1 == 1, "says so once")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/snap_iter_6.caffemodel"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/snap_iter_3.solverstate"))
        let resume = try Self.run(["train", "--solver", "\(dir)/solver.prototxt", "--snapshot", "\(dir)/snap_iter_3.solverstate"])
        #expect(resume.status == 0, "\(resume.stderr)")

        // upgrade prints today's syntax, which loads again.
        let upgrade = try Self.run(["upgrade", "\(dir)/old.prototxt"])
        #expect(upgrade.status == 0, "\(upgrade.stderr)")
        #expect(upgrade.stdout.contains("layer {\n  name: \"ip\"\n  type: \"InnerProduct\"\n  bottom: \"data\"\n  top: \"ip\"\n  param {\n    lr_mult: 1\n  }"))
        #expect(upgrade.stdout.contains("transform_param {\n    mean_file: "))
        try write(upgrade.stdout, to: "\(dir)/new.prototxt")
        let solverUp = try Self.run(["upgrade", "\(dir)/solver.prototxt"])
        #expect(solverUp.stdout.contains("type: \"Nesterov\""))

        // convert-weights both ways, then score each with `test`.
        let toH5 = try Self.run(["convert-weights", "\(dir)/snap_iter_6.caffemodel", "\(dir)/w.caffemodel.h5"])
        #expect(toH5.status == 0, "\(toH5.stderr)")
        let back = try Self.run(["convert-weights", "\(dir)/w.caffemodel.h5", "\(dir)/w2.caffemodel"])
        #expect(back.status == 0, "\(back.stderr)")
        var scores: [String] = []
        for (model, weights) in [("old.prototxt", "snap_iter_6.caffemodel"), ("new.prototxt", "w.caffemodel.h5"), ("new.prototxt", "w2.caffemodel")] {
            let t = try Self.run(["test", "--model", "\(dir)/\(model)", "--weights", "\(dir)/\(weights)", "--iterations", "2"])
            #expect(t.status == 0, "\(t.stderr)")
            scores.append(String(t.stderr.split(separator: "\n").last { $0.contains("] loss = ") } ?? "").split(separator: "]").last.map(String.init) ?? "")
        }
        #expect(Set(scores).count == 1 && !scores[0].isEmpty, "\(scores)")
    }
}

/// Mistakes that only show when a net is built are refused alike by every command that builds it.
@Suite struct CLIBuildErrorTests {
    @Test(arguments: ["validate", "test", "time"]) func averagePoolingWithTwoTops(command: String) throws {
        let dir = temporaryDirectory()
        try write("""
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 8 dim: 8 } } }
            layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" top: "mask" pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
            """, to: "\(dir)/net.prototxt")
        let r = try CLITests.run(arguments(command, dir, phase: "TEST"))
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("net.prototxt:2:"), "\(r.stderr)")
        #expect(r.stderr.contains("Pooling takes at most 1 top blob(s), found 2"), "\(r.stderr)")
    }

    @Test(arguments: ["validate", "test", "time"]) func netWithNoLayersInThePhase(command: String) throws {
        let dir = temporaryDirectory()
        let text = command == "validate" ? "name: \"empty\"\n"
            : #"layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } include { phase: TRAIN } }"#
        try write(text, to: "\(dir)/net.prototxt")
        let r = try CLITests.run(arguments(command, dir, phase: "TEST"))
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("net.prototxt:1:1"), "\(r.stderr)")
        #expect(r.stderr.contains(command == "validate" ? "the net has no layers" : "is included in phase TEST"), "\(r.stderr)")
    }

    func arguments(_ command: String, _ dir: String, phase: String) -> [String] {
        switch command {
        case "validate": return ["validate", "\(dir)/net.prototxt"]
        case "test": return ["test", "--model", "\(dir)/net.prototxt", "--weights", "\(dir)/none.caffemodel.h5", "--iterations", "1"]
        default: return ["time", "--model", "\(dir)/net.prototxt", "--phase", phase, "--iterations", "1"]
        }
    }
}
