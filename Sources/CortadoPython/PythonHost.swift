import CortadoBase
import CortadoLayers
import Foundation

/// The Python side of Python layers, as three C functions the `cortado` package registers
/// (ctypes callbacks, which take the GIL themselves):
/// - create(layer, module, class, param_str, phase, name) → an instance handle, or −1;
/// - call(instance, step, layer, bottoms, n, tops, n, propagate_down) → 0, or 1 after
///   `cortado_python_fail` was given the traceback;
/// - release(instance), when the layer is gone.
/// Blob handles passed to `call` are retained for Python to own; the layer handle is not (it
/// lives for the whole call, and a Python layer must not keep its Swift layer alive).
public typealias PythonCreate = @convention(c) (UnsafeMutableRawPointer, UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>) -> Int64
public typealias PythonCall = @convention(c) (Int64, Int32, UnsafeMutableRawPointer, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32,
                                              UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32, UnsafePointer<UInt8>?) -> Int32
public typealias PythonRelease = @convention(c) (Int64) -> Void

final class CallbackHost: PythonLayerHost {
    let createFn: PythonCreate
    let callFn: PythonCall
    let releaseFn: PythonRelease

    init(create: PythonCreate, call: PythonCall, release: PythonRelease) {
        createFn = create
        callFn = call
        releaseFn = release
    }

    func create(_ layer: PythonLayer, settings: PythonParameter) throws -> Int64 {
        clearFailure()
        let id = createFn(Unmanaged.passUnretained(layer).toOpaque(), settings.module, settings.layer, settings.paramStr,
                          layer.phase == .train ? 0 : 1, layer.name)
        if id < 0 { throw PythonLayerError(layer: layer.name, traceback: takeFailure()) }
        return id
    }

    func call(_ instance: Int64, _ step: PythonLayerStep, layer: PythonLayer, bottom: [Blob], top: [Blob], propagateDown: [Bool]) throws {
        clearFailure()
        var bottoms: [UnsafeMutableRawPointer?] = bottom.map { handle($0) }
        var tops: [UnsafeMutableRawPointer?] = top.map { handle($0) }
        let flags = propagateDown.map { UInt8($0 ? 1 : 0) }
        let result = bottoms.withUnsafeMutableBufferPointer { b in
            tops.withUnsafeMutableBufferPointer { t in
                flags.withUnsafeBufferPointer { f in
                    callFn(instance, step.rawValue, Unmanaged.passUnretained(layer).toOpaque(), b.baseAddress, Int32(b.count),
                           t.baseAddress, Int32(t.count), f.baseAddress)
                }
            }
        }
        if result != 0 { throw PythonLayerError(layer: layer.name, traceback: takeFailure()) }
    }

    func release(_ instance: Int64) { releaseFn(instance) }
}

/// The traceback of the exception a Python layer raised, handed over by the Python side.
nonisolated(unsafe) private var failure = ""

private func clearFailure() { failure = "" }

private func takeFailure() -> String {
    defer { failure = "" }
    return failure.isEmpty ? "(the Python side gave no traceback)" : failure
}

@_cdecl("cortado_python_fail")
public func cortado_python_fail(_ text: UnsafePointer<CChar>) { failure = String(cString: text) }

@_cdecl("cortado_python_register")
public func cortado_python_register(_ create: PythonCreate, _ call: PythonCall, _ release: PythonRelease) {
    PythonLayers.install(CallbackHost(create: create, call: call, release: release))
}
