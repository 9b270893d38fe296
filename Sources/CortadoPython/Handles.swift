import CortadoBase
import Foundation

// The C interface the Python package (python/cortado/_lib.py) loads with ctypes. Objects cross
// as opaque handles: each handle given out holds one reference (Unmanaged.passRetained), and
// Python gives it back with `cortado_release` when its wrapper is collected, so a numpy array
// keeps its memory alive after its Net is gone, as pycaffe's do. Calls that can fail return
// 0 for success (or a handle), and leave the message for `cortado_last_error`.

/// A retained handle for `object`.
func handle(_ object: AnyObject) -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(object).toOpaque()
}

/// The object behind a handle, without changing its count.
func object<T: AnyObject>(_ h: UnsafeMutableRawPointer, as type: T.Type = T.self) -> T {
    Unmanaged<AnyObject>.fromOpaque(h).takeUnretainedValue() as! T
}

@_cdecl("cortado_release")
public func cortado_release(_ h: UnsafeMutableRawPointer?) {
    guard let h else { return }
    Unmanaged<AnyObject>.fromOpaque(h).release()
}

/// The last failure's message on this thread.
private let lastErrorKey = "cortado.lastError"

func setLastError(_ text: String) {
    Thread.current.threadDictionary[lastErrorKey] = text
}

/// Runs `body`; a failure becomes status 1 and the last error.
func status(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch {
        setLastError(String(describing: error))
        return 1
    }
}

/// Runs `body` for a handle; a failure becomes nil and the last error.
func made(_ body: () throws -> AnyObject) -> UnsafeMutableRawPointer? {
    do {
        return handle(try body())
    } catch {
        setLastError(String(describing: error))
        return nil
    }
}

/// Element i of a list the caller counted, or an error (never a trap) when it is not there.
func element<T: AnyObject>(_ list: [T], _ i: Int32, _ what: String) throws -> T {
    guard i >= 0, Int(i) < list.count else { throw UsageError("no \(what) \(i): there are \(list.count)") }
    return list[Int(i)]
}

/// A C string the caller frees with `cortado_free`.
func cString(_ s: String) -> UnsafeMutablePointer<CChar> { strdup(s)! }

/// A JSON text of `value` as a C string for the caller to free.
func cJSON(_ value: Any) -> UnsafeMutablePointer<CChar> {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])) ?? Data("null".utf8)
    return cString(String(decoding: data, as: UTF8.self))
}

@_cdecl("cortado_last_error")
public func cortado_last_error() -> UnsafeMutablePointer<CChar> {
    cString(Thread.current.threadDictionary[lastErrorKey] as? String ?? "")
}

@_cdecl("cortado_free")
public func cortado_free(_ p: UnsafeMutableRawPointer?) { free(p) }

func string(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

func shape(_ dims: UnsafePointer<Int64>?, _ n: Int32) -> [Int] {
    guard let dims, n > 0 else { return [] }
    return (0..<Int(n)).map { Int(dims[$0]) }
}
