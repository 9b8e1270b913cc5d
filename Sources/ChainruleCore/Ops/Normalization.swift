// Normalization at inference: fixed statistics, so each channel is an affine
// map of its input and every input (the statistics too) has a plain gradient.

/// `batch_norm(x, scale, bias, mean, var, eps:)`: batch normalization with
/// running statistics, as a trained network applies it (PyTorch's `eval()`,
/// ONNX's `BatchNormalization` with `training_mode` 0).
///
/// x is N×C×… (any rank ≥ 2, channels on axis 1); the four vectors have C
/// entries. With s = √(var + eps), channel c computes
/// `y = scale·(x − mean)/s + bias`. eps defaults to 1e-5, PyTorch's and ONNX's.
/// Backward, summed over a channel's elements where the input is a vector:
/// ∂x = g·scale/s, ∂scale = Σ g·(x − mean)/s, ∂bias = Σ g,
/// ∂mean = −Σ g·scale/s, ∂var = −½ Σ g·scale·(x − mean)/s³.
public struct BatchNorm: Operation {
    public let epsilon: Double

    /// Throws a `ValueError` unless eps > 0 (a zero variance would divide by 0).
    public init(epsilon: Double = BatchNorm.defaultEpsilon) throws(ValueError) {
        guard epsilon > 0, epsilon.isFinite else {
            throw ValueError(op: "batch_norm", "eps must be a small positive number, got \(formatNumber(epsilon))")
        }
        self.epsilon = epsilon
    }

    public static let defaultEpsilon = 1e-5
    public var name: String { "batch_norm" }
    public var symbol: String { "BN" }
    public var attributes: [String: AttributeValue] { ["eps": .double(epsilon)] }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try requireInputs(name, shapes, ["x", "scale", "bias", "mean", "var"])
        let x = shapes[0]
        guard x.count >= 2 else {
            throw ShapeError(op: name, shapes: shapes, "x must be N×C or N×C×… (channels on axis 1), got \(describeShape(x))")
        }
        for (index, parameter) in ["scale", "bias", "mean", "var"].enumerated() where shapes[index + 1] != [x[1]] {
            throw ShapeError(
                op: name, shapes: shapes,
                "\(parameter) must have one entry per channel, shape \(describeShape([x[1]])), got \(describeShape(shapes[index + 1]))")
        }
        return x
    }

    /// Calls `body(element, channel)` for every element of an N×C×… tensor.
    private func forEachElement(_ shape: [Int], _ body: (Int, Int) -> Void) {
        let channels = shape[1]
        let inner = Tensor.elementCount(Array(shape.dropFirst(2)))
        var element = 0
        for _ in 0..<shape[0] {
            for channel in 0..<channels {
                for _ in 0..<inner {
                    body(element, channel)
                    element += 1
                }
            }
        }
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let (x, scale, bias, mean, variance) = (inputs[0], inputs[1].data, inputs[2].data, inputs[3].data, inputs[4].data)
        let deviation = variance.map { ($0 + epsilon).squareRoot() }
        var out = [Double](repeating: 0, count: x.count)
        forEachElement(x.shape) { i, c in out[i] = scale[c] * (x.data[i] - mean[c]) / deviation[c] + bias[c] }
        return Tensor(shape: x.shape, data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let (x, scale, mean, variance) = (inputs[0], inputs[1].data, inputs[3].data, inputs[4].data)
        let channels = x.shape[1]
        let deviation = variance.map { ($0 + epsilon).squareRoot() }
        var dx = [Double](repeating: 0, count: x.count)
        var dScale = [Double](repeating: 0, count: channels)
        var dBias = dScale, dMean = dScale, dVariance = dScale
        forEachElement(x.shape) { i, c in
            let g = gradient.data[i], centred = x.data[i] - mean[c], s = deviation[c]
            dx[i] = g * scale[c] / s
            dScale[c] += g * centred / s
            dBias[c] += g
            dMean[c] -= g * scale[c] / s
            dVariance[c] -= 0.5 * g * scale[c] * centred / (s * s * s)
        }
        return [Tensor(shape: x.shape, data: dx)] + [dScale, dBias, dMean, dVariance].map { Tensor($0) }
    }
}

extension BatchNorm {
    /// With u = x − mean, k = scale/s and s = √(var + eps): Δy = Δk·(u + Δu) + k·Δu + Δbias,
    /// Δu = Δx − Δmean, Δk = (Δscale·s − scale·Δs)/(s·s′), Δs = Δvar/(s′ + s).
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        let x = inputs[0], (scale, mean, variance) = (inputs[1].data, inputs[3].data, inputs[4].data)
        let dx = delta(deltas, 0, like: x).data, dScale = delta(deltas, 1, like: inputs[1]).data
        let dBias = delta(deltas, 2, like: inputs[2]).data, dMean = delta(deltas, 3, like: inputs[3]).data
        let dVariance = delta(deltas, 4, like: inputs[4]).data
        let factors = scale.indices.map { c -> (k: Double, dk: Double) in
            let s = (variance[c] + epsilon).squareRoot(), moved = (variance[c] + dVariance[c] + epsilon).squareRoot()
            let ds = dVariance[c] / (moved + s)
            return (scale[c] / s, (dScale[c] * s - scale[c] * ds) / (s * moved))
        }
        var d = [Double](repeating: 0, count: x.count)
        forEachElement(x.shape) { i, c in
            let u = x.data[i] - mean[c], du = dx[i] - dMean[c]
            d[i] = factors[c].dk * (u + du) + factors[c].k * du + dBias[c]
        }
        return Tensor(shape: x.shape, data: d)
    }
}

enum NormalizationOps {
    static let family = "normalization"

    /// x and four per-channel vectors for a `batch_norm` sample; the variances lie in [0.5, 2].
    static func batchNormInputs(_ shape: [Int], seed: UInt64) -> [Tensor] {
        let c = [shape[1]]
        return [
            Tensor.randn(shape, seed: seed), Tensor.uniform(c, low: 0.5, high: 1.5, seed: seed + 1),
            Tensor.uniform(c, low: -0.5, high: 0.5, seed: seed + 2), Tensor.uniform(c, low: -0.5, high: 0.5, seed: seed + 3),
            Tensor.uniform(c, low: 0.5, high: 2, seed: seed + 4),
        ]
    }

    static let specs: [OpSpec] = [
        OpSpec(
            name: "batch_norm", family: family,
            doc: "inference batch norm over axis 1: scale·(x − mean)/√(var + eps) + bias, with fixed running statistics",
            parameters: [
                OpParameter("x", .tensor), OpParameter("scale", .tensor), OpParameter("bias", .tensor),
                OpParameter("mean", .tensor), OpParameter("var", .tensor),
                OpParameter("eps", .double, default: .double(BatchNorm.defaultEpsilon)),
            ],
            build: { args throws(ValueError) in
                try BatchNorm(epsilon: args.double("eps", of: "batch_norm", default: BatchNorm.defaultEpsilon))
            },
            samples: [
                OpSample("images 2×3×2×2", op: try! BatchNorm(), inputs: batchNormInputs([2, 3, 2, 2], seed: 701)),
                OpSample("features 4×3, eps 0.1", op: try! BatchNorm(epsilon: 0.1), inputs: batchNormInputs([4, 3], seed: 711)),
            ]),
    ]
}

// MARK: - builder API

/// Inference batch normalization over axis 1; see `BatchNorm`.
public func batchNorm(_ x: Var, scale: Var, bias: Var, mean: Var, variance: Var, epsilon: Double = BatchNorm.defaultEpsilon) -> Var {
    x.graph.build(makeOp { () throws(ValueError) in try BatchNorm(epsilon: epsilon) }, [x, scale, bias, mean, variance])
}
