import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// Richardson extrapolation: each number comes with its error, and the verdicts use it.
@Suite struct RichardsonTests {
    static let richardson = CheckOptions(stencil: .richardson)

    @Test func smoothScalarFunctionsAgreeToAbout1e13() throws {
        var worst = 0.0
        for name in ["sigmoid", "tanh", "exp", "softplus", "sin"] {
            let op = try #require(try Registry.spec(named: name)?.build(OpArguments()))
            let check = GradientCheck.operation(op, inputs: [Tensor([-2.5, -0.7, 0.3, 1.1, 2.4])], options: Self.richardson)
            #expect(check.status == .pass)
            worst = Swift.max(worst, check.maxRelativeError)
        }
        #expect(worst <= 1e-13, "worst relative error \(worst)")
    }

    /// The end-to-end and node-local checks of smooth tensor programs.
    static func smoothPrograms() -> [(String, Graph, NodeID)] {
        let neuron = Examples.sigmoidNeuron()
        let g = Graph()
        let logits = g.param("logits", Tensor.randn([2, 4], seed: 5))
        let ce = crossEntropy(logits, labels: [1, 3]).named("loss")
        let m = Graph()
        let x = m.input("x", Tensor.randn([3, 4], seed: 6))
        let w1 = m.param("w1", Tensor.randn([5, 4], seed: 7, scale: 0.5)), b1 = m.param("b1", Tensor.randn([5], seed: 8))
        let w2 = m.param("w2", Tensor.randn([3, 5], seed: 9, scale: 0.5))
        let mlp = crossEntropy(linear(tanh(linear(x, w1, b1)), w2), labels: [0, 2, 1]).named("loss")
        let c = Graph()
        let image = c.input("image", Tensor.randn([1, 2, 5, 5], seed: 10))
        let kernel = c.param("kernel", Tensor.randn([2, 2, 3, 3], seed: 11, scale: 0.4))
        let conv = sum(sigmoid(conv2d(image, kernel))).named("out")
        return [("neuron", neuron.graph, neuron.output.id), ("softmax + cross-entropy", g, ce.id), ("MLP", m, mlp.id), ("conv", c, conv.id)]
    }

    /// Node-local and end-to-end, every rule of every smooth program agrees to better than the
    /// issue's 1e-12: the perturbed passes propagate differences (`Operation.difference`), so an
    /// element whose derivative is 1e-3 of |f| (the conv's sum of 18 sigmoids) is no longer drowned
    /// by the ε·|f|/h of subtracting two whole outputs. `PrecisionTests` pins each program.
    @Test func smoothTensorProgramsAgreeToAbout1e12() throws {
        var worstNode = (0.0, ""), worstLeaf = (0.0, "")
        for (name, graph, output) in Self.smoothPrograms() {
            let report = try GradientCheck.graph(graph, output: output, options: Self.richardson)
            #expect(report.passed, "\(name)")
            for node in report.nodes where node.status != .skipped {
                #expect(node.status == .pass, "\(name) \(node.name): \(node.status)")
                if node.maxRelativeError > worstNode.0 { worstNode = (node.maxRelativeError, "\(name) \(node.name)") }
            }
            for leaf in report.leaves where leaf.status != .skipped {
                #expect(leaf.status == .pass, "\(name) \(leaf.name): \(leaf.status)")
                if leaf.maxRelativeError > worstLeaf.0 { worstLeaf = (leaf.maxRelativeError, "\(name) \(leaf.name)") }
            }
        }
        #expect(worstNode.0 <= 1e-12, "node-local worst relative error \(worstNode.0) at \(worstNode.1)")
        #expect(worstLeaf.0 <= 1e-12, "end-to-end worst relative error \(worstLeaf.0) at \(worstLeaf.1)")
    }

    @Test func twelveEvaluationsAnElement() throws {
        let (g, f) = Examples.cs231nCircuit()
        let report = try GradientCheck.graph(g, output: f.id, options: CheckOptions(stencil: .richardson, nodeLocal: false))
        #expect(report.passed)
        #expect(report.forwardEvaluations == 12 * 3)
        let worst = try #require(report.leaves.first?.worst)
        #expect(worst.errorEstimate.map { $0 < 1e-9 } == true)
        #expect(worst.step.map { $0 <= 0.125 * 2 } == true)
    }

    @Test func aWrongRuleIsWrongWithCertaintyAndTheReportSaysHowGoodTheDifferenceIs() throws {
        let check = GradientCheck.operation(WrongSigmoid(), inputs: [Tensor([0.4, -1.1])], options: Self.richardson)
        #expect(check.status == .fail)
        let worst = try #require(check.worst)
        let estimate = try #require(worst.errorEstimate)
        #expect(worst.absoluteError > 1e6 * estimate)
        let text = TerminalReport().render(check)
        #expect(text.contains("; differs by \(String(format: "%.1e", worst.absoluteError)); the finite difference (h = "))
        #expect(text.contains(") is good to "))
        #expect(text.contains(", so the rule is wrong"))
    }

    @Test func aFunctionTooCurvedForTheStepsIsShrunkOrInconclusiveNeverWrong() throws {
        // ω = 1e4: Richardson's first steps are too wide, and the step shrunk for curvature resolves it.
        #expect(GradientCheck.operation(Wiggle(omega: 1e4), inputs: [Tensor([0.3, -0.2])], options: Self.richardson).status == .pass)
        // ω = 1e8, 1e10: even the shrunk steps span many periods; the steps confirming a failure
        // resolve f or say it oscillates too fast: a pass or inconclusive, never a conviction.
        for omega in [1e8, 1e10] {
            let check = GradientCheck.operation(Wiggle(omega: omega), inputs: [Tensor([0.3, -0.2])], options: Self.richardson)
            #expect(check.status != .fail, "ω = \(omega)")
            #expect(check.inconclusive.allSatisfy { [.curvature, .oscillation].contains($0.inconclusive) })
        }
        // The central difference's small step resolves the milder one.
        #expect(GradientCheck.operation(Wiggle(omega: 1e4), inputs: [Tensor([0.3, -0.2])]).status == .pass)
    }

    @Test func aToleranceBelowRoundingIsInconclusiveAndTheCheckStillPasses() throws {
        let (g, f) = Examples.sigmoidNeuron()
        let options = CheckOptions(stencil: .richardson, absoluteTolerance: 0, relativeTolerance: 1e-16)
        let report = try GradientCheck.graph(g, output: f.id, options: options)
        #expect(report.passed)
        #expect(report.hasInconclusive)
        #expect(!report.nodes.contains { $0.status == .fail } && !report.leaves.contains { $0.status == .fail })
        let summary = try #require(TerminalReport().render(report).split(separator: "\n").last)
        #expect(summary.hasPrefix("INCONCLUSIVE: "))
        #expect(summary.contains(" inconclusive · "))
    }

    @Test func autoStepsFollowTheFunctionsScaleAndAreReported() throws {
        // y = log 300 + log 0.5: the pilot finds |f‴| = 2/x³ and |f| ≈ |y| ≈ 5.0, so the central
        // step is h* = (3ε·|f| / |f‴|)^(1/3): about 3.6e-3 at x = 300, 5.9e-6 at x = 0.5.
        let g = Graph()
        let x = g.param("x", Tensor([300, 0.5]))
        let y = sum(log(x)).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(autoStep: true, nodeLocal: false))
        #expect(report.passed)
        let f = abs(log(300.0) + log(0.5))
        let expected = [300.0, 0.5].map { cbrt(3 * Double.ulpOfOne * f / (2 / ($0 * $0 * $0))) }
        let steps = try #require(report.steps)
        #expect(abs(steps.largest / expected[0] - 1) < 0.05)
        #expect(abs(steps.smallest / expected[1] - 1) < 0.05)
        #expect(CheckOptions(autoStep: true).summary.hasPrefix("central difference, h per element from 4 pilot evaluations (h = (3ε·|f| / |f‴|)^(1/3)) · "))
        #expect(TerminalReport().render(report).split(separator: "\n").last!.contains(" · h from 5.9e-06 to 0.0036 · "))
        // A failing element says which step it had.
        let (wrong, out, _, _, _, _) = wrongSigmoidGraph()
        let failing = try GradientCheck.graph(wrong, output: out.id, options: CheckOptions(autoStep: true))
        let detail = try #require(TerminalReport().render(failing).split(separator: "\n").first { $0.contains("input 0 \"z\" element") })
        #expect(detail.contains("the finite difference (h = "))
    }

    @Test func autoStepTakesTheWidestStepWhereFHasNoThirdDerivativeAndTheRelativeOneAtAKink() throws {
        // x² has f‴ = 0 (the pilot sees only rounding): a step near the widest, 2e-2·max(1, |x|),
        // far above 1e-6. relu's pilot at 0.001 ± 0.02 crosses its kink: the relative step
        // 1e-6·max(1, |x|).
        let g = Graph()
        let x = g.param("x", Tensor([3]))
        let y = (x * x).named("y")
        let smooth = try GradientCheck.graph(g, output: y.id, options: CheckOptions(autoStep: true, nodeLocal: false))
        let steps = try #require(smooth.steps)
        #expect(steps.smallest > 1e-3 && steps.largest <= 0.06)
        #expect(smooth.passed)
        // The five-point stencil's step stays within its default 1e-3·max(1, |x|): f‴ = 0 says nothing of f⁽⁵⁾.
        let five = try GradientCheck.graph(g, output: y.id, options: CheckOptions(autoStep: true, stencil: .fivePoint, nodeLocal: false))
        #expect(five.steps.map { $0.largest <= 3e-3 } == true)
        let k = Graph()
        let z = k.param("z", Tensor([0.001]))
        let r = relu(z).named("r")
        let kinked = try GradientCheck.graph(k, output: r.id, options: CheckOptions(autoStep: true, nodeLocal: false))
        #expect(kinked.steps?.smallest == 1e-6 && kinked.steps?.largest == 1e-6)
        #expect(kinked.passed)
    }
}

/// The `BatchedOperation` seam: an op that conforms gets each chunk's points in one call.
@Suite struct BatchedOperationTests {
    @Test func theCheckerHandsABatchedOpWholeChunks() {
        let op = CountingBatchedTanh()
        let x = Tensor.uniform([20], low: -2, high: 2, seed: 3)
        let check = GradientCheck.operation(op, inputs: [x], options: CheckOptions(parallel: false))
        #expect(check.status == .pass)
        // 20 elements × 2 points, in chunks: far fewer calls than points, and no point one by one.
        #expect(op.pointsSeen == 40)
        #expect(op.batchCalls < 10)
        #expect(op.singleCalls <= 3)  // the output itself and the probes' forward after backward
    }
}
