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
            #expect(svgText.contains(">\(name)<") || svgText.contains(">\(name) ") || svgText.contains(" \(name)<"), "SVG of \(figure) lacks the label \(name)")
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
}

@Suite("Multi-page PDF for step-by-step figures")
struct MultiPagePDFTests {
    @Test("One page per figure")
    func pages() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let order = graph.nodes.map(\.id).reversed()
        let pages = try order.indices.map { k in
            var options = FigureOptions()
            options.knownGradients = Set(order.prefix(through: k))
            options.highlighted = order[k]
            return try GraphFigure.layout(graph: graph, output: output, options: options)
        }
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("steps.pdf").path
        try GraphFigure.pdf(pages: pages, to: path)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        #expect(text.hasPrefix("%PDF-"))
        #expect(text.contains("/Count \(graph.count)"))
    }
}
