@testable import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// The default step at large values: where rounding noise swamps the difference of the fixed
/// 1e-6 (x·x at 3e7, any f past 1e10 where 1e-6 is below one ulp of x), the element is measured
/// again at the step `--eps auto` would take there. Before: inconclusive, whether the rule was
/// right or wrong.
@Suite("Session 25: the default step re-chosen against rounding noise")
struct Session25StepTests {
    static let large = Tensor([3e7, -5e11, 1e13, 0.5])

    @Test("x² at large x: the right rule passes, a rule 1% off fails at a large element, with the default step", arguments: [Stencil.central, .fivePoint])
    func largeValuesAreJudged(stencil: Stencil) throws {
        let options = CheckOptions(stencil: stencil)
        let right = GradientCheck.operation(Power(p: 2), inputs: [Self.large], options: options)
        #expect(right.verdict.status == .pass, "\(right)")
        let rechosen = try #require(right.verdict.rechosenSteps)
        #expect(rechosen.elements >= 2)
        #expect(rechosen.range.largest > 1e5, "the step grows with |x|: \(rechosen.range)")

        let wrong = GradientCheck.operation(Power(p: 2, slip: 0.01), inputs: [Self.large], options: options)
        #expect(wrong.verdict.status == .fail)
        let worst = try #require(wrong.verdict.worst)
        #expect(abs(Self.large.data[try #require(worst.index.first)]) >= 3e7, "convicted at a large element: \(worst.index)")
    }

    @Test("A step the user gives is kept: at --eps 1e-6 the same right rule stays inconclusive, as every rule was before at the default")
    func aGivenStepIsKept() {
        let given = GradientCheck.operation(Power(p: 2), inputs: [Self.large], options: CheckOptions(step: 1e-6))
        #expect(given.verdict.status == .inconclusive)
        #expect(given.verdict.rechosenSteps == nil)
    }

    @Test("The summary says how many elements were measured again and at which steps")
    func theSummarySaysSo() throws {
        let g = Graph()
        let x = g.input("x", Tensor([1e11]))
        let y = (x * x).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions())
        #expect(report.passed && !report.hasInconclusive)
        let last = try #require(TerminalReport().render(report).split(separator: "\n").last)
        #expect(last.contains("elements measured again at a step balancing rounding (h from "), "\(last)")
        #expect(!last.contains("2000000000"), "large steps in two digits: \(last)")
    }
}
