import Foundation
import Testing
@testable import CortadoBase
@testable import CortadoIO
@testable import CortadoLayers
@testable import CortadoNet
@testable import CortadoSolvers

/// `mpirun -np N cortado train` against one process with `iter_size` N: the same weights bit
/// for bit, on one machine and across two network namespaces; dead and hung ranks; resuming
/// a multi-rank snapshot on other rank counts. Needs Open MPI's mpirun (CI installs it).
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun")))
struct DataParallelTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// LeNet (the repository's file) on 300 random 28×28 images, shuffled, in `dir`.
    static func lenetProject(_ dir: String) throws {
        var rng = RNG(seed: 12)
        let file = try HDF5File.create("\(dir)/train.h5")
        let n = 300
        try file.write("data", floats: (0..<(n * 784)).map { _ in rng.uniform(0, 1) }, shape: [n, 1, 28, 28])
        try file.write("label", floats: (0..<n).map { _ in Float(rng.below(10)) }, shape: [n])
        try write("\(dir)/train.h5\n", to: "\(dir)/list.txt")
        let lenet = try String(contentsOfFile: "\(repository)/models/lenet/lenet_train_test.prototxt", encoding: .utf8)
        try write(lenet.replacingOccurrences(of: "source: \"data/fashion-mnist/train.txt\"", with: "source: \"\(dir)/list.txt\" shuffle: true"), to: "\(dir)/lenet.prototxt")
    }

    /// A solver for the project: `iterSize`, snapshots under `prefix`.
    @discardableResult
    static func solver(_ dir: String, _ name: String, iterSize: Int, maxIter: Int = 20, snapshot: Int = 10) throws -> String {
        let path = "\(dir)/\(name).prototxt"
        try write("""
            net: "\(dir)/lenet.prototxt" base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 lr_policy: "inv"
            gamma: 0.0001 power: 0.75 display: 5 max_iter: \(maxIter) snapshot: \(snapshot)
            snapshot_prefix: "\(dir)/\(name)" random_seed: 1 iter_size: \(iterSize)
            """, to: path)
        return path
    }

    static let mpiEnvironment: [String: String] = {
        var e = ProcessInfo.processInfo.environment
        e["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        e["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        return e
    }()

    /// `mpirun -np ranks cortado train …`, one thread per rank.
    static func mpirun(_ ranks: Int, _ args: [String], launcher: [String] = []) throws -> CLITests.Result {
        try CLITests.run(launcher + ["/usr/bin/mpirun", "--allow-run-as-root", "-np", "\(ranks)", CLITests.binary, "train", "--threads", "1"] + args,
                         environment: mpiEnvironment, direct: true)
    }

    static func single(_ args: [String]) throws -> CLITests.Result {
        try CLITests.run(["train", "--threads", "1"] + args)
    }

    /// The learnable weights in a caffemodel, in the net's order.
    static func weights(_ dir: String, _ file: String) throws -> [[Float]] {
        let param = try NetParameter.load(file: "\(dir)/lenet.prototxt")
        let net = try Net.shapesOnly(param, state: NetState(phase: .train))
        _ = try Snapshot.loadWeights(net, from: file)
        return net.learnableParams.map(\.dataArray)
    }

    /// The smoothed losses the run logged, in order (`loss = x` of `Iteration N …` lines).
    static func losses(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("solver] Iteration") && $0.contains("loss =") }
            .map { String($0[$0.range(of: "Iteration")!.lowerBound...]).replacingOccurrences(of: #"\(.*\)"#, with: "", options: .regularExpression) }
    }

    @Test(arguments: [2, 3]) func ranksGiveTheWeightsOfOneProcessWithIterSize(ranks: Int) throws {
        let dir = temporaryDirectory("ranks\(ranks)")
        try Self.lenetProject(dir)
        let one = try Self.single(["--solver", try Self.solver(dir, "one", iterSize: ranks)])
        #expect(one.status == 0, "\(one.stderr)")
        let many = try Self.mpirun(ranks, ["--solver", try Self.solver(dir, "many", iterSize: 1)])
        #expect(many.status == 0, "\(many.stderr)")
        let expected = try Self.weights(dir, "\(dir)/one_iter_20.caffemodel.h5")
        #expect(try Self.weights(dir, "\(dir)/many_iter_20.caffemodel.h5") == expected)
        // Logged once, by rank 0, with the single process's numbers.
        #expect(Self.losses(many.stderr) == Self.losses(one.stderr))
        #expect(Self.losses(many.stderr).count == 5)
        #expect(many.stderr.components(separatedBy: "Optimization Done.").count == 2)

        let fast = try Self.mpirun(ranks, ["--solver", try Self.solver(dir, "fast", iterSize: 1), "--allreduce", "fast"])
        #expect(fast.status == 0, "\(fast.stderr)")
        for (a, b) in zip(try Self.weights(dir, "\(dir)/fast_iter_20.caffemodel.h5"), expected) {
            expectClose(a, b, tolerance: 1e-6)
        }
    }

    /// A 2-rank snapshot resumes on 1 rank (iter_size 2: the rest of the 2-rank run, bit for
    /// bit) and on 3 ranks (as one process with iter_size 3 resumed from it).
    @Test func aMultiRankSnapshotResumesOnOtherRankCounts() throws {
        let dir = temporaryDirectory()
        try Self.lenetProject(dir)
        let two = try Self.mpirun(2, ["--solver", try Self.solver(dir, "two", iterSize: 1)])
        #expect(two.status == 0, "\(two.stderr)")
        let snapshot = "\(dir)/two_iter_10.solverstate.h5"

        let one = try Self.single(["--solver", try Self.solver(dir, "one", iterSize: 2), "--snapshot", snapshot])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(try Self.weights(dir, "\(dir)/one_iter_20.caffemodel.h5") == (try Self.weights(dir, "\(dir)/two_iter_20.caffemodel.h5")))

        let three = try Self.mpirun(3, ["--solver", try Self.solver(dir, "three", iterSize: 1), "--snapshot", snapshot])
        #expect(three.status == 0, "\(three.stderr)")
        let reference = try Self.single(["--solver", try Self.solver(dir, "reference", iterSize: 3), "--snapshot", snapshot])
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(try Self.weights(dir, "\(dir)/three_iter_20.caffemodel.h5") == (try Self.weights(dir, "\(dir)/reference_iter_20.caffemodel.h5")))
    }

    /// Only rank 0 reads --weights; the others get it from rank 0, fillers and all.
    @Test func fineTuningWeightsReachEveryRank() throws {
        let dir = temporaryDirectory()
        try Self.lenetProject(dir)
        let start = try Self.single(["--solver", try Self.solver(dir, "start", iterSize: 1, maxIter: 3, snapshot: 0)])
        #expect(start.status == 0, "\(start.stderr)")
        let weights = "\(dir)/start_iter_3.caffemodel.h5"
        let one = try Self.single(["--solver", try Self.solver(dir, "one", iterSize: 2, maxIter: 5, snapshot: 0), "--weights", weights])
        #expect(one.status == 0, "\(one.stderr)")
        let two = try Self.mpirun(2, ["--solver", try Self.solver(dir, "two", iterSize: 1, maxIter: 5, snapshot: 0), "--weights", weights])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(try Self.weights(dir, "\(dir)/two_iter_5.caffemodel.h5") == (try Self.weights(dir, "\(dir)/one_iter_5.caffemodel.h5")))
    }

    @Test func ranksWithDifferentFilesStopAtStart() throws {
        let dir = temporaryDirectory()
        try Self.lenetProject(dir)
        let a = try Self.solver(dir, "a", iterSize: 1), b = try Self.solver(dir, "b", iterSize: 1, maxIter: 30)
        let command = [CLITests.binary, "train", "--threads", "1", "--solver"]
        let r = try CLITests.run(["/usr/bin/mpirun", "--allow-run-as-root", "-np", "1"] + command + [a, ":", "-np", "1"] + command + [b],
                                 environment: Self.mpiEnvironment, direct: true)
        #expect(r.status != 0)
        #expect(r.stderr.contains("rank 1's solver or net files differ from rank 0's"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/a_iter_10.caffemodel.h5"))
    }

    /// A long 2-rank run in the background, and a reader of its log.
    final class LongRun {
        let process = Process()
        private let err = Pipe()
        private(set) var log = ""

        init(_ dir: String, _ options: [String]) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            process.arguments = ["--allow-run-as-root", "-np", "2", CLITests.binary, "train", "--threads", "1"] + options
                + ["--solver", try DataParallelTests.solver(dir, "long", iterSize: 1, maxIter: 100_000, snapshot: 0)]
            process.environment = DataParallelTests.mpiEnvironment
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        /// Reads the log until it holds `text` (or the run ended).
        func waitFor(_ text: String) {
            while !log.contains(text) {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { return }
                log += String(decoding: chunk, as: UTF8.self)
            }
        }

        /// Reads the rest of the log and waits for mpirun to end.
        func finish() {
            log += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
        }
    }

    /// Kill -9 or SIGSTOP rank 1 mid-run: every rank ends, with an error, well within 30 s.
    @Test(arguments: [SIGKILL, SIGSTOP]) func aDeadOrHungRankEndsTheRun(signal: Int32) throws {
        let dir = temporaryDirectory("fault\(signal)")
        try Self.lenetProject(dir)
        let run = try LongRun(dir, ["--rank-timeout", "5"])
        // Wait until both ranks train (rank 0 logs its fifth iteration), then hit rank 1.
        run.waitFor("Iteration 5 (")
        let ranks = try childProcesses(of: run.process.processIdentifier)
        #expect(ranks.count == 2)
        let start = Date()
        if let last = ranks.last { kill(last, signal) }
        run.finish()
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(run.process.terminationStatus != 0)
        if signal == SIGSTOP {
            #expect(run.log.contains("got no answer from rank 1 for 5 s (--rank-timeout)"), "\(run.log.suffix(2000))")
        } else {
            #expect(run.log.contains("exited on signal 9"), "\(run.log.suffix(2000))")
        }
    }

    /// SIGHUP to rank 0 snapshots and SIGINT stops, on every rank at the same iteration (a
    /// rank that went on alone would wait for the others and fail after --rank-timeout).
    @Test func signalsToRankZeroActOnEveryRank() throws {
        let dir = temporaryDirectory()
        try Self.lenetProject(dir)
        let run = try LongRun(dir, ["--rank-timeout", "10", "--verbose-ranks"])
        run.waitFor("[rank 0] Iteration 5 (")
        // glog lines carry the process id: rank 0's is on its own lines.
        let line = run.log.split(separator: "\n").first { $0.contains("[rank 0] Iteration 5 (") } ?? ""
        let pid = line.split(separator: " ").dropFirst(2).first.flatMap { Int32($0) }
        #expect(pid != nil, "\(run.log.suffix(1000))")
        guard let pid else { run.process.terminate(); return }
        kill(pid, SIGHUP)
        run.waitFor("[rank 0] Snapshotting to")
        kill(pid, SIGINT)
        run.finish()
        #expect(run.process.terminationStatus == 0, "\(run.log.suffix(2000))")
        #expect(run.log.contains("[rank 0] Optimization stopped early."))
        #expect(run.log.contains("[rank 1] Optimization stopped early."))
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".caffemodel.h5") }
        #expect(snapshots.count == 2, "one on SIGHUP, one on stopping: \(snapshots)")
    }

    /// Two "machines": network namespaces joined by a veth pair; mpirun starts the second
    /// rank through a launcher that enters the other namespace, and ranks talk TCP only.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")))
    func twoNamespacesOverTCPGiveTheSameWeights() throws {
        let dir = temporaryDirectory()
        try Self.lenetProject(dir)
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let hosts = TwoHosts(suffix: suffix, dir: dir)
        try hosts.create()
        defer { hosts.remove() }
        let one = try Self.single(["--solver", try Self.solver(dir, "one", iterSize: 2)])
        #expect(one.status == 0, "\(one.stderr)")
        let r = try CLITests.run(["/usr/sbin/ip", "netns", "exec", hosts.names[0], "/usr/bin/mpirun", "--allow-run-as-root",
                                  "-np", "2", "-host", hosts.addresses.joined(separator: ","),
                                  "--mca", "plm_rsh_agent", hosts.agent, "--mca", "btl", "self,tcp",
                                  "--mca", "btl_tcp_if_include", "10.77.0.0/24", "--mca", "oob_tcp_if_include", "10.77.0.0/24",
                                  CLITests.binary, "train", "--threads", "1", "--solver", try Self.solver(dir, "two", iterSize: 1)],
                                 environment: Self.mpiEnvironment, direct: true)
        #expect(r.status == 0, "\(r.stderr)")
        let launched = (try? String(contentsOfFile: "\(dir)/launched", encoding: .utf8)) ?? ""
        #expect(launched.contains(hosts.names[1]), "rank 1 was not started in the second namespace")
        #expect(try Self.weights(dir, "\(dir)/two_iter_20.caffemodel.h5") == (try Self.weights(dir, "\(dir)/one_iter_20.caffemodel.h5")))
    }
}

/// Two network namespaces with addresses 10.77.0.1 and .2 on a veth pair, and a
/// `plm_rsh_agent` script that runs a command "on" an address inside its namespace.
struct TwoHosts {
    let names: [String]
    let addresses = ["10.77.0.1", "10.77.0.2"]
    let agent: String
    let dir: String

    init(suffix: String, dir: String) {
        names = ["cta\(suffix)", "ctb\(suffix)"]
        agent = "\(dir)/agent.sh"
        self.dir = dir
    }

    func create() throws {
        let (a, b) = (names[0], names[1])
        let steps = [
            ["netns", "add", a], ["netns", "add", b],
            ["link", "add", "v\(a)", "type", "veth", "peer", "name", "v\(b)"],
            ["link", "set", "v\(a)", "netns", a], ["link", "set", "v\(b)", "netns", b],
            ["-n", a, "addr", "add", "\(addresses[0])/24", "dev", "v\(a)"], ["-n", b, "addr", "add", "\(addresses[1])/24", "dev", "v\(b)"],
            ["-n", a, "link", "set", "v\(a)", "up"], ["-n", b, "link", "set", "v\(b)", "up"],
            ["-n", a, "link", "set", "lo", "up"], ["-n", b, "link", "set", "lo", "up"],
        ]
        for step in steps {
            let r = try CLITests.run(["/usr/sbin/ip"] + step, direct: true)
            guard r.status == 0 else { throw TestFailure("ip \(step.joined(separator: " ")): \(r.stderr)") }
        }
        try write("""
            #!/bin/sh
            # Open MPI calls this as `agent HOST command…`: run the command inside HOST's namespace.
            host="$1"; shift
            case "$host" in
              \(addresses[0])) ns=\(a) ;;
              \(addresses[1])) ns=\(b) ;;
              *) echo "unknown host $host" >&2; exit 1 ;;
            esac
            echo "$ns" >> \(dir)/launched
            exec /usr/sbin/ip netns exec "$ns" sh -c "$*"
            """, to: agent)
        chmod(agent, 0o755)
    }

    func remove() {
        for n in names { _ = try? CLITests.run(["/usr/sbin/ip", "netns", "del", n], direct: true) }
    }
}

/// The direct children of a process (mpirun's ranks on this machine), in pid order.
func childProcesses(of pid: Int32) throws -> [Int32] {
    let text = try String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
    return text.split(separator: " ").compactMap { Int32($0) }.sorted()
}
