import ChainruleCore
import Foundation

/// micrograd's demo step as a scalar `.grad` program, one binding per
/// micrograd `Value` operation, as `scripts/bench-vs/micrograd_step.py`
/// writes it: an MLP(2, hidden…, 1) on the two moons, the SVM loss
/// (1 − y·score)₊ averaged, plus 1e-4 times the sum of squared parameters.
/// Weights are uniform(−1, 1) and biases 0, as micrograd's `Neuron` draws
/// them, from a seeded generator of its own (not Python's): the same
/// program shape, other numbers. With 100 points and `hidden: [16, 16]` it
/// has the bench's 65,612 bindings.
public enum MicrogradStep {
    public static func program(points count: Int = 100, hidden: [Int] = [16, 16], seed: UInt64 = 1337) -> String {
        var random = SeededGenerator(seed: seed)
        let points = moons(count, noise: 0.1, &random)
        let sizes = [2] + hidden + [1]
        var lines = ["# micrograd's demo step: MLP(2, \(hidden), 1) on \(count) moons, SVM loss + L2 (generated)"]
        var counter = 0
        func bind(_ expression: String) -> String {
            counter += 1
            lines.append("t\(counter) = \(expression)")
            return "t\(counter)"
        }
        var parameters: [String] = []
        var layers: [[(weights: [String], bias: String)]] = []
        for (l, (fanIn, fanOut)) in zip(sizes, sizes.dropFirst()).enumerated() {
            var layer: [(weights: [String], bias: String)] = []
            for n in 0..<fanOut {
                var weights: [String] = []
                for w in 0..<fanIn {
                    lines.append("w\(l)_\(n)_\(w) = \(-1 + 2 * random.nextUnit())")
                    weights.append("w\(l)_\(n)_\(w)")
                }
                lines.append("b\(l)_\(n) = 0.0")
                layer.append((weights, "b\(l)_\(n)"))
                parameters += weights + ["b\(l)_\(n)"]
            }
            layers.append(layer)
        }
        var losses: [String] = []
        for (p, point) in points.enumerated() {
            var inputs: [String] = []
            for (c, value) in [point.x, point.y].enumerated() {
                lines.append("x\(p)_\(c) = \(value)")
                inputs.append("x\(p)_\(c)")
            }
            for (l, layer) in layers.enumerated() {
                inputs = layer.map { neuron in
                    var activation = neuron.bias
                    for (w, x) in zip(neuron.weights, inputs) { activation = bind("\(activation) + \(bind("\(w) * \(x)"))") }
                    return l == layers.count - 1 ? activation : bind("relu(\(activation))")
                }
            }
            let margin = bind("\(inputs[0]) * \(-point.label)")
            losses.append(bind("relu(\(bind("\(margin) + 1")))"))
        }
        var total = losses[0]
        for loss in losses.dropFirst() { total = bind("\(total) + \(loss)") }
        let dataLoss = bind("\(total) * \(1.0 / Double(losses.count))")
        let squares = parameters.map { bind("\($0) * \($0)") }
        var regularisation = squares[0]
        for square in squares.dropFirst() { regularisation = bind("\(regularisation) + \(square)") }
        let regularisationLoss = bind("\(regularisation) * 0.0001")
        lines.append("loss = \(dataLoss) + \(regularisationLoss)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The two moons as scikit-learn's `make_moons` draws them, with Gaussian noise; labels ±1.
    static func moons(_ count: Int, noise: Double, _ random: inout SeededGenerator) -> [(x: Double, y: Double, label: Int)] {
        let half = count / 2
        var points: [(x: Double, y: Double, label: Int)] = []
        for i in 0..<half {
            let t = Double.pi * Double(i) / Double(half - 1)
            points.append((cos(t), sin(t), -1))
        }
        for i in 0..<(count - half) {
            let t = Double.pi * Double(i) / Double(count - half - 1)
            points.append((1 - cos(t), 1 - sin(t) - 0.5, 1))
        }
        return points.map { ($0.x + noise * random.nextGaussian(), $0.y + noise * random.nextGaussian(), $0.label) }
    }
}
