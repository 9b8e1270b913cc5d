import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// `sin(x)·x` elementwise whose rule is scaled by `factor` where `wrongWhere` holds of the
/// element's index and true gradient (and right elsewhere).
private struct ScaledRule: ChainruleCore.Operation {
    var factor: Double
    var wrongWhere: @Sendable (_ index: Int, _ gradient: Double) -> Bool = { _, _ in true }
    var name: String { "scaled_rule" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Foundation.sin($0) * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let x = inputs[0]
        var g = Tensor.zeros(x.shape)
        for j in 0..<x.count {
            let d = Foundation.sin(x.data[j]) + x.data[j] * Foundation.cos(x.data[j])
            g.data[j] = gradient.data[j] * d * (wrongWhere(j, d) ? factor : 1)
        }
        return [g]
    }
}

/// `x²` elementwise whose rule forgets the elements where |2x| < 1e-9 (gives 0 there).
private struct ForgetsTinyGradients: ChainruleCore.Operation {
    var name: String { "forgets_tiny" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { $0 * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in abs(2 * x) < 1e-9 ? 0 : g * 2 * x }]
    }
}

/// The finite difference's own error bound judges each element, not the tolerance alone: a rule a
/// tolerance of 1e-3 would let through fails where the difference is good to far better, and a right
/// rule whose difference is all rounding noise is never convicted.
@Suite struct ErrorBoundTests {
    static let x = Tensor([0.7, -1.3, 2.1, 0.4])

    @Test(arguments: Stencil.allCases)
    func aRuleScaledBy1Plus1e4FailsUnderEveryStencil(stencil: Stencil) throws {
        let check = GradientCheck.operation(
            ScaledRule(factor: 1 + 1e-4), inputs: [Self.x], inputNames: ["x"], options: CheckOptions(stencil: stencil))
        #expect(check.status == .fail, "\(stencil)")
        let worst = try #require(check.worst)
        #expect(abs(worst.analytic / worst.numeric - (1 + 1e-4)) < 1e-6)
        #expect(TerminalReport().render(check).contains("so the rule is wrong"))
        // The right rule passes the same check.
        let right = GradientCheck.operation(ScaledRule(factor: 1), inputs: [Self.x], options: CheckOptions(stencil: stencil))
        #expect(right.status == .pass, "\(stencil): \(right.status)")
    }

    @Test(arguments: [false, true])
    func aRuleScaledBy1Plus1e4FailsAtItsNodeInAGraph(fast: Bool) throws {
        let g = Graph()
        let x = g.param("x", Self.x)
        let s = x.applying(ScaledRule(factor: 1 + 1e-4)).named("s")
        let y = sum(tanh(s)).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(fast: fast))
        #expect(report.nodes.filter { $0.status == .fail }.map(\.node) == [s.id])
        #expect(report.leaf(x.id)?.status == .fail)
    }

    @Test func aRuleWrongOnlyWhereTheGradientIsBelow1e9Fails() throws {
        let check = GradientCheck.operation(ForgetsTinyGradients(), inputs: [Tensor([1.5, -0.8, 2e-10])], inputNames: ["x"])
        #expect(check.status == .fail)
        let worst = try #require(check.worst)
        #expect(worst.index == [2] && worst.analytic == 0)
        #expect(abs(worst.numeric - 4e-10) < 1e-12)
        // Right rules with gradients of 1.5e-10 and 3.7e-13 beside one of 0.79 pass.
        let right = GradientCheck.operation(Activation.tanh, inputs: [Tensor([12, -15, 0.5])])
        #expect(right.status == .pass)
    }

    /// 3000 elements, one of them wrong: with 20 sampled, the sample misses it, and the projection
    /// over all of them fails the node and bisection names the element.
    @Test func aWrongElementTheSampleMissesStillFailsTheNodeAndIsLocated() throws {
        let wrong = 1234
        let g = Graph()
        let x = g.param("x", Tensor.uniform([3, 1000], low: -2, high: 2, seed: 5))
        let s = x.applying(ScaledRule(factor: 1.5, wrongWhere: { j, _ in j == wrong })).named("s")
        let y = sum(s * 0.5).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(sample: 20))
        let node = try #require(report.node(s.id))
        #expect(node.status == .fail)
        let disagreement = try #require(node.projectionDisagreements?.first)
        #expect(disagreement.sampled.count == 20 && !disagreement.sampled.contains([1, 234]))
        #expect(disagreement.located == [1, 234])
        #expect(node.worst?.index == [1, 234])
        #expect(report.leaf(x.id)?.status == .fail)
        #expect(report.leaf(x.id)?.projectionDisagreements?.first?.located == [1, 234])
        let text = TerminalReport().render(report)
        #expect(text.contains("input 0 \"x\": 20 of 3000 elements sampled ("))
        #expect(text.contains("bisecting v located element [1, 234]"))
        // The right rule passes the same sampled check.
        let right = Graph()
        let rx = right.param("x", Tensor.uniform([3, 1000], low: -2, high: 2, seed: 5))
        let ry = sum(rx.applying(ScaledRule(factor: 1)) * 0.5)
        #expect(try GradientCheck.graph(right, output: ry.id, options: CheckOptions(sample: 20)).passed)
    }

    /// Right rules at magnitudes far from 1: none may fail under any stencil.
    static func farFromOne() -> [(String, Graph, Var)] {
        var programs: [(String, Graph, Var)] = []
        do {
            let g = Graph()
            let w = g.param("w", Tensor([2.5e9, -1.3e9, 7e8]))
            programs.append(("tanh at 1e9", g, sum(tanh(w * 1e-9) * 1e9)))
        }
        do {
            let g = Graph()
            let x = g.param("x", Tensor([3e-9, -1e-9, 5e-10]))
            programs.append(("squares at 1e-9", g, sum(x * x * 1e9)))
        }
        do {
            let g = Graph()
            let x = g.param("x", Tensor([0.3, -1.1, 2.0]))
            programs.append(("gradients of 1e-9", g, sum(sin(x) * 1e-9)))
        }
        do {
            let g = Graph()
            let x = g.param("x", Tensor([1, 3e9]))
            programs.append(("sum(3x) at [1, 3e9]", g, sum(x * 3)))
        }
        do {
            let g = Graph()
            let a = g.param("a", Tensor([[1e9, -2e9], [3e8, 5e9]]))
            let b = g.param("b", Tensor([[0.2, 1.5], [-0.4, 0.3]]))
            programs.append(("matmul at 1e9", g, sum(matmul(a, b) * b)))
        }
        do {
            let g = Graph()
            let x = g.param("x", Tensor([1e9, 1e9 + 1, -2e9]))
            programs.append(("exp of differences at 1e9", g, sum(exp((x - 1e9) * 1e-9))))
        }
        return programs
    }

    @Test(arguments: Stencil.allCases)
    func rightRulesAtLargeAndTinyScalesNeverFail(stencil: Stencil) throws {
        for (name, graph, output) in Self.farFromOne() {
            let report = try GradientCheck.graph(graph, output: output.id, options: CheckOptions(stencil: stencil))
            #expect(report.passed, "\(name), \(stencil): \(TerminalReport().render(report))")
        }
    }

    @Test func aDifferenceThatIsAllRoundingIsInconclusiveNotAFailure() throws {
        // 3x is 9e9 at x = 3e9: ε·|f|/h ≈ 4 swamps the central difference of the sum.
        let g = Graph()
        let x = g.param("x", Tensor([1, 3e9]))
        let y = sum(x * 3).named("y")
        // At a step the user gave, h = 1e-6: inconclusive, never a failure.
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(step: 1e-6))
        #expect(report.passed)
        let leaf = try #require(report.leaf(x.id))
        #expect(leaf.status == .inconclusive)
        #expect(leaf.inconclusive.allSatisfy { $0.inconclusive == .noise })
        // At the default step, the element is measured again at a step balancing rounding there, and passes.
        let byDefault = try GradientCheck.graph(g, output: y.id)
        #expect(byDefault.passed && !byDefault.hasInconclusive, "\(TerminalReport().render(byDefault))")
        #expect(byDefault.rechosenSteps != nil)
    }
}
