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

    /// The local derivative ∂out/∂in_k at the current values, as text.
    ///
    /// Scalars: the op's backward with a cotangent of 1 gives the number.
    /// Elementwise ops on same-shaped tensors: the Jacobian is diagonal and the
    /// backward with a cotangent of ones gives that diagonal, shown by its range.
    /// Anything else: the Jacobian's shape, output × input.
    func localGradientText(consumer: NodeID, input k: Int) -> String? {
        let node = graph[consumer]
        guard let op = node.op, op.isDifferentiable(input: k), let output = node.value else { return nil }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return nil }
        let inputShape = inputs[k].shape
        let ones = Tensor.ones(output.shape)
        if output.count == 1 && inputs[k].count == 1 {
            guard let local = op.backward(inputs, output: output, gradient: ones)[k] else { return nil }
            return "local " + number(local.data[0])
        }
        let elementwise = op is UnaryElementwise || ((op is Add || op is Sub || op is Mul || op is Div) && inputShape == output.shape)
        if elementwise, let diagonal = op.backward(inputs, output: output, gradient: ones)[k] {
            return "local diag " + summary(diagonal)
        }
        return "local J " + shapeText(output.shape) + " × " + shapeText(inputShape)
    }
}
