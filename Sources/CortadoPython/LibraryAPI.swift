import CortadoBase
import CortadoIO
import CortadoConfig
import CortadoLayers
import Foundation

/// Cortado's own version (the Python package reports Caffe's API level as `__version__`).
@_cdecl("cortado_version")
public func cortado_version() -> UnsafeMutablePointer<CChar> { cString("0.1.0") }

/// Every layer type a net may name, as JSON (pycaffe's `layer_type_list()`).
@_cdecl("cortado_layer_types")
public func cortado_layer_types() -> UnsafeMutablePointer<CChar> { cJSON(LayerRegistry.types) }

/// The schema files are checked against, as JSON: message → field → [kind, repeated], where
/// kind is int, float, bool, string, enum, `@Message`, or `?` for a message read as is. The
/// Python package's tests hold its caffe_pb2 to it.
@_cdecl("cortado_schema")
public func cortado_schema() -> UnsafeMutablePointer<CChar> {
    LayerRegistry.installSchemas()
    var out: [String: [String: [Any]]] = [:]
    for (name, message) in Schema.messages {
        var fields: [String: [Any]] = [:]
        for (field, spec) in message.fields { fields[field] = [kindName(spec.kind), spec.repeated] }
        out[name] = fields
    }
    return cJSON(out)
}

private func kindName(_ kind: FieldKind) -> String {
    switch kind {
    case .int: "int"
    case .float: "float"
    case .bool: "bool"
    case .string: "string"
    case .enumeration: "enum"
    case .message(let m): "@" + m
    case .opaque: "?"
    }
}

/// Decodes a JPEG or PNG with Cortado's own readers into a new blob of shape H × W × C
/// (C 3 in RGB order, or 1), values in [0, 1]: what pycaffe's `caffe.io.load_image` returns.
@_cdecl("cortado_load_image")
public func cortado_load_image(_ path: UnsafePointer<CChar>, _ color: Int32) -> UnsafeMutableRawPointer? {
    made {
        let image = try Image.load(String(cString: path), color: color != 0)
        let (c, h, w) = (image.channels, image.height, image.width)
        let blob = try Blob(checked: [h, w, c])
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    // Image is BGR, C×H×W; load_image gives RGB, H×W×C.
                    let source = c == 3 ? 2 - k : k
                    blob.data[(y * w + x) * c + k] = Float(image.pixels[(source * h + y) * w + x]) / 255
                }
            }
        }
        return blob
    }
}

/// Cortado's thread count for layers built from now on (the tool's `--threads`); the package
/// sets it to every core when it loads, or to `$CORTADO_THREADS`.
@_cdecl("cortado_set_threads")
public func cortado_set_threads(_ n: Int32) { Parallel.setThreads(Int(n)) }
