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
/// least to most telling: skipped < pass < kink < fail (the worst of several is their `max`).
public enum CheckStatus: String, Sendable, Codable, Comparable {
    /// Not checked (a leaf node has no rule; a constant gets no gradient).
    case skipped
    /// Every element within tolerance.
    case pass
    /// Within tolerance, with elements where x ± h straddles a declared kink whose
    /// rule value lies between the two one-sided derivatives (a subgradient).
    case kink
    /// Some element out of tolerance away from any kink.
    case fail

    private var severity: Int {
        switch self {
        case .skipped: 0
        case .pass: 1
        case .kink: 2
        case .fail: 3
        }
    }

    public static func < (a: CheckStatus, b: CheckStatus) -> Bool { a.severity < b.severity }
}

/// One element's comparison: the analytic (backward-rule) number against the
/// numeric (finite-difference) one.
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
    public var analytic: Double
    public var numeric: Double
    public var absoluteError: Double
    public var relativeError: Double
    /// x ± h straddles a kink: the two one-sided derivatives follow. Such an element
    /// passes when `analytic` lies between them, and fails (as the worst element) when not.
    public var atKink: Bool
    public var leftDerivative: Double?
    public var rightDerivative: Double?
    /// When the finite difference is not finite, the perturbed points where the function
    /// gave a NaN or an infinity (they left its domain): `"x + h"`, `"x − h"` or `"x ± h"`.
    public var undefinedStep: String?

    /// The absolute error `|a − n|` and the relative error (see `relativeError(analytic:numeric:)`)
    /// follow from `analytic` and `numeric`.
    public init(
        input: Int, inputName: String, index: [Int], outputIndex: [Int]? = nil,
        analytic: Double, numeric: Double,
        atKink: Bool = false, leftDerivative: Double? = nil, rightDerivative: Double? = nil,
        undefinedStep: String? = nil
    ) {
        self.undefinedStep = undefinedStep
        self.input = input
        self.inputName = inputName
        self.index = index
        self.outputIndex = outputIndex
        self.analytic = analytic
        self.numeric = numeric
        self.absoluteError = abs(analytic - numeric)
        self.relativeError = ChainruleCheck.relativeError(analytic: analytic, numeric: numeric)
        self.atKink = atKink
        self.leftDerivative = leftDerivative
        self.rightDerivative = rightDerivative
    }
}

/// The check of one node of a graph (node-local: its own rule at the values it saw).
public struct NodeCheck: Sendable, Codable, Equatable {
    public var node: NodeID
    public var name: String
    public var op: String
    public var location: SourceLocation?
    public var status: CheckStatus
    /// The largest relative error over all checked elements away from kinks, leaving
    /// out passing elements where both numbers are below `atol` (there the relative
    /// error measures the difference quotient's rounding, not the rule).
    public var maxRelativeError: Double
    public var band: ErrorBand
    /// The worst element (for a failure: the one that failed worst), ranked by
    /// `|a − n| / (atol + rtol·|n|)`.
    public var worst: ElementComparison?
    /// Elements at kinks whose rule value is a subgradient (reported, not failed; at most
    /// 32 kept, see `kinkCount`).
    public var kinks: [ElementComparison]
    public var elementsChecked: Int
    /// How many elements were at kinks (`kinks` keeps at most 32 of them).
    public var kinkCount: Int
    /// How the rule was compared: the full Jacobian, or `uᵀJ` for a random u when the Jacobian is large.
    public var method: ComparisonMethod

    public init(
        node: NodeID, name: String, op: String, location: SourceLocation?, status: CheckStatus,
        maxRelativeError: Double, band: ErrorBand, worst: ElementComparison?, kinks: [ElementComparison],
        elementsChecked: Int, kinkCount: Int? = nil, method: ComparisonMethod = .fullJacobian
    ) {
        self.kinkCount = kinkCount ?? kinks.count
        self.method = method
        self.node = node
        self.name = name
        self.op = op
        self.location = location
        self.status = status
        self.maxRelativeError = maxRelativeError
        self.band = band
        self.worst = worst
        self.kinks = kinks
        self.elementsChecked = elementsChecked
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

/// The end-to-end check of one leaf: d(output)/d(leaf) by backpropagation
/// through the whole graph against finite differences of the whole graph.
public struct LeafCheck: Sendable, Codable, Equatable {
    public var leaf: NodeID
    public var name: String
    public var role: NodeRole
    public var location: SourceLocation?
    public var status: CheckStatus
    /// The largest relative error over checked elements away from kinks.
    public var maxRelativeError: Double
    public var band: ErrorBand
    /// The worst element (for a failure: the one that failed worst).
    public var worst: ElementComparison?
    /// Elements whose ± h crosses a kink of some node downstream, the rule value a subgradient (at most 32 kept).
    public var kinks: [ElementComparison]
    /// How many elements were at kinks (all of them, not only those kept).
    public var kinkCount: Int
    public var elementsChecked: Int
    /// The leaf's size (more than `elementsChecked` when sampling).
    public var elementCount: Int
    /// Fast mode's `uᵀ J v` comparison; when it failed, the elements were checked too.
    public var projection: ProjectionCheck?

    public init(
        leaf: NodeID, name: String, role: NodeRole, location: SourceLocation?, status: CheckStatus,
        maxRelativeError: Double, band: ErrorBand, worst: ElementComparison?, kinks: [ElementComparison],
        kinkCount: Int, elementsChecked: Int, elementCount: Int, projection: ProjectionCheck?
    ) {
        self.leaf = leaf
        self.name = name
        self.role = role
        self.location = location
        self.status = status
        self.maxRelativeError = maxRelativeError
        self.band = band
        self.worst = worst
        self.kinks = kinks
        self.kinkCount = kinkCount
        self.elementsChecked = elementsChecked
        self.elementCount = elementCount
        self.projection = projection
    }
}

/// Everything a check found. `Codable`: `chainrule check --json` prints it, with a
/// top-level `"passed"` (see `passed`) that decoding ignores.
public struct CheckReport: Sendable, Codable {
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

    public init(
        nodes: [NodeCheck] = [], nonFinite: NonFiniteValue? = nil, leaves: [LeafCheck] = [],
        output: NodeID? = nil, outputName: String? = nil, options: CheckOptions? = nil, forwardEvaluations: Int = 0,
        seconds: Double = 0, notes: [String] = []
    ) {
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
        case passed, nodes, nonFinite, leaves, output, outputName, options, forwardEvaluations, seconds, notes
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
            notes: try c.decodeIfPresent([String].self, forKey: .notes) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
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
    }

    /// True when no node and no leaf failed and every value was finite.
    public var passed: Bool {
        nonFinite == nil && !nodes.contains { $0.status == .fail } && !leaves.contains { $0.status == .fail }
    }

    /// The node check of `id`, if that node was checked.
    public func node(_ id: NodeID) -> NodeCheck? { nodes.first { $0.node == id } }

    /// The end-to-end check of leaf `id`, if that leaf was checked.
    public func leaf(_ id: NodeID) -> LeafCheck? { leaves.first { $0.leaf == id } }
}
