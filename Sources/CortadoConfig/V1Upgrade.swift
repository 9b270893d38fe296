import CortadoBase
import CortadoIO

/// Caffe's upgrade of old net and solver files (upgrade_proto.cpp), done on the text tree so
/// every field keeps its file position: V1 `layers { type: CONVOLUTION blobs_lr: 1 }` becomes
/// `layer { type: "Convolution" param { lr_mult: 1 } }`, data-transform fields move into
/// `transform_param`, net-level `input`/`input_dim` become an Input layer, and a solver's
/// `solver_type: NESTEROV` becomes `type: "Nesterov"`.
package enum V1Upgrade {
    /// Whether a net tree uses the old `layers` form or net-level inputs.
    package static func needsUpgrade(net m: TextMessage) -> Bool {
        m.fields.contains { ["layers", "input", "input_dim", "input_shape"].contains($0.name) }
    }

    /// The modern form of a net tree. `layer` and `layers` together are an error, as in Caffe.
    package static func upgradeNet(_ m: TextMessage) throws -> TextMessage {
        let hasNew = m.fields.contains { $0.name == "layer" }
        if hasNew, let old = m.fields.first(where: { $0.name == "layers" }) {
            throw ConfigError(location: old.location, path: "layers",
                              message: "the file mixes old `layers` and new `layer` definitions; use one form (`cortado upgrade` rewrites old files)")
        }
        var out = TextMessage(location: m.location)
        var inputs: [TextField] = []
        for f in m.fields {
            switch f.name {
            case "layers":
                guard case .message(let layer) = f.value else { out.fields.append(f); continue }
                out.fields.append(TextField(name: "layer", value: .message(try upgradeLayer(layer, at: f.location)), location: f.location))
            case "input", "input_dim", "input_shape":
                inputs.append(f)
            default:
                out.fields.append(f)
            }
        }
        if let input = try inputLayer(inputs) {
            let first = out.fields.firstIndex { $0.name == "layer" } ?? out.fields.count
            out.fields.insert(input, at: first)
        }
        return out
    }

    static func upgradeLayer(_ l: TextMessage, at location: TextLocation) throws -> TextMessage {
        if let v0 = l.fields.first(where: { $0.name == "layer" }) {
            throw ConfigError(location: v0.location, path: "layers",
                              message: "this layer uses Caffe's V0 format (a `layer` inside `layers`), which Cortado does not read; upgrade it with Caffe's upgrade_net_proto_text first")
        }
        var head: [TextField] = [], rest: [TextField] = []
        var lrs: [TextField] = [], decays: [TextField] = [], names: [TextField] = [], modes: [TextField] = []
        var type = ""
        for f in l.fields {
            switch f.name {
            case "name", "bottom", "top": head.append(f)
            case "type":
                if case .scalar(.identifier(let id)) = f.value, let t = V1LayerType.typeName(forIdentifier: id) {
                    type = t
                    head.append(TextField(name: "type", value: .scalar(.string(t)), location: f.location))
                } else {
                    head.append(f)
                }
            case "blobs_lr": lrs.append(f)
            case "weight_decay": decays.append(f)
            case "param": names.append(f)
            case "blob_share_mode": modes.append(f)
            default: rest.append(f)
            }
        }
        var params: [TextField] = []
        for i in 0..<max(lrs.count, decays.count, names.count, modes.count) {
            var p = TextMessage(location: ([lrs, decays, names, modes].compactMap { i < $0.count ? $0[i].location : nil }).first ?? location)
            if i < names.count { p.fields.append(TextField(name: "name", value: names[i].value, location: names[i].location)) }
            if i < modes.count { p.fields.append(TextField(name: "share_mode", value: modes[i].value, location: modes[i].location)) }
            if i < lrs.count { p.fields.append(TextField(name: "lr_mult", value: lrs[i].value, location: lrs[i].location)) }
            if i < decays.count { p.fields.append(TextField(name: "decay_mult", value: decays[i].value, location: decays[i].location)) }
            params.append(TextField(name: "param", value: .message(p), location: p.location))
        }
        if ["Data", "ImageData", "WindowData"].contains(type) { rest = moveTransformFields(rest) }
        return TextMessage(fields: head + params + rest, location: l.location)
    }

    /// Caffe's UpgradeNetDataTransformation: scale, mean_file, crop_size and mirror set inside
    /// a data layer's own params move to transform_param.
    static func moveTransformFields(_ fields: [TextField]) -> [TextField] {
        let moved: Set<String> = ["scale", "mean_file", "crop_size", "mirror"]
        var transform: [TextField] = []
        var out: [TextField] = []
        var transformAt: Int? = nil
        for f in fields {
            if ["data_param", "image_data_param", "window_data_param"].contains(f.name), case .message(var m) = f.value {
                transform += m.fields.filter { moved.contains($0.name) }
                m.fields.removeAll { moved.contains($0.name) }
                out.append(TextField(name: f.name, value: .message(m), location: f.location))
            } else if f.name == "transform_param", case .message(let m) = f.value {
                transformAt = out.count
                transform = m.fields + transform
                out.append(f)
            } else {
                out.append(f)
            }
        }
        guard !transform.isEmpty else { return out }
        let field = TextField(name: "transform_param", value: .message(TextMessage(fields: transform, location: transform[0].location)), location: transform[0].location)
        if let i = transformAt { out[i] = field } else { out.append(field) }
        return out
    }

    /// Net-level `input` with `input_shape` or four `input_dim` per input → an Input layer.
    static func inputLayer(_ fields: [TextField]) throws -> TextField? {
        let names = fields.filter { $0.name == "input" }
        guard let first = names.first ?? fields.first else { return nil }
        let dims = fields.filter { $0.name == "input_dim" }
        var shapes = fields.filter { $0.name == "input_shape" }.compactMap { f -> TextMessage? in
            if case .message(let m) = f.value { return m } else { return nil }
        }
        if shapes.isEmpty && !dims.isEmpty {
            guard dims.count == 4 * names.count else {
                throw ConfigError(location: dims[0].location, path: "input_dim",
                                  message: "\(names.count) input(s) need \(4 * names.count) input_dim values, found \(dims.count)")
            }
            shapes = (0..<names.count).map { i in
                TextMessage(fields: dims[(4 * i)..<(4 * i + 4)].map { TextField(name: "dim", value: $0.value, location: $0.location) },
                            location: dims[4 * i].location)
            }
        }
        guard !names.isEmpty else {
            throw ConfigError(location: first.location, path: first.name, message: "input_shape/input_dim given without `input:` names")
        }
        var layer = TextMessage(location: first.location)
        layer.fields.append(TextField(name: "name", value: .scalar(.string("input")), location: first.location))
        layer.fields.append(TextField(name: "type", value: .scalar(.string("Input")), location: first.location))
        for n in names { layer.fields.append(TextField(name: "top", value: n.value, location: n.location)) }
        if !shapes.isEmpty {
            let param = TextMessage(fields: shapes.map { TextField(name: "shape", value: .message($0), location: $0.location) }, location: shapes[0].location)
            layer.fields.append(TextField(name: "input_param", value: .message(param), location: param.location))
        }
        return TextField(name: "layer", value: .message(layer), location: first.location)
    }

    /// `solver_type: NESTEROV` → `type: "Nesterov"`; both together are an error, as in Caffe.
    package static func upgradeSolver(_ m: TextMessage) throws -> TextMessage {
        guard let old = m.fields.first(where: { $0.name == "solver_type" }) else { return m }
        if m.fields.contains(where: { $0.name == "type" }) {
            throw ConfigError(location: old.location, path: "solver_type", message: "give either solver_type (old) or type, not both")
        }
        var out = m
        let names = ["SGD": "SGD", "NESTEROV": "Nesterov", "ADAGRAD": "AdaGrad", "RMSPROP": "RMSProp", "ADADELTA": "AdaDelta", "ADAM": "Adam"]
        out.fields = m.fields.map { f in
            guard f.name == "solver_type", case .scalar(.identifier(let id)) = f.value, let t = names[id] else { return f }
            return TextField(name: "type", value: .scalar(.string(t)), location: f.location)
        }
        return out
    }
}

/// Prints a text tree back as prototxt, two spaces per level, as protobuf's TextFormat does.
package func printTextFormat(_ m: TextMessage, indent: String = "") -> String {
    var out = ""
    for f in m.fields {
        switch f.value {
        case .scalar(let s):
            out += "\(indent)\(f.name): \(ConfigNode.show(s).replacingOccurrences(of: "\n", with: "\\n"))\n"
        case .message(let child):
            out += "\(indent)\(f.name) {\n" + printTextFormat(child, indent: indent + "  ") + "\(indent)}\n"
        }
    }
    return out
}
