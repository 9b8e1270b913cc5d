import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

/// The node of `graph` called `name`.
private func named(_ graph: Graph, _ name: String) throws -> NodeID {
    try #require(graph.nodes.first { $0.name == name }).id
}

/// The texts of the scene node with `key`, joined by spaces.
private func texts(_ page: LaidOutScene, _ key: String) throws -> String {
    try #require(page.scene.nodes.first { $0.key == key }).content.texts.joined(separator: " ")
}

private func options(_ style: FigureStyle) -> FigureOptions {
    var options = FigureOptions()
    options.style = style
    return options
}

@Suite("Backprop step by step: one page per backward step")
struct StepsTests {
    @Test("CS231n's circuit: page 0 knows only the seed, then the * gate, then the + gate")
    func cs231nOrder() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let (x, y, z, q) = (try named(graph, "x"), try named(graph, "y"), try named(graph, "z"), try named(graph, "q"))
        let steps = try BackwardSteps.steps(graph: graph, output: output)
        #expect(steps.map(\.active) == [nil, output, q])
        #expect(steps.map(\.known) == [[output], [output, q, z], [output, q, z, x, y]])
        #expect(steps.map(\.done) == [[], [output], [output, q]])
    }

    @Test("Page count is 1 + the ops the output depends on; an op on constants alone is no step")
    func pageCount() throws {
        let (sigmoid, sigmoidOutput) = try #require(FigureExamples.named("sigmoid"))
        // *, *, +, +, −x, exp, +, /
        #expect(try BackwardSteps.steps(graph: sigmoid, output: sigmoidOutput).count == 9)

        let g = Graph()
        let x = g.input("x", 3)
        let unused = (x * 5).named("unused")
        let folded = (g.constant(2) * g.constant(4)).named("folded")
        let f = (x * folded).named("f")
        try g.backward(f)
        let steps = try BackwardSteps.steps(graph: g, output: f.id)
        #expect(steps.count == 2)
        #expect(!steps.contains { $0.active == unused.id || $0.active == folded.id })
    }

    @Test("A node used twice is known only once both uses have sent their share")
    func sharedNode() throws {
        let g = Graph()
        let x = g.input("x", 3)
        let a = (x + 1).named("a")
        let f = (a * x).named("f")
        try g.backward(f)
        let steps = try BackwardSteps.steps(graph: g, output: f.id)
        #expect(steps.map(\.active) == [nil, f.id, a.id])
        #expect(!steps[1].known.contains(x.id), "after f's step x has only f's share")
        #expect(steps[2].known.contains(x.id))
    }

    @Test("The circuit shows a wire's gradient only once its gate has sent it; the rest read —")
    func circuitGradients() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: options(.circuit))
        #expect(pages.count == 3)
        let steps = try BackwardSteps.steps(graph: graph, output: output)
        for (page, step) in zip(pages, steps) {
            #expect(try texts(page, "w_out").contains("1.00"), "the seed is known on every page")
            for node in graph.nodes where node.op != nil {
                for k in node.inputs.indices {
                    let wire = try texts(page, "w\(node.id.index)_\(k)")
                    #expect(wire.contains("—") == !step.done.contains(node.id), "page \(step.number), wire \(k) into \(node.displayName): \(wire)")
                }
            }
        }
    }

    @Test("The record style shows exactly the known gradients")
    func recordGradients() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: options(.record))
        let steps = try BackwardSteps.steps(graph: graph, output: output)
        for (page, step) in zip(pages, steps) {
            for node in graph.nodes where node.role != .constant {
                let box = try texts(page, "n\(node.id.index)")
                #expect(box.contains("grad —") == !step.known.contains(node.id), "page \(step.number), \(node.displayName): \(box)")
            }
        }
    }

    @Test("At the * gate: upstream 1 × local −4 = −4 to q, 1 × 3 = 3 to z; at the + gate −4 × 1 = −4")
    func cs231nEquations() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let (x, z, q) = (try named(graph, "x"), try named(graph, "z"), try named(graph, "q"))
        let times = BackwardSteps.terms(graph: graph, output: output, at: output)
        #expect(times.map(\.input) == [q, z])
        #expect(times.map(\.text) == ["1.00 × -4.00 = -4.00", "1.00 × 3.00 = 3.00"])
        #expect(BackwardSteps.terms(graph: graph, output: output, at: q).first?.text == "-4.00 × 1.00 = -4.00")
        #expect(BackwardSteps.terms(graph: graph, output: output, at: q).first?.input == x)

        // Circuit: written under the active gate's input wires, nowhere else.
        let circuit = try BackwardSteps.pages(graph: graph, output: output, options: options(.circuit))
        #expect(try texts(circuit[1], "w\(output.index)_0") == "3.00 1.00 × -4.00 = -4.00")
        #expect(try texts(circuit[1], "w\(output.index)_1") == "-4.00 1.00 × 3.00 = 3.00")
        #expect(try texts(circuit[2], "w\(q.index)_0") == "-2.00 -4.00 × 1.00 = -4.00")
        #expect(try texts(circuit[2], "w\(output.index)_0") == "3.00 ← -4.00", "a finished step shows its gradient alone")
        #expect(circuit[1].scene.nodes.filter { $0.content.texts.contains("×") }.count == 2)

        // Record: under the caption, one line per input; no box holds it (it would leave an empty frame on the other pages).
        let record = try BackwardSteps.pages(graph: graph, output: output, options: options(.record))
        let heading = try #require(record[1].scene.titleBlock).texts.joined(separator: " ")
        #expect(heading.contains("q: 1.00 × -4.00 = -4.00"))
        #expect(heading.contains("z: 1.00 × 3.00 = 3.00"))
        #expect(try !texts(record[1], "n\(output.index)").contains("×"))
        #expect(try !(#require(record[2].scene.titleBlock).texts.joined(separator: " ").contains("q: 1.00")))
    }

    @Test("The sigmoid neuron's exp gate: -0.53 × e^-1 = -0.20")
    func sigmoidEquation() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let exp = try #require(graph.nodes.first { $0.op?.name == "exp" }).id
        #expect(BackwardSteps.terms(graph: graph, output: output, at: exp).map(\.text) == ["-0.53 × 0.37 = -0.20"])
    }

    @Test("Every equation holds as displayed: more decimals where rounding would break it, else ≈")
    func equationsTrueAsDisplayed() throws {
        let g = Graph()
        let x = g.input("x", 1)
        let w = g.input("w", 2)
        let s = g.input("s", 0.196)
        let a = g.input("a", 1)
        let b = g.input("b", 3)
        let oneThird: Double = 1.0 / 3
        let third = g.input("c", Tensor(oneThird))
        let y = (x * w).named("y")
        let f = (y * s).named("f")
        let q = (a * b).named("q")
        let total = (f + q * third).named("total")
        try g.backward(total)
        // 0.20 × 2.00 = 0.39 would be false as shown; three decimals make it true.
        let intoY = BackwardSteps.terms(graph: g, output: total.id, at: y.id)
        let toX = try #require(intoY.first(where: { $0.input == x.id }))
        #expect(toX.text == "0.196 × 2.000 = 0.392")
        #expect(toX.exact)
        // ⅓ × 3 = 1 holds as shown at no number of decimals: it says ≈.
        let intoQ = BackwardSteps.terms(graph: g, output: total.id, at: q.id)
        let toA = try #require(intoQ.first(where: { $0.input == a.id }))
        #expect(toA.text == "0.33 × 3.00 ≈ 1.00")
        for term in [y, q].flatMap({ BackwardSteps.terms(graph: g, output: total.id, at: $0.id) }) where term.exact {
            let shown = [term.upstream, term.local].compactMap { Double($0) }
            let decimals = term.downstream.split(separator: ".").last?.count ?? 0
            let recomputed = formatFixed(shown[0] * shown[1], precision: decimals)
            #expect(recomputed == term.downstream)
        }
    }

    @Test("Tensors: ranges, and the local derivative as a diagonal (⊙) or the Jacobian, drawn as heatmaps")
    func tensorTerms() throws {
        let (graph, output) = try #require(FigureExamples.named("mlp"))
        let relu = try #require(graph.nodes.first { $0.op?.name == "relu" })
        let term = try #require(BackwardSteps.terms(graph: graph, output: output, at: relu.id).first)
        #expect(term.upstream.hasPrefix("[") && term.downstream.hasPrefix("["))
        #expect(term.local.hasPrefix("diag ["))
        #expect(term.product == "⊙")
        let tensors = try #require(term.tensors)
        #expect(tensors.local?.shape == tensors.upstream.shape)
        // upstream ⊙ local = downstream, element by element.
        for i in tensors.downstream.data.indices {
            #expect(abs(tensors.upstream.data[i] * tensors.local!.data[i] - tensors.downstream.data[i]) < 1e-12)
        }
        let loss = try #require(BackwardSteps.terms(graph: graph, output: output, at: output).first)
        #expect(loss.local == "J 1×8", "cross-entropy of 4×2 scores: 1 output, 8 inputs")
        #expect(loss.tensors?.local?.shape == [1, 8], "a small Jacobian is drawn whole")
        #expect(!loss.text.contains("‖"))
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: options(.record))
        #expect(pages.count == 5)
        let heading = try #require(pages[1].scene.titleBlock).texts
        #expect(heading.contains("upstream") && heading.contains("downstream"))
    }

    @Test("--fit shapes the pages: a 4:3 target gives 4:3 pages, and the record style wraps into rows for the target")
    func pagesFollowFit() throws {
        let (graph, output) = try Samples.load("custom-op.grad")
        var fourByThree = options(.record)
        fourByThree.fit = .fourByThree
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: fourByThree)
        for page in pages { #expect(abs(page.size.width / page.size.height - 4.0 / 3.0) < 1e-9) }
        // Wrapped: the output's box and the inputs' boxes stand in different rows, not on one line.
        let first = try #require(pages.first)
        let x = try #require(first.nodes.first { $0.node.node == (try? named(graph, "x")) }), y = try #require(first.nodes.first { $0.node.node == output && $0.node.kind != .op })
        #expect(y.frame.y > x.frame.maxY)
    }

    @Test("A tensor's gradient not yet known on a page keeps its picture's place, its cells blank")
    func unknownGradientKeepsItsPlace() throws {
        let (graph, output) = try Samples.load("svm-loss.grad")
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: options(.record))
        let s = try named(graph, "S")
        let before = try #require(pages.first?.nodes.first { $0.node.node == s })
        // The numbered pictures (colour bars are heatmaps too, without numbers).
        let blank = heatmaps(before.node.content).filter { !$0.labels.isEmpty }
        #expect(blank.count == 2, "the value and the gradient's place")
        #expect(blank[1].labels.count == 9 && blank[1].labels.allSatisfy { $0.text == "—" })
        let after = try #require(pages.last?.nodes.first { $0.node.node == s })
        #expect(heatmaps(after.node.content).filter { !$0.labels.isEmpty }[1].labels.map(\.text).contains("0.33"))
        #expect(after.frame == before.frame)
    }

    @Test("One layout for every page: same size, no node moves", arguments: [FigureStyle.circuit, .record])
    func fixedLayout(style: FigureStyle) throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: options(style))
        let first = try #require(pages.first)
        for page in pages {
            #expect(page.size == first.size)
            #expect(page.nodes.map(\.node.key) == first.nodes.map(\.node.key))
            #expect(abs(page.size.width / page.size.height - 16.0 / 9.0) < 1e-9, "a 16:9 page")
            for (node, reference) in zip(page.nodes, first.nodes) {
                #expect(node.frame == reference.frame, "\(node.node.key) moved or changed size")
                #expect(node.node.content.size.width <= node.frame.width + 1e-9 && node.node.content.size.height <= node.frame.height + 1e-9)
            }
            let boxes = page.nodes.map(\.frame)
            for i in boxes.indices { for j in boxes.indices where j > i { #expect(!boxes[i].overlaps(boxes[j])) } }
        }
    }

    @Test("The active node is highlighted; page 0 highlights nothing")
    func highlight() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let highlight = Theme().highlight
        let pages = try BackwardSteps.pages(graph: graph, output: output, options: options(.circuit))
        #expect(!pages[0].nodes.contains { $0.node.stroke == highlight })
        #expect(pages[1].nodes.filter { $0.node.stroke == highlight }.map(\.node.key) == ["n\(output.index)"])
    }

    @Test("A multi-page PDF: header, trailer, one /Page object per step")
    func pdf() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("steps.pdf").path
        #expect(try BackwardSteps.write(graph: graph, output: output, options: FigureOptions(), to: path) == [path])
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        #expect(text.hasPrefix("%PDF-"))
        #expect(text.hasSuffix("%%EOF\n"))
        let pages = text.components(separatedBy: "/Type /Page").dropFirst().filter { !$0.hasPrefix("s") }
        #expect(pages.count == 9)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["steps.pdf"])
    }

    @Test("PNG frames into a new folder, all the same size")
    func frames() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let frames = folder.appendingPathComponent("frames").path
        var options = FigureOptions()
        options.scale = 1
        try BackwardSteps.write(graph: graph, output: output, options: options, to: frames + "/")
        let names = try FileManager.default.contentsOfDirectory(atPath: frames).sorted()
        #expect(names == ["step-00.png", "step-01.png", "step-02.png"])
        let sizes = try names.map { try #require(pngSize(Data(contentsOf: URL(fileURLWithPath: frames + "/" + $0)))) }
        #expect(sizes.allSatisfy { $0 == sizes[0] })
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["frames"], "no staging folder left")
    }

    @Test("Frames into an existing folder replace earlier frames and keep other files")
    func framesReplace() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["step-07.png", "notes.txt"] { try Data("old".utf8).write(to: folder.appendingPathComponent(name)) }
        var options = FigureOptions()
        options.scale = 1
        try BackwardSteps.write(graph: graph, output: output, options: options, to: folder.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["notes.txt", "step-00.png", "step-01.png", "step-02.png"])
    }

    @Test("Frame names sort: two digits, more for long runs")
    func frameNames() {
        #expect(BackwardSteps.frameName(3, of: 9) == "step-03.png")
        #expect(BackwardSteps.frameName(7, of: 101) == "step-007.png")
    }

    @Test("Bad requests throw a FigureError and write nothing")
    func badRequests() throws {
        let (graph, output) = try #require(FigureExamples.named("cs231n"))
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("taken.pdf")
        try Data("keep".utf8).write(to: file)
        func failure(_ path: String, _ options: FigureOptions = FigureOptions()) -> FigureError? {
            do { try BackwardSteps.write(graph: graph, output: output, options: options, to: path) } catch { return error }
            return nil
        }
        guard case .invalidOption(let message) = failure(folder.appendingPathComponent("steps.png").path) else {
            Issue.record("a .png file with --steps was accepted")
            return
        }
        #expect(message.contains("-o steps.pdf") && message.contains("-o frames/"))
        guard case .unwritable(_, let reason) = failure("/nonexistent-chainrule-folder/steps.pdf") else {
            Issue.record("a missing folder was accepted")
            return
        }
        #expect(reason.contains("does not exist"))
        guard case .unwritable(_, let fileReason) = failure(file.path + "/") else {
            Issue.record("a file as frames folder was accepted")
            return
        }
        #expect(fileReason.contains("not a folder"))
        guard case .invalidOption = failure(folder.appendingPathComponent("model.pdf").path, options(.model)) else {
            Issue.record("the model style was accepted")
            return
        }
        var forward = FigureOptions()
        forward.showGradients = false
        #expect(failure(folder.appendingPathComponent("forward.pdf").path, forward) != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["taken.pdf"])
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep")
    }

    @Test("A graph without its backward pass is refused")
    func noBackward() throws {
        let g = Graph()
        let x = g.input("x", 2)
        let f = (x * x).named("f")
        #expect(throws: FigureError.self) { try BackwardSteps.steps(graph: g, output: f.id) }
    }

    @Test("A chain of more backward steps than pages allowed is refused before anything is drawn")
    func tooManyPages() throws {
        let g = Graph()
        var y = g.input("x", 0.5)
        for _ in 0...BackwardSteps.maxPages { y = sin(y) }
        try g.backward(y)
        let steps = try BackwardSteps.steps(graph: g, output: y.id)
        #expect(steps.count > BackwardSteps.maxPages)
        let error = #expect(throws: FigureError.self) { try BackwardSteps.pages(graph: g, output: y.id, options: options(.circuit)) }
        guard case .invalidOption(let message) = error else {
            Issue.record("expected invalidOption, got \(String(describing: error))")
            return
        }
        #expect(message.contains("--steps would write \(steps.count) pages (one per backward step), more than \(BackwardSteps.maxPages)"))
    }
}
