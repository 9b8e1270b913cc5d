import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

@Suite("A circuit too wide for its slide wraps like a line of text, every row left to right")
struct CircuitWrapTests {
    /// `source` compiled, run backward and laid out as a circuit for a slide.
    func circuit(_ source: String, _ configure: (inout FigureOptions) -> Void = { _ in }) throws -> LaidOutScene {
        let program = try Compiler.compile(source: source, file: "-e", options: CompileOptions())
        try program.graph.backward(from: program.output)
        var options = FigureOptions()
        configure(&options)
        return try GraphFigure.layout(graph: program.graph, output: program.output, options: options)
    }

    /// The rows of a wrapped circuit: bands of boxes at least a row gap apart.
    func rowCount(_ laidOut: LaidOutScene) -> Int {
        var bands: [(top: Double, bottom: Double)] = []
        for frame in laidOut.nodes.map(\.frame).sorted(by: { $0.y < $1.y }) {
            if let last = bands.last, frame.y < last.bottom + RowWrap.rowGap - 1e-6 {
                bands[bands.count - 1].bottom = max(last.bottom, frame.maxY)
            } else {
                bands.append((frame.y, frame.maxY))
            }
        }
        return bands.count
    }

    /// No two boxes overlap, every box is inside the figure, and every wire
    /// either runs right within its row or enters a later row from the left.
    func expectReadsLeftToRight(_ laidOut: LaidOutScene) throws {
        let frames = laidOut.nodes.map(\.frame)
        let figure = Rect(x: 0, y: 0, width: laidOut.size.width, height: laidOut.size.height)
        for (i, a) in frames.enumerated() {
            #expect(figure.contains(a))
            for b in frames[(i + 1)...] { #expect(!a.overlaps(b)) }
        }
        let byKey = Dictionary(uniqueKeysWithValues: laidOut.nodes.map { ($0.node.key, $0.frame) })
        for edge in laidOut.edges {
            let source = try #require(byKey[edge.edge.from]), target = try #require(byKey[edge.edge.to])
            let end = try #require(edge.arrowTip ?? edge.points.last)
            // A carriage return runs back left of both its ends, to a later row.
            let nextRow = edge.points.contains { $0.x < min(source.x, target.x) - 1 }
            #expect(nextRow ? target.y >= source.maxY : source.maxX <= target.x + 1, "\(edge.edge.from) → \(edge.edge.to) runs backwards")
            #expect(end.x >= target.x - 3 && end.x <= target.center.x, "\(edge.edge.to) is entered from its left")
            if nextRow { #expect(abs(end.x - target.x) < 1e-9 && abs(end.y - target.center.y) < 1e-9, "a carriage return ends at the middle of its target's left side") }
        }
    }

    @Test("The sigmoid neuron at --precision 3 (one line: 13.0 pt) wraps into two rows that read at 14 pt, the neuron's tree over its chain")
    func sigmoidWraps() throws {
        let (graph, output) = try Samples.load("sigmoid-neuron.grad")
        var options = FigureOptions()
        options.palette = .colorblind
        options.precision = 3
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        #expect(rowCount(laidOut) == 2)
        #expect(SlideFit(laidOut, target: .slide).isReadable)
        #expect(SlideFit(svg: GraphFigure.svg(laidOut), target: .slide)?.isReadable == true)
        try expectReadsLeftToRight(laidOut)
        // Every gradient keeps its mark: the rows are not mirrored.
        #expect(GraphFigure.svg(laidOut).contains(">\(SceneBuilder.gradientMark)-0.534<"))
    }

    @Test("A circuit that reads at 14 pt on one line keeps it", arguments: ["cs231n-circuit.grad", "sigmoid-neuron.grad", "micrograd-neuron.grad"])
    func readableKeepsItsLine(_ sample: String) throws {
        let (graph, output) = try Samples.load(sample)
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: FigureOptions())
        let scene = try GraphFigure.scene(graph: graph, output: output, options: FigureOptions())
        let oneLine = try GraphvizLayout.layout(scene, limits: FigureOptions().layout, advice: [])
        #expect(laidOut.size == oneLine.size)
    }

    @Test("A long chain of gates wraps into rows that fill a slide, and reads bigger than its one line", arguments: [FitTarget.slide, .fourByThree])
    func longChainWraps(_ target: FitTarget) throws {
        let chain = "x = 0.5\na = exp(x)\nb = a * 2\nc = tanh(b)\nd = c + 1\ne = d * d\nf = sin(e)\ng = f * 3\nh = cos(g)\ni = h - 1\nj = exp(i)\nk = j * 0.5\nl = tanh(k)"
        let laidOut = try circuit(chain) { $0.fit = target }
        let program = try Compiler.compile(source: chain, file: "-e", options: CompileOptions())
        try program.graph.backward(from: program.output)
        var options = FigureOptions()
        options.fit = target
        let scene = try GraphFigure.scene(graph: program.graph, output: program.output, options: options)
        let oneLine = try GraphvizLayout.layout(scene, limits: options.layout, advice: [])
        #expect(rowCount(laidOut) >= 2)
        #expect(SlideFit(laidOut, target: target).textSize > SlideFit(oneLine, target: target).textSize * RowWrap.minimumGain)
        try expectReadsLeftToRight(laidOut)
    }

    @Test("A top-to-bottom circuit keeps its one column")
    func topToBottomKeepsItsColumn() throws {
        let (graph, output) = try Samples.load("sigmoid-neuron.grad")
        var options = FigureOptions()
        options.direction = .TB
        options.precision = 3
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        #expect(laidOut.size == (try GraphvizLayout.layout(scene, limits: options.layout, advice: [])).size)
    }
}

@Suite("A circuit's tensor pictures give way as a record's do")
struct CircuitPictureFitTests {
    /// Every heatmap of `block`, depth first.
    func heatmaps(_ block: Block) -> [Heatmap] {
        if case .heatmap(let map) = block.kind { return [map] }
        return block.children.flatMap(heatmaps)
    }

    @Test("The MLP's circuit (6.5 pt with 180 numbers on its wires) reads at 14 pt with half-size pictures, each range kept")
    func mlpCircuitReads() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        var options = FigureOptions()
        options.style = .circuit
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        #expect(SlideFit(laidOut, target: .slide).isReadable)
        let maps = laidOut.nodes.flatMap { heatmaps($0.node.content) }
        #expect(!maps.isEmpty && maps.allSatisfy(\.labels.isEmpty), "pictures, not numbers")
        // Half the 36 pt thumbnail: a 4×3 tensor's cells are 4.5 pt.
        #expect(maps.contains { $0.rows == 4 && $0.columns == 3 && abs($0.cellWidth - 4.5) < 1e-9 })
        let texts = laidOut.nodes.flatMap(\.node.content.texts)
        for range in ["4×3 [-1.23, 2.03]", "\(SceneBuilder.gradientMark)4×5 [-0.18, 0.22]"] { #expect(texts.contains { $0.hasPrefix(range) }, "\(range) kept") }
    }
}
