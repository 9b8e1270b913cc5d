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

/// The verdict on one checked thing (a node, a leaf, an op sample).
public enum CheckStatus: String, Sendable, Codable {
    /// Every element within tolerance.
    case pass
    /// Within tolerance except at elements where x ± h straddles a declared kink.
    case kink
    /// Some element out of tolerance away from any kink.
    case fail
    /// Not checked (a leaf node has no rule; a constant gets no gradient).
    case skipped
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
    /// x ± h straddles a kink: the two one-sided derivatives follow.
    public var atKink: Bool
    public var leftDerivative: Double?
    public var rightDerivative: Double?

    public init(
        input: Int, inputName: String, index: [Int], outputIndex: [Int]? = nil,
        analytic: Double, numeric: Double, absoluteError: Double, relativeError: Double,
        atKink: Bool = false, leftDerivative: Double? = nil, rightDerivative: Double? = nil
    ) {
        self.input = input
        self.inputName = inputName
        self.index = index
        self.outputIndex = outputIndex
        self.analytic = analytic
        self.numeric = numeric
        self.absoluteError = absoluteError
        self.relativeError = relativeError
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
    /// The largest relative error over all checked elements away from kinks.
    public var maxRelativeError: Double
    public var band: ErrorBand
    /// The worst element (for a failure: the one that failed worst).
    public var worst: ElementComparison?
    /// Elements at kinks (reported, not failed).
    public var kinks: [ElementComparison]
    public var elementsChecked: Int

    public init(
        node: NodeID, name: String, op: String, location: SourceLocation?, status: CheckStatus,
        maxRelativeError: Double, band: ErrorBand, worst: ElementComparison?, kinks: [ElementComparison],
        elementsChecked: Int
    ) {
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

/// Everything a check found. `Codable`: `chainrule check --json` prints it.
public struct CheckReport: Sendable, Codable {
    /// Node-local checks, one per op node, in graph order.
    public var nodes: [NodeCheck]
    /// The first NaN or infinity of the forward pass, if any.
    public var nonFinite: NonFiniteValue?

    public init(nodes: [NodeCheck] = [], nonFinite: NonFiniteValue? = nil) {
        self.nodes = nodes
        self.nonFinite = nonFinite
    }

    /// True when nothing failed and every value was finite.
    public var passed: Bool {
        nonFinite == nil && !nodes.contains { $0.status == .fail }
    }

    /// The node check of `id`, if that node was checked.
    public func node(_ id: NodeID) -> NodeCheck? { nodes.first { $0.node == id } }
}
