import ArgumentParser
import Cortado
import Foundation

struct DrawCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "draw",
        abstract: "Draw a net as a graph: DOT; SVG (through Graphviz's dot when installed, else drawn by Cortado); PNG through dot.",
        discussion: """
        Layers are boxes with their type and key parameters; blobs are edges with their shapes
        (when the net can be built here; otherwise with names only).
        Examples:
          cortado draw models/lenet/lenet_train_test.prototxt -o lenet.dot
          cortado draw models/lenet/lenet_train_test.prototxt -o lenet.svg --phase TEST --rankdir TB
        """
    )

    @Argument(help: "The net prototxt.") var model: String
    @Option(name: .shortAndLong, help: "Output file: .dot, .svg or .png.") var output: String
    @Option(help: "TRAIN or TEST.") var phase: String = "TRAIN"
    @Option(help: "Graph direction: LR, TB, RL or BT.") var rankdir: String = "LR"

    package func run() throws {
        try reportingErrors {
            let p = try parsePhase(phase)
            guard ["LR", "TB", "RL", "BT"].contains(rankdir) else { throw UsageError("--rankdir must be LR, TB, RL or BT, found \(rankdir)") }
            try checkFile(model, "model file")
            let param = try NetParameter.load(file: model)
            var shapes: [String: [Int]] = [:]
            Log.enabled = false
            var rng = RNG(seed: 1)
            let built = try? Net(param, state: NetState(phase: p), rng: &rng, verbose: false)
            Log.enabled = true
            if let built {
                for (i, name) in built.blobNames.enumerated() { shapes[name] = built.blobs[i].shape }
            } else {
                Log.warning("the net could not be built here (is its data present?), so edges show blob names without shapes", "draw")
            }
            let dot = NetGraph.dot(param, phase: p, rankdir: rankdir, shapes: shapes)
            let ext = URL(fileURLWithPath: output).pathExtension.lowercased()
            if ext == "dot" || ext == "gv" {
                try writeText(dot, to: output)
            } else if ext == "svg" && Self.graphviz == nil {
                // The dashboard's own renderer: the same graph without Graphviz.
                try writeText(NetGraph.svg(param, phase: p, shapes: shapes), to: output)
            } else if ext == "svg" || ext == "png" {
                try render(dot, format: ext, to: output)
            } else {
                throw UsageError("cannot tell the format of \(output): use .dot, .svg or .png")
            }
            Log.info("Wrote \(output)", "draw")
        }
    }

    /// Graphviz's `dot` on PATH, if installed.
    static var graphviz: String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map({ "\($0)/dot" }).first(where: FileManager.default.isExecutableFile)
    }

    /// Renders through Graphviz's `dot`, which must be on PATH, into a scratch file that is
    /// then written to `path` atomically, as every file Cortado writes.
    func render(_ dot: String, format: String, to path: String) throws {
        guard let exe = Self.graphviz else {
            throw UsageError("writing \(format.uppercased()) needs Graphviz's `dot`, which is not installed; install it with `apt-get install graphviz`, or write .svg (drawn without it) or .dot")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        let scratch = NSTemporaryDirectory() + "cortado-draw-\(getpid()).\(format)"
        defer { unlink(scratch) }
        p.arguments = ["-T\(format)", "-o", scratch]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardError = err
        try p.run()
        try input.fileHandleForWriting.write(contentsOf: Data(dot.utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw UsageError("Graphviz's dot failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        try AtomicFile.write(Array(try FileBytes.read(scratch, what: "rendered graph")), to: path)
    }
}

/// Writes a text output (a graph, a plot) atomically, as every file Cortado writes.
func writeText(_ text: String, to path: String) throws {
    try AtomicFile.write(Array(text.utf8), to: path)
}
