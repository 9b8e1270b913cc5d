import ChainruleCore

/// The running verdict over many element comparisons of one checked thing:
/// how many were compared, the largest relative error, the worst element,
/// the elements at kinks, and whether any element failed.
struct ComparisonTally: Sendable {
    /// At most this many kink elements are kept in a report (the count is exact).
    static let keptKinks = 32

    var checked = 0
    var failures = 0
    /// The largest relative error over elements away from kinks, leaving out
    /// elements where both numbers are below `atol`: their relative error is the
    /// rounding noise of the difference quotient, not a property of the rule.
    var maxRelativeError = 0.0
    var worst: ElementComparison?
    var worstRatio = -Double.infinity
    var kinks: [ElementComparison] = []
    var kinkCount = 0

    /// Adds one comparison away from kinks. `describe` builds the full record
    /// only when it is needed (it becomes the worst element).
    mutating func add(
        analytic a: Double, numeric n: Double, options: CheckOptions,
        describe: () -> ElementComparison
    ) {
        checked += 1
        if !options.accepts(analytic: a, numeric: n) { failures += 1 }
        if Swift.max(abs(a), abs(n)) >= options.absoluteTolerance || !options.accepts(analytic: a, numeric: n) {
            maxRelativeError = Swift.max(maxRelativeError, relativeError(analytic: a, numeric: n))
        }
        let ratio = options.toleranceRatio(analytic: a, numeric: n)
        if ratio > worstRatio {
            worstRatio = ratio
            worst = describe()
        }
    }

    /// Adds an element whose x ± h straddles a kink, with its one-sided derivatives `sides`
    /// (recorded in the comparison). It passes, as a kink, when the rule's value lies between
    /// them (a subgradient, see `CheckOptions.kinkRatio`); otherwise it fails like any element.
    /// `entries` is how many Jacobian entries the element stands for (its output elements in a
    /// full-Jacobian comparison, 1 for `uᵀJ`), so `checked` counts the same unit as `add`.
    mutating func addKink(_ comparison: ElementComparison, sides: OneSided, entries: Int, options: CheckOptions) {
        var comparison = comparison
        comparison.atKink = true
        comparison.leftDerivative = sides.left
        comparison.rightDerivative = sides.right
        checked += entries
        let ratio = options.kinkRatio(
            analytic: comparison.analytic, numeric: comparison.numeric,
            left: sides.left, right: sides.right, alsoAccepted: sides.secondOrder)
        guard ratio > 1 else {
            kinkCount += 1
            if kinks.count < Self.keptKinks { kinks.append(comparison) }
            return
        }
        failures += 1
        maxRelativeError = Swift.max(maxRelativeError, comparison.relativeError)
        if ratio > worstRatio {
            worstRatio = ratio
            worst = comparison
        }
    }

    static func merged(_ a: ComparisonTally, _ b: ComparisonTally) -> ComparisonTally {
        var m = a
        m.checked += b.checked
        m.failures += b.failures
        m.maxRelativeError = Swift.max(a.maxRelativeError, b.maxRelativeError)
        if b.worstRatio > a.worstRatio {
            m.worstRatio = b.worstRatio
            m.worst = b.worst
        }
        m.kinkCount += b.kinkCount
        m.kinks = Array((a.kinks + b.kinks).prefix(keptKinks))
        return m
    }

    var status: CheckStatus {
        if failures > 0 { return .fail }
        if kinkCount > 0 { return .kink }
        if checked == 0 { return .skipped }
        return .pass
    }

    var band: ErrorBand { ErrorBand(relativeError: maxRelativeError) }

    /// Kinks in a stable order (threads finish in any order): by input, then element.
    var sortedKinks: [ElementComparison] {
        kinks.sorted { a, b in a.input != b.input ? a.input < b.input : a.index.lexicographicallyPrecedes(b.index) }
    }
}
