@testable import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// softplus(k·x) = log(1 + e^(kx)), which bends over a length 1/k around 0; its rule is right
/// when `slip` is 0 and `(1 + slip)` times too large otherwise.
struct SteepSoftplus: ChainruleCore.Operation {
    var k: Double
    var slip = 0.0
    var name: String { "steep_softplus" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor {
        inputs[0].map { x in Swift.max(k * x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(k * x))) }
    }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * k / (1 + Foundation.exp(-k * x)) * (1 + slip) }]
    }
}

/// x^p, whose curvature near x = 0 grows without bound for p = −1 and p = ½; rule scaled by 1 + slip.
struct Power: ChainruleCore.Operation {
    var p: Double
    var slip = 0.0
    var name: String { "power" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Foundation.pow($0, p) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * p * Foundation.pow(x, p - 1) * (1 + slip) }]
    }
}

/// log x, rule scaled by 1 + slip.
struct Logarithm: ChainruleCore.Operation {
    var slip = 0.0
    var name: String { "logarithm" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Foundation.log($0) } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g / x * (1 + slip) }]
    }
}

/// `batch_norm` with its variance gradient scaled by 1 + slip.
struct SlippedVarianceBatchNorm: ChainruleCore.Operation {
    var slip: Double
    let norm = try! BatchNorm()
    var name: String { "slipped_batch_norm" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try norm.outputShape(shapes) }
    func forward(_ inputs: [Tensor]) -> Tensor { norm.forward(inputs) }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        var gradients = norm.backward(inputs, output: output, gradient: gradient)
        gradients[4] = gradients[4]!.map { $0 * (1 + slip) }
        return gradients
    }
}

/// Session 22: the checker never passes a wrong rule, never fails a right one on its own
/// unreliable differences, and says when the input itself is bad.
@Suite struct Session22CheckerTests {
    /// x (3 × 2), scale, bias, mean, and variances of 0 (a constant channel's): with eps = 1e-5
    /// the output bends in var over a length ~1e-5, ten times the central difference's step.
    static let zeroVarianceInputs = [
        Tensor(shape: [3, 2], data: [1, 2, 1, 5, 1, -3]), Tensor([1.5, 0.5]), Tensor([0.1, 0.2]), Tensor([0.2, 0.3]),
        Tensor([0, 0]),
    ]

    // MARK: Curvature below the step: shrink until the estimates converge

    /// Before: the central difference left the variance elements inconclusive ("huge curvature").
    @Test(arguments: Stencil.allCases)
    func aZeroVarianceChannelPassesAndAWrongVarianceRuleThereFails(stencil: Stencil) throws {
        let options = CheckOptions(stencil: stencil)
        let right = GradientCheck.operation(try BatchNorm(), inputs: Self.zeroVarianceInputs, options: options)
        #expect(right.status == .pass, "\(TerminalReport().render(right))")
        let wrong = GradientCheck.operation(SlippedVarianceBatchNorm(slip: 0.02), inputs: Self.zeroVarianceInputs, options: options)
        #expect(wrong.status == .fail)
        #expect(wrong.worst?.input == 4)
    }

    /// Before: Richardson's widest steps (0.125 … 0.004) lay beyond softplus(1000x)'s bend, its
    /// neighbours agreed with each other and it convicted the right rule (525 against 500.8,
    /// "good to 4.0e-01, so the rule is wrong").
    @Test(arguments: Stencil.allCases)
    func aSteepSoftplusIsNotConvictedAndAWrongOneIs(stencil: Stencil) {
        let x = [Tensor([1e-4, -2e-4, 3e-4])]
        let options = CheckOptions(stencil: stencil)
        let right = GradientCheck.operation(SteepSoftplus(k: 1000), inputs: x, options: options)
        #expect(right.status == .pass, "\(TerminalReport().render(right))")
        #expect(GradientCheck.operation(SteepSoftplus(k: 1000, slip: 0.02), inputs: x, options: options).status == .fail)
    }

    /// Other members of the class: 1/x, √x and log x close to 0, under every stencil and with
    /// `--eps auto`: the right rule is never convicted, a rule 2% off always is.
    @Test(arguments: [
        (name: "1/x at 1e-4", op: Power(p: -1) as any ChainruleCore.Operation, wrong: Power(p: -1, slip: 0.02) as any ChainruleCore.Operation, x: 1e-4),
        (name: "sqrt at 1e-5", op: Power(p: 0.5), wrong: Power(p: 0.5, slip: 0.02), x: 1e-5),
        (name: "log at 1e-5", op: Logarithm(), wrong: Logarithm(slip: 0.02), x: 1e-5),
        (name: "softplus(1e4 x) at 1e-5", op: SteepSoftplus(k: 1e4), wrong: SteepSoftplus(k: 1e4, slip: 0.02), x: 1e-5),
    ])
    func highCurvatureNearZero(name: String, op: any ChainruleCore.Operation, wrong: any ChainruleCore.Operation, x: Double) {
        for stencil in Stencil.allCases {
            for autoStep in [false, true] {
                let options = CheckOptions(autoStep: autoStep, stencil: stencil)
                let right = GradientCheck.operation(op, inputs: [Tensor([x])], options: options)
                #expect(right.status != .fail, "\(name), \(stencil), auto \(autoStep): \(TerminalReport().render(right))")
                let convicted = GradientCheck.operation(wrong, inputs: [Tensor([x])], options: options)
                #expect(convicted.status == .fail, "\(name), \(stencil), auto \(autoStep): \(TerminalReport().render(convicted))")
            }
        }
    }

    /// Richardson's tableau over a series whose neighbours disagree more as the step shrinks
    /// (softplus(1000x)'s central differences at 0.125 … 0.004, 500 + 0.05/h) gives no finite
    /// error: before, the first pair's disagreement, 0.4, was taken for the error of a value 24 off.
    @Test func aTableauWhoseColumnsDivergeHasNoFiniteError() {
        let steps = (0..<6).map { 0.125 / Double(1 << $0) }
        let divergent = FiniteDifference.extrapolate(
            series: steps.map { 500 + 0.05 / $0 }, steps: steps, rounding: steps.map { _ in 1e-12 }, order: 2)
        #expect(divergent.error == .infinity)
        // A converging series (D(h) = 2 + h²) keeps a finite, small error.
        let converging = FiniteDifference.extrapolate(
            series: steps.map { 2 + $0 * $0 }, steps: steps, rounding: steps.map { _ in 1e-15 }, order: 2)
        #expect(abs(converging.value - 2) < 1e-12)
        #expect((converging.error ?? .infinity) < 1e-10)
    }

    // MARK: Steps that cannot resolve an input

    @Test func aStepBelowTheInputsResolutionOrTooWideIsNamed() {
        #expect(CheckOptions(step: 1e-17).stepProblem(at: 1)?.problem == .belowResolution)
        #expect(CheckOptions(step: 1e-16).stepProblem(at: 1)?.problem == .belowResolution)
        #expect(CheckOptions(step: 3e-16).stepProblem(at: 1) == nil)
        #expect(CheckOptions(step: 3e-16).stepProblem(at: 4)?.problem == .belowResolution)
        // Near 0 the floor is that of 1: 1e-17 at x = 0 resolves x, not f's rounding there.
        #expect(CheckOptions(step: 1e-17).stepProblem(at: 0)?.problem == .belowResolution)
        #expect(CheckOptions(step: 1e-15).stepProblem(at: 0.25) == nil)
        #expect(CheckOptions(step: .leastNonzeroMagnitude * 2000).stepProblem(at: 0)?.problem == .belowResolution)
        #expect(CheckOptions(step: 1e-300).stepProblem(at: 0)?.problem == .belowResolution)
        #expect(CheckOptions(step: 1e-6).stepProblem(at: 1e11)?.problem == .belowResolution)
        #expect(CheckOptions(step: 1e10).stepProblem(at: 1.3)?.problem == .tooWide)
        #expect(CheckOptions(step: 1e10).stepProblem(at: 1e12) == nil)
        #expect(CheckOptions(step: 2, stencil: .richardson).stepProblem(at: 5)?.problem == .tooWide)
        // The defaults (and --eps auto) are never refused: at |x| = 1e11, 1e-6 becomes one ulp of x.
        #expect(CheckOptions().stepProblem(at: 1e11) == nil)
        #expect(CheckOptions(step: 1e-17, autoStep: true).stepProblem(at: 1) == nil)
    }

    /// Before: every element's x ± h was x (or its one-ulp stand-in) and y = x·x at 1 passed with "max rel 0".
    @Test(arguments: [1e-17, 1e-300, Double.leastNonzeroMagnitude * 2000, 1e10])
    func aStepThatResolvesNothingIsRefusedNotPassed(step: Double) throws {
        let g = Graph()
        let x = g.input("x", Tensor([1, -1.5]))
        let y = sum(tanh(x) * x).named("y")
        let options = CheckOptions(step: step)
        let refusal = try #require(try GradientCheck.refusal(g, output: y.id, options: options))
        guard case .unresolvedStep(let unresolved) = refusal else { Issue.record("\(refusal)"); return }
        #expect(unresolved.name == "x" && unresolved.index == [0] && unresolved.value == 1)
        #expect(refusal.description.contains("h = \(shortNumber(step))"))
        let report = try GradientCheck.graph(g, output: y.id, options: options)
        #expect(report.passed && report.hasInconclusive)
        #expect(report.leaves.allSatisfy { $0.status == .inconclusive })
        #expect(report.nodes.allSatisfy { $0.status == .inconclusive })
    }

    /// Before: 3e-16 at x = 4 took a one-ulp step there and passed the element with "max rel 0".
    @Test func aStepThatResolvesSomeElementsLeavesTheOthersInconclusive() throws {
        let g = Graph()
        let x = g.input("x", Tensor([4, 1]))
        let y = sum(x * x).named("y")
        let options = CheckOptions(step: 3e-16)
        #expect(try GradientCheck.refusal(g, output: y.id, options: options) == nil)
        for fast in [false, true] {
            var o = options
            o.fast = fast
            let report = try GradientCheck.graph(g, output: y.id, options: o)
            let leaf = try #require(report.leaf(x.id))
            #expect(leaf.status == .inconclusive)
            // x = 4 is not evaluated; x = 1 is, and its difference is noise at this step.
            let reasons = Dictionary(uniqueKeysWithValues: leaf.inconclusive.map { ($0.index, $0.inconclusive) })
            #expect(reasons[[0]] == .stepBelowResolution)
            #expect(reasons[[1]] != .stepBelowResolution)
            #expect(TerminalReport().render(report).contains("no finite difference at h = 3e-16"))
        }
    }

    // MARK: NaN and infinity are bad input

    @Test func aNonFiniteLeafOrForwardValueIsARefusalNamingItsNode() throws {
        let g = Graph()
        let x = g.input("x", Tensor([1, .nan]))
        let y = sum(x * x).named("y")
        let refusal = try #require(try GradientCheck.refusal(g, output: y.id, options: CheckOptions()))
        guard case .nonFinite(let bad) = refusal else { Issue.record("\(refusal)"); return }
        #expect(bad.node == x.id && bad.index == [1])
        #expect(refusal.description.hasPrefix("leaf x holds NaN at element [1]: finite differences need finite values"))

        let h = Graph()
        let z = h.input("z", Tensor([1, 1000]))
        let e = exp(z).named("e")
        let s = sum(e).named("s")
        let overflow = try #require(try GradientCheck.refusal(h, output: s.id, options: CheckOptions()))
        #expect(overflow.description.hasPrefix("node e (exp) produced inf at element [1]"))
        // A finite graph is not refused.
        let k = Graph()
        let w = k.input("w", Tensor([1, 2]))
        #expect(try GradientCheck.refusal(k, output: sum(w * w).id, options: CheckOptions()) == nil)
    }
}
