import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

@Suite struct ModelSummaryTests {
    func svg(ofSample name: String, style: FigureStyle) throws -> String {
        let (graph, output) = try Samples.load(name)
        var options = FigureOptions()
        options.style = style
        options.direction = .TB
        return GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
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

    @Test func otherStylesHaveNoParameterHeading() throws {
        let text = try svg(ofSample: "lenet.grad", style: .record)
        #expect(!text.contains("parameters in"))
    }
}
