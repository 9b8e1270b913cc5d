import ChainruleCheck
import ChainruleCore
import Foundation
import Numerics
import Testing

@Suite struct RuleCheckTests {
    @Test func everyRegisteredOpPassesItsRuleCheck() {
        let report = GradientCheck.rules()
        #expect(report.rules.count >= Registry.specs.count)
        #expect(report.failedOps == [], "failing ops: \(report.failedOps)")
        for spec in Registry.specs {
            #expect(report.rules.contains { $0.op == spec.name && $0.elementsChecked > 0 }, "\(spec.name) was not compared")
        }
    }

    @Test func anOpWithoutSamplesFails() {
        let report = GradientCheck.rules(ops: [bareSigmoidSpec])
        #expect(!report.passed)
        #expect(report.rules.first?.problem?.contains("no samples") == true)
    }

    @Test func aCustomSwiftOperationIsCheckedInOneCall() {
        let x = Tensor([-2, -0.5, 0.3, 1.7])
        let right = GradientCheck.operation(Swish(beta: 1.5), inputs: [x])
        #expect(right.status == .pass)
        #expect(right.method == .fullJacobian)
        #expect(right.elementsChecked == 16)
        #expect(right.band == .good || right.band == .acceptable)
    }

    @Test func aWrongJacobianEntryIsNamedByInputAndBothElements() {
        let w = Tensor([[1, 2, 3], [4, 5, 6]]), x = Tensor([0.5, -1, 2])
        let check = GradientCheck.operation(ForgetfulRowSum(), inputs: [w, x], inputNames: ["W", "x"])
        #expect(check.status == .fail)
        let worst = try! #require(check.worst)
        #expect(worst.inputName == "x")
        #expect(worst.index == [2])
        #expect(worst.outputIndex == [1])  // W[1, 2] = 6 is the largest forgotten entry
        #expect(worst.analytic == 0)
        #expect(worst.numeric.isApproximatelyEqual(to: 6, relativeTolerance: 1e-6))
    }

    @Test func theFivePointStencilAgreesFarCloser() {
        let x = Tensor([-1.2, 0.4, 2.5])
        var tight = CheckOptions(stencil: .fivePoint, absoluteTolerance: 1e-12, relativeTolerance: 1e-9)
        let fivePoint = GradientCheck.operation(Activation.sigmoid, inputs: [x], options: tight)
        #expect(fivePoint.status == .pass)
        #expect(fivePoint.maxRelativeError < 1e-9)
        tight.stencil = .central
        let central = GradientCheck.operation(Activation.sigmoid, inputs: [x], options: tight)
        #expect(central.maxRelativeError > fivePoint.maxRelativeError)
    }

    @Test func reluAtExactlyZeroIsAKinkWithBothOneSidedDerivatives() {
        let check = GradientCheck.operation(Activation.relu, inputs: [Tensor([-1, 0, 2])])
        #expect(check.status == .kink)
        let kink = try! #require(check.kinks.first)
        #expect(check.kinkCount == 1)
        #expect(kink.index == [1])
        #expect(kink.leftDerivative.map { abs($0) < 1e-9 } == true)
        #expect(kink.rightDerivative?.isApproximatelyEqual(to: 1, relativeTolerance: 1e-6) == true)
    }

    @Test func aKinkIsReportedAtTheEntryWhereTheOneSidedDerivativesDiffer() throws {
        // abs at 0: the diagonal entry jumps from −1 to 1; the off-diagonal ones are 0 on both sides.
        let check = GradientCheck.operation(Unary.abs, inputs: [Tensor([1, 0, -2])])
        #expect(check.status == .kink)
        let kink = try #require(check.kinks.first)
        #expect(kink.index == [1])
        #expect(kink.outputIndex == [1])
        #expect(kink.leftDerivative?.isApproximatelyEqual(to: -1, relativeTolerance: 1e-6) == true)
        #expect(kink.rightDerivative?.isApproximatelyEqual(to: 1, relativeTolerance: 1e-6) == true)
    }

    @Test func aMaxTieIsAKinkNotAFailure() {
        let a = Tensor([1, 3, -2]), b = Tensor([1, 0, 5])
        let check = GradientCheck.operation(Maximum(), inputs: [a, b])
        #expect(check.status == .kink)
        #expect(Set(check.kinks.map(\.inputName)) == ["a", "b"])
        #expect(check.kinks.allSatisfy { $0.index == [0] })
    }

    @Test func aSampleItsOwnShapeRuleRefusesFails() throws {
        let check = GradientCheck.operation(Maximum(), inputs: [Tensor([1, 2]), Tensor([1, 2, 3])])
        #expect(check.status == .fail)
        let problem = try #require(check.problem)
        #expect(problem.hasPrefix("its sample does not fit its own shape rule: "))
        #expect(check.elementsChecked == 0)
    }

    @Test func aSampleItsOwnValidationRefusesFails() throws {
        let logits = Tensor([[1, 2, 0.5]]), labels = Tensor([7])
        let check = GradientCheck.operation(CrossEntropy(), inputs: [logits, labels])
        #expect(check.status == .fail)
        let problem = try #require(check.problem)
        #expect(problem.hasPrefix("its sample is refused by its own validation: "))
        #expect(problem.contains("label 0 is 7"))
    }

    @Test func aNonFiniteOutputFailsBeforeAnyDifference() throws {
        let check = GradientCheck.operation(Unary.log, inputs: [Tensor([1, 0])])
        #expect(check.status == .fail)
        let problem = try #require(check.problem)
        #expect(problem.contains("not finite"))
        #expect(check.worst == nil)
    }

    @Test func aJacobianAboveTheLimitIsComparedAsUTJAndStillNamesTheElement() throws {
        let w = Tensor([[1, 2, 3], [4, 5, 6]]), x = Tensor([0.5, -1, 2])
        let check = GradientCheck.operation(
            ForgetfulRowSum(), inputs: [w, x], inputNames: ["W", "x"], options: CheckOptions(fullJacobianLimit: 4))
        #expect(check.method == .projected)
        #expect(check.status == .fail)
        let worst = try #require(check.worst)
        #expect(worst.inputName == "x")
        #expect(worst.index == [2])
        #expect(worst.outputIndex == nil)
        // One uᵀJ entry per input element: 6 of W, 3 of x.
        #expect(check.elementsChecked == 9)
    }

    @Test func fastModeCatchesTheWrongRuleAndStillNamesTheElement() {
        let w = Tensor([[1, 2, 3], [4, 5, 6]]), x = Tensor([0.5, -1, 2])
        let check = GradientCheck.operation(
            ForgetfulRowSum(), inputs: [w, x], inputNames: ["W", "x"], options: CheckOptions(fast: true))
        #expect(check.status == .fail)
        #expect(check.worst?.inputName == "x")
        #expect(check.worst?.index == [2])
    }
}

/// `x·w → wrong_sigmoid → ·v + c`, the wrong rule in the middle.
func wrongSigmoidGraph() -> (graph: Graph, output: Var, wrong: Var, x: Var, w: Var, v: Var) {
    let g = Graph()
    let x = g.input("x", Tensor([0.4, -1.1, 2.0]))
    let w = g.param("w", Tensor([1.5, 0.7, -0.3]))
    let v = g.param("v", Tensor([2.0, -1.0, 0.5]))
    let z = (x * w).named("z")
    let s = z.applying(WrongSigmoid()).named("s")
    let out = (s * v + 1).named("out")
    return (g, out, s, x, w, v)
}

@Suite struct GraphCheckTests {
    @Test func theWrongRuleIsPinnedToItsNodeAndEverythingElseStaysGreen() throws {
        let (g, out, wrong, x, w, v) = wrongSigmoidGraph()
        let report = try GradientCheck.graph(g, output: out.id)
        #expect(!report.passed)
        let failing = report.nodes.filter { $0.status == .fail }
        #expect(failing.map(\.node) == [wrong.id])
        let node = try #require(report.node(wrong.id))
        #expect(node.name == "s")
        #expect(node.op == "wrong_sigmoid")
        let worst = try #require(node.worst)
        #expect(worst.inputName == "z")
        #expect(worst.analytic != worst.numeric)
        #expect(node.band == .wrong)
        for other in report.nodes where other.node != wrong.id {
            #expect(other.status == .pass, "\(other.name) should stay green")
        }
        // End to end: the leaves upstream of the wrong rule fail, the one downstream passes.
        #expect(report.leaf(x.id)?.status == .fail)
        #expect(report.leaf(w.id)?.status == .fail)
        #expect(report.leaf(v.id)?.status == .pass)
    }

    @Test func theCS231nCircuitPassesAndEachLeafCostsTwoConeRecomputesPerElement() throws {
        let (g, f) = Examples.cs231nCircuit()
        let report = try GradientCheck.graph(g, output: f.id, options: CheckOptions(nodeLocal: false))
        #expect(report.passed)
        #expect(report.leaves.map(\.status) == [.pass, .pass, .pass])
        #expect(report.leaves.map { $0.worst?.analytic } == [-4, -4, 3])
        #expect(report.forwardEvaluations == 2 * 3)
    }

    @Test func fastModeCatchesTheWrongRuleAndFallsBackToNameTheElement() throws {
        let (g, out, wrong, x, _, v) = wrongSigmoidGraph()
        let report = try GradientCheck.graph(g, output: out.id, options: CheckOptions(fast: true))
        #expect(report.nodes.filter { $0.status == .fail }.map(\.node) == [wrong.id])
        let leaf = try #require(report.leaf(x.id))
        #expect(leaf.status == .fail)
        #expect(leaf.projection?.passed == false)
        // The dropped factor 1 − σ(z) hurts most where z = x·w is largest: element 0 (z = 0.6).
        #expect(leaf.worst?.index == [0])
        #expect(leaf.elementsChecked == 3)
        let downstream = try #require(report.leaf(v.id))
        #expect(downstream.projection?.passed == true)
        #expect(downstream.elementsChecked == 0)
        #expect(downstream.status == .pass)
    }

    @Test func reluAtExactlyZeroInAGraphIsAKink() throws {
        let g = Graph()
        let x = g.input("x", Tensor([0, 1.5, -2]))
        let y = (relu(x) * 3).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        #expect(report.passed)
        #expect(report.leaf(x.id)?.status == .kink)
        #expect(report.leaf(x.id)?.kinks.map(\.index) == [[0]])
        #expect(report.nodes.first { $0.op == "relu" }?.status == .kink)
    }

    @Test func aNaNIsPinnedToTheFirstNodeThatMadeIt() throws {
        let g = Graph()
        let x = g.input("x", Tensor([2, -1]))
        let l = log(x).named("l")
        let y = (l * 2 + 1).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        #expect(!report.passed)
        let nonFinite = try #require(report.nonFinite)
        #expect(nonFinite.node == l.id)
        #expect(nonFinite.name == "l")
        #expect(nonFinite.index == [1])
        #expect(nonFinite.value.isNaN)
    }

    @Test func samplingChecksKElementsOfEveryLeaf() throws {
        let g = Graph()
        let a = g.param("a", Tensor.uniform([4, 5], low: -1, high: 1, seed: 3))
        let b = g.param("b", Tensor.uniform([5], low: -1, high: 1, seed: 4))
        let y = sigmoid(a * b).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(sample: 3))
        #expect(report.passed)
        #expect(report.leaves.map(\.elementsChecked) == [3, 3])
        #expect(report.leaves.map(\.elementCount) == [20, 5])
    }

    @Test func aLabelOutOfRangeSetAfterBuildingIsAGraphError() throws {
        let g = Graph()
        let logits = g.param("logits", Tensor([[1, 2, 0.5], [0.3, -1, 2]]))
        let loss = crossEntropy(logits, labels: [0, 2]).named("loss")
        let labels = try #require(g.leaves.first { g[$0].name == "labels" })
        g.setValue(Tensor([0, 3]), of: labels)
        do {
            _ = try GradientCheck.graph(g, output: loss.id)
            Issue.record("a label of 3 for 3 classes was accepted")
        } catch {
            guard case .invalidValue(let node, let name, _, let valueError) = error else {
                Issue.record("expected invalidValue, got \(error)")
                return
            }
            #expect(node == loss.id)
            #expect(name == "loss")
            #expect(valueError.message.contains("label 1 is 3"))
        }
    }
}

@Suite struct KinkTests {
    @Test func aTieOfTheMaxReductionIsAKink() throws {
        let g = Graph()
        let x = g.input("x", Tensor([2, 5, 5, -1]))
        let m = max(x).named("m")
        let report = try GradientCheck.graph(g, output: m.id)
        #expect(report.passed)
        #expect(report.node(m.id)?.status == .kink)
        #expect(report.leaf(x.id)?.status == .kink)
        #expect(Set(report.leaf(x.id)?.kinks.map(\.index) ?? []) == [[1], [2]])
    }

    @Test func aMaxPoolTieIsAKinkNotAFailure() throws {
        let g = Graph()
        // The window's two largest cells tie at 3.
        let x = g.input("x", Tensor(shape: [1, 1, 2, 2], data: [3, 3, 1, 0]))
        let y = (maxpool2d(x, kernel: 2) * 2).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        #expect(report.passed)
        let pool = try #require(report.nodes.first { $0.op == "maxpool2d" })
        #expect(pool.status == .kink)
        #expect(Set(pool.kinks.map(\.index)) == [[0, 0, 0, 0], [0, 0, 0, 1]])
        let leaf = try #require(report.leaf(x.id))
        #expect(leaf.status == .kink)
        // Raising either tied cell raises the max (slope 2), lowering it does not.
        let kink = try #require(leaf.kinks.first)
        #expect(kink.rightDerivative?.isApproximatelyEqual(to: 2, relativeTolerance: 1e-6) == true)
        #expect(kink.leftDerivative.map { abs($0) < 1e-9 } == true)
    }
}

@Suite struct TerminalReportTests {
    @Test func aFailureIsExpandedWithNodeInputElementAndBothNumbers() throws {
        let (g, out, wrong, _, _, _) = wrongSigmoidGraph()
        g.setLocation(SourceLocation(file: "layer.grad", line: 4, column: 5), of: wrong.id)
        let report = try GradientCheck.graph(g, output: out.id)
        let text = TerminalReport().render(report)
        let lines = text.split(separator: "\n").map(String.init)
        let nodeLine = try #require(lines.first { $0.contains("s (wrong_sigmoid)") })
        #expect(nodeLine.contains("✗ FAIL"))
        #expect(nodeLine.contains("wrong"))
        #expect(nodeLine.contains("layer.grad:4:5"))
        let detail = try #require(lines.first { $0.contains("input 0 \"z\" element") })
        #expect(detail.contains("backward rule"))
        #expect(detail.contains("finite difference"))
        // Every other node, and the leaf v downstream of the wrong rule, stay green.
        #expect(lines.filter { $0.contains("✓ pass") }.count == (report.nodes.count - 1) + 1)
        #expect(lines.last?.hasPrefix("FAILED: 1 of") == true)
        #expect(!text.contains("\u{1B}["))
        #expect(TerminalReport(colors: true).render(report).contains("\u{1B}[31m"))
    }

    @Test func theRuleReportHasOneLinePerOp() {
        let report = GradientCheck.rules(ops: [Registry.spec(named: "relu")!, Registry.spec(named: "mul")!])
        let lines = TerminalReport().render(report).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("central difference, h = 1e-6"))
        #expect(lines[1].contains("✓ pass  relu"))
        #expect(lines[3].hasPrefix("PASSED: 2 ops · "))
    }
}

@Suite struct CheckOptionsTests {
    @Test func aSampleOfNoElementsIsRefusedRatherThanCheckingNothing() async {
        await #expect(processExitsWith: .failure) { _ = CheckOptions(sample: 0) }
        await #expect(processExitsWith: .failure) {
            var options = CheckOptions()
            options.sample = -3
        }
        #expect(CheckOptions(sample: 1).sample == 1)
    }
}
