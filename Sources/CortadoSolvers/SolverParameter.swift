import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import CortadoNet
import Foundation

public enum SnapshotFormat: String, Sendable {
    case hdf5 = "HDF5"
    case binaryProto = "BINARYPROTO"
}

/// Caffe's solver types, by the names `type:` takes (any case); the old `solver_type` enum maps onto them.
public enum SolverType: String, Sendable, CaseIterable, CustomStringConvertible {
    case sgd = "SGD", nesterov = "Nesterov", adaGrad = "AdaGrad", rmsProp = "RMSProp", adaDelta = "AdaDelta", adam = "Adam"
    public var description: String { rawValue }
}

/// How weight decay is applied: L2 (w·decay) or L1 (sign(w)·decay).
public enum RegularizationType: String, Sendable {
    case l1 = "L1", l2 = "L2"
}

/// A solver file with Caffe's defaults applied and every value checked before training starts,
/// so that a bad `lr_policy` fails now rather than mid-run.
public struct SolverParameter: Sendable {
    public var file: String
    public var node: ConfigNode

    public var trainNet: NetParameter
    public var testNets: [NetParameter]
    public var trainState: NetState
    public var testStates: [NetState]
    public var testIter: [Int]
    public var testInterval: Int
    public var testComputeLoss: Bool
    public var testInitialization: Bool
    public var baseLR: Float
    public var display: Int
    public var averageLoss: Int
    public var maxIter: Int
    public var iterSize: Int
    package var lrPolicy: LRPolicy
    public var momentum: Float
    public var momentum2: Float
    public var delta: Float
    public var rmsDecay: Float
    public var weightDecay: Float
    public var regularizationType: RegularizationType
    public var clipGradients: Float
    public var snapshot: Int
    public var snapshotPrefix: String
    public var snapshotFormat: SnapshotFormat
    public var snapshotAfterTrain: Bool
    public var randomSeed: Int
    public var type: SolverType
    public var debugInfo: Bool
    public var weights: [String]
    /// Cortado's own: where to write the JSON log (also `--log-json`).
    public var logJSON: String?

    public static let solverTypes = SolverType.allCases.map(\.rawValue)

    public static func load(file: String) throws -> SolverParameter {
        LayerRegistry.installSchemas()
        let text = try TextFormatParser.parse(file: file)
        return try SolverParameter(ConfigNode.validated(text, as: "SolverParameter"), file: file)
    }

    public init(_ node: ConfigNode, file: String) throws {
        self.file = file
        self.node = node
        testIter = node.ints("test_iter")
        testInterval = node.int("test_interval") ?? 0
        testComputeLoss = node.bool("test_compute_loss") ?? false
        testInitialization = node.bool("test_initialization") ?? true
        baseLR = node.float("base_lr") ?? 0
        display = node.int("display") ?? 0
        averageLoss = node.int("average_loss") ?? 1
        maxIter = node.int("max_iter") ?? 0
        iterSize = node.int("iter_size") ?? 1
        momentum = node.float("momentum") ?? 0
        momentum2 = node.float("momentum2") ?? 0.999
        delta = node.float("delta") ?? 1e-8
        rmsDecay = node.float("rms_decay") ?? 0.99
        weightDecay = node.float("weight_decay") ?? 0
        let regularization = node.string("regularization_type") ?? RegularizationType.l2.rawValue
        guard let knownRegularization = RegularizationType(rawValue: regularization) else {
            throw node.error("unknown regularization_type \"\(regularization)\"; expected \"L1\" or \"L2\"", field: "regularization_type")
        }
        regularizationType = knownRegularization
        clipGradients = node.float("clip_gradients") ?? -1
        snapshot = node.int("snapshot") ?? 0
        // Cortado writes HDF5 unless the file asks otherwise (Caffe defaults to BINARYPROTO).
        snapshotFormat = node.enumValue("snapshot_format").flatMap(SnapshotFormat.init(rawValue:)) ?? .hdf5
        snapshotAfterTrain = node.bool("snapshot_after_train") ?? true
        randomSeed = node.int("random_seed") ?? -1
        debugInfo = node.bool("debug_info") ?? false
        weights = node.strings("weights")
        logJSON = node.string("log_json")
        type = try Self.solverType(node)
        lrPolicy = try LRPolicy(node)

        let stem = URL(fileURLWithPath: file).deletingPathExtension().path
        var prefix = node.string("snapshot_prefix") ?? stem
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: prefix, isDirectory: &isDir), isDir.boolValue {
            prefix = URL(fileURLWithPath: prefix).appendingPathComponent(URL(fileURLWithPath: stem).lastPathComponent).path
        }
        snapshotPrefix = prefix

        try Self.checkRanges(node)

        trainState = NetState(phase: .train)
        testStates = []
        trainNet = NetParameter(name: "", layers: [])
        testNets = []
        try loadNets(node)
    }

    private static func solverType(_ node: ConfigNode) throws -> SolverType {
        if let t = node.string("type") {
            guard let known = SolverType.allCases.first(where: { $0.rawValue.lowercased() == t.lowercased() }) else {
                throw node.error("unknown solver type \"\(t)\"; known types: \(solverTypes.joined(separator: ", "))\(didYouMean(t, solverTypes))", field: "type")
            }
            return known
        }
        if let old = node.enumValue("solver_type") {
            return SolverType.allCases.first { $0.rawValue.uppercased() == old } ?? .sgd
        }
        return .sgd
    }

    /// Every value check that needs no net, so `validate` runs them even when a net is broken.
    static func checkRanges(_ node: ConfigNode) throws {
        for f in ["base_lr", "momentum", "momentum2", "delta", "rms_decay", "weight_decay", "gamma", "power", "clip_gradients"] {
            if let v = node.float(f), !v.isFinite { throw node.error("\(f) must be a finite number, found \(v)", field: f) }
        }
        for f in ["base_lr", "momentum", "weight_decay", "delta"] {
            if let v = node.float(f), v < 0 { throw node.error("\(f) must not be negative, found \(caffeFloat(v))", field: f) }
        }
        for f in ["max_iter", "display", "snapshot", "test_interval"] {
            if let v = node.int(f), v < 0 { throw node.error("\(f) must be zero or positive, found \(v)", field: f) }
        }
        for f in ["iter_size", "average_loss"] {
            if let v = node.int(f), v < 1 { throw node.error("\(f) must be at least 1, found \(v)", field: f) }
        }
        for v in node.ints("test_iter") where v < 0 {
            throw node.error("test_iter must be zero or positive, found \(v)", field: "test_iter")
        }
    }

    /// Resolves a path from the solver file: next to the solver first, then the working
    /// directory (Caffe only tries the working directory).
    public func resolve(_ path: String) -> String { Self.resolve(path, besides: file) }

    static func resolve(_ path: String, besides file: String) -> String {
        if path.hasPrefix("/") { return path }
        let beside = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
        return FileManager.default.fileExists(atPath: beside) ? beside : path
    }

    private mutating func loadNets(_ node: ConfigNode) throws {
        let sources = ["net", "net_param", "train_net", "train_net_param"].filter(node.has)
        guard sources.count == 1 else {
            if sources.isEmpty { throw node.error("the solver names no net; add `net: \"path/to/net.prototxt\"`") }
            throw node.error("the solver gives the net more than once (\(sources.joined(separator: ", "))); keep one", field: sources[1])
        }
        let generic: NetParameter?
        switch sources[0] {
        case "net", "train_net":
            let path = resolve(node.string(sources[0])!)
            guard FileManager.default.fileExists(atPath: path) else {
                throw node.error("net file \(node.string(sources[0])!) not found (looked beside the solver and in \(FileManager.default.currentDirectoryPath))", field: sources[0])
            }
            trainNet = try NetParameter.load(file: path)
            generic = sources[0] == "net" ? trainNet : nil
        default:
            trainNet = try NetParameter(node.child(sources[0])!, file: file)
            generic = sources[0] == "net_param" ? trainNet : nil
        }
        if let s = trainNet.state { trainState.merge(s) }
        trainState.phase = .train
        if let s = node.child("train_state") { trainState.merge(s) }

        var tests: [NetParameter] = []
        for t in node.strings("test_net") {
            let path = resolve(t)
            guard FileManager.default.fileExists(atPath: path) else { throw node.error("test net file \(t) not found", field: "test_net") }
            tests.append(try NetParameter.load(file: path))
        }
        for t in node.children("test_net_param") { tests.append(try NetParameter(t, file: file)) }
        let explicitTests = tests.count
        if let generic, testIter.count > explicitTests {
            tests += Array(repeating: generic, count: testIter.count - explicitTests)
        }
        if testIter.count != tests.count {
            if tests.count > 0 || testInterval > 0 {
                throw node.error("test_iter is given \(testIter.count) time(s) but there are \(tests.count) test net(s); give one test_iter per test net", field: "test_iter")
            }
        }
        let stateNodes = node.children("test_state")
        if !stateNodes.isEmpty && stateNodes.count != tests.count {
            throw node.error("test_state is given \(stateNodes.count) time(s) for \(tests.count) test net(s)", field: "test_state")
        }
        testNets = tests
        testStates = tests.enumerated().map { i, net in
            var s = NetState(phase: .test)
            if let ns = net.state { s.merge(ns) }
            s.phase = .test
            if i < stateNodes.count { s.merge(stateNodes[i]) }
            return s
        }
    }
}
