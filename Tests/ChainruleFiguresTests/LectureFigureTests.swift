import ChainruleCheck
import ChainruleFigures
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Lecture figures")
struct LectureFigureTests {
    /// The words each figure's SVG must show: axis labels, or node names for the graphs.
    static let expectedTexts: [String: [String]] = [
        "activations": ["f(x)", "f′(x)", "x", "relu", "leaky_relu (0.1)", "elu"],
        "error-vs-h": ["step h", "sigmoid, central", "sigmoid, five-point", "10⁻⁶"],
        "loss-surface": ["x", "y", "start", "minimum"],
        "loss-curve": ["step", "loss: mean hinge + L2"],
        "relu": ["relu(x)", "relu′(x)", "negative: 0", "positive: passes × 1"],
        "losses": ["margin m", "hinge max(0, 1 − m)", "cross-entropy −log p"],
        "softmax": ["scores s", "eˢ: widen the gaps", "0 (label)", "5.1"],
        "neuron": ["Σ wᵢxᵢ + b", "sigmoid", "0.73"],
        "network": [],
        "templates": [],
        "conv-arithmetic": ["output 4×4", "stride 2"],
        "pooling": ["max", "mean", "upstream"],
        "circuit": ["x", "y", "z", "f"],
        "neuron-gates": ["w0", "x0", "exp"],
        "micrograd": ["x1*w1", "tanh"],
    ]

    @Test("every figure is listed with a one-line description and a check of its texts")
    func listed() {
        #expect(Set(LectureFigures.names) == Set(Self.expectedTexts.keys))
        for figure in LectureFigures.all {
            #expect(!figure.summary.isEmpty && !figure.summary.contains("\n"))
        }
    }

    @Test("every figure drawn without a program renders to PNG, SVG and PDF", arguments: LectureFigures.all.filter { !$0.needsProgram }.map(\.name))
    func renders(name: String) throws {
        let figure = try #require(LectureFigures.named(name))
        let drawing = try figure.make(.default)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("\(name).png").path
        try drawing.write(to: png, scale: 1)
        let size = try #require(pngSize(try Data(contentsOf: URL(fileURLWithPath: png))))
        #expect(size.width >= 250 && size.height >= 150)
        let pdf = folder.appendingPathComponent("\(name).pdf").path
        try drawing.write(to: pdf)
        #expect(try Data(contentsOf: URL(fileURLWithPath: pdf)).prefix(5) == Data("%PDF-".utf8))
        let svgPath = folder.appendingPathComponent("\(name).svg").path
        try drawing.write(to: svgPath)
        let svg = try Data(contentsOf: URL(fileURLWithPath: svgPath))
        #expect(XMLParser(data: svg).parse(), "\(name).svg does not parse as XML")
        let text = String(decoding: svg, as: UTF8.self)
        for label in Self.expectedTexts[name] ?? [] {
            #expect(text.contains(">\(label)</text>"), "\(name).svg lacks the text '\(label)'")
        }
    }

    @Test("chart figures keep their texts apart and on the page in both palettes", arguments: ["activations", "error-vs-h", "loss-surface", "loss-curve", "relu", "losses", "softmax"])
    func chartTexts(name: String) throws {
        for palette in Palette.allCases {
            guard case .chart(let chart) = try #require(LectureFigures.named(name)).make(palette) else {
                Issue.record("\(name) is not a chart")
                return
            }
            assertTextsApart(chart)
        }
    }

    @Test("a lecture figure refuses an output that is not PNG, SVG or PDF")
    func refusesJSON() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let drawing = try #require(LectureFigures.named("circuit")).make(.default)
        #expect(throws: FigureError.self) { try drawing.write(to: folder.appendingPathComponent("circuit.json").path) }
    }

    @Test("a misspelt name gets the closest figure; a far one gets none")
    func suggestions() {
        #expect(LectureFigures.suggestion(for: "activatons") == "activations")
        #expect(LectureFigures.suggestion(for: "error-vs-H") == "error-vs-h")
        #expect(LectureFigures.suggestion(for: "losscurve") == "loss-curve")
        #expect(LectureFigures.suggestion(for: "transformer") == nil)
    }

    // MARK: The numbers behind the charts

    @Test("activation derivatives come from the backward rules: sigmoid′(0) = 1/4, tanh′(0) = 1, relu′ jumps at 0")
    func activationDerivatives() {
        let xs = [-1.0, -0.5, 0.5, 1.0]
        let sigmoid = LectureFigures.activationCurves(op: "sigmoid", xs: [0])
        #expect(abs(sigmoid.derivatives[0].y - 0.25) < 1e-15)
        #expect(abs(LectureFigures.activationCurves(op: "tanh", xs: [0]).derivatives[0].y - 1) < 1e-15)
        let relu = LectureFigures.activationCurves(op: "relu", xs: xs)
        // The branch changes between −0.5 and 0.5: a NaN breaks the derivative's line there.
        #expect(relu.derivatives.count == xs.count + 1)
        #expect(relu.derivatives.filter { $0.y.isNaN }.count == 1)
        #expect(relu.derivatives.filter { !$0.y.isNaN }.map(\.y) == [0, 0, 1, 1])
        let leaky = LectureFigures.activationCurves(op: "leaky_relu", arguments: ["slope": .double(0.1)], xs: [-2])
        #expect(abs(leaky.values[0].y + 0.2) < 1e-15 && abs(leaky.derivatives[0].y - 0.1) < 1e-15)
    }

    @Test("the central difference of sigmoid is most accurate between h = 1e-8 and 1e-4, the V of truncation and rounding")
    func errorMinimum() throws {
        let errors = LectureFigures.finiteDifferenceErrors(op: "sigmoid", at: 0.7)
        #expect(errors.count == LectureFigures.sweepSteps.count)
        let best = try #require(errors.filter { $0.y > 0 }.min { $0.y < $1.y })
        #expect(best.x >= 1e-8 && best.x <= 1e-4, "smallest error at h = \(best.x)")
        // Both arms of the V: large steps (truncation) and tiny steps (rounding) are far worse.
        #expect(errors.first!.y > 1e3 * best.y)
        #expect(errors.last!.y > 1e3 * best.y)
        // Truncation falls as h²: a tenth of the step, a hundredth of the error.
        let at1e2 = try #require(errors.first { abs($0.x - 1e-2) < 1e-12 }), at1e3 = try #require(errors.first { abs($0.x - 1e-3) < 1e-13 })
        #expect(abs(log10(at1e2.y / at1e3.y) - 2) < 0.1)
    }

    @Test("the five-point stencil beats the central difference at its own default step")
    func fivePoint() {
        let h = [1e-3]
        let central = LectureFigures.finiteDifferenceErrors(op: "sigmoid", at: 0.7, steps: h)[0].y
        let five = LectureFigures.finiteDifferenceErrors(op: "sigmoid", at: 0.7, steps: h, stencil: .fivePoint)[0].y
        #expect(five < central / 1000)
    }

    @Test("gradient descent on Rosenbrock's function lowers the loss, and momentum gets further")
    func descent() {
        var surface = OptimizerSurface.builtin(.rosenbrock)
        surface.steps = 200
        let sgd = surface.path(.sgd)
        #expect(sgd.count == 201)
        // Plain gradient descent with a small step never goes up.
        for k in 1..<sgd.count { #expect(sgd[k].loss <= sgd[k - 1].loss + 1e-12, "step \(k) raised the loss") }
        #expect(sgd.last!.loss < sgd[0].loss / 2)
        let momentum = surface.path(.momentum)
        #expect(momentum.last!.loss < sgd.last!.loss)
    }

    @Test("the gradient the path follows is backward's: at (−1.5, 2.5) it is (145, 50)")
    func rosenbrockGradient() throws {
        let f = LectureFigures.rosenbrock()
        f.graph.setValue(.init(-1.5), of: f.x.id)
        f.graph.setValue(.init(2.5), of: f.y.id)
        try f.graph.backward(f.loss)
        // ∂f/∂x = −2(1 − x) − 400x(y − x²) = −5 + 600·0.25 = 145; ∂f/∂y = 200(y − x²) = 200·0.25 = 50.
        #expect(abs(f.x.gradient!.scalar - 145) < 1e-9)
        #expect(abs(f.y.gradient!.scalar - 50) < 1e-9)
    }

    @Test("the MLP's loss falls over 100 steps of gradient descent")
    func lossCurve() {
        let losses = LectureFigures.trainingLosses(learningRate: 0.2, steps: 100)
        #expect(losses.count == 101)
        #expect(losses.last! < losses[0] / 4)
        // Mostly downhill: the loss at every tenth step is below the one ten steps before.
        for k in stride(from: 10, through: 100, by: 10) { #expect(losses[k] < losses[k - 10], "no progress from step \(k - 10) to \(k)") }
    }
}
