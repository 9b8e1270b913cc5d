import ChainruleCore
import Foundation

/// `--eps auto`: a step for each element from the function's own scale there.
///
/// Four pilot evaluations at `x ± H`, `x ± 2H` give the third derivative
/// `f‴ ≈ (f(x+2H) − 2f(x+H) + 2f(x−H) − f(x−2H)) / 2H³` and the size `|f|` (the largest over the
/// points and output components, `|u|ᵀ|f|` for a projected check), hence the length over which f
/// bends, `L = (|f| / |f‴|)^(1/3)` (the largest `|f‴|` over the components). The step that balances
/// truncation against rounding is then
/// - central: `h* = (3ε·|f| / |f‴|)^(1/3) = (3ε)^(1/3)·L` (truncation `h²|f‴|/6`, rounding `ε|f|/h`);
/// - five-point: `(45ε/4)^(1/5)·L` (its optimum with `|f⁽⁵⁾|` taken as `|f|/L⁵`);
/// - Richardson: a widest step of `L/8`, which the tableau then halves and chooses from.
///
/// The step never exceeds `2H`, the reach the pilot saw (so it crosses no kink the pilot did not
/// see), with `2H` = 2e-2·max(1, |x|) for central and five-point and Richardson's default widest
/// step 0.125·max(1, |x|); the five-point stencil's never exceeds its default 1e-3·max(1, |x|)
/// (f‴ is only a proxy for its f⁽⁵⁾); and no step falls below 1e-3 of the stencil's default. A pilot that
/// crossed a change of branch or left f's domain cannot judge: that element takes the relative
/// step `h·max(1, |x|)` (h the stencil's default). Cost: 4 evaluations per element, batched with
/// the chunk's others.
enum AutoStep {
    /// The widest step the rule may choose, relative to max(1, |x|); the pilot evaluates at ±half of it and ±all of it.
    static func reach(_ stencil: Stencil) -> Double {
        stencil == .richardson ? Stencil.richardson.defaultStep : 2e-2
    }

    /// The widest step the rule may choose, relative to max(1, |x|): the pilot's reach; for the
    /// five-point stencil no wider than its default 1e-3, since a vanishing f‴ says nothing of
    /// the f⁽⁵⁾ its truncation follows (on a tanh MLP a wider step was 17 times less accurate).
    static func widestStep(_ stencil: Stencil) -> Double {
        stencil == .fivePoint ? Stencil.fivePoint.defaultStep : reach(stencil)
    }

    /// Evaluations the pilot adds per element.
    static let pilotEvaluations = 4

    /// The rule for the report's header.
    static func rule(_ stencil: Stencil) -> String {
        switch stencil {
        case .central: "h = (3ε·|f| / |f‴|)^(1/3)"
        case .fivePoint: "h = (45ε/4)^(1/5)·(|f| / |f‴|)^(1/3)"
        case .richardson: "widest h = (|f| / |f‴|)^(1/3) / 8, halved 5 times"
        }
    }

    /// The step of each element of the chunk, from its pilot points (evaluated as one batch).
    static func steps(
        _ function: Differentiand, evaluator: any PerturbedEvaluator, elements: ArraySlice<(input: Int, element: Int)>,
        projection u: [Double]?, stencil: Stencil
    ) -> [Double] {
        let offsets = [2.0, 1, -1, -2]
        let options = CheckOptions(stencil: stencil)
        var points: [PerturbedPoint] = []
        points.reserveCapacity(elements.count * offsets.count)
        for (i, j) in elements {
            let x0 = function.inputs[i].data[j]
            let half = reach(stencil) * Swift.max(1, abs(x0)) / 2
            for o in offsets { points.append(PerturbedPoint(input: i, element: j, offset: o * half)) }
        }
        let evaluated = evaluator.evaluate(points: points)
        return elements.enumerated().map { n, pair in
            let x0 = function.inputs[pair.input].data[pair.element]
            let mine = Array(evaluated[(n * offsets.count)..<((n + 1) * offsets.count)])
            let fallback = options.relativeStep(at: x0)
            guard mine.allSatisfy({ $0.outputIsFinite && $0.branches == mine[0].branches }) else { return fallback }
            // f − f₀ (propagated when the evaluator does so): the third difference is the same,
            // its rounding smaller.
            let values = mine.map { e in
                let change = e.change(from: function.output.data)
                return u.map { [dot($0, change)] } ?? change
            }
            let sizes = mine.map { e in u.map { [absoluteDot($0, e.output.data)] } ?? e.output.data.map(abs) }
            let half = reach(stencil) * Swift.max(1, abs(x0)) / 2
            var size = 0.0, third = 0.0
            for k in values[0].indices {
                size = Swift.max(size, sizes.reduce(0) { Swift.max($0, $1[k]) })
                let difference = values[0][k] - 2 * values[1][k] + 2 * values[2][k] - values[3][k]
                third = Swift.max(third, abs(difference) / (2 * half * half * half))
            }
            return step(scaleLength: cbrt(size / third), stencil: stencil, x0: x0)
        }
    }

    /// The stencil's step for a function that bends over the length `length` (see the type's rule), within its bounds.
    static func step(scaleLength length: Double, stencil: Stencil, x0: Double) -> Double {
        let widest = widestStep(stencil) * Swift.max(1, abs(x0))
        let smallest = stencil.defaultStep * Swift.max(1, abs(x0)) * 1e-3
        let ideal = switch stencil {
        case .central: cbrt(3 * Double.ulpOfOne) * length
        case .fivePoint: pow(45 * Double.ulpOfOne / 4, 0.2) * length
        case .richardson: length / 8
        }
        // A straight or quadratic f (|f‴| = 0) has an infinite length: the widest step.
        guard !ideal.isNaN else { return widest }
        return Swift.min(widest, Swift.max(smallest, ideal))
    }
}
