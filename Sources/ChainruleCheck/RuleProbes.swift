import ChainruleCore

/// What PyTorch's gradcheck and ChainRulesTestUtils check of a backward rule beyond its
/// Jacobian, run on every op the checker proves (no finite differences needed):
///
/// - one gradient per input, each shaped like its input (else nothing more can be compared);
/// - `backward(α·u) = α·backward(u)` for a seeded random cotangent u and α = 2.5: a rule that
///   ignores its upstream gradient, squares it, or adds a constant is not linear in it;
/// - `backward(0) = 0`;
/// - two calls agree exactly;
/// - the inputs, and the forward at them, are unchanged after the backward ran.
///
/// Numbers are compared within `atol + max(rtol, 1e-9)·|expected|`: the check's tolerance,
/// but never below rounding (the probes compare the rule with itself, not with a difference).
enum RuleProbes {
    static let alpha = 2.5

    /// The probes that fail, in the order above (empty when the rule passes them all).
    /// `u` is the check's random cotangent.
    static func run(
        _ op: any ChainruleCore.Operation, inputs: [Tensor], inputNames: [String], output: Tensor, u: Tensor,
        options: CheckOptions
    ) -> [ProbeFailure] {
        let differentiable = inputs.indices.filter { op.isDifferentiable(input: $0) }
        let gradients = op.backward(inputs, output: output, gradient: u)
        if let failures = shapeFailures(gradients, inputs: inputs, names: inputNames, checked: differentiable) {
            return failures
        }
        var failures: [ProbeFailure] = []
        let tolerance = Swift.max(options.relativeTolerance, 1e-9)
        func firstMismatch(
            _ probe: RuleProbe, _ i: Int, actual: [Double], expected: [Double], considered: (Int) -> Bool = { _ in true },
            describe: (Double, Double) -> String
        ) {
            guard let j = actual.indices.first(where: { k in
                considered(k)
                    && !(actual[k] == expected[k] || abs(actual[k] - expected[k]) <= tolerance * abs(expected[k]) + options.absoluteTolerance)
            }) else { return }
            failures.append(ProbeFailure(
                probe: probe, input: i, inputName: inputNames[i], index: Tensor.index(of: j, in: inputs[i].shape),
                detail: describe(actual[j], expected[j])))
        }
        let scaled = op.backward(inputs, output: output, gradient: u.map { $0 * alpha })
        let zero = op.backward(inputs, output: output, gradient: Tensor.zeros(u.shape))
        let again = op.backward(inputs, output: output, gradient: u)
        let alphaText = formatNumber(alpha)
        for i in differentiable {
            let g = values(gradients, i, like: inputs[i])
            if let s = conforming(scaled, i, like: inputs[i]) {
                firstMismatch(.linearity, i, actual: s, expected: g.map { alpha * $0 }) { a, e in
                    "backward(\(alphaText)·u) gives \(spelled(a)) where \(alphaText)·backward(u) is \(spelled(e)): the rule is not linear in its upstream gradient (does it use grad, and only as a factor?)"
                }
            }
            if let z = conforming(zero, i, like: inputs[i]) {
                // Where the local derivative is infinite (sqrt at 0), 0·∞ is NaN in any rule.
                firstMismatch(.zeroCotangent, i, actual: z, expected: z.map { _ in 0 }, considered: { g[$0].isFinite }) { a, _ in
                    "backward(0) gives \(spelled(a)) where it must give 0 (does the rule add a term that does not carry grad?)"
                }
            }
            if let a = conforming(again, i, like: inputs[i]),
               let j = a.indices.first(where: { a[$0] != g[$0] && !(a[$0].isNaN && g[$0].isNaN) }) {
                failures.append(ProbeFailure(
                    probe: .determinism, input: i, inputName: inputNames[i], index: Tensor.index(of: j, in: inputs[i].shape),
                    detail: "two calls with the same arguments gave \(spelled(g[j])) and \(spelled(a[j]))"))
            }
        }
        failures += mutationFailures(op, inputs: inputs, names: inputNames, output: output, u: u)
        return failures
    }

    /// A wrong number of gradients, or a gradient not shaped like its input: the rule
    /// cannot be compared at all.
    static func shapeFailures(_ gradients: [Tensor?], inputs: [Tensor], names: [String], checked: [Int]) -> [ProbeFailure]? {
        guard gradients.count == inputs.count else {
            return [ProbeFailure(
                probe: .shape, input: Swift.min(gradients.count, inputs.count - 1), inputName: names[Swift.min(gradients.count, inputs.count - 1)],
                detail: "the rule returns \(counted(gradients.count, "gradient", "gradients")) for \(counted(inputs.count, "input", "inputs"))")]
        }
        let wrong = checked.compactMap { i -> ProbeFailure? in
            guard let g = gradients[i], g.shape != inputs[i].shape || g.data.count != inputs[i].count else { return nil }
            return ProbeFailure(
                probe: .shape, input: i, inputName: names[i],
                detail: "the gradient for input \(i) \"\(names[i])\" has shape \(describeShape(g.shape)) where the input has \(describeShape(inputs[i].shape))")
        }
        return wrong.isEmpty ? nil : wrong
    }

    /// Backward must leave the inputs as they were, and forward at them must still give the output.
    static func mutationFailures(
        _ op: any ChainruleCore.Operation, inputs: [Tensor], names: [String], output: Tensor, u: Tensor
    ) -> [ProbeFailure] {
        // Copies with storage of their own: a rule that writes through a pointer into the
        // storage its inputs share with the caller's tensors changes those, not these.
        let before = inputs.map { Tensor(shape: $0.shape, data: $0.data.map { $0 }) }
        _ = op.backward(inputs, output: output, gradient: u)
        if let i = inputs.indices.first(where: { before[$0] != inputs[$0] }) {
            return [ProbeFailure(probe: .mutation, input: i, inputName: names[i], detail: "backward changed input \(i)")]
        }
        let after = op.forward(inputs)
        guard after.shape == output.shape,
              let j = after.data.indices.first(where: { after.data[$0] != output.data[$0] && !(after.data[$0].isNaN && output.data[$0].isNaN) })
        else { return [] }
        return [ProbeFailure(
            probe: .mutation, input: 0, inputName: names.first ?? "input 0", index: Tensor.index(of: j, in: output.shape),
            detail: "after backward ran, forward at the same inputs gives \(spelled(after.data[j])) at output element \(describeIndex(Tensor.index(of: j, in: output.shape))) instead of \(spelled(output.data[j])): the op keeps state that backward changes")]
    }

    /// Gradient i as numbers (zeros for `nil`, which means "no gradient").
    static func values(_ gradients: [Tensor?], _ i: Int, like input: Tensor) -> [Double] {
        gradients[i]?.data ?? [Double](repeating: 0, count: input.count)
    }

    /// Gradient i when it is shaped like its input (a rule may change shape with the cotangent:
    /// the shape probe of the first call does not vouch for the others).
    static func conforming(_ gradients: [Tensor?], _ i: Int, like input: Tensor) -> [Double]? {
        guard i < gradients.count else { return nil }
        guard let g = gradients[i] else { return [Double](repeating: 0, count: input.count) }
        return g.shape == input.shape && g.data.count == input.count ? g.data : nil
    }
}
