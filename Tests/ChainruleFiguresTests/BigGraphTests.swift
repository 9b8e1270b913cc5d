import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

@Suite("Graphs too big for Graphviz are collapsed or refused, never handed over")
struct BigGraphTests {
    @Test("A scalar training step of ~66k nodes is refused before any layout, with advice")
    func trainingStepRefused() throws {
        let (graph, output) = FigureExamples.scalarTrainingStep(points: 100)
        #expect(graph.count > 60_000)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("step.png").path
        let start = Date()
        do {
            try GraphFigure.write(graph: graph, output: output.id, options: FigureOptions(), to: path)
            Issue.record("a 66k-node graph was handed to Graphviz")
        } catch {
            guard case .tooLarge(_, let limit, let advice) = error else { Issue.record("wrong error \(error)"); return }
            #expect(limit == FigureOptions().maxBoxes)
            #expect(advice.contains(.smallerGraph))
            #expect(advice.contains(.writeDot))
        }
        // Laying out 66k nodes takes minutes; refusing them takes well under a second
        // on an idle machine. Ten seconds tells the two apart on a loaded one.
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("A scalar graph too big for the circuit style is pointed to the record style")
    func circuitAdvice() throws {
        let (graph, output) = FigureExamples.generated(nodes: 1000)
        var options = FigureOptions()
        options.maxBoxes = 2500
        do {
            _ = try GraphFigure.layout(graph: graph, output: output.id, options: options)
            Issue.record("a 1,000-node circuit was laid out past a limit of 2,500 boxes")
        } catch {
            guard case .tooLarge(_, _, let advice) = error else { Issue.record("wrong error \(error)"); return }
            #expect(advice.contains(.recordStyle))
        }
    }

    @Test("A network too big to draw op by op is drawn one box per layer")
    func collapsesToLayers() throws {
        let (graph, output) = try #require(FigureExamples.named("convnet"))
        var options = FigureOptions()
        options.style = .record
        options.maxBoxes = 14
        let fitted = try GraphFigure.fittedOptions(graph: graph, options: options)
        #expect(fitted.options.style == .model)
        #expect(fitted.options.view == .layers)
        #expect(fitted.notes.count == 1)
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        #expect(laidOut.nodes.contains { $0.node.kind == .layer })
    }
}
