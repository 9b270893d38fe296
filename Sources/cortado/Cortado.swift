import ArgumentParser
import Cortado
import CortadoPython
import Foundation

@main
struct CortadoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cortado",
        abstract: "Train, test and time Caffe nets on the CPU.",
        discussion: """
        Examples:
          cortado train --solver solvers/lenet_solver.prototxt
          cortado test --model models/lenet/lenet_train_test.prototxt --weights snapshots/lenet_iter_10000.caffemodel.h5 --iterations 100
          cortado time --model models/lenet/lenet_train_test.prototxt
        Caffe's spellings work too: -solver x, --solver=x.
        """,
        version: "0.1.0",
        subcommands: [TrainCommand.self, TestCommand.self, ClassifyCommand.self, ExtractFeaturesCommand.self, ExportONNXCommand.self, ServeCommand.self, TimeCommand.self, ValidateCommand.self, SummaryCommand.self, UpgradeCommand.self, DrawCommand.self, PlotCommand.self, ConvertWeightsCommand.self, ConvertImagesetCommand.self, ComputeImageMeanCommand.self, ConvertCIFARCommand.self, ConvertMNISTCommand.self, VerifyCommand.self, ReadHDF5Command.self, GradientsCommand.self]
    )

    /// ArgumentParser's own run, with the nearest valid name added to its errors for a
    /// misspelt subcommand (`trian`) or option (`--iters`).
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // A net with `type: "Python"` layers starts an interpreter when it is built.
        PythonLayers.starter = { try EmbeddedPython.start() }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            guard let hint = hint(for: error, arguments) else { exit(withError: error) }
            try? FileHandle.standardError.write(contentsOf: Data("Error: \(hint)\n".utf8))
            exit(withError: ExitCode(exitCode(for: error).rawValue))
        }
    }

    private static func hint(for error: Error, _ arguments: [String]) -> String? {
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        if let first = arguments.first, !first.hasPrefix("-"), !names.contains(first) {
            let nearest = nearestName(to: first, in: names).map { "; did you mean '\($0)'?" } ?? "; `cortado --help` lists the commands"
            return "unknown command '\(first)'\(nearest)"
        }
        let message = fullMessage(for: error)
        guard let range = message.range(of: "Unknown option '"), let sub = configuration.subcommands.first(where: { $0.configuration.commandName == arguments.first }) else { return nil }
        let option = String(message[range.upperBound...].prefix { $0 != "'" })
        let help = sub.helpMessage()
        let options = help.split(whereSeparator: { " ,|[]()<>=\n".contains($0) }).map(String.init).filter { $0.hasPrefix("--") && $0.count > 2 }
        // A shortened name (`--iters`) first, then the nearest by edits (`--wieghts`).
        let candidates = Array(Set(options)).sorted()
        let stem = option.prefix(5)
        guard let nearest = candidates.first(where: { $0.hasPrefix(stem) && option.count >= 5 }) ?? nearestName(to: option, in: candidates) else { return nil }
        let line = (message.split(separator: "\n").first.map(String.init) ?? "").replacingOccurrences(of: "Error: ", with: "")
        return "\(line); did you mean '\(nearest)'?"
    }
}

/// Runs a command body, turning Cortado's errors into one `error: …` paragraph on stderr and
/// exit code 1 (no stack trace).
func reportingErrors(_ body: () throws -> Void) throws {
    prepareProcess()
    do {
        try body()
    } catch let e as ConfigError {
        fail(e.description)
    } catch let e as any CortadoFailure {
        fail(e.description)
    } catch let e as ExitCode {
        throw e
    }
}

/// What every command needs before it starts: untrusted HDF5 files are read by this program in
/// a child process, and a closed stdout/stderr pipe (`cortado … | head`) gives write errors, not SIGPIPE.
func prepareProcess() {
    if HDF5Isolation.helper == nil { HDF5Isolation.helper = executablePath() }
    // A child inherits its parent thread's blocked signals: started from a thread that blocks
    // SIGTERM (a test runner's), `kill PID` never reached `cortado serve`. Start from none.
    var none = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, nil)
    signal(SIGPIPE, SIG_IGN)
}

/// This program's own file, which reads untrusted HDF5 files in a child process.
func executablePath() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
}

func fail(_ message: String) -> Never {
    let text = message.split(separator: "\n").map { "error: \(Log.label)\($0)" }.joined(separator: "\n")
    try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
    abortRanks?()
    exit(1)
}

/// Set by a data-parallel `train`: ends every rank (MPI_Abort) when this one fails, so none
/// waits for it.
nonisolated(unsafe) var abortRanks: (() -> Void)?

/// `--phase` for every command that takes it: TRAIN or TEST, in any case.
func parsePhase(_ text: String) throws -> Phase {
    guard let p = Phase(rawValue: text.uppercased()) else { throw UsageError("--phase must be TRAIN or TEST, found \(text)") }
    return p
}

/// `--no-verify`, for every command that loads weights or solver states.
struct VerifyOption: ParsableArguments {
    @Flag(name: .customLong("no-verify"), help: "Load weights and solver states whose checksum does not match (damaged files) instead of refusing them.")
    var noVerify = false

    func apply() { Checksum.verifyOnLoad = !noVerify }
}

/// Options shared by commands that build a net from a file.
struct NetStateOptions: ParsableArguments {
    @Option(name: [.long, .customLong("level", withSingleDash: true)], help: "NetState level.")
    var level: Int = 0

    @Option(name: [.long, .customLong("stage", withSingleDash: true)], help: "Comma-separated NetState stages.")
    var stage: String = ""

    @Option(name: [.long, .customLong("threads", withSingleDash: true)], help: "Threads (default: all cores). Results are deterministic for a given count.")
    var threads: Int?

    @Option(name: [.long, .customLong("gpu", withSingleDash: true)], help: ArgumentHelp("Accepted for Caffe scripts; Cortado runs on the CPU.", visibility: .hidden))
    var gpu: String?

    @Option(help: "Arithmetic of the convolutions on oneDNN: fp32 (Caffe's), or bf16 on CPUs with AVX512_BF16 or AMX (fp32 accumulation, weights and update).")
    var precision: Precision = .fp32

    var stages: [String] { commaList(stage) }

    /// The thread count and the precision, for the nets built from now on.
    func applyThreadsAndPrecision() throws {
        if gpu != nil { Log.warning("Cortado runs on the CPU; ignoring --gpu \(gpu!)", "cortado") }
        Parallel.setThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        try Precision.use(precision)
        if precision != .fp32 { Log.info("Precision: \(precision.summary)", "cortado") }
    }
}

extension StatusLine.Mode: ExpressibleByArgument {}
extension Reduction: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

func checkFile(_ path: String, _ what: String) throws {
    guard FileManager.default.fileExists(atPath: path) else {
        throw UsageError("cannot open \(what) \(path): no such file")
    }
}

/// A comma-separated flag (`--weights a,b`, `--blobs fc7,prob`, `--stage x,y`) as its items,
/// trimmed, empty ones dropped.
func commaList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
