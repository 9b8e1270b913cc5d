import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

/// `source` compiled and run backward.
func compiled(_ source: String) throws -> (graph: Graph, output: NodeID) {
    let program = try Compiler.compile(source: source, file: "<test>", options: CompileOptions())
    try program.graph.backward(from: program.output)
    return (program.graph, program.output)
}

/// A chain of `steps` products that all read the one input `x0`: the graph
/// whose long edges overflowed Graphviz's stack at 300 steps.
func starChain(_ steps: Int) -> String {
    (["x0 = 0.5"] + (1..<steps).map { "x\($0) = x\($0 - 1) * x0" }).joined(separator: "\n")
}

/// The figure error `body` throws, if it throws one.
func figureError(_ body: () throws -> Void) -> FigureError? {
    do { try body() } catch { return error as? FigureError }
    return nil
}

@Suite("Layout can neither hang nor crash the caller", .serialized)
struct LayoutRunnerTests {
    let scene: Scene

    init() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        scene = try GraphFigure.scene(graph: graph, output: output, options: FigureOptions())
    }

    @Test("The in-process runner gives up at its deadline and says how to get more time")
    func threadDeadline() throws {
        // x{i} reads x{i/2}: 70 long edges that no copy removes, about a second of `dot`.
        let (graph, output) = try compiled((["x1 = 0.5"] + (2..<70).map { "x\($0) = x\($0 - 1) + x\($0 / 2)" }).joined(separator: "\n"))
        var options = FigureOptions()
        options.style = .record
        let slow = try GraphFigure.scene(graph: graph, output: output, options: options)
        let start = Date()
        let error = figureError { _ = try GraphvizLayout.layout(slow, limits: LayoutLimits(runner: .thread, timeout: 0.01), advice: [.writeDot]) }
        guard case .layoutTimedOut(let seconds, let boxes, let advice) = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(seconds == 0.01)
        #expect(boxes == slow.nodes.count)
        #expect(advice == [.writeDot, .longerTimeout])
        #expect(Date().timeIntervalSince(start) < 0.3)
    }

    @Test("The in-process runner lays out on its big-stack thread exactly as a worker would")
    func threadLaysOut() throws {
        let laidOut = try GraphvizLayout.layout(scene, limits: LayoutLimits(runner: .thread))
        #expect(laidOut.nodes.count == scene.nodes.count)
        let request = LayoutRequest(scene, plugins: .automatic)
        let wire = try JSONDecoder().decode(LayoutRequest.self, from: JSONEncoder().encode(request))
        #expect(wire == request)
        let response = GraphvizLayout.compute(wire)
        #expect(response.failure == nil)
        #expect(try JSONDecoder().decode(LayoutResponse.self, from: JSONEncoder().encode(response)) == response)
    }

    @Test("A worker that dies by a signal is reported with the signal, and reaped")
    func workerCrash() {
        let runner = LayoutRunner.process(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"])
        let error = figureError { _ = try GraphvizLayout.layout(scene, limits: LayoutLimits(runner: runner), advice: [.modelStyle, .writeDot]) }
        guard case .layoutCrashed(let signal, _, let advice) = error else {
            Issue.record("expected a crash, got \(String(describing: error))")
            return
        }
        #expect(signal == SIGSEGV)
        #expect(advice == [.modelStyle, .writeDot])
        #expect(error?.description.contains("SIGSEGV") == true)
        #expect(trackedWorkers.isEmpty)
    }

    @Test("A worker past its deadline is killed and reaped within the deadline")
    func workerDeadline() {
        let start = Date()
        let runner = LayoutRunner.process(executable: "/bin/sleep", arguments: ["30"])
        let error = figureError { _ = try GraphvizLayout.layout(scene, limits: LayoutLimits(runner: runner, timeout: 0.5)) }
        guard case .layoutTimedOut(let seconds, _, let advice) = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(seconds == 0.5)
        #expect(advice.last == .longerTimeout)
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(trackedWorkers.isEmpty)
    }

    @Test("A running worker can be killed from outside (the signal-cleanup hook)")
    func workerKilled() {
        let scene = scene
        let outcome = Outcome<FigureError?>()
        Thread.detachNewThread {
            let runner = LayoutRunner.process(executable: "/bin/sleep", arguments: ["30"])
            outcome.finish(figureError { _ = try GraphvizLayout.layout(scene, limits: LayoutLimits(runner: runner, timeout: 20)) })
        }
        let start = Date()
        while trackedWorkers.isEmpty && Date().timeIntervalSince(start) < 5 { usleep(10_000) }
        #expect(!trackedWorkers.isEmpty)
        for pid in trackedWorkers { kill(pid, SIGKILL) }
        let error = outcome.wait(seconds: 5) ?? nil
        guard case .layoutCrashed(let signal, _, _) = error else {
            Issue.record("expected the killed worker to be reported, got \(String(describing: error))")
            return
        }
        #expect(signal == SIGKILL)
        #expect(trackedWorkers.isEmpty)
    }

    @Test("A worker that cannot start, fails, or answers nonsense gives a layout error")
    func workerFailures() {
        let missing = LayoutRunner.process(executable: "/nonexistent/chainrule", arguments: ["layout-worker"])
        let failing = LayoutRunner.process(executable: "/bin/sh", arguments: ["-c", "cat > /dev/null; echo 'no dot here' >&2; exit 3"])
        let garbled = LayoutRunner.process(executable: "/bin/sh", arguments: ["-c", "cat > /dev/null; echo '{not json'"])
        for (runner, expected) in [(missing, "could not be started"), (failing, "status 3: no dot here"), (garbled, "could not be read")] {
            let error = figureError { _ = try GraphvizLayout.layout(scene, limits: LayoutLimits(runner: runner)) }
            guard case .layoutFailed(let message) = error else {
                Issue.record("expected a layout failure, got \(String(describing: error))")
                continue
            }
            #expect(message.contains(expected))
        }
        #expect(trackedWorkers.isEmpty)
    }

    @Test("Timeouts are above 0 and at most a day")
    func timeoutValidation() {
        #expect(LayoutLimits.timeoutProblem(LayoutLimits.defaultTimeout) == nil)
        for bad in [0, -1, .infinity, .nan, 86_401] { #expect(LayoutLimits.timeoutProblem(bad) != nil) }
    }
}

@Suite("A leaf read by several ops is drawn beside each use, so no long edges reach Graphviz")
struct SharedLeafTests {
    @Test("An input read by every op has a copy per use, each with one edge", arguments: [FigureStyle.circuit, .record, .model])
    func inputCopies(style: FigureStyle) throws {
        let (graph, output) = try compiled(starChain(12))
        var options = FigureOptions()
        options.style = style
        options.view = .ops
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let x0 = try #require(graph.nodes.first { $0.name == "x0" })
        let copies = scene.nodes.filter { $0.node == x0.id }
        // x1 = x0 * x0 reads it twice: two wires, or in the model style one wire per box.
        #expect(copies.count == (style == .model ? 11 : 12))
        for copy in copies { #expect(scene.edges.filter { $0.from == copy.key }.count == 1) }
        #expect(GraphFigure.estimatedBoxes(graph: graph, options: options) >= scene.nodes.count)
    }

    @Test("With its input copied beside each op, a chain stays on one line however long it is")
    func chainStaysStraight() throws {
        let heights = try [10, 40].map { steps -> Double in
            let (graph, output) = try compiled(starChain(steps))
            // Graphviz's own line, before a circuit too long for its slide wraps (`CircuitWrap`).
            return try GraphvizLayout.layout(GraphFigure.scene(graph: graph, output: output, options: FigureOptions())).size.height
        }
        #expect(abs(heights[1] - heights[0]) < 20)
    }

    @Test("A value read by many ops keeps its place and gets a copy beside each reader", arguments: [FigureStyle.circuit, .record, .model])
    func valueCopies(style: FigureStyle) throws {
        // 120 ops reading one intermediate value did not lay out in 20 s drawn with long edges.
        let (graph, output) = try compiled((["x0 = 0.5", "a = x0 * 2"] + (1..<120).map { "x\($0) = x\($0 - 1) * a" }).joined(separator: "\n"))
        var options = FigureOptions()
        options.style = style
        options.view = .ops
        let a = try #require(graph.nodes.first { $0.name == "a" })
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let drawings = scene.nodes.filter { $0.node == a.id }
        // A copy for each of the 119 ops that read it, and its own gate or box where it is made.
        #expect(drawings.filter { $0.key.contains("_for") }.count == 119)
        #expect(drawings.contains { drawing in !drawing.key.contains("_for") && scene.edges.contains { $0.to == drawing.key } })
        let start = Date()
        let laidOut = try GraphvizLayout.layout(scene, limits: options.layout)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(laidOut.nodes.count == scene.nodes.count)
    }

    @Test("The 300- and 800-step star chains lay out in memory, on the big stack, within the deadline")
    func starChains() throws {
        for (steps, style) in [(300, FigureStyle.circuit), (800, .record)] {
            let (graph, output) = try compiled(starChain(steps))
            var options = FigureOptions()
            options.style = style
            let start = Date()
            let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
            #expect(Date().timeIntervalSince(start) < LayoutLimits.defaultTimeout)
            #expect(GraphFigure.svg(laidOut).contains("x\(steps - 1)"))
        }
    }

    @Test("A refusal counts the boxes of the style asked for, above the limit, and names the styles that fit")
    func refusalCount() throws {
        let (graph, output) = try compiled(starChain(6000))
        let options = FigureOptions()
        let error = figureError { _ = try GraphFigure.layout(graph: graph, output: output, options: options) }
        guard case .tooLarge(let boxes, let limit, let advice) = error else {
            Issue.record("expected a refusal, got \(String(describing: error))")
            return
        }
        #expect(boxes > limit)
        #expect(boxes == GraphFigure.estimatedBoxes(graph: graph, options: options))
        #expect(advice == [.recordStyle, .writeDot])
    }

    @Test("DOT needs no layout: a graph too big to lay out is still written as DOT")
    func dotOfTooLarge() throws {
        let (graph, output) = try compiled(starChain(6000))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("star.dot").path
        try GraphFigure.write(graph: graph, output: output, options: FigureOptions(), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("x5999"))
    }

    @Test("A PNG wider than Cairo allows is refused before layout, quickly, leaving nothing")
    func predictedPNG() throws {
        let (graph, output) = try compiled(starChain(800))
        var options = FigureOptions()
        options.style = .record
        options.layout.timeout = 1e-6  // any layout would time out: the refusal must come first
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("star.png").path
        let start = Date()
        let error = figureError { try GraphFigure.write(graph: graph, output: output, options: options, to: path) }
        guard case .imageTooLarge(let width, _, let predicted, let advice) = error else {
            Issue.record("expected imageTooLarge, got \(String(describing: error))")
            return
        }
        #expect(predicted)
        #expect(width > FigureError.maxImageSide)
        #expect(advice.contains(.vectorFormat))
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}

@Suite("PNG limits")
struct ImageLimitTests {
    @Test("A PNG is bounded by Cairo's side and by 64 million pixels; a smaller scale is advised only if a readable one fits")
    func limits() {
        #expect(FigureError.imageFits(width: 8000, height: 8000))
        #expect(!FigureError.imageFits(width: 10_000, height: 10_000))
        #expect(!FigureError.imageFits(width: 40_000, height: 100))
        #expect(FigureError.imageAdvice(width: 10_000, height: 10_000, scale: 2) == [.vectorFormat, .smallerScale])
        #expect(FigureError.imageAdvice(width: 503_245, height: 108, scale: 2) == [.vectorFormat])
        let area = FigureError.imageTooLarge(width: 10_000, height: 10_000, predicted: false, advice: [])
        #expect(area.description.contains("64 million pixels"))
    }
}

@Suite("NaN and ±inf have their own colours and read NaN and inf in every backend")
struct NonFiniteFigureTests {
    static let programs = ["x = [1, 2, 3]\ny = sum(log(x - 2))", "x = [1, 2]\ny = sum(x / 0)", "x = 0\ny = log(x) * x"]

    @Test("Every style and format draws non-finite tensors", arguments: programs)
    func everyBackend(program: String) throws {
        let (graph, output) = try compiled(program)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for style in FigureStyle.allCases {
            var options = FigureOptions()
            options.style = style
            options.view = .ops
            for format in FigureFormat.allCases {
                let path = folder.appendingPathComponent("\(style).\(format)").path
                try GraphFigure.write(graph: graph, output: output, options: options, to: path)
                let text = format == .png || format == .pdf ? "" : try String(contentsOfFile: path, encoding: .utf8)
                // The model style shows shapes, not values.
                if style != .model && (format == .dot || format == .svg) { #expect(text.contains("inf") || text.contains("NaN")) }
                if format == .svg { #expect(!text.contains("nan")) }
            }
        }
    }

    @Test("A NaN and an infinity in a heatmap get the theme's colours, the range says so")
    func heatmapColours() throws {
        let (graph, output) = try compiled("x = [1, 2, 3]\ny = sum(log(x - 2))")
        var options = FigureOptions()
        options.style = .record
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let theme = options.theme
        func heatmaps(_ block: Block) -> [Heatmap] {
            if case .heatmap(let map) = block.kind { return [map] }
            return block.children.flatMap(heatmaps)
        }
        let log = try #require(scene.nodes.first { $0.content.texts.contains { $0.hasPrefix("log") } && $0.kind == .value })
        // log([-1, 0, 1]) = [NaN, -inf, 0]
        let values = try #require(heatmaps(log.content).first)
        #expect(values.colors[0] == theme.notANumber)
        #expect(values.colors[1] == theme.negativeInfinity)
        #expect(log.content.texts.contains("data [-inf, 0.00], 1 NaN"))
        #expect(theme.diverging(.infinity) == theme.positiveInfinity)
        #expect(theme.sequential(.nan) == theme.notANumber)
        #expect(RGB(.nan, 0, 1).hexString == "#0000ff")
    }
}

@Suite("Tensors with no elements are drawn as empty")
struct EmptyTensorFigureTests {
    @Test("A 0×3×3×3 tensor draws in every style and view", arguments: FigureCase.allStyles)
    func emptyTensor(figure: FigureCase) throws {
        let graph = Graph()
        let x = graph.input("x", Tensor(shape: [0, 3, 3, 3], data: []))
        let y = relu(x).named("y")
        try graph.backward(y)
        let laidOut = try GraphFigure.layout(graph: graph, output: y.id, options: figure.options)
        let texts = laidOut.nodes.flatMap(\.node.content.texts)
        // The layers view shows shapes only; the others say the tensor is empty.
        #expect(texts.contains { $0.contains("empty") } || figure.view == .layers && figure.style == .model)
        #expect(GraphFigure.svg(laidOut).contains("0×3×3×3"))
    }
}

extension FigureCase {
    /// Every style once, and the model style in both views.
    static let allStyles = [FigureCase(example: "", style: .circuit), FigureCase(example: "", style: .record),
                            FigureCase(example: "", style: .model, view: .layers), FigureCase(example: "", style: .model, view: .ops)]
}

/// The tracked children that are layout workers: every one but the Python layers that the
/// bridge's tests, running meanwhile in this process, start (`/proc/PID/comm` says `python…`).
var trackedWorkers: Set<pid_t> {
    Temporaries.children.filter { pid in
        let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        return !name.hasPrefix("python")
    }
}
