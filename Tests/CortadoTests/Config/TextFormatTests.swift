import Testing
@testable import CortadoBase
@testable import CortadoConfig

@Suite struct TextFormatTests {
    func parse(_ text: String) throws -> TextMessage {
        var p = TextFormatParser(text: text, file: "t.prototxt")
        return try p.parseTopLevel()
    }

    @Test func readsCaffeSyntax() throws {
        let m = try parse("""
            # a comment
            name: "LeNet"   # trailing comment
            layer { name: 'conv1' type: "Convolution" }
            layer: { name: "ip" }
            param < lr_mult: 1 >
            value: -1.5e-3 big: 2E+4 dot: .5 neg_inf: -inf nan_v: nan yes: true
            s: "tab\\there \\"q\\" \\x41\\101" "joined"
            """)
        #expect(m.fields.map(\.name) == ["name", "layer", "layer", "param", "value", "big", "dot", "neg_inf", "nan_v", "yes", "s"])
        guard case .scalar(.string(let s)) = m.fields[10].value else { Issue.record("not a string"); return }
        #expect(s == "tab\there \"q\" AAjoined")
        guard case .scalar(.number(let v)) = m.fields[4].value else { Issue.record("not a number"); return }
        #expect(ConfigNode.floatValue(.number(v)) == -1.5e-3)
        guard case .scalar(let inf) = m.fields[7].value else { Issue.record("not a scalar"); return }
        #expect(ConfigNode.floatValue(inf) == -.infinity)
        guard case .message(let layer) = m.fields[1].value else { Issue.record("not a message"); return }
        #expect(layer.fields.count == 2)
        #expect(m.fields[2].location == TextLocation(file: "t.prototxt", line: 4, column: 1))
    }

    @Test func syntaxErrorsCarryLineAndColumn() throws {
        do {
            _ = try parse("name: \"x\"\nlayer {\n  type \"Conv\"\n}")
            Issue.record("expected an error")
        } catch let e as ConfigError {
            #expect(e.description.hasPrefix("t.prototxt:3:8:"))
            #expect(e.description.contains("expected ':' or '{'"))
        }
        #expect(throws: ConfigError.self) { _ = try parse("layer { name: \"a\" ") }
        #expect(throws: ConfigError.self) { _ = try parse("name: \"unterminated\n") }
        #expect(throws: ConfigError.self) { _ = try parse("}") }
    }
}
