import Foundation

// Two small networks built from tensor ops with the Swift API: the models
// of the engine benchmark, and examples of layers as groups of nodes.
// Parameters are `.param` leaves named `<layer>.W` and `<layer>.b`.

extension Examples {
    /// A two-moons-like data set: `points` points in the plane, alternately
    /// on the upper moon (label +1) and the lower one (label −1), with
    /// Gaussian noise of standard deviation 0.1, all drawn from `seed`.
    /// Returns x [points, 2] and y [points, 1] with entries ±1.
    public static func twoMoons(points: Int, seed: UInt64) -> (x: Tensor, y: Tensor) {
        var rng = SeededGenerator(seed: seed)
        var x = [Double](), y = [Double]()
        x.reserveCapacity(2 * points)
        for i in 0..<points {
            let t = Double.pi * rng.nextUnit()
            let upper = i % 2 == 0
            let (px, py) = upper ? (Foundation.cos(t), Foundation.sin(t)) : (1 - Foundation.cos(t), 0.5 - Foundation.sin(t))
            x.append(px + 0.1 * rng.nextGaussian())
            x.append(py + 0.1 * rng.nextGaussian())
            y.append(upper ? 1 : -1)
        }
        return (Tensor(shape: [points, 2], data: x), Tensor(shape: [points, 1], data: y))
    }

    /// A fully connected layer `linear(x, W, b)` with W [out, in] from He
    /// initialisation (normal, variance 2/in: right in front of a ReLU) and b = 0.
    /// Returns the layer's output and its weight matrix.
    static func denseLayer(_ x: Var, name: String, inputs: Int, outputs: Int, seed: UInt64) -> (output: Var, W: Var) {
        let g = x.graph
        return g.withLayer(Layer(name: name, kind: "Linear")) {
            let W = g.param("\(name).W", Tensor.randn([outputs, inputs], seed: seed, scale: (2 / Double(inputs)).squareRoot()))
            let b = g.param("\(name).b", Tensor.zeros([outputs]))
            return (linear(x, W, b).named(name), W)
        }
    }

    /// micrograd's demo model: an MLP 2 → 16 → 16 → 1 with ReLUs, on a
    /// two-moons data set of `points` points, with its max-margin loss
    ///
    ///     mean(relu(1 − y·score)) + Σ ½·λ·‖W‖²,  λ = 1e-4 over the three weight matrices,
    ///
    /// written with tensor ops (one `linear` per layer) instead of micrograd's
    /// scalar neurons. Parameters `fc1.W`, `fc1.b`, … `fc3.b` (337 numbers);
    /// the points are the input `x`, their ±1 labels the constant `y`.
    public static func mlp(points: Int = 100, seed: UInt64 = 1) -> (graph: Graph, output: Var) {
        let g = Graph()
        let data = twoMoons(points: points, seed: seed)
        let x = g.input("x", data.x)
        let y = g.constant(data.y, name: "y")
        let fc1 = denseLayer(x, name: "fc1", inputs: 2, outputs: 16, seed: seed &+ 1)
        let fc2 = denseLayer(relu(fc1.output), name: "fc2", inputs: 16, outputs: 16, seed: seed &+ 2)
        let fc3 = denseLayer(relu(fc2.output), name: "fc3", inputs: 16, outputs: 1, seed: seed &+ 3)
        let dataLoss = mean(relu(1 - y * fc3.output)).named("data loss")
        let penalty = l2(fc1.W, lambda: 1e-4) + l2(fc2.W, lambda: 1e-4) + l2(fc3.W, lambda: 1e-4)
        let loss = (dataLoss + penalty.named("L2")).named("loss")
        return (g, loss)
    }

    /// A small CNN on one 3×32×32 image: conv 3 → 6 with 5×5 filters (→ 6×28×28),
    /// ReLU, 2×2 max-pool (→ 6×14×14), flatten, linear 1176 → 10, and the
    /// cross-entropy against one class label. Parameters `conv.W` [6, 3, 5, 5],
    /// `conv.b` [6], `fc.W` [10, 1176], `fc.b` [10]; the image is the input `x`
    /// (normal entries from `seed`), its label `seed % 10`.
    public static func smallCNN(seed: UInt64 = 1) -> (graph: Graph, output: Var) {
        let g = Graph()
        let x = g.input("x", Tensor.randn([1, 3, 32, 32], seed: seed))
        let features = g.withLayer(Layer(name: "conv", kind: "Conv2D")) {
            let W = g.param("conv.W", Tensor.randn([6, 3, 5, 5], seed: seed &+ 1, scale: (2.0 / 75).squareRoot()))
            let b = g.param("conv.b", Tensor.zeros([6]))
            return conv2d(x, W, b).named("conv")
        }
        let pooled = maxpool2d(relu(features), kernel: 2).named("pool")
        let logits = denseLayer(flatten(pooled), name: "fc", inputs: 6 * 14 * 14, outputs: 10, seed: seed &+ 2).output
        let loss = crossEntropy(logits, labels: [Int(seed % 10)]).named("loss")
        return (g, loss)
    }
}
