import ChainruleCore

/// Graphs for the gallery, the tests and the benchmark, built with the Swift
/// API. Every one is run forward and backward before it is returned.
public enum FigureExamples {
    /// The examples `chainrule render --example NAME` knows.
    public static let names = ["cs231n", "sigmoid", "mlp", "convnet"]

    /// The graph and output of example `name`, forward and backward done.
    public static func named(_ name: String) -> (graph: Graph, output: NodeID)? {
        let built: (graph: Graph, output: Var)
        switch name {
        case "cs231n": built = Examples.cs231nCircuit()
        case "sigmoid": built = Examples.sigmoidNeuron()
        case "mlp": built = tensorMLP()
        case "convnet": built = convNet()
        default: return nil
        }
        try! built.graph.backward(built.output)
        return (built.graph, built.output.id)
    }

    /// A two-layer perceptron on a batch of 4 points with 3 features:
    /// Linear(3→5), relu, Linear(5→2), cross-entropy.
    public static func tensorMLP() -> (graph: Graph, output: Var) {
        let g = Graph()
        let x = g.input("x", Tensor.randn([4, 3], seed: 1))
        let hidden = g.withLayer(Layer(name: "h", kind: "Linear")) {
            linear(x, g.param("h.W", Tensor.randn([5, 3], seed: 2, scale: 0.6)), g.param("h.b", Tensor.zeros([5]))).named("h")
        }
        let a = relu(hidden).named("a")
        let scores = g.withLayer(Layer(name: "s", kind: "Linear")) {
            linear(a, g.param("s.W", Tensor.randn([2, 5], seed: 3, scale: 0.6)), g.param("s.b", Tensor.zeros([2]))).named("s")
        }
        let loss = crossEntropy(scores, labels: [0, 1, 1, 0]).named("loss")
        return (g, loss)
    }

    /// Two convolutions on an 8×8 image: Conv2D(1→4, 3×3, pad 1), relu,
    /// max-pool 2, Conv2D(4→2, 3×3, pad 1), mean squared error against zeros.
    public static func convNet() -> (graph: Graph, output: Var) {
        let g = Graph()
        let x = g.input("x", Tensor.randn([1, 1, 8, 8], seed: 4))
        let c1 = g.withLayer(Layer(name: "c1", kind: "Conv2D")) {
            conv2d(x, g.param("c1.W", Tensor.randn([4, 1, 3, 3], seed: 5, scale: 0.5)), g.param("c1.b", Tensor.zeros([4])), pad: 1).named("c1")
        }
        let p = maxpool2d(relu(c1).named("a1"), kernel: 2).named("p1")
        let c2 = g.withLayer(Layer(name: "c2", kind: "Conv2D")) {
            conv2d(p, g.param("c2.W", Tensor.randn([2, 4, 3, 3], seed: 6, scale: 0.3)), g.param("c2.b", Tensor.zeros([2])), pad: 1).named("c2")
        }
        let loss = mse(c2, g.constant(Tensor.zeros([1, 2, 4, 4]), name: "target")).named("loss")
        return (g, loss)
    }

    /// A micrograd-style scalar graph of about `nodes` nodes: each step
    /// combines two of the last 24 values, or one of them and a fresh leaf
    /// (fan-in 2), so the graph is a few dozen ranks deep and as wide, as
    /// many parallel expressions summed up are; the loose ends are summed pairwise at the end.
    public static func generated(nodes: Int, seed: UInt64 = 7) -> (graph: Graph, output: Var) {
        let g = Graph()
        var rng = SeededGenerator(seed: seed)
        var values: [Var] = []
        var used: [Bool] = []
        func leaf() -> Var {
            values.append(g.input("a\(values.count)", Tensor(rng.nextUnit() - 0.5)))
            used.append(false)
            return values[values.count - 1]
        }
        for _ in 0..<4 { _ = leaf() }
        func recent() -> Int { values.count - 1 - Int(rng.nextUnit() * Double(min(values.count, 24))) }
        while g.count < nodes * 17 / 20 {
            let i = recent()
            let a = values[i]
            let b: Var
            if rng.nextUnit() < 0.35 { b = leaf() } else {
                let j = recent()
                b = values[j]
                used[j] = true
            }
            used[i] = true
            let next: Var
            switch Int(rng.nextUnit() * 4) {
            case 0: next = a + b
            case 1: next = a * b
            case 2: next = sigmoid(a + b)
            default: next = a - b
            }
            values.append(next)
            used.append(false)
        }
        // Sum the loose ends pairwise, a balanced tree rather than a long chain.
        var ends = values.indices.filter { !used[$0] && values[$0].node.op != nil }.map { values[$0] }
        while ends.count > 1 {
            ends = stride(from: 0, to: ends.count, by: 2).map { $0 + 1 < ends.count ? ends[$0] + ends[$0 + 1] : ends[$0] }
        }
        return (g, ends[0].named("out"))
    }

    /// A chain of `steps` steps x_{k+1} = tanh(w · x_k) that all read the one
    /// weight `w`: 2 ops a step, every step a long edge from `w` unless `w`
    /// is drawn beside each use. At 1,000 steps (2,002 nodes, 6,003 boxes in
    /// the circuit style) Graphviz's `dot` crashed on it. Not run forward.
    public static func sharedWeightChain(steps: Int) -> (graph: Graph, output: Var) {
        let g = Graph()
        let w = g.param("w", Tensor(0.9))
        var x = g.input("x0", Tensor(0.5))
        for k in 1...steps { x = tanh(w * x).named("x\(k)") }
        return (g, x)
    }

    /// One micrograd training step, all scalars: an MLP 2→16→16→1 with relu
    /// on `points` points, max-margin loss averaged. At 100 points this is
    /// about 66,000 nodes, every weight feeding every sample: the graph no
    /// Graphviz layout survives. Not run forward.
    public static func scalarTrainingStep(points: Int = 100) -> (graph: Graph, output: Var) {
        let g = Graph()
        var rng = SeededGenerator(seed: 9)
        let sizes = [2, 16, 16, 1]
        var weights: [[[Var]]] = []
        var biases: [[Var]] = []
        for layer in 1..<sizes.count {
            weights.append((0..<sizes[layer]).map { o in
                (0..<sizes[layer - 1]).map { i in g.param("w\(layer).\(o).\(i)", Tensor(rng.nextUnit() - 0.5)) }
            })
            biases.append((0..<sizes[layer]).map { o in g.param("b\(layer).\(o)", Tensor(0)) })
        }
        var losses: [Var] = []
        for p in 0..<points {
            var activations = [g.constant(Tensor(rng.nextUnit()), name: "x\(p).0"), g.constant(Tensor(rng.nextUnit()), name: "x\(p).1")]
            for layer in 0..<weights.count {
                activations = weights[layer].enumerated().map { o, row in
                    var sum = biases[layer][o]
                    for (i, w) in row.enumerated() { sum = sum + w * activations[i] }
                    return layer == weights.count - 1 ? sum : relu(sum)
                }
            }
            let label = p % 2 == 0 ? 1.0 : -1.0
            losses.append(relu(1 - label * activations[0]))
        }
        var total = losses[0]
        for loss in losses.dropFirst() { total = total + loss }
        return (g, (total / Double(points)).named("loss"))
    }
}
