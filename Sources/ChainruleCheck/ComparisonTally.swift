import ChainruleCore

/// The running verdict over many element comparisons of one checked thing:
/// how many were compared, the largest relative error, the worst element,
/// the elements at kinks and those that could not be judged, and whether any failed.
struct ComparisonTally: Sendable {
    /// At most this many kink (and inconclusive) elements are kept in a report (the counts are exact).
    static let keptKinks = 32

    var checked = 0
    var failures = 0
    /// The largest relative error over judged elements away from kinks, leaving out
    /// elements where both numbers are below `atol`: their relative error is the
    /// rounding noise of the difference quotient, not a property of the rule.
    var maxRelativeError = 0.0
    var worst: ElementComparison?
    var worstRatio = -Double.infinity
    var kinks: [ElementComparison] = []
    var kinkCount = 0
    var inconclusive: [ElementComparison] = []
    var inconclusiveCount = 0
    /// With `--eps auto`: the smallest and largest step the elements had.
    var steps: StepRange?
    /// Sampled inputs whose projection over every element disagreed.
    var disagreements: [ProjectionDisagreement] = []

    /// Elements whose default step was re-chosen against rounding noise
    /// (`JacobianCheck`'s balanced step), and the range of the steps they took.
    var rechosenCount = 0
    var rechosenSteps: StepRange?

    /// Records an element measured again at a balanced step instead of the default.
    mutating func note(rechosenStep h: Double) {
        rechosenCount += 1
        rechosenSteps = StepRange.union(rechosenSteps, StepRange(smallest: h, largest: h))
    }

    /// Records the step an element was compared with (`--eps auto`).
    mutating func note(step h: Double) {
        steps = StepRange(smallest: Swift.min(steps?.smallest ?? h, h), largest: Swift.max(steps?.largest ?? h, h))
    }

    /// Adds one comparison away from kinks, judged by `JacobianCheck.judge` within `tolerance`
    /// and the rule's own `ruleRounding`. `describe` builds the full record only when it is needed.
    /// `countsAsEntry` is false for the random-projection probe of a full-Jacobian check: its
    /// entries are already counted, and it only speaks when it fails. A number still unresolved
    /// (no truncation estimate) is left unjudged, never convicted.
    mutating func add(
        analytic a: Double, numeric n: NumericDerivative, tolerance: Double, ruleRounding: Double, options: CheckOptions,
        countsAsEntry: Bool = true, describe: () -> ElementComparison
    ) {
        if countsAsEntry { checked += 1 }
        var judgement = JacobianCheck.judge(analytic: a, numeric: n, tolerance: tolerance, ruleRounding: ruleRounding)
        if judgement == .unresolved { judgement = .inconclusive(.noise) }
        if case .inconclusive(let reason) = judgement {
            var comparison = describe()
            comparison.inconclusive = reason
            inconclusiveCount += 1
            if inconclusive.count < Self.keptKinks { inconclusive.append(comparison) }
            return
        }
        if judgement == .fail { failures += 1 }
        // A passing probe says nothing the entries did not: it neither sets the error nor the worst element.
        guard countsAsEntry || judgement == .fail else { return }
        if Swift.max(abs(a), abs(n.value)) >= options.absoluteTolerance || judgement == .fail {
            maxRelativeError = Swift.max(maxRelativeError, relativeError(analytic: a, numeric: n.value))
        }
        let ratio = JacobianCheck.mismatchRatio(analytic: a, numeric: n, tolerance: tolerance, ruleRounding: ruleRounding)
        if ratio > worstRatio {
            worstRatio = ratio
            worst = describe()
        }
    }

    /// Adds an element whose kink could not be isolated: inconclusive, never a failure.
    /// `entries` is how many Jacobian entries it stands for.
    mutating func addInconclusive(_ comparison: ElementComparison, entries: Int) {
        checked += entries
        inconclusiveCount += 1
        if inconclusive.count < Self.keptKinks { inconclusive.append(comparison) }
    }

    /// Adds the entries of one element whose one-sided derivatives differ (each with its ratio
    /// from `CheckOptions.kinkRatio`): the element passes, as one kink reported by the entry with
    /// the largest jump, when every rule value lies between its two sides; otherwise it fails
    /// as its worst entry.
    mutating func addKinkElement(_ entries: [(comparison: ElementComparison, ratio: Double, jump: Double)]) {
        guard !entries.isEmpty else { return }
        checked += entries.count
        let outside = entries.filter { $0.ratio > 1 }
        guard let worstOutside = outside.max(by: { $0.ratio < $1.ratio }) else {
            kinkCount += 1
            let shown = entries.max { $0.jump < $1.jump }!.comparison
            if kinks.count < Self.keptKinks { kinks.append(shown) }
            return
        }
        failures += 1
        maxRelativeError = Swift.max(maxRelativeError, worstOutside.comparison.relativeError)
        if worstOutside.ratio > worstRatio {
            worstRatio = worstOutside.ratio
            worst = worstOutside.comparison
        }
    }

    /// Kinks and inconclusive elements are sorted (`ElementComparison.precedes`) before the
    /// first `keptKinks` are kept, so which ones a report keeps does not depend on which
    /// thread finished first.
    static func merged(_ a: ComparisonTally, _ b: ComparisonTally) -> ComparisonTally {
        var m = a
        m.checked += b.checked
        m.failures += b.failures
        m.maxRelativeError = Swift.max(a.maxRelativeError, b.maxRelativeError)
        if b.worstRatio > a.worstRatio || (b.worstRatio == a.worstRatio && b.worst.map { w in a.worst.map { ElementComparison.precedes(w, $0) } ?? true } == true) {
            m.worstRatio = b.worstRatio
            m.worst = b.worst
        }
        m.kinkCount += b.kinkCount
        m.kinks = Array((a.kinks + b.kinks).sorted(by: ElementComparison.precedes).prefix(keptKinks))
        m.inconclusiveCount += b.inconclusiveCount
        m.steps = StepRange.union(a.steps, b.steps)
        m.rechosenCount += b.rechosenCount
        m.rechosenSteps = StepRange.union(a.rechosenSteps, b.rechosenSteps)
        m.inconclusive = Array((a.inconclusive + b.inconclusive).sorted(by: ElementComparison.precedes).prefix(keptKinks))
        m.disagreements = (a.disagreements + b.disagreements).sorted { $0.input < $1.input }
        return m
    }

    var status: CheckStatus {
        if failures > 0 { return .fail }
        if inconclusiveCount > 0 { return .inconclusive }
        if kinkCount > 0 { return .kink }
        if checked == 0 { return .skipped }
        return .pass
    }
}
