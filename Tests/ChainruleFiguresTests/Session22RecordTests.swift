import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

/// Record figures fitted to a 16:9 slide: boxes that have their rank to
/// themselves stack value over gradient, and numbered cells get compact
/// while every number stays true as shown.
@Suite("Session 22: record figures fitted to a slide")
struct Session22RecordTests {
    /// `graph` in the record style, fitted to a slide as `chainrule render --style record` fits it.
    static func fitted(_ graph: Graph, _ output: NodeID) throws -> (scene: Scene, laidOut: LaidOutScene, options: FigureOptions) {
        var options = FigureOptions()
        options.style = .record
        return try GraphFigure.fittedLayout(graph: graph, output: output, options: options)
    }

    static func node(_ graph: Graph, named name: String) throws -> NodeID {
        try #require(graph.nodes.first { $0.name == name }).id
    }

    @Test("flower-filters reads at 14 pt on a slide: the boxes alone in their rank stack value over gradient, x and W/9 (one rank) stay side by side")
    func flowerReads() throws {
        let (graph, output) = try Samples.load("flower-filters.grad")
        let (_, laidOut, used) = try Self.fitted(graph, output)
        let fit = SlideFit(laidOut, target: .slide)
        #expect(fit.isReadable, "\(String(format: "%.1f", fit.textSize)) pt, \(Int(fit.figureSize.width))×\(Int(fit.figureSize.height)) pt")
        SlideFitTests.expectClear(laidOut, "flower-filters")
        // Which boxes stand alone in their rank.
        let builder = SceneBuilder(graph: graph, output: output, options: used)
        let alone = builder.boxesAloneInRank()
        for name in ["edges", "energy"] { #expect(alone.contains("n\(try Self.node(graph, named: name).index)"), "\(name) is alone") }
        let product = try #require(graph.nodes.first { $0.op != nil && $0.inputs.count == 2 && $0.inputs[0] == $0.inputs[1] }).id
        #expect(alone.contains("n\(product.index)"), "edges*edges is alone")
        let x = try Self.node(graph, named: "x")
        let scaled = try #require(graph.nodes.first { $0.op != nil && $0.shape == [4, 3, 3, 3] }).id
        #expect(!alone.contains("n\(x.index)") && !alone.contains("n\(scaled.index)"), "x and W/9 share a rank")
    }

    @Test("A scalar alone in its rank stacks its data over its grad when the fitting search stacks lone boxes; side by side otherwise")
    func loneScalarStacks() throws {
        let (graph, output) = try Samples.load("flower-filters.grad")
        let (scene, _, used) = try Self.fitted(graph, output)
        #expect(used.fitChoice.panels == .stackedWhereAlone)
        let energy = try #require(scene.nodes.first { $0.node == output && $0.key == "n\(output.index)" })
        guard case .column = energy.content.kind else {
            Issue.record("the energy box is not a column: \(energy.content.kind)")
            return
        }
        #expect(energy.content.texts == ["energy", "data 0.35", "grad 1.00"])
        // As first drawn (no fitting choice), the same box is one line, `energy | data | grad`.
        let first = try GraphFigure.scene(graph: graph, output: output, options: { var o = used; o.fitChoice = FitChoice(); return o }())
        let line = try #require(first.nodes.first { $0.key == "n\(output.index)" })
        guard case .row = line.content.kind else {
            Issue.record("as first drawn the energy box is not one row")
            return
        }
    }

    /// Whether `text` is `value` rounded to the digits `text` shows (plain
    /// decimals, or scientific with its mantissa's decimals), and not a false 0.
    static func isTrue(_ text: String, for value: Double) -> Bool {
        guard let shown = Double(text) else { return false }
        let lower = text.lowercased()
        let unit: Double
        if let e = lower.firstIndex(of: "e"), let exponent = Int(lower[lower.index(after: e)...]) {
            let mantissa = lower[..<e]
            let decimals = mantissa.firstIndex(of: ".").map { mantissa.distance(from: $0, to: mantissa.endIndex) - 1 } ?? 0
            unit = pow(10, Double(exponent - decimals))
        } else {
            let decimals = lower.firstIndex(of: ".").map { lower.distance(from: $0, to: lower.endIndex) - 1 } ?? 0
            unit = pow(10, -Double(decimals))
        }
        return abs(shown - value) <= unit / 2 * (1 + 1e-9) && (value == 0) == (shown == 0)
    }

    @Test("The MLP's record figure fitted to a slide: compact cells, no number wider than 5 characters, each one its value rounded, no false zero; it reads bigger than as first drawn")
    func mlpCellsCompactAndTrue() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        let (scene, laidOut, used) = try Self.fitted(graph, output)
        #expect(used.fitChoice.compactCells)
        var checked = 0
        for box in scene.nodes {
            guard let id = box.node, box.kind != .op else { continue }
            let maps = heatmaps(box.content).filter { !$0.labels.isEmpty }
            let tensors = [graph[id].value, graph[id].gradient].compactMap { $0 }
            guard !maps.isEmpty else { continue }
            #expect(maps.count == tensors.count, "\(box.key): a numbered grid for data and for grad")
            for (map, tensor) in zip(maps, tensors) {
                #expect(map.labels.count == tensor.count)
                for (label, value) in zip(map.labels, tensor.data) {
                    #expect(label.text.count <= 5, "\(box.key): \(label.text) for \(value)")
                    #expect(Self.isTrue(label.text, for: value), "\(box.key): \(label.text) is not \(value) rounded")
                    checked += 1
                }
            }
        }
        #expect(checked == 184, "every number in cells: 92 values and their 92 gradients")
        var firstOptions = used
        firstOptions.fitChoice = FitChoice()
        let first = try GraphFigure.layout(try GraphFigure.scene(graph: graph, output: output, options: firstOptions), graph: graph, options: firstOptions)
        #expect(SlideFit(laidOut, target: .slide).textSize > SlideFit(first, target: .slide).textSize + 0.5)
    }

    @Test("Compact cells write a number too small for the figure's decimals with one significant digit fewer and a bare exponent, true at every precision")
    func compactTinyNumbers() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        for precision in [1, 2, 3, 4] {
            var options = FigureOptions()
            options.style = .record
            options.precision = precision
            let builder = SceneBuilder(graph: graph, output: output, options: options)
            for value in [-0.0033, 0.00061, 1.8e-3, -2.5e-7, 0.004999, 123_456.0, 0.25, 0, -1.46] {
                let text = builder.cellNumber(value, compact: true), roomy = builder.cellNumber(value, compact: false)
                #expect(Self.isTrue(text, for: value), "precision \(precision): \(text) for \(value)")
                #expect(text.count <= roomy.count, "precision \(precision): \(text) no longer than \(roomy)")
            }
        }
        let builder = SceneBuilder(graph: graph, output: output, options: FigureOptions())
        #expect(builder.cellNumber(-0.0033, compact: true) == "-3e-3")
        #expect(builder.cellNumber(-0.0033, compact: false) == "-3.3e-03")
        #expect(builder.cellNumber(0.25, compact: true) == "0.25")
    }
}
