import ChainruleCore
import Foundation

/// The gradient checker: every backward rule against finite differences.
///
/// - `rules(ops:options:)` proves each registry op's rule on its samples (full Jacobians).
/// - `operation(_:inputs:options:)` proves a user's own `Operation` in one call.
/// - `graph(_:output:options:)` checks a whole graph: each node's rule at the values
///   it saw (node-local) and d output / d leaf through the whole graph (end-to-end).
public enum GradientCheck {
    /// Checks the backward rule of every op on every one of its samples, against the
    /// full Jacobian by finite differences. An op without samples fails.
    public static func rules(ops: [OpSpec] = Registry.specs, options: CheckOptions = CheckOptions()) -> RuleReport {
        let start = Date()
        var jobs: [(spec: OpSpec, sample: OpSample?)] = []
        for spec in ops {
            if spec.samples.isEmpty { jobs.append((spec, nil)) }
            for sample in spec.samples { jobs.append((spec, sample)) }
        }
        let allJobs = jobs
        let progress = ProgressMeter(enabled: options.progress, total: allJobs.count, label: "checking op samples")
        struct Done: Sendable {
            var checks: [(Int, RuleCheck)]
            var evaluations: Int
        }
        let done = forEachChunk(
            count: allJobs.count, chunkSize: 1, workers: workerCount(options),
            makeWorker: { () -> (Range<Int>) -> Done? in
                { range in
                    var checks: [(Int, RuleCheck)] = []
                    var evaluations = 0
                    for index in range {
                        let (spec, sample) = allJobs[index]
                        guard let sample else {
                            checks.append((index, RuleCheck(
                                op: spec.name, family: spec.family, sample: "(none)", verdict: .failed(
                                    "has no samples: add OpSample entries to its OpSpec so the checker can prove its backward rule"))))
                            continue
                        }
                        let (verdict, count) = checkOperation(
                            sample.op, inputs: sample.inputs, inputNames: inputNames(sample.op, spec: spec, count: sample.inputs.count),
                            options: options, salt: UInt64(index), workers: 1)
                        evaluations += count
                        checks.append((index, RuleCheck(op: spec.name, family: spec.family, sample: sample.label, verdict: verdict)))
                    }
                    progress.advance(by: range.count)
                    return Done(checks: checks, evaluations: evaluations)
                }
            },
            combine: { Done(checks: $0.checks + $1.checks, evaluations: $0.evaluations + $1.evaluations) })
        progress.finish()
        let rules = (done?.checks ?? []).sorted { $0.0 < $1.0 }.map(\.1)
        return RuleReport(
            rules: rules, options: options, forwardEvaluations: done?.evaluations ?? 0,
            seconds: Date().timeIntervalSince(start))
    }

    /// Checks the backward rule of one op — a user's own layer conforming to
    /// `Operation` — at these inputs (named by `inputNames`, else by the op's registry
    /// parameters, else `input 0`, `input 1`, …), against the full Jacobian by finite differences
    /// (or `uᵀJ` for a random u when the Jacobian has more than `options.fullJacobianLimit` entries).
    public static func operation(
        _ op: any ChainruleCore.Operation, inputs: [Tensor], inputNames: [String]? = nil, options: CheckOptions = CheckOptions()
    ) -> RuleCheck {
        let names = inputNames ?? Self.inputNames(op, spec: nil, count: inputs.count)
        let (verdict, _) = checkOperation(
            op, inputs: inputs, inputNames: names, options: options, salt: 0, workers: workerCount(options))
        return RuleCheck(op: op.name, family: op.spec?.family ?? "custom", sample: "given inputs", verdict: verdict)
    }

    /// Checks a graph at its leaves' current values.
    ///
    /// Node-local: every op node's rule at the input values it actually saw, so a
    /// failure names the node, its op, the input, the element and both numbers.
    /// End-to-end: d(sum of `output`)/d(leaf) for every input and param, by
    /// backpropagation against finite differences of the whole graph, where
    /// perturbing a leaf recomputes only the nodes downstream of it.
    /// The graph itself is not changed (the check works on a copy of its nodes).
    ///
    /// Throws when an op refuses its input values (a class label out of range).
    public static func graph(
        _ graph: Graph, output: NodeID, options: CheckOptions = CheckOptions()
    ) throws(GraphError) -> CheckReport {
        let start = Date()
        let snapshot = GraphSnapshot(graph, output: output)
        let values = try snapshot.forwardValues()
        var report = CheckReport(output: output, outputName: graph[output].displayName, options: options)
        report.nonFinite = firstNonFinite(snapshot.nodes, values: values)
        let workers = workerCount(options)

        if options.nodeLocal {
            let opNodes = snapshot.nodes.filter { $0.op != nil }
            let progress = ProgressMeter(enabled: options.progress, total: opNodes.count, label: "node-local check: nodes")
            for node in opNodes {
                let (check, count) = checkNode(node, nodes: snapshot.nodes, values: values, options: options, workers: workers)
                report.nodes.append(check)
                report.forwardEvaluations += count
                progress.advance(by: 1)
            }
            progress.finish()
        }

        if options.endToEnd {
            let (leaves, count) = checkLeaves(
                snapshot, leaves: graph.differentiableLeaves, values: values, nonFinite: report.nonFinite,
                options: options, workers: workers)
            report.leaves = leaves
            report.forwardEvaluations += count
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    // MARK: - Parts

    /// The names of an op's tensor inputs: from its registry parameters, else `input i`.
    static func inputNames(_ op: any ChainruleCore.Operation, spec: OpSpec?, count: Int) -> [String] {
        let parameters = (spec ?? op.spec)?.parameters.filter(\.isTensorInput).map(\.name) ?? []
        return (0..<count).map { $0 < parameters.count ? parameters[$0] : "input \($0)" }
    }

    /// One op at one set of inputs: validated, then compared input by input.
    static func checkOperation(
        _ op: any ChainruleCore.Operation, inputs: [Tensor], inputNames: [String], options: CheckOptions, salt: UInt64,
        workers: Int
    ) -> (UnitVerdict, evaluations: Int) {
        do {
            _ = try op.outputShape(inputs.map(\.shape))
        } catch {
            return (.failed("its sample does not fit its own shape rule: \(error)"), 0)
        }
        do {
            try op.validate(inputs)
        } catch {
            return (.failed("its sample is refused by its own validation: \(error)"), 0)
        }
        let output = op.forward(inputs)
        guard inputs.allSatisfy(\.allFinite), output.allFinite else {
            return (.failed("the output at these inputs is not finite (NaN or infinity): finite differences need finite values"), 1)
        }
        let checked = inputs.indices.filter { op.isDifferentiable(input: $0) }
        let entries = output.count * checked.reduce(0) { $0 + inputs[$1].count }
        let cotangents: JacobianCheck.Cotangents = entries <= options.fullJacobianLimit
            ? .oneHot : .projected(Tensor.randn(output.shape, seed: options.seed &+ salt &+ 0xC0DE))
        let function = Differentiand(
            inputs: inputs, inputNames: inputNames, checkedInputs: checked, output: output,
            makeEvaluator: { OperationEvaluator(op: op, inputs: inputs) },
            pullback: { u in op.backward(inputs, output: output, gradient: u) })
        let (verdicts, evaluations) = JacobianCheck.check(
            function, cotangents: cotangents, options: options, salt: salt, workers: workers, progressLabel: nil)
        let method: ComparisonMethod = if case .oneHot = cotangents { .fullJacobian } else { .projected }
        return (UnitVerdict(verdicts, method: method), evaluations + 1)
    }

    static func checkNode(
        _ node: Node, nodes: [Node], values: [Tensor], options: CheckOptions, workers: Int
    ) -> (NodeCheck, evaluations: Int) {
        let op = node.op!
        let inputs = node.inputs.map { values[$0.index] }
        let skipped = NodeCheck(
            node: node.id, name: node.displayName, op: op.name, location: node.location, status: .skipped,
            maxRelativeError: 0, band: .good, worst: nil, kinks: [], elementsChecked: 0)
        guard inputs.allSatisfy(\.allFinite), values[node.id.index].allFinite,
              node.inputs.indices.contains(where: { op.isDifferentiable(input: $0) })
        else { return (skipped, 0) }
        let names = node.inputs.map { nodes[$0.index].displayName }
        let (verdict, evaluations) = checkOperation(
            op, inputs: inputs, inputNames: names, options: options, salt: UInt64(node.id.index), workers: workers)
        return (NodeCheck(
            node: node.id, name: node.displayName, op: op.name, location: node.location, status: verdict.status,
            maxRelativeError: verdict.maxRelativeError, band: verdict.band, worst: verdict.worst, kinks: verdict.kinks,
            elementsChecked: verdict.elementsChecked, kinkCount: verdict.kinkCount, method: verdict.method), evaluations)
    }

    static func checkLeaves(
        _ snapshot: GraphSnapshot, leaves: [NodeID], values: [Tensor], nonFinite: NonFiniteValue?,
        options: CheckOptions, workers: Int
    ) -> ([LeafCheck], evaluations: Int) {
        let allCones = snapshot.cones(of: leaves)
        func leafCheck(_ leaf: NodeID, _ verdict: UnitVerdict?, projection: ProjectionCheck? = nil) -> LeafCheck {
            let node = snapshot.nodes[leaf.index]
            return LeafCheck(
                leaf: leaf, name: node.displayName, role: node.role, location: node.location,
                status: verdict?.status ?? .skipped, maxRelativeError: verdict?.maxRelativeError ?? 0,
                band: verdict?.band ?? .good, worst: verdict?.worst, kinks: verdict?.kinks ?? [],
                kinkCount: verdict?.kinkCount ?? 0, elementsChecked: verdict?.elementsChecked ?? 0,
                elementCount: node.shape.reduce(1, *), projection: projection)
        }
        // A NaN makes every difference quotient meaningless: report it, check nothing.
        guard nonFinite == nil else { return (leaves.map { leafCheck($0, nil) }, 0) }
        let reaching = leaves.indices.filter { allCones[$0].last == snapshot.output || leaves[$0].index == snapshot.output }
        let checkedLeaves = reaching.map { leaves[$0] }
        let cones = reaching.map { allCones[$0] }
        let outputValue = values[snapshot.output]
        let function = Differentiand(
            inputs: checkedLeaves.map { values[$0.index] }, inputNames: checkedLeaves.map { snapshot.nodes[$0.index].displayName },
            checkedInputs: Array(checkedLeaves.indices), output: outputValue,
            makeEvaluator: { ConeEvaluator(snapshot: snapshot, values: values, leaves: checkedLeaves, cones: cones) },
            pullback: { u in
                let gradients = snapshot.gradients(values: values, seed: u)
                return checkedLeaves.map { gradients[$0.index] }
            })
        let (verdicts, evaluations) = JacobianCheck.check(
            function, cotangents: .projected(Tensor.ones(outputValue.shape)), options: options, salt: 0x5EED,
            workers: workers, progressLabel: "end-to-end check: elements")
        var byLeaf: [NodeID: LeafCheck] = [:]
        for v in verdicts {
            byLeaf[checkedLeaves[v.input]] = leafCheck(
                checkedLeaves[v.input], UnitVerdict([v], method: .projected), projection: v.projection)
        }
        return (leaves.map { byLeaf[$0] ?? leafCheck($0, nil) }, evaluations)
    }

    static func firstNonFinite(_ nodes: [Node], values: [Tensor]) -> NonFiniteValue? {
        for node in nodes {
            let value = values[node.id.index]
            guard let offset = value.data.firstIndex(where: { !$0.isFinite }) else { continue }
            return NonFiniteValue(
                node: node.id, name: node.displayName, op: node.op?.name, location: node.location,
                index: Tensor.index(of: offset, in: value.shape), value: value.data[offset])
        }
        return nil
    }
}

/// The verdict on one checked unit (an op sample, a node, a leaf), from the verdicts on its inputs.
struct UnitVerdict: Sendable {
    var status: CheckStatus
    var maxRelativeError: Double
    var worst: ElementComparison?
    var kinks: [ElementComparison]
    var kinkCount: Int
    var elementsChecked: Int
    var method: ComparisonMethod
    /// Why the unit could not be compared at all.
    var problem: String?

    var band: ErrorBand { ErrorBand(relativeError: maxRelativeError) }

    static func failed(_ problem: String) -> UnitVerdict {
        UnitVerdict(
            status: .fail, maxRelativeError: .infinity, worst: nil, kinks: [], kinkCount: 0, elementsChecked: 0,
            method: .fullJacobian, problem: problem)
    }
}

extension UnitVerdict {
    /// Inputs that passed fast mode's `uᵀJv` count as passed with the projection's error;
    /// the others by their elements.
    init(_ verdicts: [InputVerdict], method: ComparisonMethod) {
        let tally = verdicts.map(\.tally).reduce(ComparisonTally(), ComparisonTally.merged)
        let fastPassed = verdicts.compactMap(\.projection).filter(\.passed)
        var maxRelative = tally.maxRelativeError
        for p in fastPassed { maxRelative = Swift.max(maxRelative, p.relativeError) }
        var status = tally.status
        if status == .skipped && !fastPassed.isEmpty { status = .pass }
        let allFast = !verdicts.isEmpty && verdicts.allSatisfy { $0.projection?.passed ?? false }
        self.init(
            status: status, maxRelativeError: maxRelative, worst: tally.worst, kinks: tally.sortedKinks,
            kinkCount: tally.kinkCount, elementsChecked: tally.checked, method: allFast ? .fast : method, problem: nil)
    }
}

/// The rule check of one op on one sample.
public struct RuleCheck: Sendable, Codable, Equatable {
    public var op: String
    public var family: String
    /// The sample's label, e.g. `"broadcast 2×3 with 3"`.
    public var sample: String
    public var status: CheckStatus
    public var maxRelativeError: Double
    public var band: ErrorBand
    /// The worst Jacobian entry: input, input element, output element, both numbers.
    public var worst: ElementComparison?
    /// Elements whose ± h crosses a kink, the rule value a subgradient (at most 32 kept).
    public var kinks: [ElementComparison]
    public var kinkCount: Int
    public var elementsChecked: Int
    public var method: ComparisonMethod
    /// Why the op could not be compared at all (no samples, a sample its shape rule refuses).
    public var problem: String?

    init(op: String, family: String, sample: String, verdict: UnitVerdict) {
        self.op = op
        self.family = family
        self.sample = sample
        self.status = verdict.status
        self.maxRelativeError = verdict.maxRelativeError
        self.band = verdict.band
        self.worst = verdict.worst
        self.kinks = verdict.kinks
        self.kinkCount = verdict.kinkCount
        self.elementsChecked = verdict.elementsChecked
        self.method = verdict.method
        self.problem = verdict.problem
    }

    public var passed: Bool { status != .fail }
}

/// The rule check of a list of ops. `Encodable`: `chainrule check --ops --json` prints it,
/// with a top-level `"passed"` (see `passed`).
public struct RuleReport: Sendable, Encodable {
    /// One entry per op sample (one failing entry for an op without samples), in registry order.
    public var rules: [RuleCheck]
    public var options: CheckOptions
    public var forwardEvaluations: Int
    public var seconds: Double

    init(rules: [RuleCheck], options: CheckOptions, forwardEvaluations: Int, seconds: Double) {
        self.rules = rules
        self.options = options
        self.forwardEvaluations = forwardEvaluations
        self.seconds = seconds
    }

    private enum CodingKeys: String, CodingKey {
        case passed, rules, options, forwardEvaluations, seconds
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passed, forKey: .passed)
        try c.encode(rules, forKey: .rules)
        try c.encode(options, forKey: .options)
        try c.encode(forwardEvaluations, forKey: .forwardEvaluations)
        try c.encode(seconds, forKey: .seconds)
    }

    public var passed: Bool { rules.allSatisfy(\.passed) }

    /// The op names with at least one failing sample.
    public var failedOps: [String] {
        var seen = Set<String>()
        return rules.filter { !$0.passed }.map(\.op).filter { seen.insert($0).inserted }
    }
}
