import ChainruleCore

/// What flows back along each wire, computed from each op's own backward rule.
extension SceneBuilder {
    /// The gradient sent from `consumer` back to its input `k`: the op's
    /// vector–Jacobian product with the consumer's gradient (upstream × local).
    /// Equals the input's gradient when the input has one consumer; with
    /// several, the input's gradient is the sum over its wires.
    func wireGradient(consumer: NodeID, input k: Int) -> Tensor? {
        let node = graph[consumer]
        guard let op = node.op, op.isDifferentiable(input: k), let upstream = shownGradient(consumer),
              let output = node.value else { return nil }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return nil }
        return op.backward(inputs, output: output, gradient: upstream)[k]
    }

    /// The local derivative ∂out/∂in_k at the current values.
    ///
    /// Scalars: the op's backward with a cotangent of 1 gives the number.
    /// Elementwise ops on same-shaped tensors: the Jacobian is diagonal and the
    /// backward with a cotangent of ones gives that diagonal.
    /// Anything else: only the Jacobian's shape, output × input.
    func localGradient(consumer: NodeID, input k: Int) -> LocalGradient? {
        let node = graph[consumer]
        guard let op = node.op, op.isDifferentiable(input: k), let output = node.value else { return nil }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return nil }
        let inputShape = inputs[k].shape
        let ones = Tensor.ones(output.shape)
        if output.count == 1 && inputs[k].count == 1 {
            guard let local = op.backward(inputs, output: output, gradient: ones)[k] else { return nil }
            return .scalar(local.data[0])
        }
        let elementwise = op is UnaryElementwise || ((op is Add || op is Sub || op is Mul || op is Div) && inputShape == output.shape)
        if elementwise, let diagonal = op.backward(inputs, output: output, gradient: ones)[k] {
            return .diagonal(diagonal)
        }
        return .jacobian(output: output.shape, input: inputShape)
    }

    /// The local derivative as a wire label: `local -4.00`, `local diag [0.00, 1.00]`, `local J 4×5 × 5×3`.
    func localGradientText(consumer: NodeID, input k: Int) -> String? {
        switch localGradient(consumer: consumer, input: k) {
        case .scalar(let value): "local " + number(value)
        case .diagonal(let diagonal): "local diag " + summary(diagonal)
        case .jacobian(let output, let input): "local J " + shapeText(output) + " × " + shapeText(input)
        case nil: nil
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
