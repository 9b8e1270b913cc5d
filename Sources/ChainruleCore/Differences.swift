import Foundation

// Difference propagation: a perturbed pass carried as (base value, difference) pairs.
//
// f(x + h) − f(x − h) of a whole program cancels every digit the two values share, so a
// finite difference of a loss of size |f| carries about ε·|f|/h of rounding. Each op's
// difference rule (`Operation.difference`) computes Δout = op(x + Δx) − op(x) in a form
// that does not cancel: linear ops apply themselves to Δ (bias dropped), products use
// Δa·b + (a + Δa)·Δb, elementwise ops accurate identities (exp: e^x·expm1(d), log:
// log1p(d/x), …), log-sum-exp log1p(Σ softmax(x)·expm1(Δ)), and piecewise ops select their
// branch at the perturbed point exactly as `forward` and `branches` do. The difference then
// rounds at its own size, and the difference quotient at about ε·|f′|. An op without a rule
// falls back to forward(x + Δ) − forward(x): correct, only less accurate at that op.

/// What one op's perturbed evaluation gives: the output at the perturbed inputs and its
/// difference from the base output.
public struct OutputChange: Sendable {
    /// `forward(inputs + deltas) − output`.
    public var difference: Tensor
    /// The output at the perturbed inputs: `output + difference` by a difference rule, the
    /// forward itself otherwise.
    public var perturbed: Tensor
    /// The op has a difference rule (the difference is accurate to its own size).
    public var accurate: Bool
}

extension Operation {
    /// The output's change when the inputs move by `deltas` (nil: unmoved) to `perturbed`
    /// (`inputs + deltas`, as the forward pass would see them): by the op's difference rule, or
    /// by subtracting two forwards when it has none.
    public func change(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?], perturbed: [Tensor]) -> OutputChange {
        if let d = difference(inputs, output: output, deltas: deltas) {
            return OutputChange(difference: d, perturbed: output.zipMap(d, +), accurate: true)
        }
        let y = forward(perturbed)
        return OutputChange(difference: y.zipMap(output, -), perturbed: y, accurate: false)
    }
}

extension OpSpec {
    /// Whether the op has a difference rule (read from the op itself, on its first sample).
    public var hasDifferenceRule: Bool {
        guard let sample = samples.first else { return false }
        let output = sample.op.forward(sample.inputs)
        return sample.op.difference(sample.inputs, output: output, deltas: sample.inputs.map { _ in nil }) != nil
    }
}

/// The delta of input `i`, zeros when it does not move.
func delta(_ deltas: [Tensor?], _ i: Int, like x: Tensor) -> Tensor {
    (i < deltas.count ? deltas[i] : nil) ?? Tensor.zeros(x.shape)
}

/// The difference rule of an op linear in all its inputs together (sum, reshape, concat,
/// avgpool): the op applied to the deltas.
func linearDifference(_ op: some Operation, _ inputs: [Tensor], _ deltas: [Tensor?]) -> Tensor {
    op.forward(inputs.indices.map { delta(deltas, $0, like: inputs[$0]) })
}

/// The difference rule of a product `F(a, b)` linear in each of a and b (matmul, conv, linear
/// without its bias): `F(Δa, b) + F(a + Δa, Δb)`, each term rounded at its own size.
func bilinearDifference(
    _ product: ([Tensor]) -> Tensor, a: Tensor, b: Tensor, da: Tensor?, db: Tensor?, outputShape: [Int]
) -> Tensor {
    var total = Tensor.zeros(outputShape)
    if let da { total = product([da, b]) }
    if let db {
        let moved = da.map { a.zipMap($0, +) } ?? a
        total = total.zipMap(product([moved, db]), +)
    }
    return total
}

/// A broadcasting binary op's difference, element by element of the output from
/// `rule(a, b, Δa, Δb, y)`.
func broadcastDifference(
    _ inputs: [Tensor], output: Tensor, deltas: [Tensor?], _ rule: (Double, Double, Double, Double, Double) -> Double
) -> Tensor {
    let shape = output.shape
    let a = inputs[0].broadcast(to: shape).data, b = inputs[1].broadcast(to: shape).data
    let da = delta(deltas, 0, like: inputs[0]).broadcast(to: shape).data
    let db = delta(deltas, 1, like: inputs[1]).broadcast(to: shape).data
    var d = [Double](repeating: 0, count: output.count)
    for i in d.indices where da[i] != 0 || db[i] != 0 { d[i] = rule(a[i], b[i], da[i], db[i], output.data[i]) }
    return Tensor(shape: shape, data: d)
}

/// The difference of a selection (max, max-pool): the element chosen at the perturbed point
/// `x + Δ` (as `forward` chooses it there) against the one chosen at x,
/// `(x[p′] − x[p]) + Δ[p′]`, exact when the choice does not change.
func selectionDifference(_ x: Tensor, _ dx: Tensor, base: [Int], perturbed: [Int], shape: [Int]) -> Tensor {
    var d = [Double](repeating: 0, count: base.count)
    for o in d.indices { d[o] = (x.data[perturbed[o]] - x.data[base[o]]) + dx.data[perturbed[o]] }
    return Tensor(shape: shape, data: d)
}

/// Per row of the last axis, `L = ln Σₖ sₖ·e^(Δₖ) = log1p(Σₖ sₖ·expm1(Δₖ))` with s the row's
/// softmax: how much log Σ e^x moves when x moves by Δ.
func logSumExpDifferences(probabilities s: [Double], deltas d: [Double], rowLength: Int) -> [Double] {
    guard rowLength > 0 else { return [] }
    return stride(from: 0, to: s.count, by: rowLength).map { start in
        var total = 0.0
        for j in start..<(start + rowLength) { total += s[j] * Foundation.expm1(d[j]) }
        return Foundation.log1p(total)
    }
}

/// `max(m + Δm, 0) − max(m, 0)` with the branch taken at `moved` (= m + Δm as the forward
/// computes it): Δm on the positive side, 0 on the other, the value itself across.
func hingeDifference(_ m: Double, _ dm: Double, moved: Double) -> Double {
    switch (moved > 0, m > 0) {
    case (true, true): dm
    case (false, false): 0
    case (true, false): moved
    case (false, true): -m
    }
}
