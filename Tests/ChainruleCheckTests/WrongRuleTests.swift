import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// Every way a rule can be wrong is caught by the node-local check and named — for scalar
/// and tensor outputs — because the checker probes with seeded random cotangents, never all ones.
@Suite struct WrongRuleTests {
    static let a = Tensor([0.7, -1.3, 2.1]), b = Tensor([0.4, 1.9, -0.8])

    /// The inputs whose gradient each fault gets wrong.
    static func wrongInputs(_ fault: RuleFault) -> Set<String> {
        switch fault {
        case .swapsInputs: ["b"]
        case .addsConstant, .wrongShape: ["a"]
        case .ignoresGrad, .squaresGrad, .rightOnlyForOnes: ["a", "b"]
        }
    }

    /// What a check names as wrong: the inputs of its failed probes and of its worst failing element.
    static func named(_ verdict: CheckVerdict) -> Set<String> {
        Set(verdict.probeFailures.map(\.inputName) + (verdict.failedElements > 0 ? [verdict.worst?.inputName].compactMap { $0 } : []))
    }

    @Test func theRightRulePassesForScalarAndTensorOutputs() {
        for scalarOutput in [false, true] {
            let check = GradientCheck.operation(
                FaultyProduct(fault: nil, scalarOutput: scalarOutput), inputs: [Self.a, Self.b], inputNames: ["a", "b"])
            #expect(check.status == .pass)
            #expect(check.probeFailures.isEmpty)
        }
    }

    @Test(arguments: RuleFault.allCases, [false, true])
    func eachWrongRuleFailsItsRuleCheckNamingTheInput(fault: RuleFault, scalarOutput: Bool) {
        let check = GradientCheck.operation(
            FaultyProduct(fault: fault, scalarOutput: scalarOutput), inputs: [Self.a, Self.b], inputNames: ["a", "b"])
        #expect(check.status == .fail)
        let named = Self.named(check.verdict)
        #expect(!named.isEmpty && named.isSubset(of: Self.wrongInputs(fault)), "named \(named)")
    }

    @Test(arguments: RuleFault.allCases, [false, true])
    func eachWrongRuleIsPinnedToItsNodeInAGraph(fault: RuleFault, scalarOutput: Bool) throws {
        let g = Graph()
        let a = g.param("a", Self.a), b = g.param("b", Self.b)
        let f = a.applying(FaultyProduct(fault: fault, scalarOutput: scalarOutput), b).named("f")
        let y = (sum(f) * 3).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        #expect(!report.passed)
        #expect(report.nodes.filter { $0.status == .fail }.map(\.node) == [f.id])
        let node = try #require(report.node(f.id))
        let named = Self.named(node.verdict)
        #expect(!named.isEmpty && named.isSubset(of: Self.wrongInputs(fault)), "named \(named)")
        let text = TerminalReport().render(report)
        #expect(text.contains("✗ FAIL  f (faulty_\(fault.rawValue))"))
    }

    @Test func aWrongShapeIsReportedAndTheEndToEndCheckSaysWhyItDidNotRun() throws {
        let g = Graph()
        let a = g.param("a", Self.a), b = g.param("b", Self.b)
        let f = a.applying(FaultyProduct(fault: .wrongShape, scalarOutput: false), b).named("f")
        let y = sum(f).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        let probe = try #require(report.node(f.id)?.probeFailures.first)
        #expect(probe.probe == .shape)
        #expect(probe.detail == "the gradient for input 0 \"a\" has shape 4 where the input has 3")
        #expect(report.endToEndProblem?.contains("node f (faulty_wrongShape) returns a gradient of shape 4 for input 0, shaped 3") == true)
        #expect(report.leaves.allSatisfy { $0.status == .skipped })
        #expect(!report.passed)
        #expect(TerminalReport().render(report).contains("end-to-end: not run: the backward rule of node f"))
    }

    @Test func theIssuesBadsigFailsAtItsOwnNode() throws {
        let g = Graph()
        let x = g.input("x", Tensor(0.5))
        let s = x.applying(BadSigmoid()).named("s")
        let y = (3 * s).named("y")
        let report = try GradientCheck.graph(g, output: y.id)
        let node = try #require(report.node(s.id))
        #expect(node.status == .fail)
        #expect(node.probeFailures.map(\.probe) == [.linearity, .zeroCotangent])
        #expect(node.worst?.projected == true)
        #expect(report.nodes.filter { $0.status == .fail }.map(\.node) == [s.id])
        let text = TerminalReport().render(report)
        #expect(text.contains("probe linearity: input 0 \"x\" element []: backward(2.5·u) gives"))
        #expect(text.contains("(uᵀJ, u a seeded random cotangent): backward rule"))
    }

    @Test func theCotangentIsNeverAllOnes() {
        // A rule that ignores grad agrees with the Jacobian for the cotangent 1 only.
        let check = GradientCheck.operation(BadSigmoid(), inputs: [Tensor([0.5, -0.2])])
        #expect(check.status == .fail)
        #expect(check.probeFailures.contains { $0.probe == .linearity })
        #expect(check.probeFailures.contains { $0.probe == .zeroCotangent })
    }
}
