import CortadoBase
import CortadoLayers
import Foundation

/// The interpreter `cortado train`, `test`, `time` and `validate` start when a net has a
/// Python layer, as Caffe's `WITH_PYTHON_LAYER` build embeds one. Nothing links against
/// libpython: the `python3` on PATH (or `$CORTADO_PYTHON`) says which library and module path
/// to use, so an activated virtual environment's numpy and the user's `PYTHONPATH` modules
/// are found. Under `mpirun` each rank is its own process with its own interpreter.
public enum EmbeddedPython {
    private typealias InitializeEx = @convention(c) (Int32) -> Void
    private typealias RunString = @convention(c) (UnsafePointer<CChar>, UnsafeRawPointer?) -> Int32
    private typealias SaveThread = @convention(c) () -> UnsafeMutableRawPointer?

    /// What the chosen python3 reports about itself.
    private struct Interpreter: Decodable {
        let library: String
        let soname: String
        let home: String
        let path: [String]
    }

    /// Loads libpython, imports the `cortado` package's layer host (which registers itself
    /// with `cortado_python_register`), and releases the GIL for the callbacks to take.
    public static func start() throws -> any PythonLayerHost {
        let python = try describe()
        guard let lib = dlopen(python.library, RTLD_NOW | RTLD_GLOBAL) ?? dlopen(python.soname, RTLD_NOW | RTLD_GLOBAL) else {
            throw NetError("cannot load the Python library \(python.library): \(String(cString: dlerror()))")
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let s = dlsym(lib, name) else { throw NetError("\(python.library) lacks \(name)") }
            return unsafeBitCast(s, to: type)
        }
        let initialize = try symbol("Py_InitializeEx", InitializeEx.self)
        let run = try symbol("PyRun_SimpleStringFlags", RunString.self)
        let saveThread = try symbol("PyEval_SaveThread", SaveThread.self)
        if getenv("PYTHONHOME") == nil { setenv("PYTHONHOME", python.home, 1) }
        initialize(0)
        guard run(bootstrap(python), nil) == 0 else {
            throw NetError("could not start Python (\(python.home)) for this net's Python layers (its traceback is above): "
                + "the cortado package needs numpy and protobuf in that Python (pip install numpy protobuf ./python), "
                + "or set CORTADO_PYTHON to a Python that has them")
        }
        _ = saveThread()
        guard let host = PythonLayers.registered else {
            throw NetError("Python started, but the cortado package did not register its layer host")
        }
        return host
    }

    private static func describe() throws -> Interpreter {
        let exe = ProcessInfo.processInfo.environment["CORTADO_PYTHON"] ?? "python3"
        let probe = """
        import json, os, sys, sysconfig
        so = sysconfig.get_config_var("INSTSONAME") or "libpython%d.%d.so.1.0" % sys.version_info[:2]
        print(json.dumps({"library": os.path.join(sysconfig.get_config_var("LIBDIR") or "", so), "soname": so,
                          "home": sys.base_prefix, "path": [p for p in sys.path if p]}))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [exe, "-c", probe]
        let out = Pipe()
        process.standardOutput = out
        do { try process.run() } catch {
            throw NetError("a Python layer needs Python 3, and \(exe) could not be run: \(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let found = try? JSONDecoder().decode(Interpreter.self, from: data) else {
            throw NetError("a Python layer needs Python 3, and \(exe) did not describe itself (exit \(process.terminationStatus))")
        }
        return found
    }

    /// The checkout's `python/` folder, found upwards from the tool (`.build/release/cortado`,
    /// where `release` may be a link), for a run from a source tree without `pip install`.
    private static func sourceTree() -> [String] {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("python")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("cortado/__init__.py").path) {
                return [candidate.standardized.path]
            }
            dir = dir.deletingLastPathComponent()
        }
        return []
    }

    /// Python's module path as the python3 on PATH has it, in its order (so a virtual
    /// environment's packages come before the base interpreter's, as they do there), the
    /// source tree's `python/` after it (a run from a checkout without `pip install ./python`),
    /// then the layer host.
    private static func bootstrap(_ python: Interpreter) -> String {
        let paths = (python.path + sourceTree()).map { "'" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
        return """
        import sys
        sys.cortado_embedded = True
        sys.path[:] = list(dict.fromkeys([\(paths.joined(separator: ", "))]))
        if '' not in sys.path:
            sys.path.insert(0, '')
        import cortado._host
        """
    }
}
