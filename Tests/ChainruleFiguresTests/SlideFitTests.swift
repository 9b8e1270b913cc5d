import ChainruleCheck
import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

/// Every sample in its default style, measured on a 16:9 slide: the figure
/// scaled to fill 900×460 pt, and the size of its smallest text there.
enum SlideFitTable {
    struct Row: Sendable {
        var sample: String
        var style: FigureStyle
        var nodes: Int
        var layers: Int
        var fit: SlideFit
    }

    static func row(_ name: String, target: FitTarget = .slide) throws -> Row {
        let (graph, output) = try Samples.load(name)
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: graph)
        options.direction = FigureOptions.defaultDirection(for: options.style)
        options.fit = target
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        let fit = try #require(SlideFit(svg: svg, target: target), "\(name): no size or no text in its SVG")
        return Row(sample: name, style: options.style, nodes: graph.count, layers: graph.layers.count, fit: fit)
    }

    /// Gallery figure `figure` (`scripts/gallery.sh`) made as its command line makes it.
    static func row(_ figure: GalleryFigure) throws -> Row {
        let (graph, output) = try figure.source.load()
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: graph)
        figure.set(&options)
        options.direction = options.direction == .LR ? FigureOptions.defaultDirection(for: options.style) : options.direction
        if figure.checked { options.check = try GradientCheck.graph(graph, output: output) }
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        let fit = try #require(SlideFit(svg: svg, target: .slide), "\(figure.name): no size or no text in its SVG")
        return Row(sample: figure.name, style: options.style, nodes: graph.count, layers: graph.layers.count, fit: fit)
    }

    /// The table as Markdown (`scripts/slide-fit.sh` prints it).
    static func markdown(_ rows: [Row]) -> String {
        var text = "| sample | style | nodes | figure (pt) | smallest font | on the slide |\n| --- | --- | --- | --- | --- | --- |\n"
        for row in rows {
            let size = "\(Int(row.fit.figureSize.width.rounded()))×\(Int(row.fit.figureSize.height.rounded()))"
            text += "| \(row.sample) | \(row.style) | \(row.nodes) | \(size) | \(formatNumber(row.fit.smallestFont)) | "
                + String(format: "%.1f pt", row.fit.textSize) + " |\n"
        }
        return text
    }
}

/// A graph figure of the gallery (`scripts/gallery.sh`): what it draws and
/// the options its command line sets. (`onnx-small-cnn` is measured by the
/// ONNX tests' target, which reads `.onnx` files.)
struct GalleryFigure: Sendable {
    enum Source: Sendable {
        case sample(String)
        case expression(String)
        case example(String)

        func load() throws -> (Graph, NodeID) {
            switch self {
            case .sample(let name): return try Samples.load(name)
            case .expression(let source):
                let program = try Compiler.compile(source: source, file: "-e", options: CompileOptions())
                try program.graph.backward(from: program.output)
                return (program.graph, program.output)
            case .example(let name): return try #require(FigureExamples.named(name))
            }
        }
    }

    var name: String
    var source: Source
    var checked = false
    var set: @Sendable (inout FigureOptions) -> Void = { _ in }

    static let all: [GalleryFigure] = [
        GalleryFigure(name: "cs231n-circuit.png", source: .sample("cs231n-circuit.grad")),
        GalleryFigure(name: "cs231n-local.png", source: .sample("cs231n-circuit.grad")) { $0.labels = [.value, .local, .grad] },
        GalleryFigure(name: "cs231n-tb.png", source: .sample("cs231n-circuit.grad")) {
            $0.direction = .TB
            $0.title = "f = (x + y) · z"
        },
        GalleryFigure(name: "cs231n-record.png", source: .sample("cs231n-circuit.grad")) { $0.style = .record },
        GalleryFigure(name: "cs231n-check.png", source: .sample("cs231n-circuit.grad"), checked: true),
        GalleryFigure(name: "sigmoid-neuron.png", source: .sample("sigmoid-neuron.grad")),
        GalleryFigure(name: "sigmoid-colorblind.png", source: .sample("sigmoid-neuron.grad")) {
            $0.palette = .colorblind
            $0.precision = 3
        },
        GalleryFigure(name: "sigmoid-forward.png", source: .sample("sigmoid-neuron.grad")) { $0.showGradients = false },
        GalleryFigure(name: "micrograd-neuron.png", source: .sample("micrograd-neuron.grad")),
        GalleryFigure(name: "custom-op-wrong.png", source: .sample("custom-op-wrong.grad"), checked: true),
        GalleryFigure(name: "shared-leaf.png", source: .expression("x0 = 0.5; x1 = x0 * x0; x2 = x1 * x0; x3 = x2 * x0; x4 = x3 * x0")),
        GalleryFigure(name: "nan-inf-record.png", source: .expression("x = [1, 2, 3, 4]; y = sum(log(x - 2) * x)")) { $0.style = .record },
        GalleryFigure(name: "maxpool-routing.png", source: .sample("maxpool-routing.grad")),
        GalleryFigure(name: "mlp-circuit.png", source: .example("mlp")) { $0.style = .circuit },
        GalleryFigure(name: "mlp-record.png", source: .example("mlp")) { $0.style = .record },
        GalleryFigure(name: "conv-layer.png", source: .sample("conv-layer.grad")),
        GalleryFigure(name: "lenet.png", source: .sample("lenet.grad")),
        GalleryFigure(name: "lenet-ops.svg", source: .sample("lenet.grad")) { $0.view = .ops },
        GalleryFigure(name: "convnet-ops.png", source: .example("convnet")) {
            $0.style = .model
            $0.view = .ops
        },
    ]
}

@Suite("Slide fit: figures read from the back row on a 16:9 slide")
struct SlideFitTests {
    @Test("Every sample's smallest text is at least 14 pt on a slide (graphs up to 60 nodes, models up to 20 layers)")
    func everySampleReadsOnASlide() throws {
        let rows = try Samples.names.map { try SlideFitTable.row($0) }
        print(SlideFitTable.markdown(rows))
        for row in rows where row.nodes <= 60 && row.layers <= 20 {
            let check = {
                #expect(row.fit.textSize >= FitTarget.readableTextSize,
                        "\(row.sample) (\(row.style)): \(String(format: "%.1f", row.fit.textSize)) pt on a slide")
            }
            if let reason = Self.notYetReadable[row.sample] {
                withKnownIssue(Comment(rawValue: reason), isIntermittent: true, check)
            } else {
                check()
            }
        }
    }

    @Test("Every gallery figure of up to 60 nodes and 20 layers reads at 14 pt on a slide, with the options its command line gives")
    func everyGalleryFigureReadsOnASlide() throws {
        let rows = try GalleryFigure.all.map { try SlideFitTable.row($0) }
        print(SlideFitTable.markdown(rows))
        for row in rows where row.nodes <= 60 && row.layers <= 20 {
            let check = {
                #expect(row.fit.textSize >= FitTarget.readableTextSize,
                        "\(row.sample) (\(row.style)): \(String(format: "%.1f", row.fit.textSize)) pt on a slide")
            }
            if let reason = Self.notYetReadable[row.sample] {
                withKnownIssue(Comment(rawValue: reason), isIntermittent: true, check)
            } else {
                check()
            }
        }
    }

    /// The samples still below 14 pt, and why (issue 10 stays open for them).
    static let notYetReadable = [
        "mlp-record.png": "record style, 946×463 pt (10.5 pt; 8.8 with every rank's inputs in one column, 8.0 before compact cells): 184 numbers in cells (every tensor up to 8×8); each linear op's operand now stands a rank before its parameters (FitChoice.spreadsInputs: x alone, h.W over h.b), the best the rows of a ranked layout give — a search over every row wrap of these boxes with 2-D blocks per rank and each box's panels chosen alone, no wire lanes, tops out at 11.7 pt, and a perfect tiling with 6 pt between boxes at 14.7: the boxes (194,000 pt² at their smallest) must shrink, not only move; as pictures it reads 10.1 pt, so the numbers stay",
    ]

    @Test("The SVG measure and the scene's agree")
    func svgAndSceneAgree() throws {
        let (graph, output) = try Samples.load("lenet.grad")
        var options = FigureOptions()
        options.style = .model
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        let fromSVG = try #require(SlideFit(svg: GraphFigure.svg(laidOut), target: .slide))
        let fromScene = SlideFit(laidOut, target: .slide)
        #expect(abs(fromSVG.textSize - fromScene.textSize) < 0.05)
        #expect(abs(fromSVG.figureSize.width - laidOut.size.width) < 0.01)
    }

    @Test("A tall strip of 11 pt text shrinks on a slide; a small figure grows")
    func theMeasureScalesBothWays() {
        let strip = SlideFit(figureSize: Size(412, 3120), smallestFont: 11, target: .slide)
        #expect(abs(strip.textSize - 11 * 460 / 3120) < 1e-9)
        #expect(!strip.isReadable)
        let small = SlideFit(figureSize: Size(300, 150), smallestFont: 12, target: .slide)
        #expect(abs(small.textSize - 36) < 1e-9)
    }

    @Test("--fit takes slide, 16:9, 4:3 and WxH in points")
    func parsesTargets() {
        #expect((try? FitTarget(validating: "slide")) == .slide)
        #expect((try? FitTarget(validating: "16:9")) == .slide)
        #expect((try? FitTarget(validating: "4:3")) == .fourByThree)
        #expect((try? FitTarget(validating: "800x450")) == FitTarget(width: 800, height: 450))
        #expect((try? FitTarget(validating: "wide")) == nil)
        #expect((try? FitTarget(validating: "0x450")) == nil)
        #expect((try? FitTarget(validating: "800x")) == nil)
    }

    @Test("--fit sides are 100…5000 pt for graph targets and chart pages alike, refused with one message")
    func oneRange() {
        let tooWide = FigureError.invalidOption("--fit 6000x500: each side must be between 100 and 5000 points")
        #expect(throws: tooWide) { try FitTarget(validating: "6000x500") }
        #expect(throws: tooWide) { try ChartPage(parsing: "6000x500") }
        #expect((try? FitTarget(validating: "60x60")) == nil && (try? FitTarget(validating: "100x5000")) == FitTarget(width: 100, height: 5000))
        #expect(throws: FigureError.invalidOption("--fit takes slide (16:9), 4:3 or WxH in points such as 1200x600, got 'wide'")) {
            try FitTarget(validating: "wide")
        }
    }

    /// The CS231n circuit with `title`, laid out for a slide.
    func circuit(title: String?) throws -> LaidOutScene {
        let (graph, output) = try Samples.load("cs231n-circuit.grad")
        var options = FigureOptions()
        options.title = title
        return try GraphFigure.layout(graph: graph, output: output, options: options)
    }

    @Test("A long title adds lines, not width: the circuit still reads at 14 pt on a slide, and a word longer than the figure is broken")
    func longTitle() throws {
        let plain = try circuit(title: nil)
        let sentence = "The CS231n circuit f = (x + y) · z with its forward values in green above each wire and its gradients in red below, by backpropagation"
        let url = "https://cs231n.github.io/optimization-2/#backprop-in-practice-staged-computation-and-the-sigmoid-example"
        for title in [sentence, url] {
            let titled = try circuit(title: title)
            let block = try #require(titled.scene.titleBlock)
            #expect(block.texts.count > 1, "broken into lines")
            #expect(block.texts.joined(separator: title == url ? "" : " ") == title)
            let frame = try #require(titled.titleFrame)
            #expect(frame.maxX <= titled.size.width - titled.scene.theme.margin + 1e-9)
            // No wider than the slide's shape allows at the figure's height and one line more: the height bounds the fit.
            let line = TextMeasurer(theme: titled.scene.theme).lineMetrics(FigureTitle.style(theme: titled.scene.theme, bodySize: 12)).height
            #expect(titled.size.width <= max(plain.size.width, (titled.size.height + line + 2) * 900 / 460) + 1e-9)
            #expect(SlideFit(titled, target: .slide).isReadable)
            #expect(SlideFit(svg: GraphFigure.svg(titled), target: .slide)?.isReadable == true)
        }
    }

    /// LeNet laid out for `target` in the model style.
    func lenet(_ target: FitTarget, direction: Direction = .LR) throws -> LaidOutScene {
        let (graph, output) = try Samples.load("lenet.grad")
        var options = FigureOptions()
        options.style = .model
        options.direction = direction
        options.fit = target
        return try GraphFigure.layout(graph: graph, output: output, options: options)
    }

    @Test("LeNet wraps into rows that fill a slide, boxes apart and inside the figure", arguments: [Direction.LR, .TB])
    func lenetWrapsIntoRows(_ direction: Direction) throws {
        let laidOut = try lenet(.slide, direction: direction)
        let frames = laidOut.nodes.map(\.frame)
        for (i, a) in frames.enumerated() {
            #expect(Rect(x: 0, y: 0, width: laidOut.size.width, height: laidOut.size.height).contains(a))
            for b in frames[(i + 1)...] { #expect(!a.overlaps(b)) }
        }
        // Every edge ends at its target box's outline (the arrow tip touches it).
        let byKey = Dictionary(uniqueKeysWithValues: laidOut.nodes.map { ($0.node.key, $0.frame) })
        for edge in laidOut.edges {
            let tip = try #require(edge.arrowTip ?? edge.points.last)
            let target = try #require(byKey[edge.edge.to])
            let grown = Rect(x: target.x - 3, y: target.y - 3, width: target.width + 6, height: target.height + 6)
            #expect(grown.contains(Rect(x: tip.x, y: tip.y, width: 0, height: 0)))
        }
        #expect(SlideFit(laidOut, target: .slide).textSize >= FitTarget.readableTextSize)
    }

    /// Models of 10–50 ops beyond the samples, for the ops view: a deep
    /// perceptron, a VGG-like stack of convolutions, and residual blocks
    /// (a wire that skips a layer, so the figure is not a plain chain).
    static let otherModels: [(name: String, source: String)] = [
        ("deep-mlp", """
        x = const(randn(4, 8, seed: 1))
        h1 = relu(Linear(x, 16))
        h2 = relu(Linear(h1, 16))
        h3 = relu(Linear(h2, 16))
        h4 = relu(Linear(h3, 12))
        h5 = relu(Linear(h4, 8))
        s = Linear(h5, 3)
        loss = cross_entropy(s, [0, 1, 2, 1])
        """),
        ("small-vgg", """
        x = const(randn(1, 1, 16, 16, seed: 2))
        c1 = relu(Conv2D(x, filters: 4, kernel: 3, pad: 1))
        c2 = relu(Conv2D(c1, filters: 4, kernel: 3, pad: 1))
        p1 = maxpool2d(c2, 2)
        c3 = relu(Conv2D(p1, filters: 8, kernel: 3, pad: 1))
        p2 = maxpool2d(c3, 2)
        f = relu(Linear(flatten(p2), 32))
        s = Linear(f, 10)
        loss = cross_entropy(s, [3])
        """),
        ("residual", """
        x = const(randn(2, 6, seed: 3))
        h1 = relu(Linear(x, 8))
        h2 = relu(Linear(h1, 8)) + h1
        h3 = relu(Linear(h2, 8)) + h2
        s = Linear(h3, 2)
        loss = cross_entropy(s, [0, 1])
        """),
    ]

    /// `source` compiled, run forward and backward, and laid out in the ops view for `target`.
    static func opsView(_ source: String, target: FitTarget = .slide) throws -> (graph: Graph, laidOut: LaidOutScene) {
        let program = try Compiler.compile(source: source, file: "-e", options: CompileOptions())
        try program.graph.backward(from: program.output)
        var options = FigureOptions()
        options.style = .model
        options.view = .ops
        options.fit = target
        return (program.graph, try GraphFigure.layout(graph: program.graph, output: program.output, options: options))
    }

    /// No two boxes overlap, and no wire runs through a box other than its two ends
    /// (each Bézier piece sampled; a box's outline shrunk by 1 pt so that a wire may touch it).
    static func expectClear(_ laidOut: LaidOutScene, _ name: String) {
        let frames = laidOut.nodes.map(\.frame)
        for (i, a) in frames.enumerated() {
            for b in frames[(i + 1)...] { #expect(!a.overlaps(b), "\(name): boxes overlap") }
        }
        for edge in laidOut.edges {
            let p = edge.points
            var samples: [Point] = []
            for start in stride(from: 0, to: p.count - 3, by: 3) {
                for step in 0...8 {
                    let t = Double(step) / 8, u = 1 - t
                    let (a, b, c, d) = (u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t)
                    samples.append(Point(a * p[start].x + b * p[start + 1].x + c * p[start + 2].x + d * p[start + 3].x,
                                         a * p[start].y + b * p[start + 1].y + c * p[start + 2].y + d * p[start + 3].y))
                }
            }
            for node in laidOut.nodes where node.node.key != edge.edge.from && node.node.key != edge.edge.to {
                let inner = Rect(x: node.frame.x + 1, y: node.frame.y + 1, width: node.frame.width - 2, height: node.frame.height - 2)
                let hit = samples.contains { inner.contains(Rect(x: $0.x, y: $0.y, width: 0, height: 0)) }
                #expect(!hit, "\(name): the wire \(edge.edge.from) → \(edge.edge.to) crosses \(node.node.key)")
            }
        }
    }

    @Test("Op views of other models read at 14 pt on a slide, boxes and wires clear of each other", arguments: otherModels.map(\.name))
    func otherModelsRead(_ name: String) throws {
        let source = try #require(Self.otherModels.first { $0.name == name }).source
        let (graph, laidOut) = try Self.opsView(source)
        #expect((10...50).contains(graph.nodes.filter { $0.op != nil }.count), "a model of 10–50 ops")
        let fit = SlideFit(laidOut, target: .slide)
        let check = {
            #expect(fit.isReadable, "\(name): \(String(format: "%.1f", fit.textSize)) pt on a slide, \(Int(fit.figureSize.width))×\(Int(fit.figureSize.height)) pt")
        }
        if let reason = Self.notYetReadable[name] { withKnownIssue(Comment(rawValue: reason), isIntermittent: true, check) } else { check() }
        Self.expectClear(laidOut, name)
    }

    @Test("A long chain of ops wraps into rows in snake order: every row turns where the last ended, the ops in the graph's order")
    func longChainSnakes() throws {
        let layers = (1...6).map { "h\($0) = relu(Linear(h\($0 - 1), 6))" }.joined(separator: "\n")
        let (graph, laidOut) = try Self.opsView("h0 = const(randn(2, 4, seed: 4))\n" + layers + "\nloss = sum(h6)")
        // The op boxes in the graph's (topological) order.
        let boxes = graph.nodes.filter { $0.op != nil }.compactMap { node in laidOut.nodes.first { $0.node.node == node.id }?.frame }
        #expect(boxes.count == graph.nodes.filter { $0.op != nil }.count)
        // Rows: boxes whose vertical spans meet are in one row; the chain visits the rows top to bottom.
        var rows: [[Rect]] = []
        for box in boxes {
            if let last = rows.last?.last, last.y < box.maxY && box.y < last.maxY { rows[rows.count - 1].append(box) } else { rows.append([box]) }
        }
        #expect(rows.count >= 2, "wrapped into rows")
        for (k, pair) in zip(rows, rows.dropFirst()).enumerated() { #expect(pair.0[0].maxY <= pair.1[0].y, "row \(k + 2) below row \(k + 1)") }
        // Even rows run left to right, odd ones right to left, each starting at the end where the row above ended.
        for (k, row) in rows.enumerated() {
            let steps = zip(row, row.dropFirst()).map { $1.center.x - $0.center.x }
            #expect(steps.allSatisfy { k % 2 == 0 ? $0 > 0 : $0 < 0 }, "row \(k + 1) runs \(k % 2 == 0 ? "right" : "left")")
            if k > 0 {
                let end = rows[k - 1].last!.center.x, start = row[0].center.x
                let side = laidOut.size.width / 2
                #expect((end > side) == (start > side), "row \(k + 1) starts at the side where row \(k) ended")
            }
        }
        #expect(SlideFit(laidOut, target: .slide).isReadable)
        Self.expectClear(laidOut, "chain")
    }

    @Test("An op view too big for the rich boxes gives detail up: weights folded into their ops, frames of one box turned into titles")
    func lenetOpsGivesUpDetail() throws {
        let (graph, output) = try Samples.load("lenet.grad")
        var options = FigureOptions()
        options.style = .model
        options.view = .ops
        let (scene, laidOut, used) = try GraphFigure.fittedLayout(graph: graph, output: output, options: options)
        #expect(used.fitChoice.boxDetail > .full)
        #expect(SlideFit(laidOut, target: .slide).isReadable)
        // No weight has a box; every layer's op is titled by its layer, and the weights are written in it.
        #expect(!scene.nodes.contains { $0.node.map { graph[$0].role == .param } ?? false })
        let conv = try #require(scene.nodes.first { $0.content.texts.first == "Conv2D c1" })
        #expect(conv.content.texts.contains("W 6×1×5×5 · b 6"))
        #expect(scene.clusters.isEmpty)
        Self.expectClear(laidOut, "lenet ops")
        // Drawn rich, the same figure reads below 14 pt.
        var rich = options
        rich.fitChoice.boxDetail = .full
        rich.fitChoice.gapScale = 0.5
        let full = try GraphFigure.fittedLayout(graph: graph, output: output, options: rich)
        #expect(!SlideFit(full.laidOut, target: .slide).isReadable)
    }

    @Test("A portrait target wraps into a taller figure than a 16:9 one")
    func portraitIsTaller() throws {
        let wide = try lenet(.slide).size, narrow = try lenet(FitTarget(width: 400, height: 700)).size
        #expect(narrow.width / narrow.height < wide.width / wide.height)
    }
}
