import ChainruleCore
import Testing

/// A quick finite-difference check of the simple op families' backward
/// rules on their registry samples (the full checker is ChainruleCheck).
///
/// For a random projection u of the output, the backward rule's ∂⟨u, f⟩/∂xⱼ
/// must match the centred difference (⟨u, f(x + h·eⱼ)⟩ − ⟨u, f(x − h·eⱼ)⟩) / 2h,
/// with 2h the step the rounded x ± h really spans.
@Suite struct RuleSanityTests {
    static let families: Set<String> = ["elementwise", "activations", "reductions", "shape"]
    static let opNames = Registry.specs.filter { families.contains($0.family) }.map(\.name)

    static func projection(_ op: any Operation, _ inputs: [Tensor], _ u: Tensor) -> Double {
        zip(op.forward(inputs).data, u.data).reduce(0) { $0 + $1.0 * $1.1 }
    }

    @Test(arguments: opNames)
    func backwardMatchesCentredDifferences(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        let h = 1e-6
        for sample in spec.samples {
            let op = sample.op, x = sample.inputs
            let output = op.forward(x)
            let u = Tensor.uniform(output.shape, low: -1, high: 1, seed: 99)
            let analytic = op.backward(x, output: output, gradient: u)
            for input in x.indices where op.isDifferentiable(input: input) {
                let gradient = try #require(analytic[input])
                for j in 0..<x[input].count {
                    var plus = x, minus = x
                    plus[input].data[j] += h
                    minus[input].data[j] -= h
                    // The step actually taken: x ± h rounds when |x| is large (logits of 1000).
                    let step = plus[input].data[j] - minus[input].data[j]
                    #expect(op.branches(plus) == op.branches(minus),
                            "\(name) '\(sample.label)': input \(input) element \(j) sits at a kink")
                    let numeric = (Self.projection(op, plus, u) - Self.projection(op, minus, u)) / step
                    let error = Swift.abs(gradient.data[j] - numeric)
                    #expect(error <= 1e-7 + 1e-6 * Swift.abs(numeric),
                            "\(name) '\(sample.label)': input \(input) element \(j): backward \(gradient.data[j]), numeric \(numeric)")
                }
            }
        }
    }
}
