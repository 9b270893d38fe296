import CortadoBase
import CortadoIO
import Foundation

/// A message from a text file, checked against its schema, with typed accessors that apply
/// no defaults of their own: callers say the Caffe default at the point of use.
public struct ConfigNode: Sendable {
    package let message: TextMessage
    /// The message's schema as it is now: layers add their settings messages to LayerParameter
    /// (`Schema.addLayerMessage`), so a node made before that still sees them.
    package var spec: MessageSpec { Schema.messages[madeWith.name] ?? madeWith }
    private let madeWith: MessageSpec
    /// Where this message sits in the config, e.g. `layer "conv1" › convolution_param`.
    public let path: String

    package init(message: TextMessage, spec: MessageSpec, path: String) {
        (self.message, self.madeWith, self.path) = (message, spec, path)
    }

    /// Validates `message` as `type` and returns its node, or every problem found.
    package static func validated(_ message: TextMessage, as type: String, path: String = "") throws -> ConfigNode {
        var problems: [ConfigError.Problem] = []
        validate(message, type: type, path: path, problems: &problems)
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return ConfigNode(message: message, spec: Schema.messages[type]!, path: path)
    }

    /// An empty message of the given type, for layers the net builds itself.
    public static func empty(_ type: String, path: String = "") -> ConfigNode {
        ConfigNode(message: TextMessage(location: TextLocation(file: "<built-in>", line: 0, column: 0)),
                   spec: Schema.messages[type]!, path: path)
    }

    public var location: TextLocation { message.location }

    public func has(_ name: String) -> Bool {
        FieldReads.check(name, in: spec)
        return message.fields.contains { $0.name == name }
    }

    public func location(of name: String) -> TextLocation {
        message.fields.last { $0.name == name }?.location ?? message.location
    }

    /// An error at the given field (or at this message when the field is absent).
    public func error(_ text: String, field: String? = nil) -> ConfigError {
        let loc = field.map { location(of: $0) } ?? message.location
        let where_ = field.map { path.isEmpty ? $0 : "\(path) › \($0)" } ?? path
        return ConfigError(location: loc, path: where_, message: text)
    }

    private func scalars(_ name: String) -> [TextScalar] {
        FieldReads.check(name, in: spec)
        return message.fields.compactMap { f in
            guard f.name == name, case .scalar(let s) = f.value else { return nil }
            return s
        }
    }

    public func ints(_ name: String) -> [Int] { scalars(name).compactMap(Self.intValue) }
    public func int(_ name: String) -> Int? { ints(name).last }
    public func floats(_ name: String) -> [Float] { scalars(name).compactMap(Self.floatValue) }
    public func float(_ name: String) -> Float? { floats(name).last }
    public func bools(_ name: String) -> [Bool] { scalars(name).compactMap(Self.boolValue) }
    public func bool(_ name: String) -> Bool? { bools(name).last }
    public func strings(_ name: String) -> [String] {
        scalars(name).compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
    public func string(_ name: String) -> String? { strings(name).last }
    public func enumValue(_ name: String) -> String? {
        guard let s = scalars(name).last else { return nil }
        switch s {
        case .identifier(let v): return v
        case .number(let n):
            if case .enumeration(let values)? = spec.fields[name]?.kind, let i = Int(n), i >= 0, i < values.count {
                return values[i]
            }
            return nil
        case .string: return nil
        }
    }

    public func children(_ name: String) -> [ConfigNode] {
        FieldReads.check(name, in: spec)
        guard let field = spec.fields[name], case .message(let type) = field.kind, let childSpec = Schema.messages[type] else { return [] }
        var out: [ConfigNode] = []
        for f in message.fields where f.name == name {
            guard case .message(let m) = f.value else { continue }
            out.append(ConfigNode(message: m, spec: childSpec, path: childPath(name, m)))
        }
        return out
    }

    public func child(_ name: String) -> ConfigNode? { children(name).last }

    /// An enum-like field as a Swift enum whose raw values are Caffe's names.
    public func enumeration<E: RawRepresentable>(_ name: String, default value: E) -> E where E.RawValue == String {
        enumValue(name).flatMap(E.init(rawValue:)) ?? value
    }

    func childPath(_ name: String, _ m: TextMessage) -> String {
        Self.segment(parent: path, field: name, message: m)
    }

    static func segment(parent: String, field: String, message m: TextMessage) -> String {
        var seg = field
        if let nameField = m.fields.first(where: { $0.name == "name" }), case .scalar(.string(let n)) = nameField.value {
            seg += " \"\(n)\""
        }
        return parent.isEmpty ? seg : "\(parent) › \(seg)"
    }

    // MARK: scalar conversion

    static func intValue(_ s: TextScalar) -> Int? {
        guard case .number(var t) = s else { return nil }
        var negative = false
        if t.hasPrefix("-") { negative = true; t.removeFirst() }
        let v: Int?
        if t.hasPrefix("0x") || t.hasPrefix("0X") { v = Int(t.dropFirst(2), radix: 16) } else { v = Int(t) }
        return v.map { negative ? -$0 : $0 }
    }

    static func floatValue(_ s: TextScalar) -> Float? {
        switch s {
        case .number(var t):
            if t.hasSuffix("f") || t.hasSuffix("F") { t.removeLast() }
            if let i = intValue(.number(t)) { return Float(i) }
            return Float(t)
        case .identifier(let w):
            switch w.lowercased() {
            case "inf", "infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            case "nan", "-nan": return .nan
            default: return nil
            }
        case .string: return nil
        }
    }

    static func boolValue(_ s: TextScalar) -> Bool? {
        switch s {
        case .identifier(let w):
            switch w { case "true", "True", "t": return true; case "false", "False", "f": return false; default: return nil }
        case .number(let n):
            switch n { case "1": return true; case "0": return false; default: return nil }
        case .string: return nil
        }
    }

    // MARK: validation

    package static func validate(_ m: TextMessage, type: String, path: String, problems: inout [ConfigError.Problem]) {
        guard let spec = Schema.messages[type], !spec.fields.isEmpty else { return }   // opaque
        var seen: Set<String> = []
        for f in m.fields {
            let here = path.isEmpty ? type : path
            guard let field = spec.fields[f.name] else {
                problems.append(.init(location: f.location, path: here,
                                      message: "unknown field \"\(f.name)\" in \(type)\(didYouMean(f.name, spec.order))"))
                continue
            }
            if !field.repeated && seen.contains(f.name) {
                problems.append(.init(location: f.location, path: here,
                                      message: "field \"\(f.name)\" is not repeated but is given more than once"))
            }
            seen.insert(f.name)
            let fieldPath = path.isEmpty ? f.name : "\(path) › \(f.name)"
            switch (field.kind, f.value) {
            case (.message(let childType), .message(let child)):
                validate(child, type: childType, path: segment(parent: path, field: f.name, message: child), problems: &problems)
            case (.opaque, .message):
                break
            case (.message, .scalar), (.opaque, .scalar):
                problems.append(.init(location: f.location, path: fieldPath, message: "expected a message in braces, like \(f.name) { ... }"))
            case (_, .message):
                problems.append(.init(location: f.location, path: fieldPath, message: "expected a single value (\(describe(field.kind))), not a message in braces"))
            case (let kind, .scalar(let s)):
                if let problem = check(s, against: kind) {
                    problems.append(.init(location: f.location, path: fieldPath, message: problem))
                }
            }
        }
    }

    static func describe(_ kind: FieldKind) -> String {
        switch kind {
        case .int: return "an integer"
        case .float: return "a number"
        case .bool: return "true or false"
        case .string: return "a quoted string"
        case .enumeration(let v): return "one of \(v.joined(separator: ", "))"
        case .message, .opaque: return "a message"
        }
    }

    static func show(_ s: TextScalar) -> String {
        switch s {
        case .identifier(let w): return w
        case .number(let n): return n
        case .string(let t): return "\"" + t.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
    }

    private static func check(_ s: TextScalar, against kind: FieldKind) -> String? {
        let ok: Bool
        switch kind {
        case .int: ok = intValue(s) != nil
        case .float: ok = floatValue(s) != nil
        case .bool: ok = boolValue(s) != nil
        case .string:
            if case .string = s { ok = true } else { ok = false }
        case .enumeration(let values):
            switch s {
            case .identifier(let w):
                if values.contains(w) { return nil }
                return "unknown value \(w); expected \(describe(kind))\(didYouMean(w, values))"
            case .number(let n):
                ok = Int(n).map { $0 >= 0 && $0 < values.count } ?? false
            case .string(let t):
                return "expected \(describe(kind)) without quotes, found \"\(t)\"\(values.contains(t) ? "; write \(t)" : didYouMean(t, values))"
            }
        case .message, .opaque: ok = false
        }
        return ok ? nil : "expected \(describe(kind)), found \(show(s))"
    }
}

/// Records reads of field names that the schema does not list for the message read, so a
/// test can prove that every setting the code asks for exists (a misspelt key in the code
/// would otherwise silently give the default).
/// Recording is on only inside `recording`, and only for the task that asked, so tests
/// running side by side do not see each other's reads.
enum FieldReads {
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var names: Set<String> = []
        func insert(_ name: String) { lock.lock(); names.insert(name); lock.unlock() }
        var unknown: Set<String> { lock.lock(); defer { lock.unlock() }; return names }
    }

    @TaskLocal private static var recorder: Recorder? = nil

    static func check(_ name: String, in spec: MessageSpec) {
        guard let recorder, spec.fields[name] == nil else { return }
        recorder.insert("\(spec.name.isEmpty ? "?" : spec.name).\(name)")
    }

    /// Runs `body`; returns `Message.field` for each read of a field its message does not have.
    static func recording(_ body: () throws -> Void) rethrows -> Set<String> {
        let recorder = Recorder()
        try $recorder.withValue(recorder, operation: body)
        return recorder.unknown
    }
}
