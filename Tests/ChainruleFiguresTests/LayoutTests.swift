import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

@Suite("Layout sanity, read from the laid-out scene")
struct LayoutTests {
    @Test("No two boxes overlap, and everything stays on the canvas", arguments: FigureCase.all)
    func noOverlaps(_ figure: FigureCase) throws {
        let (graph, output) = try #require(FigureExamples.named(figure.example))
        for direction in Direction.allCases {
            var options = figure.options
            options.direction = direction
            options.labels = [.value, .local, .grad]
            options.title = "A title"
            let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
            let canvas = Rect(x: 0, y: 0, width: laidOut.size.width, height: laidOut.size.height)
            for (i, a) in laidOut.nodes.enumerated() {
                #expect(canvas.contains(a.frame), "\(figure) \(direction): \(a.node.key) leaves the canvas")
                for b in laidOut.nodes[(i + 1)...] {
                    #expect(!a.frame.overlaps(b.frame), "\(figure) \(direction): \(a.node.key) overlaps \(b.node.key)")
                }
            }
            if let title = laidOut.titleFrame {
                #expect(canvas.contains(title))
                #expect(!laidOut.nodes.contains { $0.frame.overlaps(title) }, "the title covers a node")
            }
        }
    }

    @Test("Text is at least 11 pt at natural size, so a slide reads from the back row", arguments: FigureCase.all)
    func textSize(_ figure: FigureCase) throws {
        let (graph, output) = try #require(FigureExamples.named(figure.example))
        var options = figure.options
        options.labels = [.value, .local, .grad]
        options.title = "Title"
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        // The measured lines, not the styles asked for: an 11 pt line with its
        // ascent and descent is at least 11 pt tall, and a non-empty one has width.
        let lines = scene.nodes.flatMap { textLines($0.content) } + (scene.titleBlock.map(textLines) ?? [])
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.size.height >= 11, "'\(line.text)' is measured \(line.size.height) pt tall")
            #expect(line.text.isEmpty || line.size.width > 0, "'\(line.text)' is measured with no width")
        }
    }

    /// Every line of text in a block, with its measured size.
    func textLines(_ block: Block) -> [(text: String, size: Size)] {
        if case .text(let text, _, _) = block.kind { return [(text, block.size)] }
        return block.children.flatMap(textLines)
    }

    @Test("A wire runs through the middle of its label, between value and gradient")
    func wiresThroughLabels() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: FigureOptions())
        let labels = laidOut.nodes.filter { $0.node.shape == .wireLabel }
        #expect(labels.count == 5, "four input wires and the output wire")
        for label in labels {
            let into = try #require(laidOut.edges.first { $0.edge.to == label.node.key })
            let end = try #require(into.points.last)
            #expect(abs(end.y - label.frame.center.y) < 0.5)
            // Within a point: with a gate's inputs kept in order (`ordering=in`) dot may end a wire 1 pt short.
            #expect(abs(end.x - label.frame.x) <= 1, "the wire into \(label.node.key) ends at \(end.x), the label starts at \(label.frame.x)")
        }
    }

    @Test("Layer frames hold their ops in the ops view")
    func clusters() throws {
        let (graph, output) = try #require(FigureExamples.named("convnet"))
        var options = FigureOptions()
        options.style = .model
        options.view = .ops
        // A target it reads on as first drawn: for a slide the fitting search folds each layer into one titled box.
        options.fit = FitTarget(width: 2000, height: 2000)
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        #expect(laidOut.clusters.count == 2)
        for (index, cluster) in laidOut.clusters.enumerated() {
            for node in laidOut.nodes where node.node.cluster == index {
                #expect(cluster.frame.contains(node.frame), "\(node.node.key) sticks out of \(cluster.cluster.title)")
            }
        }
    }

    @Test("The layers view draws one box per layer with its parameter count")
    func layerBoxes() throws {
        let (graph, output) = try #require(FigureExamples.named("convnet"))
        var options = FigureOptions()
        options.style = .model
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let layers = scene.nodes.filter { $0.kind == .layer }
        #expect(layers.map { $0.content.texts[0] } == ["Conv2D c1", "Conv2D c2"])
        #expect(layers[0].content.texts.contains("40 params"))
        #expect(layers[1].content.texts.contains("74 params"))
        #expect(layers[0].content.texts.last == "→ 1×4×4×4", "each shape once, at the bottom of its stage")
        #expect(!scene.nodes.contains { $0.shape == .wireLabel })
    }

    @Test("A parameter used by several ops is drawn beside each of them")
    func sharedLeavesAreCopied() throws {
        let g = Graph()
        let w = g.param("w", Tensor(0.5))
        let a = g.input("a", 1), b = g.input("b", 2), c = g.input("c", 3)
        let out = (w * a + w * b + w * c).named("out")
        try g.backward(out)
        let scene = try GraphFigure.scene(graph: g, output: out.id, options: FigureOptions())
        #expect(scene.nodes.filter { $0.node == w.id }.count == 3)
        #expect(scene.nodes.filter { $0.node == a.id }.count == 1)
    }
}
