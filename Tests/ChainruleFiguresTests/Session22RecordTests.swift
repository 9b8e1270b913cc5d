import ChainruleCore
import ChainruleLanguage
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

    /// The MLP's record figure with a choice's layout, unwrapped: the ranked layout as `dot` gives it.
    static func ranked(_ graph: Graph, _ output: NodeID, _ choice: FitChoice) throws -> (scene: Scene, laidOut: LaidOutScene) {
        var options = FigureOptions()
        options.style = .record
        options.fitChoice = choice
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        return (scene, try GraphvizLayout.layout(scene, spreadsInputs: choice.spreadsInputs))
    }

    @Test("Side inputs spread: each op that reads one value and only boxes nothing leads into (parameters, labels) gets its operand a rank further back; an op of two computed values does not")
    func spreadEdgesOfOps() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        var choice = FitChoice()
        choice.spreadsInputs = true
        let (scene, _) = try Self.ranked(graph, output, choice)
        let spread = LayoutRequest.spreadEdges(scene).map { "\(scene.edges[$0].from)→\(scene.edges[$0].to)" }.sorted()
        let key = { (name: String) in "n\(try Self.node(graph, named: name).index)" }
        let ops = { (name: String) in "o\(try Self.node(graph, named: name).index)" }
        // linear(x, h.W, h.b), linear(a, s.W, s.b), crossEntropy(s, labels); not relu(h).
        #expect(spread == [try key("x") + "→" + ops("h"), try key("a") + "→" + ops("s"), try key("s") + "→" + ops("loss")].sorted())
        let request = LayoutRequest(scene, plugins: .linked, spreadsInputs: true)
        #expect(request.edges.filter { $0.attributes.contains(.init(name: "minlen", value: "2")) }.count == 3)
        #expect(!LayoutRequest(scene, plugins: .linked).edges.contains { $0.attributes.contains { $0.name == "minlen" } }, "only when spread")
        // x is given to dot after h.W, so that h.W and h.b stand on both sides of its wire.
        let order = request.creationOrder.map { scene.nodes[$0].key }
        #expect(order.firstIndex(of: try key("x"))! == order.firstIndex(of: try key("h.W"))! + 1)
        #expect(Set(request.creationOrder) == Set(scene.nodes.indices) && request.creationOrder.count == scene.nodes.count)
        // a * b + c * d: each op reads computed values or two leaves; the sum reads two computed values.
        let program = try Compiler.compile(source: "a = 2; b = 3; c = 4; d = 5; p = a * b; q = p * c; y = q + p * d", file: "-e")
        var options = FigureOptions()
        options.style = .record
        options.fitChoice = choice
        let other = try GraphFigure.scene(graph: program.graph, output: program.output, options: options)
        let spreadOther = LayoutRequest.spreadEdges(other)
        for k in spreadOther {
            let op = other.edges[k].to
            let sides = other.edges.filter { $0.to == op }.dropFirst()
            #expect(sides.allSatisfy { side in !other.edges.contains { $0.to == side.from } }, "\(op): its side inputs are leaves")
        }
        let sum = "o\(program.output.index)"
        #expect(!spreadOther.contains { other.edges[$0].to == sum }, "q + p*d reads two computed values: nothing spread")
    }

    @Test("With side inputs spread, the boxes `boxesAloneInRank` names are those dot gives a rank of their own (x, h, a, s, loss), and no box shares a column with them")
    func aloneMatchesSpreadLayout() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        var choice = FitChoice()
        choice.spreadsInputs = true
        choice.panels = .stackedWhereAlone
        var options = FigureOptions()
        options.style = .record
        options.fitChoice = choice
        let alone = SceneBuilder(graph: graph, output: output, options: options).boxesAloneInRank()
        let (_, laidOut) = try Self.ranked(graph, output, choice)
        for name in ["x", "h", "a", "s", "loss"] { #expect(alone.contains("n\(try Self.node(graph, named: name).index)"), "\(name) is alone") }
        for name in ["h.W", "h.b", "s.W", "s.b"] { #expect(!alone.contains("n\(try Self.node(graph, named: name).index)"), "\(name) shares its rank") }
        let frames = Dictionary(uniqueKeysWithValues: laidOut.nodes.map { ($0.node.key, $0.frame) })
        for key in alone {
            let frame = try #require(frames[key])
            for (other, o) in frames where other != key {
                #expect(!(o.x < frame.center.x && frame.center.x < o.maxX), "\(key) is alone, but \(other) stands in its column")
            }
        }
    }

    @Test("The MLP's record figure packs its side inputs in two short columns: it reads bigger than the best ranked layout of one column (8.8 pt), wires clear; figures that read keep their choice")
    func mlpSpreadReadsBigger() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        let (_, laidOut, used) = try Self.fitted(graph, output)
        let fit = SlideFit(laidOut, target: .slide)
        #expect(used.fitChoice.spreadsInputs)
        #expect(fit.textSize >= 10, "\(String(format: "%.1f", fit.textSize)) pt, \(Int(fit.figureSize.width))×\(Int(fit.figureSize.height)) pt")
        SlideFitTests.expectClear(laidOut, "mlp-record")
        // The same choice without the spread reads smaller.
        var plain = used
        plain.fitChoice.spreadsInputs = false
        let unspread = try GraphFigure.layout(try GraphFigure.scene(graph: graph, output: output, options: plain), graph: graph, options: plain)
        #expect(fit.textSize > SlideFit(unspread, target: .slide).textSize + 0.5)
        for source in ["x = 3; y = -4; z = 2; f = (x * y + z) * 2", "x = 0.5; x1 = x * x; x2 = x1 * x"] {
            let program = try Compiler.compile(source: source, file: "-e")
            let (_, readable, kept) = try Self.fitted(program.graph, program.output)
            #expect(SlideFit(readable, target: .slide).isReadable && !kept.fitChoice.spreadsInputs, "\(source)")
        }
    }
}
