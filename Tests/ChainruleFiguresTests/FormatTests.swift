import ChainruleCore
import ChainruleFigures
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("Every example in every style writes PNG, SVG and PDF")
struct FormatTests {
    @Test(arguments: FigureCase.all)
    func writesAllThreeFormats(_ figure: FigureCase) throws {
        let (graph, output) = try #require(FigureExamples.named(figure.example))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: figure.options)

        let png = folder.appendingPathComponent("f.png").path
        try GraphFigure.write(graph: graph, output: output, options: figure.options, to: png)
        let size = try #require(pngSize(try Data(contentsOf: URL(fileURLWithPath: png))), "not a PNG: \(figure)")
        #expect(size.width == Int((laidOut.size.width * 2).rounded(.up)))
        #expect(size.height == Int((laidOut.size.height * 2).rounded(.up)))

        let svg = folder.appendingPathComponent("f.svg").path
        try GraphFigure.write(graph: graph, output: output, options: figure.options, to: svg)
        let svgData = try Data(contentsOf: URL(fileURLWithPath: svg))
        #expect(XMLParser(data: svgData).parse(), "SVG does not parse as XML: \(figure)")
        let svgText = String(decoding: svgData, as: UTF8.self)
        for name in expectedNames(graph, output, figure) {
            // A weight folded into its op's box for a slide (`BoxDetail.foldedWeights`) goes without its layer's prefix: `W 4×1×3×3`.
            let short = name.split(separator: ".").last.map(String.init) ?? name
            let word = [name, short].flatMap { [">\($0)<", ">\($0) ", " \($0)<", " \($0) "] }
            #expect(word.contains { svgText.contains($0) }, "SVG of \(figure) lacks the label \(name)")
        }

        let pdf = folder.appendingPathComponent("f.pdf").path
        try GraphFigure.write(graph: graph, output: output, options: figure.options, to: pdf)
        let pdfData = try Data(contentsOf: URL(fileURLWithPath: pdf))
        #expect(pdfData.prefix(5) == Data("%PDF-".utf8))
        #expect(String(decoding: pdfData.suffix(16), as: UTF8.self).contains("%%EOF"))
    }

    /// The names a figure writes: every named node in the record style and
    /// the ops view; leaves and the output in the circuit (gates show their
    /// symbol, as in CS231n); nodes outside layers in the layers view.
    func expectedNames(_ graph: Graph, _ output: NodeID, _ figure: FigureCase) -> [String] {
        graph.nodes.filter { node in
            guard node.name != nil else { return false }
            switch figure.style {
            case .record: return true
            case .circuit: return node.op == nil || node.id == output
            case .model: return node.role != .constant && (figure.view == .ops || node.layer == nil)
            }
        }.compactMap(\.name)
    }

    @Test("The PNG scale sets pixels per point")
    func scaleSetsPixels() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = FigureOptions()
        options.scale = 1
        let path = folder.appendingPathComponent("one.png").path
        try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        let size = try #require(pngSize(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(size.width == Int(laidOut.size.width.rounded(.up)))
    }

    @Test("JSON writes log(x) at x = 0 with its infinite value as the string \"-Infinity\"")
    func nonFiniteJSON() throws {
        let g = Graph()
        let x = g.input("x", 0)
        let y = log(x).named("y")
        try g.backward(y)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log.json").path
        try GraphFigure.write(graph: g, output: y.id, options: FigureOptions(), to: path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let nodes = try #require(json?["nodes"] as? [[String: Any]])
        let value = try #require(nodes[y.id.index]["value"] as? [String: Any])
        #expect(value["data"] as? [String] == ["-Infinity"])
        let gradient = try #require(nodes[x.id.index]["gradient"] as? [String: Any])
        #expect(gradient["data"] as? [String] == ["Infinity"])
    }

    @Test("A title with a control character and markup still gives SVG that parses as XML")
    func titleWithControlCharacter() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        var options = FigureOptions()
        options.title = "bell\u{07} <&> \"q\""
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        // The control character reads as a space (session 23: the PNG drew a missing glyph for it).
        #expect(svg.contains("bell  &lt;&amp;&gt; &quot;q&quot;"))
    }
}
