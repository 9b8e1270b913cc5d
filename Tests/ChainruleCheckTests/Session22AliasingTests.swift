@testable import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// sin(ωx)/ω with its rule scaled by `1 + slip` (−1: the wrong sign).
struct SlippedWiggle: ChainruleCore.Operation {
    var omega: Double
    var slip: Double
    var name: String { "slipped_wiggle" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { shapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { Double.sin(omega * $0) / omega } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(inputs[0]) { g, x in g * Double.cos(omega * x) * (1 + slip) }]
    }
}

/// Session 22: a function oscillating faster than the step (sin(ωx) at steps spanning many
/// periods) gives differences that alias and agree by accident; such coarse agreement never
/// convicts a right rule, and a wrong rule still fails where the small steps resolve it.
@Suite struct Session22AliasingTests {
    static let omegas = [1e4, 1e6, 1e8, 1e10]
    static let points = Tensor([0.3, -0.2, 1.7, -2.9])
    static let stencils: [(name: String, options: CheckOptions)] = [
        ("central", CheckOptions()), ("five-point", CheckOptions(stencil: .fivePoint)),
        ("richardson", CheckOptions(stencil: .richardson)), ("auto step", CheckOptions(autoStep: true)),
        ("richardson, auto step", CheckOptions(autoStep: true, stencil: .richardson)),
    ]

    /// y = sum(sin(ω·x)/ω) built from the language's ops: the node-local check sees sin at ωx.
    static func composed(_ omega: Double, at x: Tensor) -> (Graph, NodeID) {
        let g = Graph()
        let v = g.param("x", x)
        return (g, sum(sin(v * omega) / omega).id)
    }

    static func status(_ report: CheckReport) -> [CheckStatus] { report.nodes.map(\.status) + report.leaves.map(\.status) }

    @Test(arguments: omegas)
    func aRightRuleOscillatingFasterThanTheStepNeverFails(omega: Double) throws {
        for (name, options) in Self.stencils {
            let op = GradientCheck.operation(Wiggle(omega: omega), inputs: [Self.points], options: options)
            #expect(op.status != .fail, "operation, \(name), ω = \(omega): \(op)")
            let (g, y) = Self.composed(omega, at: Self.points)
            let report = try GradientCheck.graph(g, output: y, options: options)
            #expect(!Self.status(report).contains(.fail), "graph, \(name), ω = \(omega): \(TerminalReport().render(report))")
            let wiggle = Graph()
            let w = wiggle.build(Wiggle(omega: omega), [wiggle.param("x", Self.points)])
            let direct = try GradientCheck.graph(wiggle, output: sum(w).id, options: options)
            #expect(!Self.status(direct).contains(.fail), "wiggle graph, \(name), ω = \(omega)")
        }
    }

    /// sin itself at arguments far from 0, where Richardson's relative step spans many periods.
    @Test func sinAtLargeArgumentsIsNeverConvicted() throws {
        let x = Tensor([-2000, 3000.7, 1e6 + 0.1, 3e9 + 0.2])
        for (name, options) in Self.stencils {
            let op = GradientCheck.operation(try #require(try Registry.spec(named: "sin")?.build(OpArguments())), inputs: [x], options: options)
            #expect(op.status != .fail, "sin, \(name): \(op)")
        }
    }

    @Test(arguments: omegas)
    func aWrongRuleStillFailsWhereTheStepsResolveIt(omega: Double) throws {
        for slip in [0.02, -2.0] {
            for (name, options) in Self.stencils {
                let op = GradientCheck.operation(SlippedWiggle(omega: omega, slip: slip), inputs: [Self.points], options: options)
                // Never a pass; a failure wherever the small steps resolve f (not at ω = 1e10, where
                // x's own rounding in ωx swamps every step that would).
                #expect(op.status != .pass, "operation, \(name), ω = \(omega), slip \(slip)")
                if omega <= 1e8 { #expect(op.status == .fail, "operation, \(name), ω = \(omega), slip \(slip): \(op)") }
                let g = Graph()
                let w = g.build(SlippedWiggle(omega: omega, slip: slip), [g.param("x", Self.points)])
                let report = try GradientCheck.graph(g, output: sum(w).id, options: options)
                #expect(!report.passed || report.hasInconclusive, "graph, \(name), ω = \(omega), slip \(slip)")
                if omega <= 1e8 {
                    #expect(report.leaves.allSatisfy { $0.status == .fail }, "leaf, \(name), ω = \(omega), slip \(slip)")
                    #expect(report.nodes.allSatisfy { $0.op != "slipped_wiggle" || $0.status == .fail }, "node, \(name), ω = \(omega)")
                }
            }
        }
    }

    /// A sampled input also gets `uᵀJv` over all its elements, which convicts on its own: that
    /// projection, taken along v at a step spanning many periods, is confirmed at small steps too.
    @Test func aSampledInputsProjectionNeverConvictsARightRule() throws {
        let x = Tensor((0..<40).map { 3 * Foundation.sin(Double($0) * 1.7) })
        for options in [CheckOptions(stencil: .richardson, sample: 5), CheckOptions(stencil: .fivePoint, sample: 5),
                        CheckOptions(fast: true, sample: 5)] {
            for omega in [1e4, 1e8] {
                let (g, y) = Self.composed(omega, at: x)
                var endToEnd = options
                endToEnd.nodeLocal = false
                let report = try GradientCheck.graph(g, output: y, options: endToEnd)
                #expect(!Self.status(report).contains(.fail), "\(options.stencil), fast \(options.fast), ω = \(omega): \(TerminalReport().render(report))")
            }
            // A rule wrong by 2% at every element still fails.
            let wrong = Graph()
            let w = wrong.build(SlippedWiggle(omega: 1e4, slip: 0.02), [wrong.param("x", x)])
            #expect(try GradientCheck.graph(wrong, output: sum(w).id, options: options).leaves.allSatisfy { $0.status == .fail })
        }
    }

    /// The brief's example: sum(sin(10000 x) / 10000) under Richardson convicted sin#3 at −2000.
    @Test func theReportedExamplePasses() throws {
        let (g, y) = Self.composed(1e4, at: Tensor([0.3, -0.2]))
        let report = try GradientCheck.graph(g, output: y, options: CheckOptions(stencil: .richardson))
        #expect(report.passed, "\(TerminalReport().render(report))")
        #expect(!report.hasInconclusive)
    }
}
