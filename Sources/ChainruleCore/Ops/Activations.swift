import Foundation

// Activation functions. Piecewise ones declare their branch so the checker
// reports x ± h straddling a kink as a kink, not a failure.

public enum Activation {
    public static let relu = UnaryElementwise(
        name: "relu",
        f: { Swift.max($0, 0) },
        derivative: { x, _ in x > 0 ? 1 : 0 },
        branch: { $0 > 0 ? 1 : 0 })

    public static let sigmoid = UnaryElementwise(
        name: "sigmoid", symbol: "σ",
        f: { x in x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) },
        derivative: { _, y in y * (1 - y) })
}

enum ActivationOps {
    static let family = "activations"
    static let specs: [OpSpec] = [
        unarySpec(Activation.relu, family: family, doc: "max(x, 0); gradient 0 for x < 0", kinks: "x = 0",
                  extraSamples: [OpSample("negative and positive", op: Activation.relu, inputs: [Tensor([-1.5, -0.3, 0.4, 2])])]),
        unarySpec(Activation.sigmoid, family: family, doc: "σ(x) = 1 / (1 + e⁻ˣ), computed without overflow", domain: -6...6),
    ]
}

public func relu(_ x: Var) -> Var { x.graph.build(Activation.relu, [x]) }
public func sigmoid(_ x: Var) -> Var { x.graph.build(Activation.sigmoid, [x]) }
