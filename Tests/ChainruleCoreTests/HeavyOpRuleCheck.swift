import ChainruleCore
import Testing

/// A small central-difference check of the backward rules of the heavy op
/// families (linear algebra, convolution, pooling, losses, regularization),
/// on their registry samples. The full checker is ChainruleCheck; this one
/// catches a wrong rule where the rule is written.
///
/// For a fixed random projection u of the output, the backward rule gives
/// the gradient of uᵀ·f(x) for every input element; each is compared with
/// (uᵀf(x + h) − uᵀf(x − h)) / 2h.
enum HeavyOpRuleCheck {
    /// The worst disagreement over all elements of all differentiable inputs,
    /// as `|analytic − numeric| / max(1, |numeric|)`.
    static func worstError(_ op: any Operation, _ inputs: [Tensor], h: Double = 1e-6) -> Double {
        let output = op.forward(inputs)
        let projection = Tensor.randn(output.shape, seed: 99)
        let gradients = op.backward(inputs, output: output, gradient: projection)
        func projected(_ x: [Tensor]) -> Double {
            let y = op.forward(x)
            var total = 0.0
            for i in 0..<y.count { total += y.data[i] * projection.data[i] }
            return total
        }
        var worst = 0.0
        for (k, input) in inputs.enumerated() where op.isDifferentiable(input: k) {
            guard let analytic = gradients[k] else { return .infinity }
            #expect(analytic.shape == input.shape, "\(op.name): gradient of input \(k) has shape \(analytic.shape), input \(input.shape)")
            for i in 0..<input.count {
                var plus = inputs, minus = inputs
                plus[k].data[i] += h
                minus[k].data[i] -= h
                let numeric = (projected(plus) - projected(minus)) / (2 * h)
                worst = max(worst, abs(analytic.data[i] - numeric) / max(1, abs(numeric)))
            }
        }
        return worst
    }

    /// Checks every sample of the named op.
    static func checkSamples(of name: String) {
        guard let spec = Registry.spec(named: name) else {
            Issue.record("no op named \(name) in the registry")
            return
        }
        #expect(!spec.samples.isEmpty, "\(name) has no samples")
        for sample in spec.samples {
            let error = worstError(sample.op, sample.inputs)
            #expect(error < 1e-6, "\(name), sample \"\(sample.label)\": backward disagrees with central differences by \(error)")
        }
    }
}
