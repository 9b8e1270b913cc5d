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
}
