import Foundation
import Testing

/// Session 22's checker fixes, through the built binary: a NaN or an infinity at the check
/// point, and a step that resolves nothing, are bad input (exit 2, named); a function that
/// curves on a scale below the step is not a failure.
@Suite("Session 22: the checker's bad input and its unreliable differences", .serialized)
struct Session22CheckCLITests {
    static let tanhProduct = "x = 1.3\ny = 0.7\nf = tanh(x * y) + x * y\n"

    /// A float64 `.npy` vector.
    static func npy(_ values: [Double]) -> Data {
        let data = values.reduce(into: Data()) { bytes, value in withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Hostile.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (\(values.count),), }", data: data)
    }

    static let cases: [HostileCase] = [
        // Before: exit 1, "FAILED: leaf x at p.grad:1:1 holds NaN at element [1]".
        HostileCase(description: "check of data holding NaN: exit 2 naming the leaf and element",
                    arguments: ["check", "p.grad"],
                    inputs: ["p.grad": .text("x = load(\"x.npy\")\ny = sum(x * x)\n"), "x.npy": .file(npy([1, .nan, 2]))],
                    expect: .refuses("error: cannot check: leaf x (p.grad:1:1) holds NaN at element [1]: finite differences need finite values")),
        // Before: exit 1, "FAILED: node y (exp) at p.grad:2:5 produced inf at element []".
        HostileCase(description: "check where exp(1000) overflows: exit 2 naming the op node",
                    arguments: ["check", "-e", "x = 1000\ny = exp(x)"],
                    expect: .refuses("error: cannot check: node y (exp) (<expression>:2:5) produced inf at element []")),
        HostileCase(description: "check where an overflow starts mid-graph: exit 2 at the first node",
                    arguments: ["check", "-e", "x = const([1, 2])\nw = [1e308, 2]\ny = sum(x * w * w)"],
                    expect: .refuses("node mul#3 (mul) (<expression>:3:15) produced inf at element [0]")),
        // Before: exit 0, "max rel 0" (x ± h was x, or its one-ulp stand-in).
        HostileCase(description: "check --eps 1e-17 at x ≈ 1: exit 2 naming the step and the value",
                    arguments: ["check", "-e", tanhProduct, "--eps", "1e-17"],
                    expect: .refuses("error: --eps 1e-17: the step h = 1e-17 cannot resolve x = 1.3: x ± h rounds to x")),
        HostileCase(description: "check --eps 1e-320 (subnormal): exit 2",
                    arguments: ["check", "-e", tanhProduct, "--eps", "1e-320"],
                    expect: .refuses("is below 1.002084e-292: x ± h and f's changes are subnormal numbers")),
        HostileCase(description: "check --eps 1e-300: exit 2",
                    arguments: ["check", "-e", tanhProduct, "--eps", "1e-300"],
                    expect: .refuses("error: --eps 1e-300: the step h = 1e-300 is below")),
        // Before: exit 1, "the finite difference (h = 10000000000) is good to 1.1e-10, so the rule is wrong".
        HostileCase(description: "check --eps 1e10: exit 2, the step jumps across the function",
                    arguments: ["check", "-e", tanhProduct, "--eps", "1e10"],
                    expect: .refuses("the step h = 1e10 is wider than max(1, |x|) = 1.3 at x = 1.3")),
        // Before: exit 0 with the element at y = 5 judged from a one-ulp step.
        HostileCase(description: "check --eps 3e-16 resolves x = 1.3 but not y = 5: y inconclusive, named",
                    arguments: ["check", "-e", "x = 1.3\ny = 5\nf = tanh(x * y) + x * y", "--eps", "3e-16"],
                    expect: .succeeds(prints: "leaf 1 \"y\" element [] inconclusive (the step cannot resolve this element: x ± h rounds to x (at the resolution of max(1, |x|)), or h is subnormal): backward rule 1.3000118, no finite difference at h = 3e-16")),
        HostileCase(description: "check --eps 1e-17 at x = 0: exit 2, the step is below 1's resolution",
                    arguments: ["check", "-e", "x = 0\ny = tanh(x) + x", "--eps", "1e-17"],
                    expect: .refuses("cannot resolve x = 0: x ± h rounds to x at the resolution of 1")),
        // Before: exit 1, "finite difference 500.8 … good to 4.0e-01, so the rule is wrong".
        HostileCase(description: "check --stencil richardson of softplus(1000x) at 1e-4: passes",
                    arguments: ["check", "-e", "x = 0.0001\ny = softplus(1000 * x)", "--stencil", "richardson"],
                    expect: .succeeds(prints: "PASSED")),
        // Before: exit 0 but INCONCLUSIVE ("huge curvature") at the zero variance.
        HostileCase(description: "check of batch_norm with a zero variance: passes",
                    arguments: ["check", "-e", "x = [[1, 2], [1, 5], [1, -3]]\nv = [0, 2]\ny = batch_norm(x, [1.5, 0.5], [0.1, 0.2], [0.2, 0.3], v)\ns = sum(y * [[1, 2], [3, 4], [5, 6]])"],
                    expect: .succeeds(prints: "PASSED")),
    ]

    @Test("bad input at the check point is exit 2; curvature below the step is not a failure", arguments: cases)
    func check(_ hostile: HostileCase) throws { try hostile.expectHandled() }
}
