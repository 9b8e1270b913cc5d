import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

@Suite("Graphviz: plugin fallback and the process-wide lock")
struct GraphvizTests {
    @Test("A context with linked plugins lays out exactly as the default one")
    func linkedPlugins() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let scene = try GraphFigure.scene(graph: graph, output: output, options: FigureOptions())
        let automatic = try GraphvizLayout.layout(scene, limits: LayoutLimits(plugins: .automatic))
        let linked = try GraphvizLayout.layout(scene, limits: LayoutLimits(plugins: .linked))
        #expect(automatic.size == linked.size)
        #expect(automatic.nodes.map(\.frame) == linked.nodes.map(\.frame))
    }

    @Test("With GVBINDIR pointing at an empty folder the CLI still renders")
    func emptyPluginFolder() throws {
        let empty = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: empty) }
        var folder = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("chainrule").path), folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        let process = Process()
        process.executableURL = folder.appendingPathComponent("chainrule")
        let output = empty.appendingPathComponent("circuit.svg").path
        process.arguments = ["render", "--example", "cs231n", "-o", output]
        var environment = ProcessInfo.processInfo.environment
        environment["GVBINDIR"] = empty.path
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "chainrule failed without Graphviz's plugin config: \(message)")
        #expect(try String(contentsOfFile: output, encoding: .utf8).contains(">-12.00<"))
    }

    @Test("Layouts from several threads at once all succeed (one lock around Graphviz)")
    func concurrentLayouts() async throws {
        let results = try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let (graph, output) = FigureExamples.named("sigmoid")!
                    let laidOut = try GraphFigure.layout(graph: graph, output: output, options: FigureOptions())
                    return laidOut.size.width
                }
            }
            var widths: [Double] = []
            for try await width in group { widths.append(width) }
            return widths
        }
        #expect(results.count == 8)
        #expect(Set(results).count == 1, "the same graph must lay out the same way every time")
    }
}
