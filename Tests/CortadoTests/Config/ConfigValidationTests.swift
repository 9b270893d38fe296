import Foundation
import Testing
@testable import CortadoConfig
@testable import CortadoLayers
@testable import CortadoSolvers

@Suite struct ConfigValidationTests {
    func problems(_ text: String, as type: String = "NetParameter") -> [String] {
        do {
            var p = TextFormatParser(text: text, file: "net.prototxt")
            LayerRegistry.installSchemas()
            _ = try ConfigNode.validated(try p.parseTopLevel(), as: type)
            return []
        } catch let e as ConfigError {
            return e.problems.map { "\($0.location?.description ?? ""): in \($0.path): \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func misspeltFieldNamesPositionPathAndSuggestion() {
        let p = problems("""
            layer {
              name: "conv1"
              type: "Convolution"
              convolution_parm { num_output: 20 }
            }
            """)
        #expect(p.count == 1)
        #expect(p[0].contains("net.prototxt:4:3"))
        #expect(p[0].contains("layer \"conv1\""))
        #expect(p[0].contains("did you mean \"convolution_param\"?"))
    }

    @Test func nestedPathAndEnumSuggestion() {
        let p = problems("""
            layer { name: "pool1" type: "Pooling" pooling_param { pool: MAXX kernel_size: 2 } }
            """)
        #expect(p.count == 1)
        #expect(p[0].contains("layer \"pool1\" › pooling_param › pool"))
        #expect(p[0].contains("did you mean \"MAX\"?"))
    }

    @Test func reportsEveryProblemNotOnlyTheFirst() {
        let p = problems("""
            nme: "x"
            layer { name: "a" type: "ReLU" bottom: 3 }
            layer { name: "b" type: "Convolution" convolution_param { num_output: "ten" } }
            """)
        #expect(p.count == 3)
        #expect(p[1].contains("expected a quoted string, found 3"))
        #expect(p[2].contains("expected an integer"))
    }

    @Test func typeMismatchesAndRepeats() {
        #expect(problems("force_backward: maybe")[0].contains("expected true or false"))
        #expect(problems("name: \"a\" name: \"b\"")[0].contains("not repeated"))
        #expect(problems("layer: 3")[0].contains("expected a message"))
        #expect(problems("state { phase: \"TRAIN\" }")[0].contains("without quotes"))
    }

    @Test func acceptsEveryReferencePrototxt() throws {
        // Caffe's own example and model files must validate (building them is a later step).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/bvlc").standardized.path
        let walker = try #require(FileManager.default.enumerator(atPath: root))
        var count = 0
        for case let rel as String in walker where rel.hasSuffix(".prototxt") {
            let path = root + "/" + rel
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let type = text.contains("base_lr") || text.contains("net:") && !text.contains("layer") ? "SolverParameter" : "NetParameter"
            var parser = TextFormatParser(text: text, file: path)
            let tree = try parser.parseTopLevel()
            LayerRegistry.installSchemas()
            #expect(throws: Never.self, "\(rel)") { _ = try ConfigNode.validated(tree, as: type) }
            count += 1
        }
        #expect(count > 50)
    }
}
