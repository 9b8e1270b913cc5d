import ChainruleCheck
import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

/// The programs in samples/, compiled and run backward.
enum Samples {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".grad") }.sorted()
    }

    static func load(_ name: String) throws -> (Graph, NodeID) {
        let url = folder.appendingPathComponent(name)
        let source = try String(contentsOf: url, encoding: .utf8)
        let program = try Compiler.compile(source: source, file: url.path, options: CompileOptions(baseDirectory: folder.path))
        try program.graph.backward(from: program.output)
        return (program.graph, program.output)
    }
}

@Suite("Every sample program renders in every style")
struct SampleTests {
    @Test("samples/ is there to draw")
    func samplesExist() {
        #expect(Samples.names.count >= 10)
        #expect(Samples.names.contains("custom-op-wrong.grad"))
    }

    @Test(arguments: Samples.names)
    func rendersEverywhere(_ name: String) throws {
        let (graph, output) = try Samples.load(name)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let styles: [(FigureStyle, ModelView)] = [(.circuit, .layers), (.record, .layers), (.model, .layers), (.model, .ops)]
        for (style, view) in styles {
            var options = FigureOptions()
            options.style = style
            options.view = view
            for format in ["png", "svg", "pdf"] {
                let path = folder.appendingPathComponent("\(style)-\(view).\(format)").path
                try GraphFigure.write(graph: graph, output: output, options: options, to: path)
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                switch format {
                case "png": #expect(pngSize(data) != nil, "\(name) \(style): not a PNG")
                case "pdf": #expect(data.prefix(5) == Data("%PDF-".utf8))
                default: #expect(String(decoding: data, as: UTF8.self).contains("</svg>"))
                }
            }
        }
    }

    @Test("The overlay of custom-op-wrong.grad shows its bad node in failure red")
    func wrongCustomOp() throws {
        let (graph, output) = try Samples.load("custom-op-wrong.grad")
        var options = FigureOptions()
        options.check = try GradientCheck.graph(graph, output: output)
        let failed = try #require(options.check?.nodes.first { $0.status == .fail })
        #expect(failed.op == "badsigmoid")
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("wrong.png").path
        try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        let plainPath = folder.appendingPathComponent("plain.png").path
        var plain = options
        plain.check = nil
        try GraphFigure.write(graph: graph, output: output, options: plain, to: plainPath)
        // Only the pixels the overlay adds count: gradient text may share the failure colour.
        let overlaid = try #require(RasterImage(pngFile: path)).count(near: Theme().checkFailed, tolerance: 0.04)
        let without = try #require(RasterImage(pngFile: plainPath)).count(near: Theme().checkFailed, tolerance: 0.04)
        #expect(overlaid - without > 200)
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        #expect(svg.contains("✗ rel err"))
    }
}
