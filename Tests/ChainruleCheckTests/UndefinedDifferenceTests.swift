import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// exp whose backward rule forgets everything: wrong everywhere.
private struct ExpWithZeroRule: ChainruleCore.Operation {
    var name: String { "exp_zero_rule" }
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] { inputShapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Double.exp($0) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] { [gradient.map { _ in 0 }] }
}

/// sqrt with its right rule 1/(2√x).
private struct RightSqrt: ChainruleCore.Operation {
    var name: String { "right_sqrt" }
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] { inputShapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { $0.squareRoot() } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(output) { g, y in g / (2 * y) }]
    }
}

/// A finite difference that is NaN or infinite proves nothing: it neither passes a rule
/// (its tolerance atol + rtol·|n| would be infinite) nor fails one.
@Suite struct UndefinedDifferenceTests {
    @Test(arguments: [Stencil.central, .fivePoint, .richardson])
    func aWrongRuleIsNeverPassedWhereTheDifferenceOverflows(stencil: Stencil) {
        // exp(709.78271289) is finite; exp(709.78271289 + h) is not.
        var options = CheckOptions()
        options.stencil = stencil
        let check = GradientCheck.operation(ExpWithZeroRule(), inputs: [Tensor([709.78271289])], options: options)
        #expect(check.status != .pass)
        #expect(check.status == .inconclusive || check.status == .fail)
    }

    @Test func aWrongRuleBesideTheOverflowStillFailsOnTheOtherElements() {
        let check = GradientCheck.operation(ExpWithZeroRule(), inputs: [Tensor([709.78271289, 1])])
        #expect(check.status == .fail)
        #expect(check.worst?.index == [1])
    }

    @Test func aRightRuleIsNotFailedAtTheEdgeOfItsDomain() {
        // x − h < 0: sqrt is NaN there.
        let check = GradientCheck.operation(RightSqrt(), inputs: [Tensor([1e-300, 4])])
        #expect(check.status != .fail)
        // The Jacobian entry and the uᵀJ probe of element 0, never element 1.
        #expect(!check.inconclusive.isEmpty)
        #expect(check.inconclusive.allSatisfy { $0.inconclusive == .undefined && $0.index == [0] }, "\(check.inconclusive)")
    }

    @Test func theToleranceNeverAcceptsANonFiniteNumber() {
        let options = CheckOptions()
        #expect(!options.accepts(analytic: 0, numeric: .infinity))
        #expect(!options.accepts(analytic: .infinity, numeric: .infinity))
        #expect(!options.accepts(analytic: .nan, numeric: 1))
        #expect(options.accepts(analytic: 1, numeric: 1))
    }
}
