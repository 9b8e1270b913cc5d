import ChainruleCheck
import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

@Suite("The CS231n circuit, drawn as in the lecture")
struct CircuitTests {
    func svg(_ graph: Graph, _ output: NodeID, _ configure: (inout FigureOptions) -> Void = { _ in }) throws -> String {
        var options = FigureOptions()
        configure(&options)
        return GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
    }

    @Test("Values and gradients of f = (x + y)·z are on the wires as text")
    func labelsAreText() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output)
        for label in [">-12.00<", ">-4.00<", ">3.00<", ">5.00<", ">-2.00<", ">1.00<", ">x<", ">y<", ">z<", ">f<", ">+<", ">*<"] {
            #expect(text.contains(label), "missing \(label)")
        }
        #expect(!text.contains("<symbol"), "text must stay text, not glyph outlines")
    }

    @Test("Values are green and gradients red")
    func colours() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output)
        let theme = Theme()
        #expect(text.contains("fill=\"\(theme.value.hexString)\">-12.00<"))
        #expect(text.contains("fill=\"\(theme.gradient.hexString)\">-4.00<"))
    }

    @Test("The PNG holds green and red text pixels")
    func pngPixels() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("circuit.png").path
        try GraphFigure.write(graph: graph, output: output, options: FigureOptions(), to: path)
        let image = try #require(RasterImage(pngFile: path))
        let theme = Theme()
        #expect(image.count(near: theme.value) > 100, "no green value text")
        #expect(image.count(near: theme.gradient) > 100, "no red gradient text")
    }

    @Test("Before backward a gradient reads —, not 0")
    func gradientBeforeBackward() throws {
        let (graph, output) = Examples.cs231nCircuit()
        try graph.forward()
        let text = try svg(graph, output.id)
        #expect(text.contains(">—<"))
        #expect(text.contains(">-12.00<"))
        #expect(!text.contains("\(Theme().gradient.hexString)\">-4.00<"), "no gradient exists yet, yet one is drawn")
    }

    @Test("--no-grad draws values only")
    func noGrad() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output) { $0.showGradients = false }
        #expect(text.contains(">-12.00<"))
        #expect(!text.contains(Theme().gradient.hexString))
    }

    @Test("Local gradients: ∂f/∂q = z = -4 and ∂f/∂z = q = 3, in blue")
    func localGradients() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output) { $0.labels = [.value, .local, .grad] }
        let blue = Theme().local.hexString
        #expect(text.contains("fill=\"\(blue)\">local -4.00<"))
        #expect(text.contains("fill=\"\(blue)\">local 3.00<"))
        #expect(text.contains("fill=\"\(blue)\">local 1.00<"))
    }

    @Test("Precision sets the decimals")
    func precision() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let text = try svg(graph, output) { $0.precision = 3 }
        #expect(text.contains(">0.731<"))
        #expect(text.contains(">-0.197<") || text.contains(">-0.196<"))
    }

    @Test("The colour-blind palette uses the Okabe–Ito colours")
    func colorblindPalette() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output) { $0.palette = .colorblind }
        #expect(text.contains("#009e73"))
        #expect(text.contains("#d55e00"))
        #expect(!text.contains(Theme().gradient.hexString))
    }

    @Test("Step by step: only the known gradients are shown, the active node highlighted")
    func stepsAPI() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output) {
            $0.knownGradients = [output]
            $0.highlighted = output
        }
        #expect(text.contains(">1.00<"))
        #expect(text.contains(">-4.00<"), "the gradient flowing into q along its wire is known once f's is")
        #expect(text.contains(">—<"))
        #expect(text.contains(Theme().highlight.hexString))
    }

    @Test("Top to bottom puts inputs above the output")
    func topToBottom() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        var options = FigureOptions()
        options.direction = .TB
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        let x = try #require(laidOut.nodes.first { $0.node.key == "n0" })
        let out = try #require(laidOut.nodes.first { $0.node.key == "out" })
        #expect(x.frame.center.y < out.frame.center.y)
    }
}
