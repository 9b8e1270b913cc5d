import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

@Suite struct ModelSummaryTests {
    func svg(ofSample name: String, style: FigureStyle, view: ModelView = .layers) throws -> String {
        let (graph, output) = try Samples.load(name)
        var options = FigureOptions()
        options.style = style
        options.view = view
        return GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
    }

    /// The texts of an SVG, in order.
    func texts(_ svg: String) -> [String] {
        svg.components(separatedBy: "<text ").dropFirst().compactMap { element in
            element.split(separator: ">", maxSplits: 1).last.map { String($0.prefix { $0 != "<" }) }
        }
    }

    @Test func lenetSaysHowManyParametersItHas() throws {
        let text = try svg(ofSample: "lenet.grad", style: .model)
        #expect(text.contains("61,706 parameters in 5 layers"))
        #expect(text.contains("48,120 params"))
    }

    @Test func aConvLayerShowsItsWindowAndNamesItsParameters() throws {
        let text = try svg(ofSample: "conv-layer.grad", style: .model)
        #expect(text.contains("5×5 kernel, stride 1, pad 2"))
        #expect(text.contains("W 10×3×5×5 · b 10"))
        #expect(text.contains("760 params"))
    }

    @Test("A conv built with the Swift API reads its window from the op, as one built by the language does")
    func theWindowComesFromTheOp() throws {
        let (graph, output) = try #require(FigureExamples.named("convnet"))
        var options = FigureOptions()
        options.style = .model
        let text = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        #expect(texts(text).filter { $0 == "3×3 kernel, stride 1, pad 1" }.count == 2)
    }

    @Test("Stages fold conv → relu → pool into one box: the pool's window on it, each shape once")
    func lenetStages() throws {
        let all = texts(try svg(ofSample: "lenet.grad", style: .model))
        #expect(all.contains("maxpool2d s2 · 2×2 window, stride 2"))
        #expect(all.contains("relu"))
        #expect(all.contains("5×5 kernel, stride 1"))
        #expect(all.contains("labels [7]"))
        #expect(all.filter { $0.contains("1×6×14×14") }.count == 1)
        #expect(all.filter { $0.contains("1×10") }.count == 1)
    }

    @Test("The model view keeps the inputs and data of the MLP (x and y)")
    func mlpKeepsItsInputs() throws {
        let all = texts(try svg(ofSample: "mlp.grad", style: .model))
        #expect(all.contains("x"))
        #expect(all.contains("y"))
    }

    @Test("Frozen weights are counted apart and marked on their box")
    func frozenLayer() throws {
        let text = try svg(ofSample: "frozen-layer.grad", style: .model)
        #expect(text.contains("51 trainable · 144 frozen parameters"))
        #expect(text.contains("144 frozen params"))
        #expect(text.contains("W1 16×8 · b1 16"))
        let (graph, output) = try Samples.load("frozen-layer.grad")
        var options = FigureOptions()
        options.style = .model
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        #expect(scene.nodes.filter(\.hatched).map { $0.content.texts[0] } == ["linear"])
    }

    @Test("Class labels are written as the list they are, in the record style too")
    func labelsAsAList() throws {
        #expect(texts(try svg(ofSample: "softmax-cross-entropy.grad", style: .record)).contains("labels [0]"))
        #expect(texts(try svg(ofSample: "frozen-layer.grad", style: .model, view: .ops)).contains("labels [0, 2, 1, 1]"))
    }

    @Test func otherStylesHaveNoParameterHeading() throws {
        let text = try svg(ofSample: "lenet.grad", style: .record)
        #expect(!text.contains("parameters in"))
    }
}
