import CortadoBase
import CortadoIO
import CortadoConfig
import Foundation

/// Caffe's PythonParameter: the class that implements a `type: "Python"` layer.
public struct PythonParameter: LayerSettings {
    public static let field = "python_param"
    /// Its fields as caffe.proto has them (the schema that files are checked against).
    public static let schema = "module:string layer:string param_str:string share_in_parallel:bool"
    public var module = ""
    public var layer = ""
    public var paramStr = ""
    public var shareInParallel = false

    public init(_ p: ConfigNode) throws {
        module = p.string("module") ?? module
        layer = p.string("layer") ?? layer
        paramStr = p.string("param_str") ?? paramStr
        shareInParallel = p.bool("share_in_parallel") ?? shareInParallel
    }
}

/// What runs the Python side of Python layers: the `cortado` Python package when Python drives
/// Cortado (it registers itself), or an interpreter the tool embeds on first use, as Caffe's
/// `WITH_PYTHON_LAYER` build does. Calls come only from the thread that runs the net, never
/// from Cortado's worker threads; each throws a `PythonLayerError` carrying the traceback.
public protocol PythonLayerHost: AnyObject {
    /// Makes an instance of `settings.layer` from `settings.module`; returns its handle.
    func create(_ layer: PythonLayer, settings: PythonParameter) throws -> Int64
    func call(_ instance: Int64, _ step: PythonLayerStep, layer: PythonLayer, bottom: [Blob], top: [Blob], propagateDown: [Bool]) throws
    func release(_ instance: Int64)
}

/// The calls of Caffe's Python layer protocol, numbered as the Python side reads them.
public enum PythonLayerStep: Int32, Sendable {
    case setup = 0, reshape = 1, forward = 2, backward = 3
}

/// An exception raised in a Python layer: the layer's name and Python's traceback.
public struct PythonLayerError: CortadoFailure {
    public let layer: String
    public let traceback: String
    public init(layer: String, traceback: String) {
        self.layer = layer
        self.traceback = traceback
    }
    public var message: String {
        "Python layer \"\(layer)\" raised an exception:\n\(traceback.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

/// Where Python layers find their host.
public enum PythonLayers {
    nonisolated(unsafe) private static var current: (any PythonLayerHost)?
    /// Starts a host when a net first needs one (the tool sets this to embed an interpreter).
    nonisolated(unsafe) public static var starter: (() throws -> any PythonLayerHost)?
    private static let lock = NSLock()

    /// Sets the host (the Python package calls this when it loads the library).
    public static func install(_ host: (any PythonLayerHost)?) {
        lock.lock(); defer { lock.unlock() }
        current = host
    }

    /// The host, started on first use; the starter's interpreter installs itself while it runs.
    static func host(for layer: String) throws -> any PythonLayerHost {
        if let running = installed() { return running }
        guard let starter else {
            throw NetError("layer \"\(layer)\" is a Python layer, and this program has no Python interpreter to run it", layer: layer)
        }
        let started = try starter()
        return installed() ?? started
    }

    /// The host the Python package registered, if it did.
    public static var registered: (any PythonLayerHost)? { installed() }

    private static func installed() -> (any PythonLayerHost)? {
        lock.lock(); defer { lock.unlock() }
        return current
    }
}

/// Caffe's PythonLayer: setup, reshape, forward and backward are methods of a Python class
/// (a subclass of `caffe.Layer`), called with the layer's bottoms and tops as blobs whose
/// numpy arrays view Cortado's memory. The class may add parameter blobs in `setup`
/// (`self.blobs.add_blob`); they are saved, loaded, shared and trained like any others.
public final class PythonLayer: Layer {
    public let settings: PythonParameter
    private var host: (any PythonLayerHost)?
    private var instance: Int64 = -1
    private var settingUp = false

    public required init(_ param: LayerParameter, phase: Phase) throws {
        settings = try param.settings(PythonParameter.self)
        try super.init(param, phase: phase)
        guard !settings.module.isEmpty, !settings.layer.isEmpty else {
            throw error("python_param needs both module and layer (the Python module and the class in it)")
        }
    }

    deinit { if let host, instance >= 0 { host.release(instance) } }

    /// The instance's handle on the Python side (-1 before set-up).
    public var pythonInstance: Int64 { instance }

    /// A layer its class defines is only known by running it; `validate` and `summary` run it too.
    public override func setUp(bottom: [Blob], top: [Blob], context: LayerContext) throws {
        let host = try PythonLayers.host(for: name)
        self.host = host
        instance = try host.create(self, settings: settings)
        settingUp = true
        defer { settingUp = false }
        try host.call(instance, .setup, layer: self, bottom: bottom, top: top, propagateDown: [])
    }

    public override func reshape(bottom: [Blob], top: [Blob]) throws {
        try call(.reshape, bottom: bottom, top: top)
    }

    public override func forward(bottom: [Blob], top: [Blob]) throws {
        try call(.forward, bottom: bottom, top: top)
    }

    public override func backward(top: [Blob], propagateDown: [Bool], bottom: [Blob]) {
        do {
            try call(.backward, bottom: bottom, top: top, propagateDown: propagateDown)
        } catch {
            backwardFailure = error
        }
    }

    /// Blobs the Python class added in `setup` (`self.blobs.add_blob(*shape)`). Only there:
    /// the net lists a layer's parameters once it is set up, as Caffe does.
    public func addBlob(_ shape: [Int]) throws -> Blob {
        guard settingUp else { throw error("add_blob is only for setup: the net has already listed this layer's parameters") }
        let b = try Blob(checked: shape)
        blobs.append(b)
        return b
    }

    private func call(_ step: PythonLayerStep, bottom: [Blob], top: [Blob], propagateDown: [Bool] = []) throws {
        guard let host, instance >= 0 else { throw error("the Python layer was not set up") }
        try host.call(instance, step, layer: self, bottom: bottom, top: top, propagateDown: propagateDown)
    }
}
