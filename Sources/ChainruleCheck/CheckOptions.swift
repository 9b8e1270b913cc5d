import ChainruleCore
import Foundation

/// The finite-difference formula the checker differentiates with.
public enum Stencil: String, Sendable, Codable, CaseIterable {
    /// `(f(x+h) − f(x−h)) / 2h`: truncation error O(h²), default h = 1e-6.
    case central
    /// `(−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h`: truncation error O(h⁴), so with
    /// its default h = 1e-3 correct rules agree to about 1e-10 relative and tolerances
    /// can be far tighter than the central difference allows.
    case fivePoint = "five-point"
    /// Ridders' adaptive Richardson extrapolation: central differences at h, h/2, … h/32
    /// (12 evaluations), extrapolated in a tableau whose entry with the smallest error
    /// estimate is taken; the estimate (the tableau's disagreement plus rounding) comes with
    /// the number. Default h = 1/8 · max(1, |x|).
    case richardson

    /// The step used when the options give none: the one that balances truncation
    /// against rounding in Float64 (about ε^(1/3) for central, ε^(1/5) for five-point);
    /// Richardson's first, widest step, which it halves five times.
    public var defaultStep: Double {
        switch self {
        case .central: 1e-6
        case .fivePoint: 1e-3
        case .richardson: 0.125
        }
    }

    /// Richardson's tableau has this many levels, two evaluations each.
    static let richardsonLevels = 6

    /// The points `x + offset·h` the formula evaluates, with their weights: for central and
    /// five-point the derivative is `Σ weight · f(x + offset·h) / h`. Richardson's points come
    /// in pairs ±h/2^k (weights unused: `FiniteDifference.richardson` extrapolates them).
    var terms: [(offset: Double, weight: Double)] {
        switch self {
        case .central: [(1, 0.5), (-1, -0.5)]
        case .fivePoint: [(2, -1.0 / 12), (1, 8.0 / 12), (-1, -8.0 / 12), (-2, 1.0 / 12)]
        case .richardson:
            (0..<Self.richardsonLevels).flatMap { k -> [(offset: Double, weight: Double)] in
                let t = 1 / Double(1 << k)
                return [(t, 0), (-t, 0)]
            }
        }
    }

    /// Whether each derivative comes with an estimate of its own error.
    public var estimatesError: Bool { self == .richardson }

    /// Whether the step scales with the element: h·max(1, |x|).
    var scalesStep: Bool { self == .richardson }
}

/// How a check is run: the step, the formula, the tolerances, and how much to check.
///
/// An element passes when `|a − n| ≤ atol + rtol·|n|` (a the backward rule's number,
/// n the finite difference), PyTorch gradcheck's rule with its defaults
/// `atol = 1e-5`, `rtol = 1e-3`.
public struct CheckOptions: Sendable, Codable, Equatable {
    /// The finite-difference step h; `nil` takes the stencil's default (1e-6 central,
    /// 1e-3 five-point, 0.125 Richardson).
    public var step: Double?
    /// `--eps auto`: a step per element chosen from the function's scale there by four pilot
    /// evaluations (see `AutoStep`: h* = (3ε·|f| / |f‴|)^(1/3) for central differences), so
    /// the step balances truncation against rounding element by element. Costs 4 evaluations
    /// an element on top of the stencil's. The elements' reports give the h each had, the
    /// verdicts the range chosen.
    public var autoStep: Bool
    public var stencil: Stencil
    public var absoluteTolerance: Double
    public var relativeTolerance: Double
    /// Compare `uᵀ J v` for random u, v first (one backward, two forward passes per
    /// leaf or input); fall back to the element-by-element check only on a mismatch,
    /// so a failure still names its element.
    public var fast: Bool
    /// Check this many random elements (at least 1) of every leaf or input instead of all of them.
    public var sample: Int? {
        didSet { Self.requireValidSample(sample) }
    }
    /// Seeds the random u, v of fast mode and the sampled elements.
    public var seed: UInt64
    /// Graph checks: run the node-local check (every node's own rule).
    public var nodeLocal: Bool
    /// Graph checks: run the end-to-end check (d output / d leaf through the whole graph).
    public var endToEnd: Bool
    /// Node-local and operation checks compare the full Jacobian (one backward pass
    /// per output element) when it has at most this many entries; above it they
    /// compare `uᵀJ` for a random u, element by element of each input.
    public var fullJacobianLimit: Int
    /// Spread the work over the machine's cores.
    public var parallel: Bool
    /// Write progress to standard error once a check has run longer than a second.
    public var progress: Bool

    public init(
        step: Double? = nil, autoStep: Bool = false, stencil: Stencil = .central, absoluteTolerance: Double = 1e-5,
        relativeTolerance: Double = 1e-3, fast: Bool = false, sample: Int? = nil, seed: UInt64 = 0,
        nodeLocal: Bool = true, endToEnd: Bool = true, fullJacobianLimit: Int = 1 << 16,
        parallel: Bool = true, progress: Bool = false
    ) {
        self.step = step
        self.autoStep = autoStep
        self.stencil = stencil
        self.absoluteTolerance = absoluteTolerance
        self.relativeTolerance = relativeTolerance
        self.fast = fast
        self.sample = sample
        self.seed = seed
        self.nodeLocal = nodeLocal
        self.endToEnd = endToEnd
        self.fullJacobianLimit = fullJacobianLimit
        self.parallel = parallel
        self.progress = progress
        Self.requireValidSample(sample)
    }

    /// Refuses a sample of no elements: it would check nothing and pass.
    private static func requireValidSample(_ sample: Int?) {
        if let sample {
            precondition(sample >= 1, "CheckOptions: sample must be at least 1 element (nil checks every element), got \(sample)")
        }
    }

    /// The step actually used (for an auto or Richardson step, the base that `max(1, |x|)` scales).
    public var effectiveStep: Double { step ?? stencil.defaultStep }

    /// The step for an element whose value is `x` without `--eps auto`: h, or for Richardson
    /// h·max(1, |x|). For central and five-point, whose points are plain Doubles x + offset·h,
    /// the step the stencil can take there (`takenStep`).
    func step(at x: Double) -> Double {
        stencil.scalesStep ? relativeStep(at: x) : Self.takenStep(effectiveStep, at: x)
    }

    /// The step x + h really moves x by, `(x + h) − x`, where it differs from h by more than
    /// 1e-9 of h: at |x| = 10^10 a step of 1e-6 rounds to 1.9e-6, and a quotient divided by
    /// the h asked for would convict a correct rule (below 1e-9 the quotient's own rounding,
    /// ε·|f|/h, is the larger error, and the step asked for is kept). A step below x's
    /// resolution, where x + h is x, becomes one unit in the last place of x.
    static func takenStep(_ h: Double, at x: Double) -> Double {
        guard x.isFinite, h.isFinite else { return h }
        let taken = (x + h) - x
        if taken <= 0 { return x.ulp }
        return abs(taken - h) > 1e-9 * h ? taken : h
    }

    /// Why the step given (`step`) cannot measure a derivative at x (`StepProblem`), with the step
    /// concerned (Richardson's narrowest or widest), or nil. The stencil's default is never too
    /// wide, and where it is below x's resolution (|x| above about 10^10 for 1e-6) it becomes one
    /// unit in the last place of x (`takenStep`): nil; so with `--eps auto`, whose steps stay
    /// within bounds. A few comparisons an element.
    public func stepProblem(at x: Double) -> (problem: StepProblem, step: Double)? {
        guard step != nil, !autoStep, x.isFinite else { return nil }
        let scale = Swift.max(1, abs(x))
        let widest = stencil.scalesStep ? effectiveStep * scale : effectiveStep
        let narrowest = stencil.scalesStep ? widest / Double(1 << (Stencil.richardsonLevels - 1)) : widest
        // Near 0 the rounding floor is that of 1: f's size there is rarely below its change over 1.
        if !(narrowest >= StepProblem.smallestStep) || scale + narrowest == scale || scale - narrowest == scale
            || x + narrowest == x || x - narrowest == x {
            return (.belowResolution, narrowest)
        }
        if widest > scale { return (.tooWide, widest) }
        return nil
    }

    /// `h·max(1, |x|)`: SciPy's relative step, and `--eps auto`'s where its pilot cannot judge.
    func relativeStep(at x: Double) -> Double { effectiveStep * Swift.max(1, abs(x)) }

    private enum CodingKeys: String, CodingKey {
        case step, autoStep, stencil, absoluteTolerance, relativeTolerance, fast, sample, seed, nodeLocal, endToEnd
        case fullJacobianLimit, parallel, progress
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            step: try c.decodeIfPresent(Double.self, forKey: .step),
            autoStep: try c.decodeIfPresent(Bool.self, forKey: .autoStep) ?? false,
            stencil: try c.decode(Stencil.self, forKey: .stencil),
            absoluteTolerance: try c.decode(Double.self, forKey: .absoluteTolerance),
            relativeTolerance: try c.decode(Double.self, forKey: .relativeTolerance),
            fast: try c.decode(Bool.self, forKey: .fast), sample: try c.decodeIfPresent(Int.self, forKey: .sample),
            seed: try c.decode(UInt64.self, forKey: .seed), nodeLocal: try c.decode(Bool.self, forKey: .nodeLocal),
            endToEnd: try c.decode(Bool.self, forKey: .endToEnd),
            fullJacobianLimit: try c.decode(Int.self, forKey: .fullJacobianLimit),
            parallel: try c.decode(Bool.self, forKey: .parallel), progress: try c.decode(Bool.self, forKey: .progress))
    }

    /// Writes `step` as the step actually used (`effectiveStep`), so a report
    /// says which h it ran with even when the default was taken.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(effectiveStep, forKey: .step)
        try c.encode(autoStep, forKey: .autoStep)
        try c.encode(stencil, forKey: .stencil)
        try c.encode(absoluteTolerance, forKey: .absoluteTolerance)
        try c.encode(relativeTolerance, forKey: .relativeTolerance)
        try c.encode(fast, forKey: .fast)
        try c.encodeIfPresent(sample, forKey: .sample)
        try c.encode(seed, forKey: .seed)
        try c.encode(nodeLocal, forKey: .nodeLocal)
        try c.encode(endToEnd, forKey: .endToEnd)
        try c.encode(fullJacobianLimit, forKey: .fullJacobianLimit)
        try c.encode(parallel, forKey: .parallel)
        try c.encode(progress, forKey: .progress)
    }

    /// `|a − n| ≤ atol + rtol·|n|`: PyTorch gradcheck's rule, relative to the finite
    /// difference n (the reference). Not swift-numerics' `isApproximatelyEqual`, which is
    /// symmetric (`≤ max(atol, rtol·max(|a|, |n|))`) and so would let a backward rule that
    /// doubles the gradient pass at rtol ≥ 0.5.
    /// Never true for a non-finite n (its tolerance would be infinite) or a non-finite a.
    public func accepts(analytic a: Double, numeric n: Double) -> Bool {
        a.isFinite && n.isFinite && abs(a - n) <= tolerance(numeric: n)
    }

    /// The tolerance of an element whose finite difference is n: `atol + rtol·|n|`.
    func tolerance(numeric n: Double) -> Double { absoluteTolerance + relativeTolerance * abs(n) }

    /// At a kink any subgradient is right: the rule's value a must lie between the
    /// one-sided derivatives `left` and `right` (each extrapolated to convergence on its own
    /// side), give or take `atol + rtol·max(|left|, |right|)`. Returns how far outside that
    /// interval a is, as a multiple of the tolerance: 0 inside, above 1 for a rule value
    /// no subgradient explains.
    func kinkRatio(analytic a: Double, left: Double, right: Double) -> Double {
        let low = Swift.min(left, right), high = Swift.max(left, right)
        let outside = a < low ? low - a : (a > high ? a - high : 0)
        let ratio = outside / (absoluteTolerance + relativeTolerance * Swift.max(abs(left), abs(right)))
        return ratio.isNaN ? .infinity : ratio
    }

    /// The settings for a report's header:
    /// `central difference, h = 1e-6 · pass when |a − n| ≤ 1e-5 + 1e-3·|n|`.
    public var summary: String {
        let formula = switch stencil {
        case .central: "central difference"
        case .fivePoint: "five-point stencil"
        case .richardson: "Richardson extrapolation (6 levels, adaptive)"
        }
        let step = autoStep
            ? "h per element from 4 pilot evaluations (\(AutoStep.rule(stencil)))"
            : stencil.scalesStep
            ? "h = \(shortNumber(effectiveStep))·max(1, |x|) halved 5 times"
            : "h = \(shortNumber(effectiveStep))"
        var text = "\(formula), \(step) · pass when |a − n| ≤ \(shortNumber(absoluteTolerance)) + \(shortNumber(relativeTolerance))·|n|"
        if let sample { text += " · \(sample) random element\(sample == 1 ? "" : "s") of every leaf and op input with more than \(sample)" }
        if fast { text += " · fast mode (uᵀJv first)" }
        return text
    }
}

/// Why a finite-difference step measures no derivative at an input's value x.
public enum StepProblem: String, Sendable, Codable {
    /// x ± h rounds to x, or max(1, |x|) ± h to max(1, |x|) (h below half a unit in the last place
    /// of either: near 0, f's rounding is rarely finer than at 1), or h is so small that
    /// x ± h and f's changes are subnormal numbers (below `smallestStep`), which have lost
    /// their digits: the difference quotient is 0 or noise, and could pass any rule.
    case belowResolution = "below-resolution"
    /// h is wider than max(1, |x|): x ± h jumps across the function (over its kinks and out of
    /// its domains) and measures a secant; a second step can agree with it (both saturated, as
    /// tanh is) while both miss the derivative, so neither can judge the rule.
    case tooWide = "too-wide"

    /// The smallest step whose changes stay normal numbers: `leastNormalMagnitude / ε` ≈ 1e-292
    /// (f′·h·ε, the rounding of a change f′·h, is then still normal for |f′| ≥ 1).
    public static let smallestStep = Double.leastNormalMagnitude / Double.ulpOfOne

    /// The problem in a sentence's words, for step h at x.
    public func explanation(step h: Double, at x: Double) -> String {
        switch self {
        case .belowResolution:
            h < Self.smallestStep
                ? "the step h = \(shortNumber(h)) is below \(shortNumber(Self.smallestStep)): x ± h and f's changes are subnormal numbers, which have lost their digits"
                : "the step h = \(shortNumber(h)) cannot resolve x = \(formatNumber(x, significant: 17)): x ± h rounds to \(abs(x) >= 1 ? "x" : "x at the resolution of 1") (a unit in the last place is \(shortNumber(Swift.max(1, abs(x)).ulp)))"
        case .tooWide:
            "the step h = \(shortNumber(h)) is wider than max(1, |x|) = \(formatNumber(Swift.max(1, abs(x)), significant: 8)) at x = \(formatNumber(x, significant: 8)): x ± h jumps across the function and measures a secant, not the derivative"
        }
    }
}

/// `1e-6`, `1e-3`, `2.5e-7`, `0.5`: a setting as short as it can be written,
/// powers of ten below 0.01 as `1e-N`; `inf` for an infinite tolerance.
public func shortNumber(_ value: Double) -> String {
    guard value.isFinite else { return formatNumber(value) }
    guard value != 0, abs(value) < 0.01 || abs(value) >= 1e5 else { return String(format: "%g", value) }
    let parts = String(format: "%.6e", value).split(separator: "e")
    var mantissa = String(parts[0])
    while mantissa.contains(".") && (mantissa.hasSuffix("0") || mantissa.hasSuffix(".")) { mantissa.removeLast() }
    return mantissa + "e" + String(Int(parts[1])!)
}

/// CS231n's relative error `|a − n| / max(|a|, |n|, tiny)`; 0 when both are 0.
/// When either number is not finite it is 0 if they are the same infinity, else infinite:
/// a NaN or an infinity is never close to anything else.
public func relativeError(analytic a: Double, numeric n: Double) -> Double {
    if !a.isFinite || !n.isFinite { return a == n ? 0 : .infinity }
    let scale = Swift.max(abs(a), abs(n), Double.leastNormalMagnitude)
    return abs(a - n) / scale
}

extension CheckOptions {
    /// A program check compares every element of tensors up to this size…
    public static let autoSampleThreshold = 2_000
    /// …and this many random elements of each larger leaf or op input
    /// (CS231n's advice for big parameters), unless told otherwise.
    public static let autoSampleSize = 200

    /// These options with `sample` set to `autoSampleSize` when `sample` is
    /// unset and some differentiable leaf or op input of `graph` has more than
    /// `autoSampleThreshold` elements, and a note saying so for the user.
    public func samplingLargeTensors(of graph: Graph) -> (options: CheckOptions, note: String?) {
        guard sample == nil else { return (self, nil) }
        let largest = graph.nodes.map { node in
            node.op == nil
                ? (node.role == .constant ? 0 : Tensor.elementCount(node.shape))
                : node.inputs.map { Tensor.elementCount(graph[$0].shape) }.max() ?? 0
        }.max() ?? 0
        guard largest > CheckOptions.autoSampleThreshold else { return (self, nil) }
        var sampled = self
        sampled.sample = CheckOptions.autoSampleSize
        return (sampled, "the largest tensor has \(largest) elements (more than \(CheckOptions.autoSampleThreshold)): checking \(CheckOptions.autoSampleSize) random elements of every leaf and op input that has more than \(CheckOptions.autoSampleSize), all elements of the others (--sample K to choose K, --every-element for all)")
    }
}
