import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// sum(x) whose rule scales the upstream gradient by 1.01: a wrong rule at a graph's output node.
private struct OffBySum: ChainruleCore.Operation {
    var name: String { "off_by_sum" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { [] }
    func forward(_ inputs: [Tensor]) -> Tensor { Tensor(inputs[0].data.reduce(0, +)) }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [inputs[0].map { _ in 1.01 * gradient.data[0] }]
    }
}

/// 1e-10·exp(x) with its right rule: it overflows where exp does, with a derivative far from
/// the largest Double.
private struct ScaledExp: ChainruleCore.Operation {
    var factor = 1.0
    var name: String { "scaled_exp" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Foundation.exp($0) * 1e-10 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(output) { g, y in factor * g * y }]
    }
}

/// The precision Richardson reaches, pinned at what it measures: the perturbed passes carry each
/// node's change through the ops' difference rules (`Operation.difference`), so f(x + h) − f(x − h)
/// no longer cancels the digits the loss and its intermediates share.
@Suite struct PrecisionTests {
    /// Worst relative errors of a program's node-local and end-to-end checks.
    static func worst(_ graph: Graph, _ output: NodeID, _ options: CheckOptions) throws -> (nodeLocal: Double, endToEnd: Double, passed: Bool) {
        let report = try GradientCheck.graph(graph, output: output, options: options)
        return (report.nodes.map(\.maxRelativeError).max() ?? 0, report.leaves.map(\.maxRelativeError).max() ?? 0, report.passed)
    }

    /// Measured 2.1e-16 node-local and 2.8e-16 end-to-end (before difference propagation 5.0e-15
    /// and 2.7e-14).
    @Test func richardsonOnTheSigmoidNeuronIsGoodTo1e15() throws {
        let (g, f) = Examples.sigmoidNeuron()
        let w = try Self.worst(g, f.id, CheckOptions(stencil: .richardson))
        #expect(w.passed)
        #expect(w.nodeLocal <= 1e-15 && w.endToEnd <= 1e-15, "node-local \(w.nodeLocal), end-to-end \(w.endToEnd)")
    }

    /// Measured node-local / end-to-end: softmax + cross-entropy 2.0e-16 / 2.0e-16, the tanh MLP
    /// 6.5e-14 / 3.0e-15, the sigmoid conv 1.8e-15 / 1.1e-14 (before difference propagation
    /// 2.7e-13 / 5.4e-16, 9.0e-13 / 1.5e-12 and 1.1e-12 / 2.6e-12).
    @Test func richardsonOnSmoothTensorProgramsIsPinned() throws {
        let bounds: [String: (nodeLocal: Double, endToEnd: Double)] = [
            "softmax + cross-entropy": (1e-15, 1e-15), "MLP": (2e-13, 1e-14), "conv": (5e-15, 3e-14),
        ]
        for (name, graph, output) in RichardsonTests.smoothPrograms() {
            guard let bound = bounds[name] else { continue }
            let w = try Self.worst(graph, output, CheckOptions(stencil: .richardson))
            #expect(w.passed, "\(name)")
            #expect(w.nodeLocal <= bound.nodeLocal, "\(name) node-local \(w.nodeLocal)")
            #expect(w.endToEnd <= bound.endToEnd, "\(name) end-to-end \(w.endToEnd)")
        }
    }

    @Test func aWrongRuleAtTheOutputNodeStillFailsEndToEndUnderRichardson() throws {
        // The contraction before the output node takes its cotangent from that node's rule; the
        // whole output's own difference overrules it when they disagree.
        let g = Graph()
        let x = g.param("x", Tensor([0.3, -1.2, 0.8]))
        let y = g.build(OffBySum(), [tanh(x)]).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(stencil: .richardson, nodeLocal: false))
        let leaf = try #require(report.leaf(x.id))
        #expect(leaf.status == .fail)
        let worst = try #require(leaf.worst)
        #expect(abs(worst.analytic / worst.numeric - 1.01) < 1e-9)
    }

    @Test(arguments: [Stencil.central, .fivePoint, .richardson])
    func aRightRuleWhereOneSideOverflowsIsJudgedFromTheOtherSide(stencil: Stencil) throws {
        // exp(709.78271289 + h) overflows, exp(709.78271289 − h) does not.
        let check = GradientCheck.operation(ScaledExp(), inputs: [Tensor([709.78271289, 1])], options: CheckOptions(stencil: stencil))
        #expect(check.status == .pass, "\(stencil): \(check.status) \(check.inconclusive)")
        #expect(check.inconclusiveCount == 0)
    }

    @Test func aOneSidedFailureSaysSo() throws {
        let check = GradientCheck.operation(ScaledExp(factor: 0.5), inputs: [Tensor([709.78271289])])
        #expect(check.status == .fail)
        let worst = try #require(check.worst)
        #expect(worst.oneSided == true)
        #expect(worst.undefinedStep == .plus)
        #expect(TerminalReport().render(check).contains("(one-sided, from x − h: x + h leaves the domain)"))
    }

    @Test func aKinkWithAnInfiniteOneSidedDerivativeIsUndefinedNotWrong() throws {
        // sqrt(relu(x)) at 0: the left derivative is 0, the right one +∞.
        let g = Graph()
        let x = g.param("x", Tensor([0, 0.5]))
        let y = sum(sqrt(relu(x))).named("y")
        for stencil in Stencil.allCases {
            let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(stencil: stencil))
            let leaf = try #require(report.leaf(x.id))
            #expect(leaf.status == .inconclusive, "\(stencil)")
            #expect(leaf.inconclusive.allSatisfy { $0.inconclusive == .undefined && $0.index == [0] }, "\(stencil)")
            #expect(!report.nodes.contains { $0.status == .fail }, "\(stencil)")
        }
    }
}

/// `check --fast` on a graph: a few whole-graph passes, elements only where a projection disagrees.
@Suite struct FastGraphTests {
    @Test func theSmallCNNIsCheckedInTwoForwardPasses() throws {
        let (graph, loss) = Examples.smallCNN()
        for leaf in graph.leaves where graph[leaf].name == "x" { graph.setRole(.constant, of: leaf) }
        let report = try GradientCheck.graph(graph, output: loss.id, options: CheckOptions(fast: true))
        #expect(report.passed)
        #expect(report.nodes.allSatisfy { $0.method == .fast }, "\(report.nodes.map { ($0.name, $0.method) })")
        #expect(report.leaves.allSatisfy { $0.method == .fast && $0.status == .pass })
        #expect(report.forwardEvaluations == 2)
    }

    @Test func aWrongRuleFailsAtItsNodeAloneAndIsNamedToTheElement() throws {
        let (g, out, wrong, _, _, _) = wrongSigmoidGraph()
        let report = try GradientCheck.graph(g, output: out.id, options: CheckOptions(fast: true))
        let failed = try #require(report.node(wrong.id))
        #expect(failed.status == .fail && failed.method != .fast)
        #expect(failed.worst != nil)
        #expect(report.nodes.filter { $0.node != wrong.id }.allSatisfy { $0.status == .pass && $0.method == .fast })
    }
}
