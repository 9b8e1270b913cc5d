/// The lecture examples, built with the Swift API. Tests, benchmarks, the
/// demo and the lecture figures all start from these.
public enum Examples {
    /// CS231n's circuit `f = (x + y) · z` at x = −2, y = 5, z = −4.
    public static func cs231nCircuit() -> (graph: Graph, output: Var) {
        let g = Graph()
        let x = g.input("x", -2), y = g.input("y", 5), z = g.input("z", -4)
        let q = (x + y).named("q")
        let f = (q * z).named("f")
        return (g, f)
    }

    /// CS231n's sigmoid neuron `1 / (1 + exp(−(w0·x0 + w1·x1 + w2)))` at
    /// w0 = 2, x0 = −1, w1 = −3, x1 = −2, w2 = −3, built from primitive gates.
    public static func sigmoidNeuron() -> (graph: Graph, output: Var) {
        let g = Graph()
        let w0 = g.input("w0", 2), x0 = g.input("x0", -1)
        let w1 = g.input("w1", -3), x1 = g.input("x1", -2)
        let w2 = g.input("w2", -3)
        let dot = (w0 * x0 + w1 * x1 + w2).named("dot")
        let f = (1 / (1 + exp(-dot))).named("f")
        return (g, f)
    }

    /// micrograd's neuron `o = tanh(x1·w1 + x2·w2 + b)` at x1 = 2, x2 = 0,
    /// w1 = −3, w2 = 1, b = 6.8813735870195432 (chosen so that n = 0.8814 and
    /// o = 1/√2), with micrograd's labels.
    public static func microgradNeuron() -> (graph: Graph, output: Var) {
        let g = Graph()
        let x1 = g.input("x1", 2), x2 = g.input("x2", 0)
        let w1 = g.input("w1", -3), w2 = g.input("w2", 1)
        let b = g.input("b", 6.8813735870195432)
        let x1w1 = (x1 * w1).named("x1*w1")
        let x2w2 = (x2 * w2).named("x2*w2")
        let weighted = (x1w1 + x2w2).named("x1*w1 + x2*w2")
        let n = (weighted + b).named("n")
        let o = tanh(n).named("o")
        return (g, o)
    }
}
