import CortadoBase
import CortadoIO
import Foundation

/// A place in a text file, kept on every token so that each error can point at it.
public struct TextLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A scalar as written in the file; its meaning (int, float, enum, ...) is decided by the schema.
package enum TextScalar: Sendable, Equatable {
    case identifier(String)   // enum values, true/false, inf/nan
    case string(String)       // quoted, escapes resolved
    case number(String)       // as written, sign included
}

package enum TextValue: Sendable {
    case scalar(TextScalar)
    case message(TextMessage)
}

package struct TextField: Sendable {
    package var name: String
    package var value: TextValue
    package var location: TextLocation
}

/// An ordered list of fields, as protobuf text format writes a message.
package struct TextMessage: Sendable {
    package var fields: [TextField] = []
    package var location: TextLocation

    package init(fields: [TextField] = [], location: TextLocation) {
        self.fields = fields
        self.location = location
    }
}

/// Reads protobuf text format (the syntax of every `.prototxt`) into a tree of fields.
/// It knows nothing about Caffe: the schema gives the fields their meaning.
package struct TextFormatParser {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0

    /// Messages nested deeper than this are refused (protobuf's own default recursion limit;
    /// Caffe's deepest message nests 4 levels), so a hostile file cannot exhaust the stack.
    package static let maxDepth = 100
    /// Text files larger than this are refused before parsing (the largest Caffe prototxt is
    /// well under 1 MB).
    package static let maxBytes = 64 << 20

    package init(text: String, file: String) {
        self.bytes = Array(text.utf8)
        self.file = file
    }

    package static func parse(file path: String) throws -> TextMessage {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(location: nil, path: "", message: "cannot open \(path): no such file")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw ConfigError(location: nil, path: "", message: "\(path) is a folder, not a prototxt file")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maxBytes {
            throw ConfigError(location: nil, path: "", message: "\(path) is \(size) bytes; prototxt files larger than \(maxBytes >> 20) MB are refused")
        }
        let data: Data
        do { data = try FileBytes.read(path, what: "file") } catch let e as any CortadoFailure {
            throw ConfigError(location: nil, path: "", message: e.description)
        }
        var parser = TextFormatParser(text: String(decoding: data, as: UTF8.self), file: path)
        return try parser.parseTopLevel()
    }

    package mutating func parseTopLevel() throws -> TextMessage {
        let start = location
        let fields = try parseFields(closing: nil)
        return TextMessage(fields: fields, location: start)
    }

    private var location: TextLocation {
        TextLocation(file: file, line: line, column: index - lineStart + 1)
    }

    private func error(_ message: String, at loc: TextLocation? = nil) -> ConfigError {
        ConfigError(location: loc ?? location, path: "", message: message)
    }

    private mutating func parseFields(closing: UInt8?) throws -> [TextField] {
        var fields: [TextField] = []
        while true {
            skipSpaceAndComments()
            guard index < bytes.count else {
                if closing != nil { throw error("unexpected end of file: a '}' is missing") }
                return fields
            }
            let c = bytes[index]
            if let closing, c == closing {
                index += 1
                return fields
            }
            if c == UInt8(ascii: "}") || c == UInt8(ascii: ">") {
                throw error("unexpected '\(Character(UnicodeScalar(c)))' with no open message")
            }
            if c == UInt8(ascii: ";") || c == UInt8(ascii: ",") { index += 1; continue }
            fields.append(try parseField())
        }
    }

    private mutating func parseField() throws -> TextField {
        let loc = location
        guard let name = readIdentifier() else {
            throw error("expected a field name, found \(describeNext())")
        }
        skipSpaceAndComments()
        var sawColon = false
        if peek(":") { index += 1; sawColon = true; skipSpaceAndComments() }
        if peek("{") || peek("<") {
            let close: UInt8 = peek("{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
            let msgLoc = location
            guard depth < Self.maxDepth else {
                throw error("messages are nested more than \(Self.maxDepth) deep here; Caffe's files never nest that deep (is a '}' missing?)")
            }
            index += 1
            depth += 1
            let inner = try parseFields(closing: close)
            depth -= 1
            return TextField(name: name, value: .message(TextMessage(fields: inner, location: msgLoc)), location: loc)
        }
        guard sawColon else {
            throw error("expected ':' or '{' after field name \"\(name)\", found \(describeNext())")
        }
        let scalar = try parseScalar()
        return TextField(name: name, value: .scalar(scalar), location: loc)
    }

    private mutating func parseScalar() throws -> TextScalar {
        guard index < bytes.count else { throw error("expected a value, found end of file") }
        let c = bytes[index]
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            var s = try readString()
            // Adjacent string literals concatenate, as in protobuf.
            while true {
                skipSpaceAndComments()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else { break }
                s += try readString()
            }
            return .string(s)
        }
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || isDigit(c) {
            var text = ""
            if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                if c == UInt8(ascii: "-") { text = "-" }
                index += 1
                skipSpaceAndComments()
                if let word = readIdentifier() { return .identifier(text + word) }  // -inf
            }
            let start = index
            while index < bytes.count, isNumberChar(bytes[index], previous: index > start ? bytes[index - 1] : 0) {
                index += 1
            }
            guard index > start else { throw error("expected a number, found \(describeNext())") }
            text += String(decoding: bytes[start..<index], as: UTF8.self)
            return .number(text)
        }
        if let word = readIdentifier() { return .identifier(word) }
        throw error("expected a value, found \(describeNext())")
    }

    private mutating func readString() throws -> String {
        let quote = bytes[index]
        let startLoc = location
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else {
                throw error("string is not closed on the line where it starts", at: startLoc)
            }
            let c = bytes[index]
            index += 1
            if c == quote { break }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard index < bytes.count else { throw error("string is not closed", at: startLoc) }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "x"):
                var value = 0, digits = 0
                while digits < 2, index < bytes.count, let d = hexValue(bytes[index]) {
                    value = value * 16 + d; index += 1; digits += 1
                }
                guard digits > 0 else { throw error("\\x must be followed by hex digits") }
                out.append(UInt8(value))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(e - UInt8(ascii: "0")), digits = 1
                while digits < 3, index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index]) {
                    value = value * 8 + Int(bytes[index] - UInt8(ascii: "0")); index += 1; digits += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            default: out.append(e)   // \\ \" \' \?
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func readIdentifier() -> String? {
        guard index < bytes.count, isIdentStart(bytes[index]) else { return nil }
        let start = index
        while index < bytes.count, isIdentStart(bytes[index]) || isDigit(bytes[index]) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipSpaceAndComments() {
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\n") {
                index += 1; line += 1; lineStart = index
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                index += 1
            } else if c == UInt8(ascii: "#") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else {
                return
            }
        }
    }

    private func peek(_ s: Character) -> Bool {
        index < bytes.count && bytes[index] == s.asciiValue!
    }

    private func describeNext() -> String {
        guard index < bytes.count else { return "end of file" }
        var end = index
        while end < bytes.count, end - index < 20, bytes[end] != UInt8(ascii: "\n") { end += 1 }
        return "'\(String(decoding: bytes[index..<max(end, index + 1)], as: UTF8.self))'"
    }

    private func isIdentStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private func isNumberChar(_ c: UInt8, previous: UInt8) -> Bool {
        if isDigit(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return true }
        if c == UInt8(ascii: "x") || c == UInt8(ascii: "X") || hexValue(c) != nil { return true }
        if c == UInt8(ascii: "f") || c == UInt8(ascii: "F") { return true }   // 1.0f
        if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")) && (previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E")) { return true }
        return false
    }

    private func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}
