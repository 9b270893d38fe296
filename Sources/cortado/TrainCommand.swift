import ArgumentParser
import Cortado
import CortadoServe
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a net from a solver file, fine-tune it (--weights) or resume it (--snapshot).",
        discussion: """
        Examples:
          cortado train --solver solvers/lenet_solver.prototxt
          cortado train --solver solvers/lenet_solver.prototxt --weights pretrained.caffemodel.h5
          cortado train -solver solvers/lenet_solver.prototxt -snapshot snapshots/lenet_iter_5000.solverstate.h5
          cortado train --solver solvers/lenet_solver.prototxt --log-json train.jsonl --progress never
          mpirun -np 2 cortado train --solver solvers/lenet_solver.prototxt
        On a terminal a live status line shows progress; on a pipe or file only Caffe's log lines are printed.
        Under mpirun each rank trains on its share of the batches and gradients are summed over ranks:
        N ranks give the weights of one process with iter_size N and the same --threads as each rank
        (bit for bit; other thread counts differ in rounding). Rank 0 logs, tests and snapshots.
        """
    )

    @Option(name: [.long, .customLong("solver", withSingleDash: true)], help: "The solver prototxt.")
    var solver: String

    @Option(name: [.long, .customLong("weights", withSingleDash: true)], help: "Weights to fine-tune from (comma-separated, applied in order).")
    var weights: String?

    @Option(name: [.long, .customLong("snapshot", withSingleDash: true)], help: "A .solverstate or .solverstate.h5 to resume from.")
    var snapshot: String?

    @Option(name: [.long, .customLong("sigint_effect"), .customLong("sigint_effect", withSingleDash: true)], help: "On SIGINT: stop (snapshot if snapshot_after_train), snapshot, or none.")
    var sigintEffect: String = "stop"

    @Option(name: [.long, .customLong("sighup_effect"), .customLong("sighup_effect", withSingleDash: true)], help: "On SIGHUP: snapshot, stop, or none.")
    var sighupEffect: String = "snapshot"

    @Option(name: [.customLong("log-json"), .customLong("log_json")], help: "Write one JSON object per display step and test to this file.")
    var logJSON: String?

    @Option(help: "Live status line: auto (on a terminal), always, or never.")
    var progress: StatusLine.Mode = .auto

    @OptionGroup var state: NetStateOptions

    @Option(help: "Under mpirun, how ranks sum gradients: ordered (in rank order, bitwise equal to one process with iter_size N) or fast (MPI_Allreduce).")
    var allreduce: Reduction = .ordered

    @Option(name: .customLong("rank-timeout"), help: "Under mpirun, seconds one rank waits for another before stopping every rank with an error.")
    var rankTimeout: Double = 60

    @Option(help: "Serve a dashboard of this run at [HOST:]PORT (HOST defaults to 127.0.0.1; a POST needs the printed token).")
    var serve: String?

    @Option(help: "With --serve: the dashboard's token instead of a generated one.")
    var token: String?

    @Flag(name: .customLong("verbose-ranks"), help: "Under mpirun, let ranks other than 0 log too (each line says its rank).")
    var verboseRanks = false

    @OptionGroup var verify: VerifyOption

    package func run() throws {
        try reportingErrors {
            let comm = try startRanks()
            try train(comm)
            // Only after success: finalizing waits for every rank, and a failed run must not
            // wait for one that died (fail() ends them all instead).
            comm?.finalize()
        }
    }

    /// Starts MPI when a launcher started this process; nil (and nothing changes) otherwise.
    private func startRanks() throws -> Communicator? {
        try state.applyThreadsAndPrecision()
        guard Communicator.launched else {
            if allreduce != .ordered || verboseRanks {
                Log.warning("--allreduce and --verbose-ranks apply under mpirun; this process trains alone", "train")
            }
            return nil
        }
        guard rankTimeout >= 0 else { throw UsageError("--rank-timeout takes seconds ≥ 0 (0 waits forever)") }
        let comm = try Communicator(timeout: rankTimeout)
        abortRanks = { comm.abort(code: 1) }
        Signals.explainTermination("error: rank \(comm.rank) of \(comm.size): stopped by the launcher, which ends every rank when one fails (see its message)")
        if comm.size > 1 {
            Log.quiet = comm.rank != 0 && !verboseRanks
            if verboseRanks { Log.label = "[rank \(comm.rank)] " }
            // Ranks on one machine share its cores unless --threads says otherwise.
            let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
            if state.threads == nil { Parallel.setThreads(max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1))) }
        }
        Log.info("Rank \(comm.rank) of \(comm.size) (\(Communicator.libraryVersion)); gradients summed \(allreduce == .ordered ? "in rank order" : "by MPI_Allreduce")", "train")
        if comm.size > 1 && allreduce == .ordered {
            // Say exactly what this run equals: bitwise only at the same thread count.
            Log.info("These \(comm.size) ranks give the weights of one process with iter_size × \(comm.size) and --threads \(Parallel.threads), bit for bit", "train")
        }
        return comm
    }

    private func train(_ comm: Communicator?) throws {
        verify.apply()
        if weights != nil && snapshot != nil {
            throw UsageError("give either --weights (fine-tune) or --snapshot (resume), not both")
        }
        guard let onInt = SignalEffect(rawValue: sigintEffect), let onHup = SignalEffect(rawValue: sighupEffect) else {
            throw UsageError("--sigint_effect and --sighup_effect take stop, snapshot or none")
        }
        try checkFile(solver, "solver file")
        var param = try SolverParameter.load(file: solver)
        param.trainState.level = state.level
        param.trainState.stages += state.stages
        Log.info("Using \(ProcessInfo.processInfo.activeProcessorCount) CPU core(s), \(Parallel.threads) thread(s); OpenBLAS core \(blasCoreName())", "train")
        let ranks = comm.flatMap { $0.size > 1 ? $0 : nil }
        if let ranks {
            try DataParallel.checkAgreement(ranks, files: [solver] + Set([param.trainNet.file] + param.testNets.map(\.file)).sorted().filter { $0 != solver })
        }
        let s = try Solver(param)
        let root = ranks.map { $0.rank == 0 } ?? true
        // Under mpirun rank 0 alone reads weights or a snapshot, and shares them.
        if root { try loadStartingPoint(s, param) }
        if let ranks {
            try DataParallel.shareStartingPoint(s, ranks)
            let sync = GradientSync(comm: ranks, net: s.net, reduction: allreduce)
            sync.overlap = ProcessInfo.processInfo.environment["CORTADO_OVERLAP"] != "0"
            s.sync = sync
            s.writesSnapshots = root
        }
        // The snapshot folder first: the JSON log and the run record live in it.
        if root { try s.prepareSnapshots() }
        // Every run keeps a JSON log beside its snapshots (cheap: a line per display and test),
        // for its curves in `cortado serve` and `cortado plot`; `--log-json` names another.
        // Paths compared as files (`./x` is `x`): two logs on one file would garble it.
        let logPath: String? = root ? absolutePath(param.snapshotPrefix + "_log.jsonl") : nil
        if let logPath {
            for path in Set([logPath] + [logJSON ?? param.logJSON].compactMap { $0.map(absolutePath) }).sorted() {
                s.observers.append(try JSONLog(path: path).record)
            }
        }
        var status: StatusLine? = nil
        if root && StatusLine.enabled(progress) {
            let line = StatusLine()
            line.install()
            s.observers.append(line.record)
            status = line
        }
        defer { status?.finish() }
        Signals.install()
        s.requestedAction = { Solver.SolverAction(Signals.requestedAction(sigint: onInt, sighup: onHup)) }
        let run = root ? startRunRecord(s, param, log: logPath) : nil
        if let run, let serve { startDashboard(serve, record: run.path) }
        Log.info("Starting Optimization", "train")
        let start = Date()
        do {
            let finished = try s.solve()
            run?.end(finished ? .finished : .stopped, iter: s.iter)
        } catch {
            run?.end(s.diverged ? .diverged : .failed, iter: s.iter)
            throw error
        }
        if let sync = s.sync as? GradientSync {
            logCommunication(sync, seconds: Date().timeIntervalSince(start))
            sync.close()
        }
    }

    /// `<snapshot_prefix>_run.json`, so `cortado serve` finds the run; a run that cannot
    /// write it trains anyway.
    private func startRunRecord(_ s: Solver, _ param: SolverParameter, log: String?) -> RunFile? {
        let prefix = absolutePath(param.snapshotPrefix)
        // Copies of the solver and the net beside the record: the dashboard serves only files
        // inside the run's folder, and the run's settings stay with its snapshots.
        let solverCopy = prefix + "_solver.prototxt", netCopy = prefix + "_net.prototxt"
        for (from, to) in [(solver, solverCopy), (param.trainNet.file, netCopy)] {
            do { try RunRecord.keepCopy(of: from, at: to) } catch {
                Log.warning("cannot copy \(from) to \(to) (\(error)); the dashboard will not show it", "train")
            }
        }
        var record = RunRecord(name: Self.runName(prefix: prefix, net: s.net.name), solver: solverCopy, net: netCopy, log: log,
                               snapshotPrefix: prefix, maxIter: param.maxIter, iter: s.iter)
        if Precision.current != .fp32 { record.precision = Precision.current.rawValue }
        let file = RunFile(record: record, path: RunRecord.path(snapshotPrefix: record.snapshotPrefix))
        do { try record.save(file.path) } catch {
            Log.warning("cannot write \(file.path) (\(error)); `cortado serve` will not list this run", "train")
            return nil
        }
        return file
    }

    /// A run's name in the dashboard: the snapshot prefix's last part (`lenet`), which tells
    /// runs of one net apart, with the net's name when it says more (`lenet · LeNet`).
    static func runName(prefix: String, net: String) -> String {
        let base = (prefix as NSString).lastPathComponent
        return net.isEmpty || net.lowercased() == base.lowercased() ? base : "\(base) · \(net)"
    }

    /// Starts the dashboard on its own tasks; if it cannot start, training goes on without it.
    private func startDashboard(_ address: String, record: String) {
        do {
            var options = Dashboard.Options()
            (options.host, options.port) = try ServeCommand.parseAddress(address)
            options.token = token
            options.records = [record]
            let dashboard = try Dashboard(options)
            let port = try ServeCommand.startBlocking(dashboard)
            Log.info("Dashboard: \(dashboard.address(port: port))", "serve")
            Self.dashboard = dashboard
        } catch {
            Log.warning("the dashboard did not start (\(error)); training goes on without it", "serve")
        }
    }
    nonisolated(unsafe) static var dashboard: Dashboard?

    /// Resumes from --snapshot, or fine-tunes from --weights (or the solver's `weights`).
    private func loadStartingPoint(_ s: Solver, _ param: SolverParameter) throws {
        if let snapshot {
            Log.info("Resuming from \(snapshot)", "train")
            try s.restore(from: snapshot)
            return
        }
        let list = weights.map { [$0] } ?? param.weights
        for file in list.flatMap(commaList) {
            Log.info("Finetuning from \(file)", "train")
            let (missing, ignored) = try Snapshot.loadWeights(s.net, from: file)
            for name in ignored { Log.info("Ignoring source layer \(name)", "train") }
            let withWeights = s.net.layers.filter { !$0.blobs.isEmpty }.count
            if withWeights > 0 && missing.count >= withWeights {
                // Weights are copied by layer name; none matching is almost always a mistake.
                let names = ignored.prefix(8).joined(separator: ", ") + (ignored.count > 8 ? ", …" : "")
                Log.warning("NO WEIGHTS COPIED: none of the net's \(withWeights) layers with weights is named in \(file)"
                            + (ignored.isEmpty ? "" : " (its layers: \(names))") + "; training starts from the fillers. Weights are copied by layer name", "train")
            } else if !missing.isEmpty {
                Log.info("Layers not in \(file), keeping their fillers: \(missing.joined(separator: ", "))", "train")
            }
        }
    }

    /// How much of the run went to summing gradients, and how much of that backward hid.
    private func logCommunication(_ sync: GradientSync, seconds: Double) {
        func share(_ t: Double) -> String { "\(caffeFloat(Float(t))) s (\(caffeFloat(Float(100 * t / max(seconds, 1e-9))))% of \(caffeFloat(Float(seconds))) s)" }
        Log.info("Summing gradients took \(share(sync.communicating)); training waited for it \(share(sync.waiting))", "train")
    }
}

/// A run record being kept up to date by `train`.
struct RunFile {
    var record: RunRecord
    let path: String

    /// Records how the run ended (a failure to write is only a warning).
    func end(_ state: RunRecord.State, iter: Int) {
        var r = record
        r.state = state
        r.iter = iter
        do { try r.save(path) } catch { Log.warning("cannot update \(path): \(error)", "train") }
    }
}

/// A path made absolute and standardized, so two spellings of one file compare equal.
private func absolutePath(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
