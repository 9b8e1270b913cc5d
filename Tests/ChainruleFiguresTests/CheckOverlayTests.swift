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

    @Test("relu at its kink is amber, not red")
    func kinkIsAmber() throws {
        let g = Graph()
        let x = g.input("x", 0)
        let y = relu(x).named("y")
        try g.backward(y)
        var options = FigureOptions()
        options.check = try GradientCheck.graph(g, output: y.id)
        #expect(options.check?.node(y.id)?.status == .kink)
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: g, output: y.id, options: options))
        #expect(svg.contains("stroke=\"\(Theme().checkWarning.hexString)\""))
        #expect(!svg.contains("stroke=\"\(Theme().checkFailed.hexString)\""))
        #expect(svg.contains("kink, rel err"))
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
