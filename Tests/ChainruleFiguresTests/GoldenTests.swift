import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

/// Golden DOT and JSON exports. Regenerate them (never edit by hand) with:
///
///     CHAINRULE_REGENERATE_GOLDEN=1 swift test --filter GoldenTests
///
/// then read the diff before committing.
@Suite("Golden DOT and JSON exports")
struct GoldenTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func compare(_ example: String, style: FigureStyle, format: FigureFormat) throws {
        let (graph, output) = try #require(FigureExamples.named(example))
        var options = FigureOptions()
        options.style = style
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let name = "\(example)-\(style).\(format.rawValue)"
        let path = folder.appendingPathComponent(name).path
        try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        let produced = try String(contentsOfFile: path, encoding: .utf8)
        if ProcessInfo.processInfo.environment["CHAINRULE_REGENERATE_GOLDEN"] == "1" {
            try produced.write(to: Self.fixtures.appendingPathComponent(name), atomically: true, encoding: .utf8)
            return
        }
        let golden = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
                                  "no golden \(name): regenerate with CHAINRULE_REGENERATE_GOLDEN=1 swift test --filter GoldenTests")
        #expect(produced == (try String(contentsOf: golden, encoding: .utf8)), "\(name) differs from its golden file")
    }

    @Test func circuitDOT() throws { try compare("cs231n", style: .circuit, format: .dot) }
    @Test func circuitJSON() throws { try compare("cs231n", style: .circuit, format: .json) }
    @Test func sigmoidRecordDOT() throws { try compare("sigmoid", style: .record, format: .dot) }
    @Test func convnetModelDOT() throws { try compare("convnet", style: .model, format: .dot) }

    @Test("DOT escapes quotes, backslashes and line breaks in labels")
    func escaping() throws {
        let g = Graph()
        let x = g.input("say \"hi\"\\\n", 1)
        let y = (x * 2).named("y")
        try g.backward(y)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("e.dot").path
        try GraphFigure.write(graph: g, output: y.id, options: FigureOptions(), to: path)
        let dot = try String(contentsOfFile: path, encoding: .utf8)
        #expect(dot.contains(#"label="say \"hi\"\\\n""#))
    }
}
