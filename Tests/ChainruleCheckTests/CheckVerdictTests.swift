import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// At a kink the rule's value must be a subgradient: between the one-sided derivatives.
@Suite struct KinkVerdictTests {
    @Test func aRuleValueBetweenTheOneSidedDerivativesIsAKink() {
        let check = GradientCheck.operation(ReluWithSlopeAtZero(slopeAtZero: 0.5), inputs: [Tensor([-1, 0, 2])])
        #expect(check.status == .kink)
        #expect(check.kinks.map(\.index) == [[1]])
    }

    @Test(arguments: Stencil.allCases)
    func aRuleValueOutsideTheOneSidedDerivativesFailsTheRuleCheck(stencil: Stencil) throws {
        let check = GradientCheck.operation(
            ReluWithSlopeAtZero(slopeAtZero: 42), inputs: [Tensor([-1, 0, 2])], options: CheckOptions(stencil: stencil))
        #expect(check.status == .fail)
        let worst = try #require(check.worst)
        #expect(worst.atKink)
        #expect(worst.index == [1])
        #expect(worst.analytic == 42)
        #expect(check.kinkCount == 0)
        let text = TerminalReport().render(check)
        #expect(text.contains("element [1] → output [1] at a kink, but the rule's value 42 is outside [0, 1]"))
    }

    @Test func aRuleValueOutsideTheOneSidedDerivativesFailsNodeAndLeaf() throws {
        let g = Graph()
        let x = g.input("x", Tensor([-1, 0, 2]))
        let r = x.applying(ReluWithSlopeAtZero(slopeAtZero: 42)).named("r")
        let y = (r * 3).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        #expect(!report.passed)
        #expect(report.node(r.id)?.status == .fail)
        #expect(report.node(r.id)?.worst?.index == [1])
        let leaf = try #require(report.leaf(x.id))
        #expect(leaf.status == .fail)
        #expect(leaf.worst?.atKink == true)
        #expect(leaf.worst?.analytic == 126)
        #expect(TerminalReport().render(report).contains("at a kink, but the rule's value 126 is outside [0, 3]"))
    }
}

@Suite struct NonFiniteVerdictTests {
    @Test func theSummaryLeadsWithTheNaN() throws {
        let g = Graph()
        let x = g.input("x", Tensor([-1]))
        let y = log(x).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        let summary = try #require(TerminalReport().render(report).split(separator: "\n").last)
        #expect(summary.hasPrefix("FAILED: node y (log) produced NaN at element [0]; 1 node and 1 leaf not checked"))
    }

    @Test func aRuleGivingInfinityWhereTheDifferenceIsNaNIsInconclusiveNotWrong() throws {
        // sqrt at 0: x − h leaves the domain, and the one-sided secants from x + h grow as the step
        // shrinks (the derivative is +∞); nothing can convict the rule.
        let g = Graph()
        let x = g.input("x", Tensor(0))
        let y = sqrt(x).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        let node = try #require(report.node(y.id))
        #expect(node.status == .inconclusive)
        #expect(node.probeFailures.isEmpty)
        let entry = try #require(node.inconclusive.first)
        #expect(entry.analytic == .infinity)
        #expect(entry.numeric > 1e3 && entry.oneSided == true)
        #expect(entry.errorEstimate.map { $0 > 1e2 } == true)
        #expect(entry.undefinedStep == .minus)
        #expect(entry.inconclusive == .undefined)
        let text = TerminalReport().render(report)
        #expect(text.contains("inconclusive (the finite difference is not a finite number: a step leaves the function's domain or overflows, and no one-sided difference converged)"))
        #expect(text.contains("(one-sided, from x + h: x − h leaves the domain)"))
    }
}

@Suite struct ReportWordingTests {
    @Test func theHeaderGivesStencilStepAndTolerances() throws {
        let (g, f) = Examples.cs231nCircuit()
        let report = try GradientCheck.graph(g, output: f.id, options: CheckOptions(sample: 3))
        let header = try #require(TerminalReport().render(report).split(separator: "\n").first)
        #expect(header == "central difference, h = 1e-6 · pass when |a − n| ≤ 1e-5 + 1e-3·|n| · 3 random elements of every leaf and op input with more than 3")
        let fivePoint = CheckOptions(stencil: .fivePoint, absoluteTolerance: 1e-9, relativeTolerance: 2.5e-7)
        #expect(fivePoint.summary == "five-point stencil, h = 1e-3 · pass when |a − n| ≤ 1e-9 + 2.5e-7·|n|")
    }

    @Test func aPassingGraphCountsNodesAndLeavesWithPlurals() throws {
        let (g, f) = Examples.cs231nCircuit()
        let report = try GradientCheck.graph(g, output: f.id)
        let summary = try #require(TerminalReport().render(report).split(separator: "\n").last)
        #expect(summary.hasPrefix("PASSED: 2 nodes and 3 leaves · "))
    }

    @Test func aFailingGraphCountsWhatFailedOutOfWhatWasChecked() throws {
        let g = Graph()
        let x = g.input("x", Tensor([0.4, -1.1]))
        let y = sum(x.applying(WrongSigmoid())).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        let summary = try #require(TerminalReport().render(report).split(separator: "\n").last)
        #expect(summary.hasPrefix("FAILED: 1 of 2 nodes, 1 of 1 leaf · "))
    }

    @Test func fastModeSaysTheProjectionAgreedWithoutAZeroCount() throws {
        let (g, f) = Examples.cs231nCircuit()
        let report = try GradientCheck.graph(g, output: f.id, options: CheckOptions(fast: true))
        let text = TerminalReport().render(report)
        #expect(text.contains("uᵀJv agreed ("))
        #expect(!text.contains("0 compared"))
    }
}

@Suite struct ReportJSONTests {
    @Test func theJSONSaysWhetherItPassedTheOutputAndTheStepUsedAndRoundTrips() throws {
        let (g, out, wrong, _, _, _) = wrongSigmoidGraph()
        var report = try GradientCheck.graph(g, output: out.id)
        report.notes = ["checked on purpose"]
        let data = try report.jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect(object["outputName"] as? String == "out")
        #expect(object["notes"] as? [String] == ["checked on purpose"])
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["step"] as? Double == 1e-6)
        let decoded = try JSONDecoder.checkReports.decode(CheckReport.self, from: data)
        #expect(decoded.notes == report.notes)
        #expect(decoded.outputName == "out")
        #expect(decoded.node(wrong.id) == report.node(wrong.id))
        #expect(decoded.nodes == report.nodes)
        #expect(decoded.leaves == report.leaves)
        #expect(!decoded.passed)
    }

    @Test func aFailingRuleReportSaysSoAtTheTop() throws {
        let report = GradientCheck.rules(ops: [bareSigmoidSpec])
        let object = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
    }
}
