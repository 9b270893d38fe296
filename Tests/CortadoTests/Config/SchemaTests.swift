import Testing
@testable import CortadoConfig
@testable import CortadoLayers

/// Schema and ConfigNode on their own: the field list as caffe.proto has it, and typed reads
/// that apply no defaults, with every mistake located and named.
@Suite struct SchemaTests {
    /// After the registry has added the layers' own messages (`installSchemas`), the schema
    /// has every field the reference files use; before, only the messages no layer owns.
    @Test func messagesHaveCaffesFieldsAndKinds() throws {
        LayerRegistry.installSchemas()
        let layer = try #require(Schema.messages["LayerParameter"])
        #expect(layer.fields["bottom"]?.repeated == true && layer.fields["bottom"]?.kind == .string)
        #expect(layer.fields["convolution_param"]?.kind == .message("ConvolutionParameter"))
        let pooling = try #require(Schema.messages["PoolingParameter"])
        #expect(pooling.fields["pool"]?.kind == .enumeration(["MAX", "AVE", "STOCHASTIC"]))
        // Every nested message a field names is itself in the schema (or opaque on purpose).
        for (name, spec) in Schema.messages {
            for field in spec.fields.values {
                if case .message(let inner) = field.kind { #expect(Schema.messages[inner] != nil, "\(name).\(field.name) names \(inner)") }
            }
        }
    }
}

extension SchemaTests {
    /// A program's own layer whose schema does not parse gets an error naming it, not a trap.
    @Test func aLayersSchemaThatDoesNotParseIsAnError() {
        for broken in ["scale", "scale:number", "*:"] {
            do {
                try Schema.addLayerMessage("BrokenParameter", fields: broken, field: "broken_param")
                Issue.record("\(broken) should not parse")
            } catch let error as ConfigError {
                #expect(error.message.contains("the schema of BrokenParameter"), "\(error)")
            } catch {
                Issue.record("expected a ConfigError, got \(error)")
            }
        }
        #expect(Schema.messages["BrokenParameter"] == nil && Schema.messages["LayerParameter"]?.fields["broken_param"] == nil)
    }
}

@Suite struct ConfigNodeTests {
    func node(_ text: String, as type: String = "ConvolutionParameter") throws -> ConfigNode {
        var parser = TextFormatParser(text: text, file: "c.prototxt")
        LayerRegistry.installSchemas()
        return try ConfigNode.validated(try parser.parseTopLevel(), as: type)
    }

    @Test func typedReadsTakeTheLastValueAndApplyNoDefaults() throws {
        let n = try node("num_output: 8 kernel_size: 3 kernel_size: 5 bias_term: false weight_filler { type: \"xavier\" }")
        #expect(n.int("num_output") == 8)
        #expect(n.ints("kernel_size") == [3, 5] && n.int("kernel_size") == 5)
        #expect(n.bool("bias_term") == false)
        #expect(n.int("group") == nil)
        #expect(n.child("weight_filler")?.string("type") == "xavier")
        #expect(n.has("num_output") && !n.has("stride"))
    }

    @Test func mistakesAreLocatedAndNamed() {
        do {
            _ = try node("num_ouptut: 8\nkernel_size: \"three\"")
            Issue.record("a misspelt field and a wrong kind should be errors")
        } catch let error as ConfigError {
            #expect(error.problems.count == 2)
            #expect(error.problems[0].location == TextLocation(file: "c.prototxt", line: 1, column: 1))
            #expect(error.message.contains("num_output"))
            #expect(error.problems[1].location?.line == 2)
        } catch {
            Issue.record("expected a ConfigError, got \(error)")
        }
    }

    @Test func enumValuesAreChecked() {
        #expect(throws: ConfigError.self) { _ = try node("pool: MAXIMUM", as: "PoolingParameter") }
    }
}
