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
        for label in [">-12.00<", ">← -4.00<", ">3.00<", ">← 3.00<", ">5.00<", ">-2.00<", ">← 1.00<", ">x<", ">y<", ">z<", ">f<", ">+<", ">*<"] {
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
        #expect(text.contains("fill=\"\(theme.gradient.hexString)\">← -4.00<"), "a gradient is marked ← as well as red")
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
        #expect(text.contains(">← —<"))
        #expect(text.contains(">-12.00<"))
        #expect(!text.contains("\(Theme().gradient.hexString)\">← -4.00<"), "no gradient exists yet, yet one is drawn")
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
        #expect(text.contains(">← -0.197<") || text.contains(">← -0.196<"))
    }

    @Test("The colour-blind palette writes in Okabe–Ito's hues, darkened to read at 4.5:1")
    func colorblindPalette() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output) { $0.palette = .colorblind }
        let theme = Theme(palette: .colorblind)
        #expect(theme.value == RGB(hex: 0x009E73).readable(on: RGB(hex: 0x009E73).mixed(with: .white, theme.tint)))
        #expect(text.contains(theme.value.hexString))
        #expect(text.contains(theme.gradient.hexString))
        #expect(!text.contains(Theme().gradient.hexString))
    }

    @Test("The sigmoid neuron reads as CS231n's: constants fold into *−1, +1 and 1/x, no stray 1 wires")
    func sigmoidGates() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let scene = try GraphFigure.scene(graph: graph, output: output, options: FigureOptions())
        let gates = scene.nodes.filter { $0.kind == .op }.map { $0.content.texts[0] }
        #expect(gates == ["*", "*", "+", "+", "*−1", "exp", "+1", "1/x"])
        let constants = graph.nodes.filter { $0.role == .constant }.map(\.id)
        #expect(!scene.nodes.contains { $0.node.map(constants.contains) ?? false }, "a folded constant is not drawn")
        #expect(scene.nodes.filter { $0.shape == .wireLabel }.count == 13, "five inputs, seven gate-to-gate wires, the output")
    }

    @Test("A folded constant keeps its side where the op does not commute: /2, 2−x, max(0, x)")
    func foldedSides() throws {
        let g = Graph()
        let x = g.input("x", 3)
        let half = x / 2
        let flipped = 2 - x
        let relu = maximum(g.constant(0), x)
        let f = (half + flipped + relu).named("f")
        try g.backward(f)
        let scene = try GraphFigure.scene(graph: g, output: f.id, options: FigureOptions())
        func gate(_ v: Var) throws -> String { try #require(scene.nodes.first { $0.key == "n\(v.id.index)" }).content.texts[0] }
        #expect(try gate(half) == "/2")
        #expect(try gate(flipped) == "2−x")
        #expect(try gate(relu) == "max(0, x)")
    }

    @Test("Names come from the expression: w0*x0 + w1*x1, exp(−dot), not mul#5 or %2")
    func expressionNames() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let builder = SceneBuilder(graph: graph, output: output, options: FigureOptions())
        let unnamed = graph.nodes.filter { $0.op != nil && $0.name == nil }.map { builder.label($0.id) }
        #expect(unnamed == ["w0*x0", "w1*x1", "w0*x0 + w1*x1", "−dot", "exp(−dot)", "1 + exp(−dot)"])
        #expect(builder.label(output) == "f")
        #expect(builder.label(output, drawnNamesOnly: true) == "f")
        var record = FigureOptions()
        record.style = .record
        let texts = try GraphFigure.scene(graph: graph, output: output, options: record).nodes.flatMap(\.content.texts)
        #expect(texts.contains("w0*x0 + w1*x1"))
        #expect(!texts.contains { $0.contains("#") || $0.hasPrefix("%") })
        // The JSON keeps the internal ids and names.
        let json = try Export.json(graph: graph, output: output, options: record,
                                   laidOut: GraphFigure.layout(graph: graph, output: output, options: record))
        #expect(String(decoding: json, as: UTF8.self).contains("\"mul#5\""))
    }

    @Test("Parentheses only where precedence needs them; custom ops read as calls; long names are elided")
    func expressionParentheses() throws {
        let g = Graph()
        let (a, b, c) = (g.input("a", 1), g.input("b", 2), g.input("c", 3))
        let sum = a + b
        let product = sum * c
        let quotient = a / (b * c)
        let difference = a - (b - c)
        let wrong = g.build(WrongSquare(), [product])
        var long = a
        for _ in 0..<12 { long = long * b + c }
        let f = (quotient + difference + wrong + long).named("f")
        try g.backward(f)
        let builder = SceneBuilder(graph: g, output: f.id, options: FigureOptions())
        #expect(builder.label(product.id) == "(a + b)*c")
        #expect(builder.label(quotient.id) == "a/(b*c)")
        #expect(builder.label(difference.id) == "a − (b − c)")
        #expect(builder.label(wrong.id) == "wrong_square((a + b)*c)")
        #expect(builder.label(long.id).count <= SceneBuilder.maxLabelLength)
        #expect(builder.label(long.id).contains("…"))
    }

    @Test("Non-commutative gates keep the first operand on top and name their ports; + and * do not")
    func operandOrder() throws {
        let g = Graph()
        // Made in the opposite order of the operands, so creation order cannot be what places them.
        let b = g.input("b", 2)
        let a = g.input("a", 6)
        let quotient = (a / b).named("q")
        let f = (quotient - b * a).named("f")
        try g.backward(f)
        let laidOut = try GraphFigure.layout(graph: g, output: f.id, options: FigureOptions())
        func wire(_ key: String) throws -> PlacedNode { try #require(laidOut.nodes.first { $0.node.key == key }) }
        for gate in [quotient.id, f.id] {
            let first = try wire("w\(gate.index)_0"), second = try wire("w\(gate.index)_1")
            #expect(first.frame.center.y < second.frame.center.y, "the first operand of \(g[gate].op!.name) is on top")
            #expect(first.node.content.texts.last == "a" || first.node.content.texts.contains("a"))
            #expect(second.node.content.texts.contains("b"))
        }
        let product = try #require(g.nodes.first { $0.op?.name == "mul" })
        #expect(try !wire("w\(product.id.index)_0").node.content.texts.contains("a"), "* commutes: no port names")
    }

    @Test("Step by step: only the known gradients are shown, the active node highlighted")
    func stepsAPI() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let text = try svg(graph, output) {
            $0.knownGradients = [output]
            $0.highlighted = output
        }
        #expect(text.contains(">← 1.00<"))
        #expect(text.contains(">← -4.00<"), "the gradient flowing into q along its wire is known once f's is")
        #expect(text.contains(">← —<"))
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
