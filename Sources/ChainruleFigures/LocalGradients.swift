import ChainruleCore

/// What flows back along each wire, computed from each op's own backward rule.
extension SceneBuilder {
    /// The gradients sent from `consumer` back to each of its inputs: the
    /// op's vector–Jacobian product with the consumer's gradient (upstream ×
    /// local), from one run of its backward. Equals an input's gradient when
    /// the input has one consumer; with several, the input's gradient is the
    /// sum over its wires. nil where the input is not differentiable or the
    /// consumer's gradient is not known.
    func wireGradients(consumer: NodeID) -> [Tensor?] {
        let node = graph[consumer]
        let none = [Tensor?](repeating: nil, count: node.inputs.count)
        guard let op = node.op, let upstream = shownGradient(consumer), let output = node.value else { return none }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return none }
        let sent = op.backward(inputs, output: output, gradient: upstream)
        return sent.indices.map { op.isDifferentiable(input: $0) ? sent[$0] : nil }
    }

    /// The local derivative ∂out/∂in_k of each input at the current values,
    /// from at most one run of the op's backward.
    ///
    /// Scalars: the backward with a cotangent of 1 gives the number.
    /// Elementwise ops on same-shaped tensors: the Jacobian is diagonal and the
    /// backward with a cotangent of ones gives that diagonal.
    /// Anything else: only the Jacobian's shape, output × input.
    func localGradients(consumer: NodeID) -> [LocalGradient?] {
        let node = graph[consumer]
        let none = [LocalGradient?](repeating: nil, count: node.inputs.count)
        guard let op = node.op, let output = node.value else { return none }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return none }
        let elementwiseOp = op is UnaryElementwise || op is Add || op is Sub || op is Mul || op is Div
        var ones: [Tensor?]?
        return inputs.indices.map { k -> LocalGradient? in
            guard op.isDifferentiable(input: k) else { return nil }
            let scalar = output.count == 1 && inputs[k].count == 1
            guard scalar || (elementwiseOp && inputs[k].shape == output.shape) else {
                return .jacobian(output: output.shape, input: inputs[k].shape)
            }
            if ones == nil { ones = op.backward(inputs, output: output, gradient: .ones(output.shape)) }
            guard let local = ones?[k] else { return scalar ? nil : .jacobian(output: output.shape, input: inputs[k].shape) }
            return scalar ? .scalar(local.data[0]) : .diagonal(local)
        }
    }

    /// A local derivative as a wire label: `local -4.00`, `local diag [0.00, 1.00]`, `local J 4×5 × 5×3`.
    func localGradientText(_ local: LocalGradient) -> String {
        switch local {
        case .scalar(let value): "local " + number(value)
        case .diagonal(let diagonal): "local diag " + summary(diagonal)
        case .jacobian(let output, let input): "local J " + describeShape(output) + " × " + describeShape(input)
        }
    }
}

/// ∂out/∂in of one op input at the current values, as much of it as a figure shows.
enum LocalGradient {
    /// Scalar in, scalar out: the number.
    case scalar(Double)
    /// An elementwise op: the Jacobian's diagonal, shaped like the input.
    case diagonal(Tensor)
    /// Anything else: the Jacobian's shape.
    case jacobian(output: [Int], input: [Int])
}
