import Foundation
import Testing

/// The target graph three ways: drawn in docs/ARCHITECTURE.md ("Targets"), declared in
/// Package.swift, and used by the `import`s in Sources/. They must agree, and the drawn graph
/// must point only downwards, so that a new edge upwards is a failing test before review.
@Suite struct ArchitectureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    /// Each Cortado target of the drawing with the targets it may import, in drawing order.
    static func drawnGraph() throws -> [(name: String, dependencies: Set<String>)] {
        let doc = try String(contentsOfFile: root + "/docs/ARCHITECTURE.md", encoding: .utf8)
        guard let start = doc.range(of: "```targets\n"), let end = doc.range(of: "```", range: start.upperBound..<doc.endIndex) else {
            Issue.record("docs/ARCHITECTURE.md has no ```targets block")
            return []
        }
        var graph: [(name: String, dependencies: Set<String>)] = []
        for line in doc[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let name = String(line.prefix { !$0.isWhitespace })
            var dependencies: Set<String> = []
            if let arrow = line.range(of: "← ") {
                let list = line[arrow.upperBound...].prefix { $0 != ":" }
                dependencies = list.hasPrefix("all ") ? Set(graph.map(\.name).filter { $0 != "Cortado" })
                    : list.hasPrefix("everything above") ? Set(graph.map(\.name))
                    : Set(list.split(separator: " ").map(String.init))
            }
            graph.append((name, dependencies))
        }
        return graph
    }

    /// Every target of Package.swift with the package targets it depends on.
    static func declaredGraph() throws -> [String: Set<String>] {
        let manifest = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
        let target = try Regex(#"\.(?:target|executableTarget|systemLibrary|testTarget)\(name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?"#)
        var graph: [String: Set<String>] = [:]
        for match in manifest.matches(of: target) {
            let name = String(match.output[1].substring!)
            let list = match.output[2].substring.map(String.init) ?? ""
            graph[name] = Set(list.matches(of: try Regex(#"^\s*"(\w+)"|,\s*"(\w+)""#)).compactMap {
                ($0.output[1].substring ?? $0.output[2].substring).map(String.init)
            })
        }
        return graph
    }

    @Test func theDrawingPointsOnlyDownwards() throws {
        let graph = try Self.drawnGraph()
        #expect(graph.count >= 12)
        var seen: Set<String> = []
        for (name, dependencies) in graph {
            #expect(dependencies.isSubset(of: seen), "\(name) depends on \(dependencies.subtracting(seen).sorted()), drawn above it")
            seen.insert(name)
        }
    }

    @Test func packageSwiftDeclaresTheDrawnGraph() throws {
        let declared = try Self.declaredGraph()
        for (name, dependencies) in try Self.drawnGraph() {
            let own = (declared[name] ?? []).filter { declared.keys.contains($0) && $0.hasPrefix("Cortado") }
            #expect(declared[name] != nil, "\(name) is drawn but not in Package.swift")
            #expect(own == dependencies, "\(name): Package.swift says \(own.sorted()), the drawing \(dependencies.sorted())")
        }
    }

    /// No file imports a package target its own target does not declare (SwiftPM would let one
    /// through whenever the build order happens to have made that module already).
    @Test func everyImportIsDeclared() throws {
        let declared = try Self.declaredGraph()
        let importLine = try Regex(#"(?m)^(?:@\w+ )*import (\w+)"#)
        for (target, dependencies) in declared {
            let folder = Self.root + "/Sources/" + target
            guard let files = FileManager.default.enumerator(atPath: folder) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
                for match in text.matches(of: importLine) {
                    let module = String(match.output[1].substring!)
                    guard declared.keys.contains(module) else { continue }
                    #expect(dependencies.contains(module), "Sources/\(target)/\(file) imports \(module), which \(target) does not declare")
                }
            }
        }
    }
}
