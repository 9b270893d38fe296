import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

public enum Phase: String, Sendable {
    case train = "TRAIN"
    case test = "TEST"
}

/// The state a net is built in; layers are included or excluded against it.
public struct NetState: Sendable {
    public var phase: Phase = .test
    public var level: Int = 0
    public var stages: [String] = []

    public init(phase: Phase = .test, level: Int = 0, stages: [String] = []) {
        self.phase = phase
        self.level = level
        self.stages = stages
    }

    /// Caffe merges states field by field: later set fields win, stages accumulate.
    package mutating func merge(_ node: ConfigNode) {
        if let p = node.enumValue("phase") { phase = Phase(rawValue: p) ?? phase }
        if let l = node.int("level") { level = l }
        stages += node.strings("stage")
    }
}

public struct NetStateRule: Sendable {
    public var phase: Phase?
    public var minLevel: Int?
    public var maxLevel: Int?
    public var stages: [String] = []
    public var notStages: [String] = []

    public init(phase: Phase? = nil, minLevel: Int? = nil, maxLevel: Int? = nil, stages: [String] = [], notStages: [String] = []) {
        self.phase = phase
        self.minLevel = minLevel
        self.maxLevel = maxLevel
        self.stages = stages
        self.notStages = notStages
    }

    package init(_ node: ConfigNode) {
        phase = node.enumValue("phase").flatMap(Phase.init(rawValue:))
        minLevel = node.int("min_level")
        maxLevel = node.int("max_level")
        stages = node.strings("stage")
        notStages = node.strings("not_stage")
    }

    /// A rule matches when every condition it sets holds (Caffe's StateMeetsRule).
    public func matches(_ state: NetState) -> Bool {
        if let phase, phase != state.phase { return false }
        if let minLevel, state.level < minLevel { return false }
        if let maxLevel, state.level > maxLevel { return false }
        if !stages.allSatisfy(state.stages.contains) { return false }
        if notStages.contains(where: state.stages.contains) { return false }
        return true
    }
}

public struct ParamSpec: Sendable {
    public var name: String = ""
    public var permissive = false
    public var lrMult: Float = 1
    public var decayMult: Float = 1
    /// Whether the file gave lr_mult (BatchNorm refuses a non-zero one only when given).
    public var lrMultGiven = false

    public init(name: String = "", lrMult: Float = 1, decayMult: Float = 1) {
        self.name = name
        self.lrMult = lrMult
        self.decayMult = decayMult
    }

    package init(_ node: ConfigNode) {
        name = node.string("name") ?? ""
        permissive = node.enumValue("share_mode") == "PERMISSIVE"
        lrMult = node.float("lr_mult") ?? 1
        lrMultGiven = node.has("lr_mult")
        decayMult = node.float("decay_mult") ?? 1
    }
}

/// One `layer { ... }` of a net file, with the fields every layer shares; a layer reads
/// its own `*_param` message from `node`.
public struct LayerParameter: Sendable {
    public var name: String
    public var type: String
    public var bottom: [String]
    public var top: [String]
    public var phase: Phase?
    public var lossWeight: [Float]
    public var param: [ParamSpec]
    public var propagateDown: [Bool]
    public var include: [NetStateRule]
    public var exclude: [NetStateRule]
    public var node: ConfigNode
    /// Shapes from the old net-level `input_shape`/`input_dim` fields; an Input layer uses them when set.
    public var inputShapes: [[Int]]? = nil
    /// For a data layer replaced by synthetic data: the type the file gave it.
    public var declaredType: String? = nil

    public init(name: String, type: String, bottom: [String] = [], top: [String] = [], node: ConfigNode? = nil) {
        self.name = name
        self.type = type
        self.bottom = bottom
        self.top = top
        self.phase = nil
        self.lossWeight = []
        self.param = []
        self.propagateDown = []
        self.include = []
        self.exclude = []
        self.node = node ?? .empty("LayerParameter", path: "layer \"\(name)\"")
    }

    package init(_ node: ConfigNode) throws {
        name = node.string("name") ?? ""
        type = node.string("type") ?? ""
        bottom = node.strings("bottom")
        top = node.strings("top")
        phase = node.enumValue("phase").flatMap(Phase.init(rawValue:))
        lossWeight = node.floats("loss_weight")
        param = node.children("param").map(ParamSpec.init)
        propagateDown = node.bools("propagate_down")
        include = node.children("include").map(NetStateRule.init)
        exclude = node.children("exclude").map(NetStateRule.init)
        self.node = node
        if type.isEmpty { throw node.error("layer has no type") }
        if !include.isEmpty && !exclude.isEmpty {
            throw node.error("a layer may have include rules or exclude rules, not both")
        }
    }

    public var location: TextLocation { node.location }

    /// The layer's `*_param` message, or an empty one so that defaults apply. A field the schema
    /// lacks (a program's own layer naming a message Caffe does not have) is an error, not a trap.
    public func sub(_ field: String) throws -> ConfigNode {
        if let c = node.child(field) { return c }
        guard case .message(let type)? = node.spec.fields[field]?.kind, let spec = Schema.messages[type] else {
            throw error("LayerParameter has no message field \(field); a layer's settings must name one of Caffe's *_param fields")
        }
        let path = node.path.isEmpty ? field : "\(node.path) › \(field)"
        return ConfigNode(message: TextMessage(location: node.location), spec: spec, path: path)
    }

    public func error(_ text: String) -> ConfigError {
        ConfigError(location: node.location, path: "layer \"\(name)\" (\(type))", message: text)
    }

    /// Whether this layer is part of a net built in `state` (Caffe's FilterNet).
    public func isIncluded(in state: NetState) -> Bool {
        if !include.isEmpty { return include.contains { $0.matches(state) } }
        return !exclude.contains { $0.matches(state) }
    }
}

/// A whole net definition: its layers in file order, the old net-level inputs turned into an
/// Input layer up front, and the state the file asks for.
public struct NetParameter: Sendable {
    public var name: String
    public var layers: [LayerParameter]
    public var state: ConfigNode?
    public var forceBackward: Bool
    public var debugInfo: Bool
    public var file: String

    public init(name: String, layers: [LayerParameter], forceBackward: Bool = false) {
        self.name = name
        self.layers = layers
        self.state = nil
        self.forceBackward = forceBackward
        self.debugInfo = false
        self.file = "<built-in>"
    }

    public init(_ given: ConfigNode, file: String) throws {
        var problems: [ConfigError.Problem] = []
        try self.init(given, file: file, problems: &problems)
        if !problems.isEmpty { throw ConfigError(problems: problems) }
    }

    /// Reads the net, collecting each layer's problem into `problems` and going on without
    /// that layer (what `validate` needs); throws only when the file cannot be upgraded.
    package init(_ given: ConfigNode, file: String, problems: inout [ConfigError.Problem]) throws {
        var node = given
        if V1Upgrade.needsUpgrade(net: given.message) {
            node = ConfigNode(message: try V1Upgrade.upgradeNet(given.message), spec: given.spec, path: given.path)
            if given.has("layers") { Self.noteUpgrade(file) }
        }
        self.file = file
        name = node.string("name") ?? ""
        state = node.child("state")
        forceBackward = node.bool("force_backward") ?? false
        debugInfo = node.bool("debug_info") ?? false
        var layers: [LayerParameter] = []
        for child in node.children("layer") {
            do { layers.append(try LayerParameter(child)) } catch let e as ConfigError { problems += e.problems }
        }
        do {
            if let input = try Self.inputLayer(node) { layers.insert(input, at: 0) }
        } catch let e as ConfigError { problems += e.problems }
        self.layers = layers
    }

    /// The state the file asks for, in `phase`.
    public func state(in phase: Phase) -> NetState {
        var s = NetState(phase: phase)
        if let node = state { s.merge(node); s.phase = phase }
        return s
    }

    nonisolated(unsafe) private static var upgradedFiles: Set<String> = []

    /// Says once per file that an old-syntax net was upgraded in memory.
    static func noteUpgrade(_ file: String) {
        guard upgradedFiles.insert(file).inserted else { return }
        Log.warning("\(file) uses Caffe's old V1 syntax (`layers { type: ENUM }`); upgraded in memory. `cortado upgrade \(file)` prints the modern form.", "upgrade")
    }

    public static func load(file: String) throws -> NetParameter {
        LayerRegistry.installSchemas()
        let text = try TextFormatParser.parse(file: file)
        return try NetParameter(ConfigNode.validated(text, as: "NetParameter"), file: file)
    }

    /// Turns the old `input: "data"` + `input_shape { }` or `input_dim: …` form into an Input layer,
    /// as Caffe's UpgradeNetInput does.
    static func inputLayer(_ node: ConfigNode) throws -> LayerParameter? {
        let inputs = node.strings("input")
        guard !inputs.isEmpty else {
            if node.has("input_shape") || node.has("input_dim") {
                throw node.error("input_shape/input_dim given without `input:` names", field: node.has("input_dim") ? "input_dim" : "input_shape")
            }
            return nil
        }
        var shapes: [[Int]] = node.children("input_shape").map { $0.ints("dim") }
        let dims = node.ints("input_dim")
        if shapes.isEmpty {
            guard dims.count == 4 * inputs.count else {
                throw node.error("\(inputs.count) input(s) need \(4 * inputs.count) input_dim values, found \(dims.count)", field: "input_dim")
            }
            shapes = (0..<inputs.count).map { Array(dims[4 * $0 ..< 4 * $0 + 4]) }
        }
        guard shapes.count == inputs.count || shapes.count == 1 else {
            throw node.error("\(inputs.count) input(s) but \(shapes.count) input_shape(s)", field: "input_shape")
        }
        var layer = LayerParameter(name: "input", type: "Input", top: inputs)
        layer.inputShapes = shapes
        return layer
    }
}
