import ChainruleCore

/// CS231n's grading of a relative error |a − n| / max(|a|, |n|).
public enum ErrorBand: String, Sendable, Codable, Comparable {
    /// ≤ 1e-7: the rule is right.
    case good
    /// ≤ 1e-4: fine at a kink, suspicious elsewhere.
    case acceptable
    /// ≤ 1e-2: probably wrong.
    case suspicious
    /// > 1e-2: wrong.
    case wrong

    public init(relativeError: Double) {
        if relativeError.isNaN { self = .wrong }
        else if relativeError <= 1e-7 { self = .good }
        else if relativeError <= 1e-4 { self = .acceptable }
        else if relativeError <= 1e-2 { self = .suspicious }
        else { self = .wrong }
    }

    private var rank: Int {
        switch self {
        case .good: 0
        case .acceptable: 1
        case .suspicious: 2
        case .wrong: 3
        }
    }

    public static func < (a: ErrorBand, b: ErrorBand) -> Bool { a.rank < b.rank }
}

/// The verdict on one checked thing (a node, a leaf, an op sample), ordered from
/// least to most telling: skipped < pass < kink < inconclusive < fail (the worst of
/// several is their `max`). Only `fail` fails a check (exit status 1); an inconclusive
/// verdict is reported but exits 0.
public enum CheckStatus: String, Sendable, Codable, Comparable {
    /// Not checked (a leaf node has no rule; a constant gets no gradient).
    case skipped
    /// Every element within tolerance.
    case pass
    /// Within tolerance, with elements where the branch pattern changes at the element
    /// and the rule's value lies between the two one-sided derivatives (a subgradient).
    case kink
    /// No element failed, but some could not be judged: the finite difference's own error
    /// estimate exceeds the tolerance (noise, huge curvature), or a kink could not be isolated.
    case inconclusive
    /// Some element out of tolerance, beyond what the finite difference's error explains.
    case fail

    private var severity: Int {
        switch self {
        case .skipped: 0
        case .pass: 1
        case .kink: 2
        case .inconclusive: 3
        case .fail: 4
        }
    }

    public static func < (a: CheckStatus, b: CheckStatus) -> Bool { a.severity < b.severity }
}

/// Why an element could not be judged (`CheckStatus.inconclusive`).
public enum InconclusiveReason: String, Sendable, Codable {
    /// The rounding of f(x ± h)/h dominates the error estimate: the step is too small for f's scale.
    case noise
    /// The truncation part dominates: the function curves too much over the steps tried.
    case curvature
    /// The branch pattern changes near the element and shrinking the step did not isolate
    /// one kink with converged one-sided derivatives.
    case nearKink = "near-kink"
    /// The difference quotient is NaN or infinite: a step leaves the function's domain
    /// (sqrt just above 0) or f overflows (exp near 710), and the other side's one-sided
    /// difference did not converge either; or a one-sided derivative at a kink is infinite.
    case undefined
    /// x ± h rounds to x, or h is subnormal (`StepProblem.belowResolution`): nothing was evaluated.
    case stepBelowResolution = "step-below-resolution"
    /// h is wider than max(1, |x|) (`StepProblem.tooWide`): nothing was evaluated.
    case stepTooWide = "step-too-wide"
    /// An entry about to fail was re-estimated at shrinking steps (`JacobianCheck.confirmFailure`)
    /// and those estimates did not converge before the rounding took over: f oscillates (sin of
    /// a large argument) or curves faster than the steps resolve, and the coarse steps' agreement
    /// was by accident.
    case oscillation

    init(_ problem: StepProblem) {
        self = switch problem {
        case .belowResolution: .stepBelowResolution
        case .tooWide: .stepTooWide
        }
    }

    /// The reason in a sentence's words.
    public var explanation: String {
        switch self {
        case .noise: "rounding noise: f is large against its change over the step"
        case .curvature: "huge curvature: the extrapolation has not converged"
        case .nearKink: "near a kink: shrinking the step did not isolate it with converged one-sided derivatives"
        case .undefined: "the finite difference is not a finite number: a step leaves the function's domain or overflows, and no one-sided difference converged"
        case .stepBelowResolution: "the step cannot resolve this element: x ± h rounds to x (at the resolution of max(1, |x|)), or h is subnormal"
        case .stepTooWide: "the step is wider than max(1, |x|): x ± h jumps across the function and measures a secant"
        case .oscillation: "oscillates faster than the step: the finite differences did not converge as the step shrank to the rounding limit, so the coarse steps' agreement was by accident"
        }
    }
}

/// One element's comparison: the analytic (backward-rule) number against the
/// numeric (finite-difference) one.
/// Which of an element's perturbed points left f's domain (gave a NaN or an infinity); the
/// report's JSON and text say it as written: `"x + h"`, `"x − h"` or `"x ± h"`.
public enum UndefinedStep: String, Sendable, Codable, CustomStringConvertible {
    case plus = "x + h"
    case minus = "x − h"
    case both = "x ± h"

    /// The side a one-sided difference taken from `side` (+1: from x + h) leaves out.
    init(leftOutFrom side: Double) { self = side > 0 ? .minus : .plus }

    /// The side whose points all stayed in the domain: +1 (x + h) or −1 (x − h); nil for both.
    var finiteSide: Double? {
        switch self {
        case .plus: -1
        case .minus: 1
        case .both: nil
        }
    }

    public var description: String { rawValue }
}

public struct ElementComparison: Sendable, Codable, Equatable {
    /// Which input of the op (node-local / rule checks) or which leaf
    /// (end-to-end), by position and name.
    public var input: Int
    public var inputName: String
    /// The element's multi-index in that input.
    public var index: [Int]
    /// The output element of the Jacobian entry, when the comparison is of
    /// one Jacobian entry rather than a vector–Jacobian product.
    public var outputIndex: [Int]?
    /// The comparison is of `uᵀJ` for the check's seeded random cotangent u (in a
    /// full-Jacobian check, the probe that catches a rule that ignores or misuses its
    /// upstream gradient).
    public var projected: Bool
    public var analytic: Double
    public var numeric: Double
    public var absoluteError: Double
    public var relativeError: Double
    /// The step h the numeric number was taken with (Richardson: the level it chose).
    public var step: Double?
    /// A bound on the numeric number's own error, when the method estimates it
    /// (Richardson, and the one-sided extrapolations at kinks).
    public var errorEstimate: Double?
    /// Set when the element could not be judged.
    public var inconclusive: InconclusiveReason?
    /// The branch pattern changes at the element: the two one-sided derivatives follow. Such an
    /// element passes when `analytic` lies between them, and fails (as the worst element) when not.
    public var atKink: Bool
    public var leftDerivative: Double?
    public var rightDerivative: Double?
    /// When the finite difference is not finite, the perturbed points where the function
    /// gave a NaN or an infinity (they left its domain).
    public var undefinedStep: UndefinedStep?
    /// Those points were on one side only, and the finite difference was taken on the other side
    /// alone (extrapolated one-sided secants): `undefinedStep` names the side left out.
    public var oneSided: Bool?

    /// The absolute error `|a − n|` and the relative error (see `relativeError(analytic:numeric:)`)
    /// follow from `analytic` and `numeric`.
    public init(
        input: Int, inputName: String, index: [Int], outputIndex: [Int]? = nil, projected: Bool = false,
        analytic: Double, numeric: Double, step: Double? = nil, errorEstimate: Double? = nil,
        atKink: Bool = false, leftDerivative: Double? = nil, rightDerivative: Double? = nil,
        undefinedStep: UndefinedStep? = nil, oneSided: Bool? = nil
    ) {
        self.undefinedStep = undefinedStep
        self.oneSided = oneSided
        self.input = input
        self.inputName = inputName
        self.index = index
        self.outputIndex = outputIndex
        self.projected = projected
        self.analytic = analytic
        self.numeric = numeric
        self.step = step
        self.errorEstimate = errorEstimate
        self.absoluteError = abs(analytic - numeric)
        self.relativeError = ChainruleCheck.relativeError(analytic: analytic, numeric: numeric)
        self.atKink = atKink
        self.leftDerivative = leftDerivative
        self.rightDerivative = rightDerivative
    }

    /// Kinks in a stable order: by input, then element, then output element.
    static func precedes(_ a: ElementComparison, _ b: ElementComparison) -> Bool {
        if a.input != b.input { return a.input < b.input }
        if a.index != b.index { return a.index.lexicographicallyPrecedes(b.index) }
        return (a.outputIndex ?? []).lexicographicallyPrecedes(b.outputIndex ?? [])
    }
}

/// What a backward rule must do beyond matching the Jacobian, as PyTorch's gradcheck and
/// ChainRulesTestUtils probe it.
public enum RuleProbe: String, Sendable, Codable {
    /// One gradient per input, each shaped like its input.
    case shape
    /// `backward(α·u) = α·backward(u)`: linear in the upstream gradient (a rule that ignores,
    /// squares or offsets `grad` is not).
    case linearity
    /// `backward(0) = 0`.
    case zeroCotangent = "zero cotangent"
    /// Two calls with the same arguments agree exactly.
    case determinism
    /// The inputs, and the forward at them, are the same after the backward ran.
    case mutation
}

/// A probe the rule failed, with the input and the evidence.
public struct ProbeFailure: Sendable, Codable, Equatable {
    public var probe: RuleProbe
    public var input: Int
    public var inputName: String
    /// The first offending element, when the probe compares numbers.
    public var index: [Int]?
    /// What was found, in words (`"backward(2.5·u) gives 0.59 where 2.5·backward(u) is 1.48"`).
    public var detail: String

    public init(probe: RuleProbe, input: Int, inputName: String, index: [Int]? = nil, detail: String) {
        self.probe = probe
        self.input = input
        self.inputName = inputName
        self.index = index
        self.detail = detail
    }
}

/// A sampled input whose `uᵀ J v` over all its elements disagreed with the rule: some element
/// outside the sample is wrong. Bisection over v's elements (`located`) names it.
public struct ProjectionDisagreement: Sendable, Codable, Equatable {
    public var input: Int
    public var inputName: String
    public var elementCount: Int
    /// The elements compared one by one (multi-indices, in order).
    public var sampled: [[Int]]
    /// `uᵀ J v` by the rule and by finite differences along v, with the latter's error bound.
    public var analytic: Double
    public var numeric: Double
    public var errorEstimate: Double?
    /// The element the disagreement was narrowed to (then compared like the sampled ones), if found.
    public var located: [Int]?

    public init(
        input: Int, inputName: String, elementCount: Int, sampled: [[Int]], analytic: Double, numeric: Double,
        errorEstimate: Double?, located: [Int]?
    ) {
        self.input = input
        self.inputName = inputName
        self.elementCount = elementCount
        self.sampled = sampled
        self.analytic = analytic
        self.numeric = numeric
        self.errorEstimate = errorEstimate
        self.located = located
    }
}

/// The smallest and largest step `--eps auto` chose over a verdict's elements.
public struct StepRange: Sendable, Codable, Equatable {
    public var smallest: Double
    public var largest: Double

    /// The range covering both (either may be absent).
    static func union(_ a: StepRange?, _ b: StepRange?) -> StepRange? {
        guard let a else { return b }
        guard let b else { return a }
        return StepRange(smallest: Swift.min(a.smallest, b.smallest), largest: Swift.max(a.largest, b.largest))
    }
}

/// How many elements had their default step chosen again against rounding noise, and the
/// range of the steps they took.
public struct RechosenSteps: Sendable, Codable, Equatable {
    public var elements: Int
    public var range: StepRange

    static func union(_ a: RechosenSteps?, _ b: RechosenSteps?) -> RechosenSteps? {
        guard let a else { return b }
        guard let b else { return a }
        return RechosenSteps(elements: a.elements + b.elements, range: StepRange.union(a.range, b.range)!)
    }
}

/// The verdict on one checked unit (an op sample, a node, a leaf): the one type that
/// `NodeCheck`, `LeafCheck` and `RuleCheck` embed.
public struct CheckVerdict: Sendable, Codable, Equatable {
    public var status: CheckStatus
    /// The largest relative error over the judged elements away from kinks, leaving out
    /// passing elements where both numbers are below `atol` (there the relative error
    /// measures the difference quotient's rounding, not the rule).
    public var maxRelativeError: Double
    public var band: ErrorBand
    /// The worst element (for a failure: the one that failed worst), ranked by
    /// `|a − n| / (atol + rtol·|n|)`.
    public var worst: ElementComparison?
    /// Elements at kinks whose rule value is a subgradient (at most 32 kept, sorted by
    /// input and element; see `kinkCount`).
    public var kinks: [ElementComparison]
    /// How many elements were at kinks.
    public var kinkCount: Int
    /// Elements that could not be judged, with their reasons (at most 32 kept, sorted).
    public var inconclusive: [ElementComparison]
    public var inconclusiveCount: Int
    /// Jacobian entries (or `uᵀJ` entries) compared.
    public var elementsChecked: Int
    /// How many elements (or kink elements) failed; `worst` is the worst of them.
    public var failedElements: Int
    /// How the rule was compared: the full Jacobian, or `uᵀJ` for a random u when the Jacobian is large.
    public var method: ComparisonMethod
    /// The probes beyond the Jacobian that the rule failed (see `RuleProbe`).
    public var probeFailures: [ProbeFailure]
    /// Sampled inputs whose `uᵀ J v` over every element disagreed (see `ProjectionDisagreement`);
    /// nil when none did.
    public var projectionDisagreements: [ProjectionDisagreement]?
    /// Why the unit could not be compared at all (no samples, a sample its shape rule refuses).
    public var problem: String?
    /// With `--eps auto`: the range of the steps chosen for the elements (each element's own
    /// is its comparison's `step`).
    public var steps: StepRange?
    /// Elements where rounding noise swamped the default step's difference and the step was
    /// chosen again as `--eps auto` chooses it (nil when none), with the range of those steps.
    public var rechosenSteps: RechosenSteps?

    public init(
        status: CheckStatus, maxRelativeError: Double = 0, worst: ElementComparison? = nil,
        kinks: [ElementComparison] = [], kinkCount: Int? = nil, inconclusive: [ElementComparison] = [],
        inconclusiveCount: Int? = nil, elementsChecked: Int = 0, failedElements: Int = 0, method: ComparisonMethod = .fullJacobian,
        probeFailures: [ProbeFailure] = [], projectionDisagreements: [ProjectionDisagreement] = [], problem: String? = nil,
        steps: StepRange? = nil, rechosenSteps: RechosenSteps? = nil
    ) {
        self.projectionDisagreements = projectionDisagreements.isEmpty ? nil : projectionDisagreements
        self.status = status
        self.maxRelativeError = maxRelativeError
        self.band = ErrorBand(relativeError: maxRelativeError)
        self.worst = worst
        self.kinks = kinks
        self.kinkCount = kinkCount ?? kinks.count
        self.inconclusive = inconclusive
        self.inconclusiveCount = inconclusiveCount ?? inconclusive.count
        self.elementsChecked = elementsChecked
        self.failedElements = failedElements
        self.method = method
        self.probeFailures = probeFailures
        self.problem = problem
        self.steps = steps
        self.rechosenSteps = rechosenSteps
    }

    /// Nothing was checked.
    public static let skipped = CheckVerdict(status: .skipped)

    /// A unit that could not be compared at all.
    static func failed(_ problem: String) -> CheckVerdict {
        CheckVerdict(status: .fail, maxRelativeError: .infinity, problem: problem)
    }
}

/// The check of one node of a graph (node-local: its own rule at the values it saw).
/// Its verdict's fields read as its own (`check.status`, `check.worst`).
@dynamicMemberLookup
public struct NodeCheck: Sendable, Codable, Equatable {
    public var node: NodeID
    public var name: String
    public var op: String
    public var location: SourceLocation?
    public var verdict: CheckVerdict

    public init(node: NodeID, name: String, op: String, location: SourceLocation?, verdict: CheckVerdict) {
        self.node = node
        self.name = name
        self.op = op
        self.location = location
        self.verdict = verdict
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<CheckVerdict, T>) -> T {
        get { verdict[keyPath: path] }
        set { verdict[keyPath: path] = newValue }
    }
}

/// How a backward rule was compared with finite differences.
public enum ComparisonMethod: String, Sendable, Codable {
    /// Every Jacobian entry, from one backward pass per output element.
    case fullJacobian = "full Jacobian"
    /// `uᵀJ` for a random cotangent u, element by element of each input.
    case projected = "uᵀJ"
    /// Fast mode's `uᵀ J v` alone (it passed, so no element was compared).
    case fast = "uᵀJv"
}

/// A NaN or infinity in a forward pass, pinned to the first node that made it.
public struct NonFiniteValue: Sendable, Codable, Equatable {
    public var node: NodeID
    public var name: String
    public var op: String?
    public var location: SourceLocation?
    public var index: [Int]
    public var value: Double

    public init(node: NodeID, name: String, op: String?, location: SourceLocation?, index: [Int], value: Double) {
        self.node = node
        self.name = name
        self.op = op
        self.location = location
        self.index = index
        self.value = value
    }
}

extension NonFiniteValue: CustomStringConvertible {
    /// `leaf x (p.grad:1:1) holds NaN at element [1]` or `node y (exp) (p.grad:2:5) produced inf at element []`.
    public var description: String {
        let location = location.map { " (\($0))" } ?? ""
        let what = op.map { "node \(name) (\($0))\(location) produced" } ?? "leaf \(name)\(location) holds"
        return "\(what) \(spelled(value)) at element \(describeIndex(index))"
    }
}

/// A step that resolves none of the elements a check would compare (`StepProblem`): the first
/// of them, by node and element.
public struct UnresolvedStep: Sendable, Codable, Equatable, CustomStringConvertible {
    public var problem: StepProblem
    /// The step concerned (Richardson's narrowest or widest at that element).
    public var step: Double
    public var value: Double
    public var name: String
    public var index: [Int]

    public var description: String {
        "\(problem.explanation(step: step, at: value)) — at \(name) element \(describeIndex(index)), and no element checked fares better"
    }
}

/// Why a graph is not checked at all: bad input, not a verdict on a rule (`GradientCheck.refusal`).
public enum CheckRefusal: Sendable, Equatable, CustomStringConvertible {
    case nonFinite(NonFiniteValue)
    case unresolvedStep(UnresolvedStep)

    public var description: String {
        switch self {
        case .nonFinite(let bad):
            "\(bad): finite differences need finite values, so no rule can be checked at this point (give finite leaves, or values where every op stays finite)"
        case .unresolvedStep(let step):
            "\(step); \(step.problem == .tooWide ? "give a smaller step" : "give a larger step") (the default is \(shortNumber(Stencil.central.defaultStep)) for central differences)"
        }
    }
}

/// The end-to-end check of one leaf: d(output)/d(leaf) by backpropagation
/// through the whole graph against finite differences of the whole graph.
/// Its verdict's fields read as its own (`check.status`, `check.worst`).
@dynamicMemberLookup
public struct LeafCheck: Sendable, Codable, Equatable {
    public var leaf: NodeID
    public var name: String
    public var role: NodeRole
    public var location: SourceLocation?
    /// The leaf's size (more than `elementsChecked` when sampling).
    public var elementCount: Int
    /// Fast mode's `uᵀ J v` comparison; when it failed, the elements were checked too.
    public var projection: ProjectionCheck?
    public var verdict: CheckVerdict

    public init(
        leaf: NodeID, name: String, role: NodeRole, location: SourceLocation?, elementCount: Int,
        projection: ProjectionCheck?, verdict: CheckVerdict
    ) {
        self.leaf = leaf
        self.name = name
        self.role = role
        self.location = location
        self.elementCount = elementCount
        self.projection = projection
        self.verdict = verdict
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<CheckVerdict, T>) -> T {
        get { verdict[keyPath: path] }
        set { verdict[keyPath: path] = newValue }
    }
}

/// Everything a check found. `Codable`: `chainrule check --json` prints it, with a
/// top-level `"passed"` (see `passed`) and `"formatVersion"` that decoding ignores.
public struct CheckReport: Sendable, Codable {
    /// The version of the JSON layout: 2 since verdicts are nested (`"verdict": {…}`) and
    /// carry inconclusive elements, probe failures and error estimates.
    public static let formatVersion = 2

    /// Node-local checks, one per op node, in graph order.
    public var nodes: [NodeCheck]
    /// The first NaN or infinity of the forward pass, if any.
    public var nonFinite: NonFiniteValue?
    /// End-to-end checks, one per differentiable leaf (inputs and params), in graph order.
    public var leaves: [LeafCheck]
    /// The node differentiated in the end-to-end check.
    public var output: NodeID?
    /// That node's name (its `displayName`).
    public var outputName: String?
    /// The settings the check ran with.
    public var options: CheckOptions?
    /// Forward evaluations done: op forwards (node-local) plus cone recomputes (end-to-end).
    public var forwardEvaluations: Int
    /// Wall-clock time of the check.
    public var seconds: Double
    /// What the caller told the user alongside the report (that large tensors were
    /// sampled, where a failing custom rule is written), one sentence each.
    public var notes: [String]
    /// Why the end-to-end check could not run (a rule whose gradient has the wrong shape
    /// breaks backpropagation through the whole graph).
    public var endToEndProblem: String?

    public init(
        nodes: [NodeCheck] = [], nonFinite: NonFiniteValue? = nil, leaves: [LeafCheck] = [],
        output: NodeID? = nil, outputName: String? = nil, options: CheckOptions? = nil, forwardEvaluations: Int = 0,
        seconds: Double = 0, notes: [String] = [], endToEndProblem: String? = nil
    ) {
        self.endToEndProblem = endToEndProblem
        self.nodes = nodes
        self.nonFinite = nonFinite
        self.leaves = leaves
        self.output = output
        self.outputName = outputName
        self.options = options
        self.forwardEvaluations = forwardEvaluations
        self.seconds = seconds
        self.notes = notes
    }

    private enum CodingKeys: String, CodingKey {
        case formatVersion, passed, nodes, nonFinite, leaves, output, outputName, options, forwardEvaluations, seconds, notes
        case endToEndProblem
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            nodes: try c.decode([NodeCheck].self, forKey: .nodes),
            nonFinite: try c.decodeIfPresent(NonFiniteValue.self, forKey: .nonFinite),
            leaves: try c.decode([LeafCheck].self, forKey: .leaves),
            output: try c.decodeIfPresent(NodeID.self, forKey: .output),
            outputName: try c.decodeIfPresent(String.self, forKey: .outputName),
            options: try c.decodeIfPresent(CheckOptions.self, forKey: .options),
            forwardEvaluations: try c.decode(Int.self, forKey: .forwardEvaluations),
            seconds: try c.decode(Double.self, forKey: .seconds),
            notes: try c.decodeIfPresent([String].self, forKey: .notes) ?? [],
            endToEndProblem: try c.decodeIfPresent(String.self, forKey: .endToEndProblem))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.formatVersion, forKey: .formatVersion)
        try c.encode(passed, forKey: .passed)
        try c.encode(nodes, forKey: .nodes)
        try c.encodeIfPresent(nonFinite, forKey: .nonFinite)
        try c.encode(leaves, forKey: .leaves)
        try c.encodeIfPresent(output, forKey: .output)
        try c.encodeIfPresent(outputName, forKey: .outputName)
        try c.encodeIfPresent(options, forKey: .options)
        try c.encode(forwardEvaluations, forKey: .forwardEvaluations)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(notes, forKey: .notes)
        try c.encodeIfPresent(endToEndProblem, forKey: .endToEndProblem)
    }

    /// True when no node and no leaf failed, every value was finite and the end-to-end
    /// check could run. Inconclusive verdicts do not fail a check.
    public var passed: Bool {
        nonFinite == nil && endToEndProblem == nil && !nodes.contains { $0.status == .fail }
            && !leaves.contains { $0.status == .fail }
    }

    /// Some node or leaf could not be judged (and none failed, if `passed`).
    public var hasInconclusive: Bool {
        nodes.contains { $0.status == .inconclusive } || leaves.contains { $0.status == .inconclusive }
    }

    /// The node check of `id`, if that node was checked.
    public func node(_ id: NodeID) -> NodeCheck? { nodes.first { $0.node == id } }

    /// With `--eps auto`: the range of steps chosen over every node and leaf.
    public var steps: StepRange? {
        (nodes.map(\.verdict.steps) + leaves.map(\.verdict.steps)).reduce(nil, StepRange.union)
    }

    /// Elements whose default step was chosen again against rounding noise, over every node and leaf.
    public var rechosenSteps: RechosenSteps? {
        (nodes.map(\.verdict.rechosenSteps) + leaves.map(\.verdict.rechosenSteps)).reduce(nil, RechosenSteps.union)
    }

    /// The end-to-end check of leaf `id`, if that leaf was checked.
    public func leaf(_ id: NodeID) -> LeafCheck? { leaves.first { $0.leaf == id } }
}
