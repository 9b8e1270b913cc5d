import Foundation

// Activation functions. Piecewise ones declare their branch so the checker
// reports x ± h straddling a kink as a kink, not a failure.

/// σ(x) = 1 / (1 + e⁻ˣ), computed from e^(−|x|) so that it never overflows.
func stableSigmoid(_ x: Double) -> Double {
    x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
}

/// softplus(x) = ln(1 + eˣ), written as ln(1 + e^(−|x|)) + max(x, 0) so
/// that large |x| neither overflows nor loses the small term.
func stableSoftplus(_ x: Double) -> Double {
    Foundation.log1p(Foundation.exp(-Swift.abs(x))) + Swift.max(x, 0)
}

public enum Activation {
    /// relu(x) = max(x, 0) (a NaN stays NaN); its derivative 1 for x > 0, else 0.
    @inline(__always) static func rectified(_ x: Double) -> Double { Swift.max(x, 0) }
    @inline(__always) static func rectifiedSlope(_ x: Double, _ y: Double) -> Double { x > 0 ? 1 : 0 }

    /// relu, with whole-tensor loops: it runs over every unit of a network.
    public static let relu = UnaryElementwise(
        name: "relu",
        f: rectified,
        derivative: rectifiedSlope,
        branch: { $0 > 0 ? 1 : 0 },
        change: { x, _, d in hingeDifference(x, d, moved: x + d) },
        loops: ElementwiseLoops(
            forward: { x, out, count in ElementwiseKernel.map(x, into: out, count: count, rectified) },
            backward: { x, y, g, dx, count in
                ElementwiseKernel.pullback(x: x, y: y, gradient: g, into: dx, count: count, rectifiedSlope)
            }))

    /// σ(x); d/dx = σ(1 − σ). Its difference σ(x + d) − σ(x) = −expm1(−d)·σ(−x)·σ(x + d).
    public static let sigmoid = UnaryElementwise(
        name: "sigmoid", symbol: "σ", f: stableSigmoid, derivative: { _, y in y * (1 - y) },
        change: { x, _, d in -Foundation.expm1(-d) * stableSigmoid(-x) * stableSigmoid(x + d) })

    /// tanh x; d/dx = 1 − tanh²x. Its difference tanh(x + d) − tanh x =
    /// tanh d·(1 − tanh²x) / (1 + tanh x·tanh d), with 1 − tanh²x = 1/cosh²x.
    public static let tanh = UnaryElementwise(
        name: "tanh", f: { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y },
        change: { x, y, d in
            let t = Foundation.tanh(d), c = Foundation.cosh(x)
            return t / (c * c) / (1 + y * t)
        })

    /// softplus(x) = ln(1 + eˣ) without overflow; d/dx = σ(x). Its difference
    /// softplus(x + d) − softplus(x) = log1p(σ(x)·expm1(d)).
    public static let softplus = UnaryElementwise(
        name: "softplus", f: stableSoftplus, derivative: { x, _ in stableSigmoid(x) },
        change: { x, _, d in Foundation.log1p(stableSigmoid(x) * Foundation.expm1(d)) })

    /// The slope of `leaky_relu` for x < 0 when none is given: 0.01, as PyTorch.
    public static let defaultLeakySlope = 0.01

    /// x for x > 0, slope·x otherwise; d/dx = 1 or slope, a kink at 0.
    public static func leakyReLU(slope: Double = defaultLeakySlope) -> UnaryElementwise {
        UnaryElementwise(
            name: "leaky_relu", attributes: ["slope": .double(slope)],
            f: { x in x > 0 ? x : slope * x },
            derivative: { x, _ in x > 0 ? 1 : slope },
            branch: { $0 > 0 ? 1 : 0 },
            change: { x, y, d in
                let moved = x + d
                return (moved > 0) == (x > 0) ? (x > 0 ? d : slope * d) : (moved > 0 ? moved : slope * moved) - y
            })
    }

    /// The scale of `elu`'s negative side when none is given: 1, as PyTorch.
    public static let defaultELUAlpha = 1.0

    /// x for x > 0, alpha·(eˣ − 1) otherwise; d/dx = 1 or alpha·eˣ = out + alpha.
    /// Its slope jumps at 0 from alpha to 1, so x = 0 is a kink unless alpha = 1.
    public static func elu(alpha: Double = defaultELUAlpha) -> UnaryElementwise {
        var sideOfZero: (@Sendable (Double) -> Int)?
        if alpha != 1 { sideOfZero = { x in x > 0 ? 1 : 0 } }
        return UnaryElementwise(
            name: "elu", attributes: ["alpha": .double(alpha)],
            f: { x in x > 0 ? x : alpha * Foundation.expm1(x) },
            derivative: { x, y in x > 0 ? 1 : y + alpha },
            branch: sideOfZero,
            // alpha·(e^(x+d) − eˣ) = alpha·eˣ·expm1(d) on the negative side.
            change: { x, y, d in
                let moved = x + d
                guard (moved > 0) == (x > 0) else { return (moved > 0 ? moved : alpha * Foundation.expm1(moved)) - y }
                return x > 0 ? d : alpha * Foundation.exp(x) * Foundation.expm1(d)
            })
    }
}

// MARK: - softmax, log_softmax

/// The shape rule of ops that act along the last axis.
func lastAxisRule(_ op: String, _ shapes: [[Int]]) throws(ShapeError) -> [Int] {
    let shape = try sameShapeRule(op, shapes)
    guard !shape.isEmpty else {
        throw ShapeError(op: op, shapes: shapes, "normalises along the last axis, and a scalar has no axis; give it a vector or a batch of rows")
    }
    return shape
}

/// Runs `body` on each row (a run of `rowLength` elements) of a buffer.
@inline(__always)
private func forEachRow(count: Int, rowLength: Int, _ body: (Range<Int>) -> Void) {
    guard rowLength > 0 else { return }
    var start = 0
    while start < count {
        body(start..<(start + rowLength))
        start += rowLength
    }
}

/// softmax along the last axis: yⱼ = e^(xⱼ − m) / Σₖ e^(xₖ − m), where m is
/// the row's maximum, so logits of 1000 do not overflow.
///
/// Backward, per row, the full vector–Jacobian product:
/// ∂L/∂xⱼ = yⱼ·(gⱼ − Σₖ gₖ·yₖ).
public struct Softmax: Operation {
    public init() {}
    public var name: String { "softmax" }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try lastAxisRule(name, shapes) }

    public func forward(_ x: [Tensor]) -> Tensor {
        let input = x[0]
        var out = [Double](repeating: 0, count: input.count)
        input.data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                forEachRow(count: x.count, rowLength: input.shape.last!) { row in
                    var rowMax = -Double.infinity
                    for j in row { rowMax = Swift.max(rowMax, x[j]) }
                    var total = 0.0
                    for j in row {
                        y[j] = Foundation.exp(x[j] - rowMax)
                        total += y[j]
                    }
                    let scale = 1 / total
                    for j in row { y[j] *= scale }
                }
            }
        }
        return Tensor(shape: input.shape, data: out)
    }

    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        var dx = [Double](repeating: 0, count: output.count)
        output.data.withUnsafeBufferPointer { y in
            gradient.data.withUnsafeBufferPointer { g in
                dx.withUnsafeMutableBufferPointer { dx in
                    forEachRow(count: y.count, rowLength: output.shape.last!) { row in
                        var dot = 0.0
                        for j in row { dot += g[j] * y[j] }
                        for j in row { dx[j] = y[j] * (g[j] - dot) }
                    }
                }
            }
        }
        return [Tensor(shape: output.shape, data: dx)]
    }

    /// softmax(x + Δ)ⱼ − softmax(x)ⱼ = yⱼ·expm1(Δⱼ − L), L = log1p(Σₖ yₖ·expm1(Δₖ)) per row.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let d = deltas[0] else { return Tensor.zeros(output.shape) }
        let n = output.shape.last!
        let shifts = logSumExpDifferences(probabilities: output.data, deltas: d.data, rowLength: n)
        var dy = [Double](repeating: 0, count: output.count)
        for j in dy.indices { dy[j] = output.data[j] * Foundation.expm1(d.data[j] - shifts[j / n]) }
        return Tensor(shape: output.shape, data: dy)
    }
}

/// log_softmax along the last axis: yⱼ = xⱼ − m − ln Σₖ e^(xₖ − m), with m
/// the row's maximum (stable for large logits, and more accurate than
/// ln(softmax) when a probability underflows).
///
/// Backward, per row: ∂L/∂xⱼ = gⱼ − softmax(x)ⱼ·Σₖ gₖ, with softmax = e^y.
public struct LogSoftmax: Operation {
    public init() {}
    public var name: String { "log_softmax" }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try lastAxisRule(name, shapes) }

    public func forward(_ x: [Tensor]) -> Tensor {
        let input = x[0]
        var out = [Double](repeating: 0, count: input.count)
        input.data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                forEachRow(count: x.count, rowLength: input.shape.last!) { row in
                    var rowMax = -Double.infinity
                    for j in row { rowMax = Swift.max(rowMax, x[j]) }
                    var total = 0.0
                    for j in row { total += Foundation.exp(x[j] - rowMax) }
                    let shift = rowMax + Foundation.log(total)
                    for j in row { y[j] = x[j] - shift }
                }
            }
        }
        return Tensor(shape: input.shape, data: out)
    }

    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        var dx = [Double](repeating: 0, count: output.count)
        output.data.withUnsafeBufferPointer { y in
            gradient.data.withUnsafeBufferPointer { g in
                dx.withUnsafeMutableBufferPointer { dx in
                    forEachRow(count: y.count, rowLength: output.shape.last!) { row in
                        var gradientSum = 0.0
                        for j in row { gradientSum += g[j] }
                        for j in row { dx[j] = g[j] - Foundation.exp(y[j]) * gradientSum }
                    }
                }
            }
        }
        return [Tensor(shape: output.shape, data: dx)]
    }

    /// Δⱼ − L per row, L = log1p(Σₖ softmax(x)ₖ·expm1(Δₖ)) (see `logSumExpDifferences`).
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let d = deltas[0] else { return Tensor.zeros(output.shape) }
        let n = output.shape.last!
        let shifts = logSumExpDifferences(probabilities: output.data.map { Foundation.exp($0) }, deltas: d.data, rowLength: n)
        var dy = [Double](repeating: 0, count: output.count)
        for j in dy.indices { dy[j] = d.data[j] - shifts[j / n] }
        return Tensor(shape: output.shape, data: dy)
    }
}

// MARK: - registry

enum ActivationOps {
    static let family = "activations"

    /// Rows for softmax and log_softmax: a vector, a batch, a 3-D stack, and
    /// logits of 1000 that would overflow eˣ without the max shift.
    static func lastAxisSamples(_ op: any Operation) -> [OpSample] {
        [
            OpSample("vector", op: op, inputs: [Tensor.uniform([4], low: -3, high: 3, seed: 51)]),
            OpSample("batch 2×3", op: op, inputs: [Tensor.uniform([2, 3], low: -3, high: 3, seed: 52)]),
            OpSample("2×2×3", op: op, inputs: [Tensor.uniform([2, 2, 3], low: -3, high: 3, seed: 53)]),
            OpSample("logits near 1000", op: op, inputs: [Tensor([[1000, 1001, 999.5], [-1000, -998, -999]])]),
        ]
    }

    static let specs: [OpSpec] = [
        unarySpec(Activation.relu, family: family, doc: "max(x, 0); gradient 0 for x < 0", kinks: "x = 0",
                  extraSamples: [OpSample("negative and positive", op: Activation.relu, inputs: [Tensor([-1.5, -0.3, 0.4, 2])])]),
        OpSpec(name: "leaky_relu", family: family, doc: "x for x > 0, slope·x otherwise",
               parameters: [OpParameter("x", .tensor), OpParameter("slope", .double, default: .double(Activation.defaultLeakySlope))],
               kinks: "x = 0",
               build: { (args) throws(ValueError) -> any Operation in
                   Activation.leakyReLU(slope: try args.double("slope", of: "leaky_relu", default: Activation.defaultLeakySlope))
               },
               samples: [
                   OpSample("slope 0.01", op: Activation.leakyReLU(), inputs: [Tensor([-1.5, -0.3, 0.4, 2])]),
                   OpSample("slope 0.2, 3×4", op: Activation.leakyReLU(slope: 0.2), inputs: [Tensor.uniform([3, 4], low: -2, high: 2, seed: 54)]),
               ]),
        unarySpec(Activation.sigmoid, family: family, doc: "σ(x) = 1 / (1 + e⁻ˣ), computed without overflow", domain: -6...6),
        unarySpec(Activation.tanh, family: family, doc: "tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)", domain: -3...3),
        unarySpec(Activation.softplus, family: family, doc: "ln(1 + eˣ), computed without overflow; gradient σ(x)",
                  domain: -6...6,
                  extraSamples: [OpSample("large |x|", op: Activation.softplus, inputs: [Tensor([-800, -30, 30, 800])])]),
        OpSpec(name: "elu", family: family, doc: "x for x > 0, alpha·(eˣ − 1) otherwise",
               parameters: [OpParameter("x", .tensor), OpParameter("alpha", .double, default: .double(Activation.defaultELUAlpha))],
               kinks: "x = 0 when alpha ≠ 1",
               build: { (args) throws(ValueError) -> any Operation in
                   Activation.elu(alpha: try args.double("alpha", of: "elu", default: Activation.defaultELUAlpha))
               },
               samples: [
                   OpSample("alpha 1", op: Activation.elu(), inputs: [Tensor.uniform([3, 4], low: -2, high: 2, seed: 55)]),
                   OpSample("alpha 0.5", op: Activation.elu(alpha: 0.5), inputs: [Tensor([-1.5, -0.3, 0.4, 2])]),
               ]),
        OpSpec(name: "softmax", family: family,
               doc: "e^xⱼ / Σₖ e^xₖ along the last axis, shifted by the row max so large logits do not overflow",
               parameters: [OpParameter("x", .tensor)],
               build: { _ in Softmax() }, samples: lastAxisSamples(Softmax())),
        OpSpec(name: "log_softmax", family: family,
               doc: "xⱼ − ln Σₖ e^xₖ along the last axis, shifted by the row max so large logits do not overflow",
               parameters: [OpParameter("x", .tensor)],
               build: { _ in LogSoftmax() }, samples: lastAxisSamples(LogSoftmax())),
    ]
}

// MARK: - builder API

public func relu(_ x: Var) -> Var { x.graph.build(Activation.relu, [x]) }
public func sigmoid(_ x: Var) -> Var { x.graph.build(Activation.sigmoid, [x]) }
public func tanh(_ x: Var) -> Var { x.graph.build(Activation.tanh, [x]) }
public func softplus(_ x: Var) -> Var { x.graph.build(Activation.softplus, [x]) }
public func leakyRelu(_ x: Var, slope: Double = Activation.defaultLeakySlope) -> Var {
    x.graph.build(Activation.leakyReLU(slope: slope), [x])
}
public func elu(_ x: Var, alpha: Double = Activation.defaultELUAlpha) -> Var {
    x.graph.build(Activation.elu(alpha: alpha), [x])
}
/// softmax along the last axis.
public func softmax(_ x: Var) -> Var { x.graph.build(Softmax(), [x]) }
/// log_softmax along the last axis.
public func logSoftmax(_ x: Var) -> Var { x.graph.build(LogSoftmax(), [x]) }
