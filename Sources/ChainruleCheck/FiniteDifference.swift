import ChainruleCore

/// A finite-difference derivative and what is known of its error.
struct NumericDerivative: Sendable {
    var value: Double
    /// A bound on `|value − f′(x)|`: its truncation, estimated from a second step (Richardson's
    /// tableau, the five-point stencil's two central differences, a central difference's second
    /// step h/2, the one-sided extrapolations at kinks), plus the rounding part. Nil while only
    /// the rounding is known (a central difference from its own two points).
    var error: Double?
    /// The rounding part of `error`: `c·ε·|f| / h`, amplified by the extrapolation.
    var rounding: Double
    /// The step the value was taken with (Richardson: the level it chose).
    var step: Double
    /// Set when the stencil's points on one side left f's domain and the derivative was
    /// extrapolated on the other side alone: +1 from x + h, −1 from x − h.
    var side: Double? = nil
    /// The error bound says when the difference has not converged, but cannot convict a rule
    /// within the tolerance: the one-sided extrapolations of kink arbitration and of a domain's
    /// edge run over halving steps, whose rounding can repeat (`JacobianCheck.secondStepRatios`).
    var withinToleranceOnly = false
    /// Re-estimated at shrinking steps before a conviction (`JacobianCheck.confirmFailure`) without
    /// converging: the value judges nothing, within the tolerance or outside it.
    var oscillates = false

    /// Why an estimate above the tolerance leaves the element unjudged.
    var inconclusiveReason: InconclusiveReason {
        if oscillates { return .oscillation }
        if side != nil { return .undefined }
        guard let error else { return .noise }
        return rounding >= error / 2 ? .noise : .curvature
    }
}

/// Extrapolated finite differences with their error estimates.
enum FiniteDifference {
    /// The relative rounding error assumed for one evaluation of f: `c·ε` with c = 4
    /// (a few roundings of the last operations; long sums round more, but their
    /// errors mostly cancel in f(x + h) − f(x − h)).
    static let roundingFactor = 4.0

    /// Richardson's tableau `T[k][m] = T[k][m−1] + (T[k][m−1] − T[k−1][m−1]) / (2^(order·m) − 1)`
    /// over a series `D_k` taken at steps `h_k = h_0 / 2^k`, whose error expands in powers of
    /// `h^order` (order 2 for central differences, 1 for one-sided ones), as Ridders' method
    /// builds it. An entry's error is estimated from its neighbour of the same order one step
    /// wider, `|T[k][m] − T[k−1][m]|` (a bound: the wider one is the less accurate), plus its
    /// rounding `A_m · rounding_k` (`A_m = Π (2^(order·i) + 1) / (2^(order·i) − 1)`, how the tableau
    /// amplifies noise); the entry with the smallest estimate is returned, so a gentle function
    /// keeps a wide step (little rounding) and a curved one goes deeper. Only entries whose column
    /// converges around them count (their disagreements shrink as the step does); when none does,
    /// the value comes with an infinite error. Non-finite members of the series are skipped from
    /// the start (the widest steps left the domain).
    static func extrapolate(series: [Double], steps: [Double], rounding: [Double], order: Double) -> NumericDerivative {
        guard let first = series.indices.first(where: { k in series[k...].allSatisfy(\.isFinite) }) else {
            return NumericDerivative(value: series.last ?? .nan, error: .infinity, rounding: 0, step: steps.last ?? 0)
        }
        let d = Array(series[first...]), h = Array(steps[first...]), r = Array(rounding[first...])
        guard d.count >= 2 else {
            return NumericDerivative(value: d[0], error: .infinity, rounding: r[0], step: h[0])
        }
        // The tableau's rows, and each entry's disagreement with the entry one step wider.
        var rows = [[d[0]]]
        var differences: [[Double]] = [[]]
        var amplification = [1.0]
        for k in 1..<d.count {
            var row = [d[k]]
            for m in 1...k {
                let factor = pow2(order * Double(m))
                row.append(row[m - 1] + (row[m - 1] - rows[k - 1][m - 1]) / (factor - 1))
                if amplification.count <= m { amplification.append(amplification[m - 1] * (factor + 1) / (factor - 1)) }
            }
            differences.append((0..<k).map { abs(row[$0] - rows[k - 1][$0]) })
            rows.append(row)
        }
        /// Whether column m's disagreement at row k shrinks from the row before or to the row after.
        func shrinks(_ k: Int, _ m: Int) -> Bool {
            let difference = differences[k][m]
            return (k - 1 > m && difference <= differences[k - 1][m]) || (k + 1 < d.count && differences[k + 1][m] <= difference)
        }
        var best = NumericDerivative(value: d[0], error: .infinity, rounding: r[0], step: h[0])
        var unconfirmed = best
        for k in 1..<d.count {
            // The central differences themselves converge at this row: its extrapolations may be trusted.
            let rowConverges = shrinks(k, 0) || differences[k][0] <= 2 * r[k]
            for m in 0..<k {
                let roundingPart = amplification[m] * r[k]
                let difference = differences[k][m]
                let error = difference + roundingPart
                // The estimate holds where the series converges: the disagreements of the entry's
                // column, or of the central differences at its row, shrink as the step does (from
                // the row before or to the row after; by 2^(order·(m+1)) a halving in the asymptotic
                // range, erratically in the rounding's), or they are down to the rounding (the
                // estimated one, or a few units in the last place). Over steps wider than the function's own scale (softplus(1000x) at
                // h = 0.1) they grow instead, and two neighbours' agreement says nothing of f′.
                // A series of two has no third member to confirm with: taken as it stands.
                let confirmed = d.count == 2 || rowConverges || shrinks(k, m) || difference <= 2 * roundingPart
                    || difference <= 16 * Double.ulpOfOne * abs(rows[k][m])
                let candidate = NumericDerivative(value: rows[k][m], error: error, rounding: roundingPart, step: h[k])
                if confirmed && error < best.error! {
                    best = candidate
                } else if !confirmed && error < unconfirmed.error! {
                    unconfirmed = candidate
                }
            }
        }
        // No entry confirmed: the best-looking value, with an unknown (infinite) error.
        guard best.error!.isInfinite, unconfirmed.error!.isFinite else { return best }
        unconfirmed.error = .infinity
        return unconfirmed
    }

    /// Richardson's derivative from `plus[k] = f(x + h/2^k)` and `minus[k] = f(x − h/2^k)` (or
    /// their differences from f(x)), with `scales[k]` the rounding scale of level k's two values:
    /// the size of f, or of the differences themselves when they were propagated op by op
    /// (`Operation.difference`), which is what lets the deep levels keep their digits.
    static func richardson(plus: [Double], minus: [Double], h: Double, scales: [Double]) -> NumericDerivative {
        let steps = plus.indices.map { h / pow2(Double($0)) }
        let series = plus.indices.map { (plus[$0] - minus[$0]) / (2 * steps[$0]) }
        let rounding = steps.indices.map { roundingFactor * Double.ulpOfOne * scales[$0] / steps[$0] }
        return extrapolate(series: series, steps: steps, rounding: rounding, order: 2)
    }

    /// A one-sided derivative from `values[k] = f(x + side·steps[k])` (steps halving, all on one
    /// branch): the secants `side · (f(x + side·t_k) − f(x + side·t_(k+1))) / (t_k − t_(k+1))` of
    /// that branch, extrapolated in powers of t. Secants between the branch's own points, not
    /// quotients against f(x): when the kink lies a hair beside x (a near-tie), f(x) is on the
    /// other branch and `(f(x + t) − f(x)) / t` would carry its offset divided by t.
    static func oneSided(values: [Double], steps: [Double], side: Double, scale: Double) -> NumericDerivative {
        let pairs = 0..<(values.count - 1)
        let series = pairs.map { side * (values[$0] - values[$0 + 1]) / (steps[$0] - steps[$0 + 1]) }
        let widths = pairs.map { steps[$0] - steps[$0 + 1] }
        let rounding = widths.map { 2 * roundingFactor * Double.ulpOfOne * scale / $0 }
        return extrapolate(series: series, steps: pairs.map { steps[$0] }, rounding: rounding, order: 1)
    }

    private static func pow2(_ e: Double) -> Double { Double(sign: .plus, exponent: Int(e), significand: 1) }
}
