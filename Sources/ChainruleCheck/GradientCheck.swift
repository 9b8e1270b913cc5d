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
                                op: spec.name, family: spec.family, sample: "(none)", verdict: CheckVerdict.failed(
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
        // Fast mode: a few whole-graph passes first (`FastGraphCheck`); what they settle is not checked again.
        // Its whole-graph projections would carry the noise of any element the step cannot resolve.
        let resolvesAll = !options.fast || !values.contains { $0.data.contains { options.stepProblem(at: $0) != nil } }
        let fast = options.fast && report.nonFinite == nil && resolvesAll ? FastGraphCheck(snapshot, values: values, options: options) : nil
        report.forwardEvaluations += fast?.evaluations ?? 0

        if options.nodeLocal {
            let opNodes = snapshot.nodes.filter { $0.op != nil }
            let progress = ProgressMeter(enabled: options.progress, total: opNodes.count, label: "node-local check: nodes")
            var elementOptions = options
            elementOptions.fast = false
            for node in opNodes {
                if let projection = fast?.passedNodes[node.id.index] {
                    report.nodes.append(NodeCheck(
                        node: node.id, name: node.displayName, op: node.op!.name, location: node.location,
                        verdict: CheckVerdict(status: .pass, maxRelativeError: projection.relativeError, method: .fast)))
                    progress.advance(by: 1)
                    continue
                }
                // A node whose projection disagreed has its elements compared; one the pass did not reach gets its own uᵀJv first.
                let disagreed = fast?.disagreeingNodes.contains(node.id.index) ?? false
                let (check, count) = checkNode(
                    node, nodes: snapshot.nodes, values: values, options: disagreed ? elementOptions : options, workers: workers)
                report.nodes.append(check)
                report.forwardEvaluations += count
                progress.advance(by: 1)
            }
            progress.finish()
        }

        if options.endToEnd, let fast, let projection = fast.endToEnd, projection.passed {
            report.leaves = graph.differentiableLeaves.map { leaf in
                let node = graph[leaf]
                let reached = fast.reachedLeaves.contains(leaf.index)
                return LeafCheck(
                    leaf: leaf, name: node.displayName, role: node.role, location: node.location,
                    elementCount: Tensor.elementCount(node.shape), projection: reached ? projection : nil,
                    verdict: reached ? CheckVerdict(status: .pass, maxRelativeError: projection.relativeError, method: .fast) : .skipped)
            }
        } else if options.endToEnd {
            let (leaves, count, problem) = checkLeaves(
                snapshot, leaves: graph.differentiableLeaves, values: values, nonFinite: report.nonFinite,
                options: options, workers: workers)
            report.leaves = leaves
            report.endToEndProblem = problem
            report.forwardEvaluations += count
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// Why `graph` cannot be checked at its leaves' values with these options — bad input, not
    /// a verdict on any rule — or nil: some value of the forward pass is NaN or infinite (the
    /// first, at the node that made it: a leaf that holds it, or an op that produced it from
    /// finite inputs), or the step resolves none of the elements the check would compare
    /// (`StepProblem`: every one would be inconclusive). A scan of the graph's current values (one
    /// forward pass when they are not current); `graph(_:output:options:)` reports a check of
    /// such a graph, this says why it is not worth running.
    /// `known`: every node's value up to `output`, in order, where the caller has them without a
    /// pass (a Python layer's inputs and the output it sent at start: no round trip).
    public static func refusal(_ graph: Graph, output: NodeID, options: CheckOptions, known: [Tensor]? = nil) throws(GraphError) -> CheckRefusal? {
        let snapshot = GraphSnapshot(graph, output: output)
        let stored = known ?? (graph.valuesAreCurrent ? snapshot.nodes.compactMap(\.value) : [])
        let values = stored.count == snapshot.nodes.count ? stored : try snapshot.forwardValues()
        if let bad = firstNonFinite(snapshot.nodes, values: values) { return .nonFinite(bad) }
        guard !options.autoStep else { return nil }
        // The (node, value) pairs whose elements the check perturbs.
        var compared: [NodeID] = []
        if options.endToEnd { compared += graph.differentiableLeaves.filter { $0.index <= output.index } }
        if options.nodeLocal {
            for node in snapshot.nodes[...output.index] {
                guard let op = node.op else { continue }
                compared += node.inputs.indices.filter { op.isDifferentiable(input: $0) }.map { node.inputs[$0] }
            }
        }
        var first: UnresolvedStep?
        for id in compared {
            for (offset, x) in values[id.index].data.enumerated() {
                guard let (problem, step) = options.stepProblem(at: x) else { return nil }
                if first == nil {
                    first = UnresolvedStep(
                        problem: problem, step: step, value: x, name: snapshot.nodes[id.index].displayName,
                        index: Tensor.index(of: offset, in: values[id.index].shape))
                }
            }
        }
        return first.map { .unresolvedStep($0) }
    }

    // MARK: - Parts

    /// The names of an op's tensor inputs: from its registry parameters, else `input i`.
    static func inputNames(_ op: any ChainruleCore.Operation, spec: OpSpec?, count: Int) -> [String] {
        let parameters = (spec ?? op.spec)?.parameters.filter(\.isTensorInput).map(\.name) ?? []
        return (0..<count).map { $0 < parameters.count ? parameters[$0] : "input \($0)" }
    }

    /// One op at one set of inputs: validated, probed (`RuleProbes`), then compared input by
    /// input — the full Jacobian plus `uᵀJ` for a seeded random u when the Jacobian has at most
    /// `options.fullJacobianLimit` entries, else `uᵀJ` alone.
    static func checkOperation(
        _ op: any ChainruleCore.Operation, inputs: [Tensor], inputNames: [String], options: CheckOptions, salt: UInt64,
        workers: Int
    ) -> (CheckVerdict, evaluations: Int) {
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
        let u = Tensor.randn(output.shape, seed: options.seed &+ salt &+ 0xC0DE)
        let probeFailures = RuleProbes.run(op, inputs: inputs, inputNames: inputNames, output: output, u: u, options: options)
        if probeFailures.contains(where: { $0.probe == .shape }) {
            return (CheckVerdict(status: .fail, maxRelativeError: .infinity, probeFailures: probeFailures), 1)
        }
        let entries = output.count * checked.reduce(0) { $0 + inputs[$1].count }
        let cotangents: JacobianCheck.Cotangents = entries <= options.fullJacobianLimit
            ? .oneHot(probe: u) : .projected(u, isRandom: true)
        let function = Differentiand(
            inputs: inputs, inputNames: inputNames, checkedInputs: checked, output: output,
            makeEvaluator: { OperationEvaluator(op: op, inputs: inputs, differences: options.stencil.estimatesError) },
            pullback: { u in op.backward(inputs, output: output, gradient: u) })
        let (verdicts, evaluations) = JacobianCheck.check(
            function, cotangents: cotangents, options: options, salt: salt, workers: workers, progressLabel: nil)
        let method: ComparisonMethod = if case .oneHot = cotangents { .fullJacobian } else { .projected }
        var verdict = CheckVerdict(verdicts, method: method)
        if !probeFailures.isEmpty {
            verdict.probeFailures = probeFailures
            verdict.status = .fail
        }
        return (verdict, evaluations + 1)
    }

    static func checkNode(
        _ node: Node, nodes: [Node], values: [Tensor], options: CheckOptions, workers: Int
    ) -> (NodeCheck, evaluations: Int) {
        let op = node.op!
        let inputs = node.inputs.map { values[$0.index] }
        func check(_ verdict: CheckVerdict) -> NodeCheck {
            NodeCheck(node: node.id, name: node.displayName, op: op.name, location: node.location, verdict: verdict)
        }
        guard inputs.allSatisfy(\.allFinite), values[node.id.index].allFinite,
              node.inputs.indices.contains(where: { op.isDifferentiable(input: $0) })
        else { return (check(.skipped), 0) }
        let names = node.inputs.map { nodes[$0.index].displayName }
        let (verdict, evaluations) = checkOperation(
            op, inputs: inputs, inputNames: names, options: options, salt: UInt64(node.id.index), workers: workers)
        return (check(verdict), evaluations)
    }

    static func checkLeaves(
        _ snapshot: GraphSnapshot, leaves: [NodeID], values: [Tensor], nonFinite: NonFiniteValue?,
        options: CheckOptions, workers: Int
    ) -> ([LeafCheck], evaluations: Int, problem: String?) {
        let allCones = snapshot.cones(of: leaves)
        func leafCheck(_ leaf: NodeID, _ verdict: CheckVerdict, projection: ProjectionCheck? = nil) -> LeafCheck {
            let node = snapshot.nodes[leaf.index]
            return LeafCheck(
                leaf: leaf, name: node.displayName, role: node.role, location: node.location,
                elementCount: node.shape.reduce(1, *), projection: projection, verdict: verdict)
        }
        // A NaN makes every difference quotient meaningless: report it, check nothing.
        guard nonFinite == nil else { return (leaves.map { leafCheck($0, .skipped) }, 0, nil) }
        let outputValue = values[snapshot.output]
        let ones = Tensor.ones(outputValue.shape)
        // A rule whose gradient has the wrong shape breaks backpropagation: say which, check nothing.
        if case .failure(let wrong) = Graph.shapeCheckedGradients(
            nodes: snapshot.nodes, values: values, output: NodeID(snapshot.output), seed: ones) {
            return (leaves.map { leafCheck($0, .skipped) }, 0, "\(wrong), so the end-to-end check cannot backpropagate")
        }
        let reaching = leaves.indices.filter { allCones[$0].last == snapshot.output || leaves[$0].index == snapshot.output }
        let checkedLeaves = reaching.map { leaves[$0] }
        let cones = reaching.map { allCones[$0] }
        let function = Differentiand(
            inputs: checkedLeaves.map { values[$0.index] }, inputNames: checkedLeaves.map { snapshot.nodes[$0.index].displayName },
            checkedInputs: Array(checkedLeaves.indices), output: outputValue,
            makeEvaluator: {
                ConeEvaluator(
                    snapshot: snapshot, values: values, leaves: checkedLeaves, cones: cones, differences: options.stencil.estimatesError)
            },
            pullback: { u in
                let gradients = snapshot.gradients(values: values, seed: u)
                return checkedLeaves.map { gradients[$0.index] }
            })
        let (verdicts, evaluations) = JacobianCheck.check(
            function, cotangents: .projected(ones, isRandom: false), options: options, salt: 0x5EED,
            workers: workers, progressLabel: "end-to-end check: elements")
        var byLeaf: [NodeID: LeafCheck] = [:]
        for v in verdicts {
            byLeaf[checkedLeaves[v.input]] = leafCheck(
                checkedLeaves[v.input], CheckVerdict([v], method: .projected), projection: v.projection)
        }
        return (leaves.map { byLeaf[$0] ?? leafCheck($0, .skipped) }, evaluations, nil)
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

extension CheckVerdict {
    /// The verdict of a unit from the verdicts on its inputs. Inputs that passed fast
    /// mode's `uᵀJv` count as passed with the projection's error; the others by their elements.
    init(_ verdicts: [InputVerdict], method: ComparisonMethod) {
        let tally = verdicts.map(\.tally).reduce(ComparisonTally(), ComparisonTally.merged)
        let fastPassed = verdicts.compactMap(\.projection).filter(\.passed)
        var maxRelative = tally.maxRelativeError
        for p in fastPassed { maxRelative = Swift.max(maxRelative, p.relativeError) }
        var status = tally.status
        if status == .skipped && !fastPassed.isEmpty { status = .pass }
        let allFast = !verdicts.isEmpty && verdicts.allSatisfy { $0.projection?.passed ?? false }
        self.init(
            status: status, maxRelativeError: maxRelative, worst: tally.worst, kinks: tally.kinks,
            kinkCount: tally.kinkCount, inconclusive: tally.inconclusive, inconclusiveCount: tally.inconclusiveCount,
            elementsChecked: tally.checked, failedElements: tally.failures, method: allFast ? .fast : method,
            projectionDisagreements: tally.disagreements, steps: tally.steps,
            rechosenSteps: tally.rechosenSteps.map { RechosenSteps(elements: tally.rechosenCount, range: $0) })
    }
}

/// The rule check of one op on one sample. Its verdict's fields read as its own.
@dynamicMemberLookup
public struct RuleCheck: Sendable, Codable, Equatable {
    public var op: String
    public var family: String
    /// The sample's label, e.g. `"broadcast 2×3 with 3"`.
    public var sample: String
    public var verdict: CheckVerdict

    init(op: String, family: String, sample: String, verdict: CheckVerdict) {
        self.op = op
        self.family = family
        self.sample = sample
        self.verdict = verdict
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<CheckVerdict, T>) -> T {
        get { verdict[keyPath: path] }
        set { verdict[keyPath: path] = newValue }
    }

    public var passed: Bool { verdict.status != .fail }
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
        case formatVersion, passed, rules, options, forwardEvaluations, seconds
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(CheckReport.formatVersion, forKey: .formatVersion)
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
