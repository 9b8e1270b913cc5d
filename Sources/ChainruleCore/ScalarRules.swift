/// Ops that also run on plain `Double`s, for graphs of scalars.
///
/// A program written as micrograd writes one (a neuron per line, tens of
/// thousands of scalar bindings) spends its passes on tensor bookkeeping: an
/// input array, a broadcast, a shape check, per node. For a node whose output
/// and inputs are scalars, the passes call these instead. Each is the same
/// arithmetic as the op's tensor rule, in the same order, so both paths give
/// the same bits (`ScalarRuleTests` compares them on every op that has one).
///
/// Only ops without value checks (`validate`) have a scalar rule: the scalar
/// path does not call it. The rule is two requirements of `Operation`
/// (`scalarForward`, `scalarBackward`, nil by default), so the passes reach
/// it through the op's witness table, without a cast per node.

extension UnaryElementwise {
    public func scalarForward(_ a: Double, _ b: Double) -> Double? { f(a) }
    public func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? {
        (g * derivative(a, output), 0)
    }
}

extension Add {
    public func scalarForward(_ a: Double, _ b: Double) -> Double? { a + b }
    public func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? { (g, g) }
}

extension Sub {
    public func scalarForward(_ a: Double, _ b: Double) -> Double? { a - b }
    public func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? { (g, -g) }
}

extension Mul {
    public func scalarForward(_ a: Double, _ b: Double) -> Double? { a * b }
    public func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? { (g * b, g * a) }
}

extension Div {
    public func scalarForward(_ a: Double, _ b: Double) -> Double? { a / b }
    public func scalarBackward(_ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? {
        (g / b, -g * output / b)
    }
}

extension Graph {
    /// The node's value from its inputs' values by the op's scalar rule, or
    /// nil when the node is not a scalar op on scalars (then the tensor rule runs).
    @inline(__always)
    static func scalarValue(_ node: Node, _ values: [Tensor]) -> Tensor? {
        guard node.shape.isEmpty, let op = node.op else { return nil }
        switch node.inputs.count {
        case 1:
            return op.scalarForward(values[node.inputs[0].index].data[0], 0).map { Tensor($0) }
        case 2:
            let a = values[node.inputs[0].index], b = values[node.inputs[1].index]
            guard a.shape.isEmpty, b.shape.isEmpty else { return nil }
            return op.scalarForward(a.data[0], b.data[0]).map { Tensor($0) }
        default:
            return nil
        }
    }

    /// Sends a scalar node's gradient to its inputs by the op's scalar rule,
    /// accumulating as the tensor path does (the existing gradient first).
    /// False when the node is not a scalar op on scalars.
    @inline(__always)
    static func scalarBackward(_ node: Node, _ values: [Tensor], _ gradient: Tensor, into gradients: inout [Tensor?]) -> Bool {
        guard node.shape.isEmpty, gradient.shape.isEmpty, let op = node.op else { return false }
        let inputs = node.inputs
        guard inputs.count == 1 || inputs.count == 2 else { return false }
        let a = values[inputs[0].index]
        let b = inputs.count == 2 ? values[inputs[1].index] : a
        guard a.shape.isEmpty, b.shape.isEmpty,
              let (ga, gb) = op.scalarBackward(a.data[0], b.data[0], output: values[node.id.index].data[0], gradient: gradient.data[0])
        else { return false }
        if op.isDifferentiable(input: 0) { accumulate(ga, into: &gradients[inputs[0].index]) }
        if inputs.count == 2, op.isDifferentiable(input: 1) { accumulate(gb, into: &gradients[inputs[1].index]) }
        return true
    }

    @inline(__always)
    private static func accumulate(_ sent: Double, into gradient: inout Tensor?) {
        if let existing = gradient {
            gradient = Tensor(existing.data[0] + sent)
        } else {
            gradient = Tensor(sent)
        }
    }
}
