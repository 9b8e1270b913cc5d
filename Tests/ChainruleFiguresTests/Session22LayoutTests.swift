import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

/// Issue 10's slide-fit, session 22: op boxes whose window text gives detail
/// up where the fit needs it, side inputs beside their readers, and one row
/// wrapper for the snake and the circuit.
@Suite("Session 22 layout: compact windows, side inputs, one row wrapper")
struct Session22LayoutTests {
    /// `source` compiled and run backward.
    static func program(_ source: String) throws -> (graph: Graph, output: NodeID) {
        let program = try Compiler.compile(source: source, file: "-e", options: CompileOptions())
        try program.graph.backward(from: program.output)
        return (program.graph, program.output)
    }

    /// The window text of the `nth` node made by `op` in `source`, in full or compact, beside its weights or not.
    static func window(_ source: String, op: String, nth: Int = 0, compact: Bool, besideWeights: Bool = false) throws -> String? {
        let (graph, output) = try program(source)
        let node = graph.nodes.filter { $0.op?.name == op }[nth]
        let builder = SceneBuilder(graph: graph, output: output, options: FigureOptions())
        let weights = besideWeights ? Array(node.inputs.dropFirst()).map { graph[$0].shape } : []
        return builder.windowText(node.id, compact: compact, beside: weights)
    }

    static let convs = """
    x = const(randn(1, 2, 7, 7, seed: 5))
    a = Conv2D(x, filters: 3, kernel: 3, pad: 1)
    b = Conv2D(a, filters: 3, kernel: 3, stride: 2, pad: 1)
    c = maxpool2d(b, 2)
    y = sum(c)
    """

    @Test("A compact window drops the noun and the attributes at their registry defaults; the full form keeps them")
    func compactWindow() throws {
        #expect(try Self.window(Self.convs, op: "conv2d", compact: false) == "3×3 kernel, stride 1, pad 1")
        #expect(try Self.window(Self.convs, op: "conv2d", compact: true) == "3×3, pad 1")
        // A pool's stride has no default of its own (it follows the kernel): it stays.
        #expect(try Self.window(Self.convs, op: "maxpool2d", compact: false) == "2×2 window, stride 2")
        #expect(try Self.window(Self.convs, op: "maxpool2d", compact: true) == "2×2, stride 2")
        #expect(try Self.window(Self.convs, op: "conv2d", nth: 1, compact: true) == "3×3, stride 2, pad 1")
        #expect(try Self.window(Self.convs, op: "conv2d", nth: 1, compact: true, besideWeights: true) == "stride 2, pad 1")
    }

    @Test("Beside its weights a compact window leaves out the kernel their shape holds, and says nothing when all else is default")
    func windowBesideWeights() throws {
        #expect(try Self.window(Self.convs, op: "conv2d", compact: true, besideWeights: true) == "pad 1")
        #expect(try Self.window(Self.convs, op: "conv2d", compact: false, besideWeights: true) == "3×3 kernel, stride 1, pad 1")
        let plain = "x = const(randn(1, 1, 8, 8, seed: 6))\na = Conv2D(x, filters: 2, kernel: 5)\ny = sum(a)"
        #expect(try Self.window(plain, op: "conv2d", compact: true, besideWeights: true) == nil)
    }

    /// The VGG-like stack of `SlideFitTests.otherModels`.
    static var smallVGG: String { SlideFitTests.otherModels.first { $0.name == "small-vgg" }!.source }

    @Test("small-vgg's ops view reads at 14 pt: its convolutions' boxes write `W 4×1×3×3 · b 4 · pad 1` on one line")
    func smallVGGReads() throws {
        let (graph, laidOut) = try SlideFitTests.opsView(Self.smallVGG)
        let fit = SlideFit(laidOut, target: .slide)
        #expect(fit.isReadable, "\(String(format: "%.1f", fit.textSize)) pt")
        let conv = try #require(laidOut.scene.nodes.first { $0.content.texts.first == "Conv2D c1" })
        #expect(conv.content.texts.contains("W 4×1×3×3 · b 4 · pad 1"))
        #expect(!conv.content.texts.contains { $0.contains("kernel") || $0.contains("stride 1") })
        SlideFitTests.expectClear(laidOut, "small-vgg")
        // Where there is room the full window stays: one of its convolutions alone keeps its rich box.
        let (one, oneOutput) = try Self.program("x = const(randn(1, 1, 6, 6, seed: 7))\na = relu(Conv2D(x, filters: 2, kernel: 3, pad: 1))\ny = sum(a)")
        var options = FigureOptions()
        options.style = .model
        options.view = .ops
        let rich = try GraphFigure.fittedLayout(graph: one, output: oneOutput, options: options)
        #expect(rich.options.fitChoice.boxDetail < .compact)
        #expect(rich.scene.nodes.contains { $0.content.texts.contains("3×3 kernel, stride 1, pad 1") })
        #expect(graph.nodes.filter { $0.op?.name == "conv2d" }.count == 3)
    }

    /// `small-cnn.onnx` (Tests/ChainruleONNXTests/Fixtures, `scripts/onnx/make-fixtures.py`'s SmallCNN)
    /// built as the ONNX importer builds it: a layer per PyTorch module named as in its `state_dict`,
    /// kinds from the ONNX op types, nodes of the top-level module named by their op type
    /// (`Flatten`, `Softmax`, `MatMul`), and `scores`, a parameter of the model itself, multiplied last.
    static func smallCNN() throws -> (graph: Graph, output: NodeID) {
        let graph = Graph()
        func random(_ shape: [Int], _ seed: UInt64) -> Tensor { Tensor.randn(shape, seed: seed) }
        func positive(_ shape: [Int]) -> Tensor { Tensor(shape: shape, data: Array(repeating: 1, count: Tensor.elementCount(shape))) }
        var x = graph.leaf("input", random([1, 3, 8, 8], 1), role: .input)
        func conv(_ name: String, _ channels: (Int, Int), stride: Int, seed: UInt64) throws {
            try graph.withLayer(Layer(name: name, kind: "Conv")) {
                let w = graph.leaf(name + ".weight", random([channels.1, channels.0, 3, 3], seed), role: .param)
                let b = graph.leaf(name + ".bias", random([channels.1], seed + 1), role: .param)
                x = try graph.apply(try Conv2D(stride: stride, pad: 1, floor: true), [x, w, b], name: name + ".Conv")
            }
        }
        func unary(_ name: String, kind: String, _ op: any ChainruleCore.Operation) throws {
            try graph.withLayer(Layer(name: name, kind: kind)) { x = try graph.apply(op, [x], name: name + "." + kind) }
        }
        func batchNorm(_ name: String, _ channels: Int, seed: UInt64) throws {
            try graph.withLayer(Layer(name: name, kind: "BatchNormalization")) {
                let inputs = [x, graph.leaf(name + ".weight", random([channels], seed), role: .param),
                              graph.leaf(name + ".bias", random([channels], seed + 1), role: .param),
                              graph.leaf(name + ".running_mean", random([channels], seed + 2), role: .constant),
                              graph.leaf(name + ".running_var", positive([channels]), role: .constant)]
                x = try graph.apply(try BatchNorm(), inputs, name: name + ".BatchNormalization")
            }
        }
        try conv("conv1", (3, 4), stride: 1, seed: 2)
        try unary("act1", kind: "LeakyRelu", Activation.leakyReLU(slope: 0.1))
        try batchNorm("bn1", 4, seed: 4)
        try conv("conv2", (4, 6), stride: 2, seed: 7)
        try unary("act2", kind: "Elu", Activation.elu(alpha: 0.7))
        try batchNorm("bn2", 6, seed: 9)
        try unary("pool", kind: "GlobalAveragePool", GlobalAvgPool())
        x = try graph.apply(Flatten(), [x], name: "Flatten")
        try graph.withLayer(Layer(name: "fc", kind: "Gemm")) {
            let w = graph.leaf("fc.weight", random([5, 6], 12), role: .param)
            let b = graph.leaf("fc.bias", random([5], 13), role: .param)
            x = try graph.apply(Linear(), [x, w, b], name: "fc.Gemm")
        }
        x = try graph.apply(Softmax(), [x], name: "Softmax")
        let scores = graph.leaf("scores", Tensor(shape: [5], data: [-1, -0.25, 0.5, 1.25, 2]), role: .param)
        let output = try graph.apply(MatMul(), [x, scores], name: "MatMul")
        graph.setRole(.output, of: output)
        try graph.forward()
        try graph.backward(from: output)
        return (graph, output)
    }

    /// The imported small CNN's layers view as `chainrule render small-cnn.onnx` draws it (the model style's defaults).
    static func smallCNNFigure() throws -> (graph: Graph, laidOut: LaidOutScene) {
        let (graph, output) = try smallCNN()
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: graph)
        options.direction = FigureOptions.defaultDirection(for: options.style)
        return (graph, try GraphFigure.layout(graph: graph, output: output, options: options))
    }

    @Test("The imported small CNN's layers view reads at 14 pt on a slide, its rows balanced, boxes and wires clear")
    func onnxSmallCNNReads() throws {
        let (graph, laidOut) = try Self.smallCNNFigure()
        #expect(graph.layers.count == 8 && FigureOptions.defaultStyle(for: graph) == .model)
        let fit = SlideFit(laidOut, target: .slide)
        #expect(fit.isReadable, "\(String(format: "%.1f", fit.textSize)) pt, \(Int(fit.figureSize.width))×\(Int(fit.figureSize.height)) pt")
        let svg = try #require(SlideFit(svg: GraphFigure.svg(laidOut), target: .slide))
        #expect(svg.isReadable)
        SlideFitTests.expectClear(laidOut, "onnx-small-cnn")
    }

    @Test("A side input sits beside its reader: the matmul's scores on the matmul's line, the matmul on its chain's, one short straight wire each")
    func sideInputBesideReader() throws {
        let (_, laidOut) = try Self.smallCNNFigure()
        func box(_ title: String) throws -> PlacedNode { try #require(laidOut.nodes.first { $0.node.content.texts.first == title }) }
        let matmul = try box("matmul"), scores = try box("scores"), fc = try box("Gemm fc")
        #expect(abs(scores.frame.center.y - matmul.frame.center.y) < 0.5, "scores on the matmul's line")
        #expect(abs(fc.frame.center.y - matmul.frame.center.y) < 0.5, "the matmul on its chain's line")
        let gap = scores.frame.x >= matmul.frame.maxX ? scores.frame.x - matmul.frame.maxX : matmul.frame.x - scores.frame.maxX
        #expect(gap > 0 && gap < 40, "beside it, \(gap) pt apart")
        let wire = try #require(laidOut.edges.first { $0.edge.from == scores.node.key && $0.edge.to == matmul.node.key })
        #expect(wire.points.allSatisfy { abs($0.y - matmul.frame.center.y) < 1e-9 }, "straight")
    }

    @Test("Boxes say what they are once: the scores parameter by its name and count, the op nodes an exporter named by their type by their op")
    func boxesSayItOnce() throws {
        let (_, laidOut) = try Self.smallCNNFigure()
        let texts = laidOut.scene.nodes.map(\.content.texts)
        #expect(texts.contains(["scores", "5 params"]))
        #expect(texts.contains(["matmul", "→ 1"]))
        #expect(!texts.joined().contains { $0.contains("MatMul") || $0.contains("Flatten") || $0.contains("Softmax") })
        // A parameter of more than one axis keeps its shape beside its count.
        let (graph, output) = try Self.program("x = randn(2, 3, seed: 1)\nmix = randn(3, 3, seed: 2)\ny = sum(x @ mix)")
        graph.setRole(.param, of: try #require(graph.nodes.first { $0.name == "mix" }).id)
        var options = FigureOptions()
        options.style = .model
        let laid = try GraphFigure.layout(graph: graph, output: output, options: options)
        #expect(laid.scene.nodes.contains { $0.content.texts == ["mix", "3×3 · 9 params"] })
    }

    @Test("One row wrapper, two orders: the same cuts give a snake (the second row mirrored, entered on the right) or lines (every row left to right, entered on the left)")
    func oneWrapperTwoOrders() throws {
        let layers = (1...6).map { "h\($0) = relu(Linear(h\($0 - 1), 6))" }.joined(separator: "\n")
        let (graph, output) = try Self.program("h0 = const(randn(2, 4, seed: 4))\n" + layers + "\nloss = sum(h6)")
        var options = FigureOptions()
        options.style = .model
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let flow = try GraphvizLayout.layout(scene, limits: options.layout)
        let candidates = RowWrap.cutCandidates(flow)
        let cuts = RowWrap.chooseCuts(flow, candidates, RowWrap.crossings(flow, candidates), rows: 2, penalty: 0)
        #expect(cuts.count == 1)
        // The second piece's boxes in flow order, and the wire that crosses the cut.
        let second = flow.nodes.filter { $0.frame.center.x > cuts[0] }.sorted { $0.frame.x < $1.frame.x }.map(\.node.key)
        #expect(second.count >= 2)
        let crossing = try #require(flow.edges.firstIndex { edge in
            !second.contains(edge.edge.from) && second.contains(edge.edge.to)
        })
        for order in [RowWrap.Order.snake, .lines] {
            let wrapped = RowWrap.arrange(flow, cuts: cuts, order: order, rowGap: flow.scene.rowSeparation)
            let frames = Dictionary(uniqueKeysWithValues: wrapped.nodes.map { ($0.node.key, $0.frame) })
            let row = second.compactMap { frames[$0] }
            let steps = zip(row, row.dropFirst()).map { $1.center.x - $0.center.x }
            #expect(steps.allSatisfy { order == .snake ? $0 < 0 : $0 > 0 }, "\(order): the second row runs \(order == .snake ? "left" : "right")")
            // The wire across the cut enters its box on the side that row flows from.
            let target = try #require(frames[wrapped.edges[crossing].edge.to])
            let tip = try #require(wrapped.edges[crossing].arrowTip ?? wrapped.edges[crossing].points.last)
            #expect(abs(tip.x - (order == .snake ? target.maxX : target.x)) < 1e-6)
            SlideFitTests.expectClear(wrapped, "\(order)")
        }
    }
}
