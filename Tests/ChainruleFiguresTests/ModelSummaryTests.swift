import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

@Suite struct ModelSummaryTests {
    static let samples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("samples")

    func svg(ofSample name: String, style: FigureStyle) throws -> String {
        let path = Self.samples.appendingPathComponent(name).path
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let program = try Compiler.compile(source: source, file: path)
        try program.graph.backward(from: program.output)
        var options = FigureOptions()
        options.style = style
        options.direction = .TB
        return GraphFigure.svg(try GraphFigure.layout(graph: program.graph, output: program.output, options: options))
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
