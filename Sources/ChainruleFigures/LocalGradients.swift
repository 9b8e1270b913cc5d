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
    /// Inputs the op calls elementwise (`Operation.localGradientForm`), shaped
    /// like the output: the Jacobian is diagonal and the backward with a
    /// cotangent of ones gives that diagonal.
    /// Anything else: only the Jacobian's shape, output × input.
    func localGradients(consumer: NodeID) -> [LocalGradient?] {
        let node = graph[consumer]
        let none = [LocalGradient?](repeating: nil, count: node.inputs.count)
        guard let op = node.op, let output = node.value else { return none }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return none }
        var ones: [Tensor?]?
        return inputs.indices.map { k -> LocalGradient? in
            guard op.isDifferentiable(input: k) else { return nil }
            let scalar = output.count == 1 && inputs[k].count == 1
            let elementwise = op.localGradientForm(input: k) == .elementwise && inputs[k].shape == output.shape
            guard scalar || elementwise else {
                return .jacobian(output: output.shape, input: inputs[k].shape)
            }
            if ones == nil { ones = op.backward(inputs, output: output, gradient: .ones(output.shape)) }
            guard let local = ones?[k] else { return scalar ? nil : .jacobian(output: output.shape, input: inputs[k].shape) }
            return scalar ? .scalar(local.data[0]) : .diagonal(local)
        }
    }

    /// The whole Jacobian ∂out/∂in_k as an (output elements × input elements)
    /// matrix, one backward run per output element with a one-hot cotangent;
    /// nil when a side passes `maxJacobianSide`, beyond which a heatmap stops
    /// showing single cells.
    func jacobian(consumer: NodeID, input k: Int) -> Tensor? {
        let node = graph[consumer]
        guard let op = node.op, let output = node.value, op.isDifferentiable(input: k) else { return nil }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count, output.count <= Self.maxJacobianSide, inputs[k].count <= Self.maxJacobianSide else { return nil }
        var rows: [Double] = []
        for i in 0..<output.count {
            var cotangent = [Double](repeating: 0, count: output.count)
            cotangent[i] = 1
            guard let row = op.backward(inputs, output: output, gradient: Tensor(shape: output.shape, data: cotangent))[k] else { return nil }
            rows += row.data
        }
        return Tensor(shape: [output.count, inputs[k].count], data: rows)
    }

    /// The longest side of a Jacobian drawn cell by cell (a thumbnail's 2 × 12 cells).
    static let maxJacobianSide = 24

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
