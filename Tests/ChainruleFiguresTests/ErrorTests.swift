import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

@Suite("Bad output requests fail with a typed error and leave no file")
struct ErrorTests {
    @Test func unknownExtension() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("figure.gif").path
        #expect(throws: FigureError.unknownExtension(path: path)) {
            try GraphFigure.write(graph: graph, output: output, options: FigureOptions(), to: path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func missingFolder() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let path = "/nonexistent-chainrule-folder/figure.png"
        do {
            try GraphFigure.write(graph: graph, output: output, options: FigureOptions(), to: path)
            Issue.record("writing into a missing folder succeeded")
        } catch {
            guard case .unwritable(let failedPath, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(failedPath == path)
            #expect(reason.contains("does not exist"))
        }
    }

    @Test func emptyGraph() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("empty.svg").path
        #expect(throws: FigureError.emptyGraph) {
            try GraphFigure.write(graph: Graph(), output: NodeID(0), options: FigureOptions(), to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("A failed write leaves the old file and no temporary file")
    func noPartialFile() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("huge.png").path
        let old = Data("the old figure".utf8)
        try old.write(to: URL(fileURLWithPath: path))
        var options = FigureOptions()
        options.scale = 200
        let error = #expect(throws: FigureError.self) {
            try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        }
        guard case .imageTooLarge(let width, _, _, _) = error else {
            Issue.record("expected imageTooLarge, got \(String(describing: error))")
            return
        }
        #expect(width > 32767)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == old)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["huge.png"])
    }

    @Test func unknownWireLabel() throws {
        #expect(throws: FigureError.self) { try WireLabel.parseList("value,slope") }
        #expect(try WireLabel.parseList("grad, value") == [.grad, .value])
    }
}
