import ArgumentParser
import Cortado
import CortadoServe
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a dashboard of the training runs under folders: live curves, nets, snapshots, stop buttons.",
        discussion: """
        Examples:
          cortado serve snapshots/
          cortado serve --port 9000 runs/ other-runs/
          cortado serve --host 0.0.0.0 --token "$SECRET" runs/
        Runs are found by the <snapshot_prefix>_run.json files `cortado train` writes. The page is at the
        printed address; it binds to 127.0.0.1 unless --host says otherwise, and every POST (snapshot,
        stop) needs the printed token, as does every request off loopback.
        """
    )

    @Option(help: "The IPv4 address to bind (127.0.0.1: this machine only).")
    var host = "127.0.0.1"

    @Option(help: "The port (0 picks a free one).")
    var port: UInt16 = 8080

    @Option(help: "The token POSTs need (generated when not given).")
    var token: String?

    @Option(name: .customLong("rate-limit"), help: "Requests per second answered (twice as many in a burst); more get 429.")
    var rateLimit: Double = 50

    @Option(name: .customLong("head-timeout"), help: "Seconds a request's head may take to arrive; slower ones get 408 (slowloris).")
    var headTimeout: Double = 10

    @Argument(help: "Folders to search for runs.")
    var folders: [String] = ["."]

    package func run() throws {
        try reportingErrors {
            for folder in folders { try checkFile(folder, "folder") }
            var options = Dashboard.Options()
            options.host = host
            options.port = port
            options.token = token
            options.folders = folders
            guard rateLimit > 0 else { throw UsageError("--rate-limit must be positive") }
            options.rateLimit = rateLimit
            guard headTimeout > 0 else { throw UsageError("--head-timeout must be positive") }
            options.headTimeout = headTimeout
            let dashboard = try Dashboard(options)
            let bound = try Self.startBlocking(dashboard)
            if !dashboard.isLoopback && token == nil {
                Log.warning("serving on \(host), beyond this machine: every request needs the token below", "serve")
            }
            Log.info("Dashboard: \(dashboard.address(port: bound)) (Ctrl-C stops it)", "serve")
            while true { sleep(3600) }
        }
    }

    /// `[HOST:]PORT` of `train --serve`.
    static func parseAddress(_ text: String) throws -> (String, UInt16) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let port = UInt16(parts.last ?? "") else {
            throw UsageError("--serve takes [HOST:]PORT, e.g. 8080 or 127.0.0.1:8080, not \"\(text)\"")
        }
        return (parts.count == 2 ? String(parts[0]) : "127.0.0.1", port)
    }

    /// Starts the dashboard's server from synchronous code and waits until it listens.
    static func startBlocking(_ dashboard: Dashboard) throws -> UInt16 {
        final class Outcome: @unchecked Sendable { var port: UInt16 = 0; var error: Error? }
        let outcome = Outcome()
        let started = DispatchSemaphore(value: 0)
        Task.detached {
            do { outcome.port = try await dashboard.start() } catch { outcome.error = error }
            started.signal()
        }
        started.wait()
        if let error = outcome.error { throw error }
        return outcome.port
    }
}
