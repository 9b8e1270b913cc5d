import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// `relu(x) + sin(x)·x` elementwise, a kink at 0 inside the op itself; its rule is scaled by
/// `factor` at element `wrong` (and right elsewhere, 0 at the kink: a subgradient).
private struct KinkedScaledRule: ChainruleCore.Operation {
    var factor: Double
    var wrong: Int
    var name: String { "kinked_scaled_rule" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Swift.max($0, 0) + Foundation.sin($0) * $0 } }
    func branches(_ inputs: [Tensor]) -> [Int] { inputs[0].data.map { $0 > 0 ? 1 : 0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let x = inputs[0]
        var g = Tensor.zeros(x.shape)
        for j in 0..<x.count {
            let d = (x.data[j] > 0 ? 1 : 0) + Foundation.sin(x.data[j]) + x.data[j] * Foundation.cos(x.data[j])
            g.data[j] = gradient.data[j] * d * (j == wrong ? factor : 1)
        }
        return [g]
    }
}

/// Session 25's red team of the checker's verdicts.
@Suite struct RedTeam25CheckerTests {
    /// 3000 elements, 20 sampled, one wrong element the sample misses, and one element exactly at
    /// the op's kink: the projection over all elements crosses the kink for any step, so it proves
    /// nothing. It used to be dropped silently (PASSED); now v is split until the kink is one
    /// element of its own, compared one by one, and the wrong element is located in the part that fails.
    static func kinkedInput(zeros: [Int]) -> Tensor {
        var x = Tensor.uniform([3, 1000], low: -2, high: 2, seed: 5)
        for j in zeros { x.data[j] = 0 }
        return x
    }

    @Test func aKinkAnywhereInASampledInputDoesNotHideAWrongElementTheSampleMisses() throws {
        let wrong = 1234
        let g = Graph()
        let x = g.param("x", Self.kinkedInput(zeros: [17]))
        let s = x.applying(KinkedScaledRule(factor: 1.5, wrong: wrong)).named("s")
        let y = sum(s * 0.5).named("y")
        let options = CheckOptions(sample: 20)
        let report = try GradientCheck.graph(g, output: y.id, options: options)
        let node = try #require(report.node(s.id))
        #expect(node.status == .fail, "\(node.status)")
        let disagreement = try #require(node.projectionDisagreements?.first)
        #expect(disagreement.sampled.count == 20 && !disagreement.sampled.contains([1, 234]))
        #expect(disagreement.located == [1, 234])
        #expect(report.leaf(x.id)?.status == .fail)
        #expect(!report.passed)
        // The right rule: the kink element is found and compared (a subgradient), nothing fails.
        let right = Graph()
        let rx = right.param("x", Self.kinkedInput(zeros: [17]))
        let rs = rx.applying(KinkedScaledRule(factor: 1, wrong: wrong)).named("s")
        let ry = sum(rs * 0.5)
        let rightReport = try GradientCheck.graph(right, output: ry.id, options: options)
        #expect(rightReport.passed)
        let rightNode = try #require(rightReport.node(rs.id))
        #expect(rightNode.status == .kink, "\(rightNode.status)")
        #expect(rightNode.kinks.contains { $0.index == [0, 17] })
    }

    /// So many kinks that splitting v runs out of its budget: what is left is inconclusive, never a pass.
    @Test func kinksBeyondTheSplitBudgetLeaveTheSampledInputInconclusiveNotPassed() throws {
        let g = Graph()
        let x = g.param("x", Self.kinkedInput(zeros: Array(stride(from: 0, to: 3000, by: 10))))
        let s = x.applying(KinkedScaledRule(factor: 1.5, wrong: 1234)).named("s")
        let y = sum(s * 0.5).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(sample: 20))
        let node = try #require(report.node(s.id))
        #expect(node.status == .inconclusive || node.status == .fail, "\(node.status)")
        let leaf = try #require(report.leaf(x.id))
        #expect(leaf.status == .inconclusive || leaf.status == .fail, "\(leaf.status)")
    }
}

/// `x²` elementwise whose rule says `3x`: wrong everywhere but at 0.
private struct ThreeXForSquare: ChainruleCore.Operation {
    var name: String { "three_x_for_square" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { $0 * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * 3 * x }]
    }
}

extension RedTeam25CheckerTests {
    /// `--fast` settled a node by `g_Nᵀ J_N Δin`; where no gradient reaches the node (its output
    /// times 0, or a relu dead on every element after it), g_N = 0 and that is 0 against 0 for any
    /// rule: the wrong rule was marked `pass` (`uᵀJv agreed`). Now it gets its own check.
    @Test(arguments: ["times zero", "dead relu"])
    func fastModeDoesNotSettleANodeThatReceivedNoGradient(downstream: String) throws {
        let g = Graph()
        let x = g.param("x", Tensor([0.5, 1.5, -2]))
        let s = x.applying(ThreeXForSquare()).named("s")
        let y = downstream == "times zero" ? sum(s * 0).named("y") : sum(relu(s - 100)).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(fast: true))
        let node = try #require(report.node(s.id))
        #expect(node.status == .fail, "\(node.status) \(node.method)")
        #expect(node.worst?.index == [2])
        #expect(!report.passed)
    }
}

/// `x³` elementwise whose rule is wrong only where x < 0 (`3x² − x` there).
private struct CubeWrongOnNegatives: ChainruleCore.Operation {
    var name: String { "cube_wrong_on_negatives" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { $0 * $0 * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * (3 * x * x - Swift.min(x, 0)) }]
    }
}

extension RedTeam25CheckerTests {
    /// `--fast` projected each node on the gradient g_N it received: where a relu after it kills
    /// some outputs, g_N is 0 there and the rule's rows for them were never looked at, so a rule
    /// wrong only on those elements was marked `pass`. The node is now projected again on g_N
    /// with its zeros filled by random numbers, from the same two passes.
    @Test func fastModeLooksAtTheRowsAReluAfterTheNodeKills() throws {
        let g = Graph()
        let x = g.param("x", Tensor([0.5, 1.5, -2]))
        let s = x.applying(CubeWrongOnNegatives()).named("s")
        let y = sum(relu(s)).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(fast: true))
        let node = try #require(report.node(s.id))
        #expect(node.status == .fail, "\(node.status) \(node.method)")
        #expect(node.worst?.index == [2])
        #expect(!report.passed)
        // The small CNN (a relu, then a max-pool, whose gradients are full of zeros) is still
        // settled by its two forward passes: `PrecisionTests.theSmallCNNIsCheckedInTwoForwardPasses`.
    }
}
