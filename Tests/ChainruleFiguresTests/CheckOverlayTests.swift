import ChainruleCheck
import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

@Suite("The check overlay colours nodes by their gradient check")
struct CheckOverlayTests {
    /// y = wrong_square(x) · 2 + x, with a backward rule that says 3x instead of 2x.
    func wrongGraph() throws -> (Graph, NodeID, NodeID) {
        let g = Graph()
        let x = g.input("x", 1.5)
        let square = g.build(WrongSquare(), [x]).named("sq")
        let y = (square * 2 + x).named("y")
        try g.backward(y)
        return (g, square.id, y.id)
    }

    @Test("The wrong node is red with its error; the right ones are green", arguments: FigureStyle.allCases)
    func failureIsRed(_ style: FigureStyle) throws {
        let (graph, square, output) = try wrongGraph()
        var options = FigureOptions()
        options.style = style
        options.check = try GradientCheck.graph(graph, output: output)
        #expect(options.check?.node(square)?.status == .fail)
        let theme = Theme()
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("overlay.png").path
        try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        let plainPath = folder.appendingPathComponent("plain.png").path
        var plain = options
        plain.check = nil
        try GraphFigure.write(graph: graph, output: output, options: plain, to: plainPath)
        // The failure colour may also be the gradient colour: only pixels the overlay adds count.
        let overlaid = try #require(RasterImage(pngFile: path)).count(near: theme.checkFailed, tolerance: 0.04)
        let without = try #require(RasterImage(pngFile: plainPath)).count(near: theme.checkFailed, tolerance: 0.04)
        #expect(overlaid - without > 50, "no failure red added by the \(style) overlay")

        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        #expect(svg.contains("✗ rel err"))
        #expect(svg.contains("✓ rel err"))
        #expect(svg.contains("stroke=\"\(theme.checkFailed.hexString)\""))
    }

    @Test("relu at its kink is purple with ⚠ and a double outline, not red")
    func kinkIsMarked() throws {
        let g = Graph()
        let x = g.input("x", 0)
        let y = relu(x).named("y")
        try g.backward(y)
        var options = FigureOptions()
        options.check = try GradientCheck.graph(g, output: y.id)
        #expect(options.check?.node(y.id)?.status == .kink)
        let laidOut = try GraphFigure.layout(graph: g, output: y.id, options: options)
        let svg = GraphFigure.svg(laidOut)
        #expect(svg.contains("stroke=\"\(Theme().checkKink.hexString)\""))
        #expect(!svg.contains("stroke=\"\(Theme().checkFailed.hexString)\""))
        #expect(svg.contains("⚠ kink, rel err"))
        #expect(laidOut.nodes.first { $0.node.node == y.id && $0.node.kind == .op }?.node.outline == .double)
    }

    @Test("Pass, kink and fail read without colour: ✓ ⚠ ✗ and one, two or a heavy line", arguments: FigureStyle.allCases)
    func resultsReadWithoutColour(_ style: FigureStyle) throws {
        let (graph, square, output) = try wrongGraph()
        var options = FigureOptions()
        options.style = style
        options.check = try GradientCheck.graph(graph, output: output)
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let failed = scene.nodes.filter { $0.node == square && $0.outline == .heavy }
        #expect(!failed.isEmpty, "the failed node has a heavy outline")
        #expect(failed.allSatisfy { $0.strokeWidth == OutlineStyle.heavyWidth })
        let passed = scene.nodes.filter { node in node.node.map { options.check?.node($0)?.status == .pass } ?? false }
        #expect(passed.allSatisfy { $0.outline == .single })
        #expect(scene.nodes.contains { $0.content.texts.contains { $0.hasPrefix("✗") } })
    }

    @Test("A passing circuit has no failure colour")
    func passingIsGreen() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        var options = FigureOptions()
        options.check = try GradientCheck.graph(graph, output: output)
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        #expect(svg.contains("stroke=\"\(Theme().checkGood.hexString)\""))
        #expect(!svg.contains("✗"))
    }

    @Test("The JSON export carries each node's check status")
    func jsonStatus() throws {
        let (graph, square, output) = try wrongGraph()
        var options = FigureOptions()
        options.check = try GradientCheck.graph(graph, output: output)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("overlay.json").path
        try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let nodes = try #require(json?["nodes"] as? [[String: Any]])
        let check = try #require(nodes[square.index]["check"] as? [String: Any])
        #expect(check["status"] as? String == "fail")
        #expect(check["band"] as? String == "wrong")
    }
}
