import ChainruleCore

// Helpers shared by the op-family tests.

/// Runs `build` on fresh inputs, backpropagates ones (or `seed`) and returns
/// the output value and each input's gradient.
func valueAndGradients(
    _ inputs: [Tensor], seed: Tensor? = nil, _ build: ([Var]) -> Var
) throws -> (value: Tensor, gradients: [Tensor]) {
    let g = Graph()
    let vars = inputs.enumerated().map { g.input("x\($0.offset)", $0.element) }
    let out = build(vars)
    try g.backward(out, seed: seed)
    return (out.value, vars.map { $0.gradient ?? Tensor.zeros($0.shape) })
}

/// Element by element `|a − b| ≤ tolerance`, and the same shape.
func tensorsAgree(_ a: Tensor, _ b: Tensor, _ tolerance: Double = 1e-9) -> Bool {
    a.shape == b.shape && zip(a.data, b.data).allSatisfy { Swift.abs($0 - $1) <= tolerance }
}

/// The gradient a named leaf of `graph` received.
func leafGradient(_ name: String, in graph: Graph) -> Double? {
    graph.nodes.first { $0.name == name }?.gradient?.scalar
}
