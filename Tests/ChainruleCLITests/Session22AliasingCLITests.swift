import Foundation
import Testing

/// Session 22: sin(ωx) at steps spanning many of its periods gives differences that alias and
/// agree by accident; through the built binary, such agreement never convicts a right rule, and a
/// wrong rule still fails where the small steps resolve it.
@Suite("Session 22: aliased finite differences never convict", .serialized)
struct Session22AliasingCLITests {
    static func program(_ omega: String) -> String { "x = [0.3, -0.2]\ny = sum(sin(\(omega) * x) / \(omega))" }

    /// sin(ωx)/ω as a custom op whose backward is `rule`.
    static func customOp(_ omega: String, rule: String) -> String {
        "op wig(x) {\n  forward: sin(\(omega) * x) / \(omega)\n  backward: \(rule)\n}\nx = [0.3, -0.2, 1.7]\ny = sum(wig(x))"
    }

    static let cases: [HostileCase] = [
        // Before: exit 1, "✗ FAIL sin#3 (sin) … finite difference 0.0019510808 …; the finite difference (h = 31) is good to 3.2e-08, so the rule is wrong".
        HostileCase(description: "sum(sin(10000 x) / 10000) under Richardson: passes",
                    arguments: ["check", "-e", program("10000"), "--stencil", "richardson"], expect: .succeeds(prints: "PASSED")),
        // Before: FAIL of the leaf x (end-to-end).
        HostileCase(description: "sum(sin(1e8 x) / 1e8) under Richardson: passes",
                    arguments: ["check", "-e", program("1e8"), "--stencil", "richardson"], expect: .succeeds(prints: "PASSED")),
        HostileCase(description: "sum(sin(1e8 x) / 1e8) under five-point: passes",
                    arguments: ["check", "-e", program("1e8"), "--stencil", "five-point"], expect: .succeeds(prints: "PASSED")),
        HostileCase(description: "sum(sin(1e10 x) / 1e10) under Richardson: inconclusive, it oscillates faster than the step",
                    arguments: ["check", "-e", program("1e10"), "--stencil", "richardson"],
                    expect: .succeeds(prints: "inconclusive (oscillates faster than the step")),
        HostileCase(description: "a custom sin(1e8 x) rule 2% too large under Richardson: fails",
                    arguments: ["check", "-e", customOp("1e8", rule: "grad * cos(1e8 * x) * 1.02"), "--stencil", "richardson"],
                    expect: HostileExpectation(exits: [1], prints: "so the rule is wrong")),
        HostileCase(description: "a custom sin(1e6 x) rule of the wrong sign under five-point: fails",
                    arguments: ["check", "-e", customOp("1e6", rule: "-grad * cos(1e6 * x)"), "--stencil", "five-point"],
                    expect: HostileExpectation(exits: [1], prints: "so the rule is wrong")),
    ]

    @Test("aliased differences never convict a right rule; a wrong one still fails", arguments: cases)
    func check(_ hostile: HostileCase) throws { try hostile.expectHandled() }
}
