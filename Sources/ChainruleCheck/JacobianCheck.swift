import ChainruleCore

/// One evaluation of a checked function at perturbed inputs.
struct Evaluation {
    var output: Tensor
    /// The branch pattern of every piecewise op evaluated (see `Operation.branches`).
    var branches: [Int]
    /// `f − f₀`, carried op by op through the ops' difference rules (`Operation.change`) when the
    /// evaluator propagates differences; nil otherwise.
    var difference: Tensor? = nil
    /// Every op on the way had a difference rule: the difference is rounded at its own size, not
    /// at the size of f.
    var differenceIsAccurate = false
    /// The output elements that can differ from f₀ (`PartialForward`); the others are f₀'s bits.
    var moved: MovedElements = .all

    /// Every output element is finite. Only the moved ones are looked at: the others are f₀'s,
    /// which every check makes sure is finite before it perturbs anything.
    var outputIsFinite: Bool {
        guard case .elements(let elements) = moved else { return output.allFinite }
        return output.data.withUnsafeBufferPointer { f in elements.allSatisfy { f[$0].isFinite } }
    }

    /// `f − f₀` at this point: the propagated difference, or the output minus `f0`.
    func change(from f0: [Double]) -> [Double] {
        if let difference { return difference.data }
        return zip(output.data, f0).map { $0 - $1 }
    }

    /// The rounding scale of `change` component by component: the difference's own size when
    /// every op had a rule, else the size of f there (0 where f did not move: it cancels exactly;
    /// `ElementSamples.baseScales` stands in where no point moved it at all).
    func changeMagnitude(from f0: [Double]) -> [Double] {
        if differenceIsAccurate, let difference { return difference.data.map(abs) }
        return zip(output.data, f0).map { $0 == $1 ? 0 : Swift.max(abs($0), abs($1)) }
    }
}

/// `uᵀ(f − f₀)` summed after differencing element by element, and its rounding scale
/// `Σ |u_k|·max(|f_k|, |f₀_k|)` over the components that moved: a component the perturbation
/// did not reach cancels exactly instead of rounding with the sum.
struct ProjectedChange: Sendable {
    var value: Double
    var magnitude: Double

    init(value: Double, magnitude: Double) {
        self.value = value
        self.magnitude = magnitude
    }

    init(_ u: [Double], _ f: [Double], from f0: [Double]) {
        self.init(u, f, from: f0, at: 0..<Swift.min(u.count, f.count, f0.count))
    }

    /// The sums over `components` alone: where every other component of f is f₀'s, the same bits
    /// as over all of them (the others add exact zeros).
    init(_ u: [Double], _ f: [Double], from f0: [Double], at components: some Sequence<Int>) {
        var value = 0.0, magnitude = 0.0
        for k in components where f[k] != f0[k] {
            value += u[k] * (f[k] - f0[k])
            magnitude += abs(u[k]) * Swift.max(abs(f[k]), abs(f0[k]))
        }
        self.value = value
        self.magnitude = magnitude
    }
}

/// One perturbed point: element `element` of input `input` moved by `offset` (exactly: an
/// evaluator that propagates differences starts from the offset itself, not from the rounded
/// `x₀ + offset`), the rest unperturbed.
struct PerturbedPoint: Sendable {
    var input: Int
    var element: Int
    var offset: Double
}

/// Evaluates a checked function with one input perturbed, reusing its own copy
/// of the inputs (and, for graphs, of every node's value). One per thread.
protocol PerturbedEvaluator: AnyObject {
    /// Moves element `element` of input `input` by `offset` and evaluates. Other
    /// inputs are at their unperturbed values.
    func evaluate(input: Int, element: Int, offset: Double) -> Evaluation
    /// Sets input `input` to `base + scale · direction` and evaluates.
    func evaluate(input: Int, direction: Tensor, scale: Double) -> Evaluation
    /// Evaluates at each point in turn, each with only its own element perturbed, and
    /// leaves the inputs unperturbed. An op that conforms to `BatchedOperation` gets all
    /// points in one call.
    func evaluate(points: [PerturbedPoint]) -> [Evaluation]
    /// Puts one element back to its unperturbed value, without evaluating.
    func resetElement(input: Int, element: Int)
    /// Puts every input back to its unperturbed value.
    func reset()
    /// Forward evaluations done so far (op forwards for an op, cone recomputes for a graph).
    var evaluations: Int { get }
}

extension PerturbedEvaluator {
    func evaluate(points: [PerturbedPoint]) -> [Evaluation] { evaluateOneByOne(points) }

    func evaluateOneByOne(_ points: [PerturbedPoint]) -> [Evaluation] {
        points.map { p in
            let e = evaluate(input: p.input, element: p.element, offset: p.offset)
            resetElement(input: p.input, element: p.element)
            return e
        }
    }
}

/// A function of several tensors together with its backward rule: what the
/// checker compares. An op at its sample inputs, a graph node at the values it
/// saw, or a whole graph as a function of its leaves.
struct Differentiand: Sendable {
    var inputs: [Tensor]
    var inputNames: [String]
    /// The inputs to differentiate (labels and constants are left out).
    var checkedInputs: [Int]
    /// The output at the unperturbed inputs.
    var output: Tensor
    var makeEvaluator: @Sendable () -> any PerturbedEvaluator
    /// The vector–Jacobian products `cotangentᵀ · ∂output/∂input_i` for every input.
    var pullback: @Sendable (Tensor) -> [Tensor?]
}

/// The verdict on one input of a differentiand.
struct InputVerdict: Sendable {
    var input: Int
    var tally: ComparisonTally
    /// The `uᵀ J v` comparison of fast mode, when it ran.
    var projection: ProjectionCheck?
}

/// What the stencil's points gave for one element.
struct ElementSamples {
    var input: Int
    var element: Int
    /// The element's unperturbed value and its step h.
    var x0: Double
    var step: Double
    /// f − f₀ at each stencil point, `[point][component]`: every output element for a
    /// full-Jacobian comparison, the one number `uᵀ(f − f₀)` for a projected one.
    var outputs: [[Double]]
    /// The rounding scale of each entry of `outputs` (`Evaluation.changeMagnitude`, `Σ|u|·…` projected).
    var magnitudes: [[Double]]
    /// Each component's size at x (`|f₀_k|`, projected `Σ|u_k|·|f₀_k|`) over the outputs the first
    /// point may have reached: the rounding scale of a component no point changed, since a
    /// change below f's resolution is lost in its rounding (at x = 2.5e9, 1e9·tanh(x·1e-9)).
    var baseScales: [Double]
    /// The branch pattern at the first point, and whether it differs between the points (a kink
    /// may lie between them).
    var pattern: [Int]
    var branchChange: Bool
    /// Which points left f's domain (a NaN or an infinity).
    var undefinedStep: UndefinedStep?

    /// The side whose points all stayed in f's domain when the other side's did not: +1 or −1.
    var finiteSide: Double? { undefinedStep?.finiteSide }

    /// The rounding scale of component k at point p.
    func scale(_ p: Int, _ k: Int) -> Double { magnitudes[p][k] }
}

/// Finite-difference Jacobians against backward rules, in named steps: **perturb** (the
/// stencil's points of a chunk of elements, in one batch), **estimate error** (the numeric
/// derivative and, for Richardson, its error bound), **compare full Jacobian** (every entry),
/// **compare projection** (`uᵀJ` for a random u), and **arbitrate kinks** (shrink the step
/// until the one-sided derivatives have converged, then judge the rule's value against them).
enum JacobianCheck {
    /// Which cotangents the backward rule is run with.
    enum Cotangents {
        /// One-hot cotangents, one backward pass per output element: the full Jacobian, so a
        /// failure names both the input and the output element; and the seeded random cotangent
        /// `probe`, whose `uᵀJ` catches a rule that agrees with the Jacobian only for one-hot
        /// (or all-ones) cotangents.
        case oneHot(probe: Tensor)
        /// One cotangent `u`: compares `uᵀ J` element by element of each input. `isRandom` is
        /// false for the end-to-end check's all-ones cotangent (d sum(output) / d leaf).
        case projected(Tensor, isRandom: Bool)
    }

    /// How many one-sided steps a kink arbitration tries per block, and how many blocks at most:
    /// h, h/2, … h/2^23 on each side (each block evaluated as one batch).
    static let kinkStepsPerBlock = 6
    static let kinkBlocks = 4
    /// A one-sided derivative has converged when its error estimate is below this fraction
    /// of the tolerance.
    static let convergedFraction = 0.25

    /// Compares every checked input of `function`, element by element (or the
    /// `options.sample` sampled elements), after a `uᵀ J v` pre-check in fast mode.
    ///
    /// An input whose elements are sampled also gets `uᵀ J v` over all its elements (two
    /// evaluations): a wrong element the sample missed still fails it. When that projection
    /// disagrees and no sampled element failed, bisecting v over the elements (`locate`) finds
    /// the element, which is then compared as the sampled ones are.
    static func check(
        _ function: Differentiand, cotangents: Cotangents, options: CheckOptions, salt: UInt64,
        workers: Int, progressLabel: String?
    ) -> (verdicts: [InputVerdict], evaluations: Int) {
        var evaluations = 0
        var selected: [Int: [Int]] = [:]
        for i in function.checkedInputs {
            selected[i] = elements(ofInput: i, count: function.inputs[i].count, options: options, salt: salt)
        }
        let isSampled = { (i: Int) in selected[i]!.count < function.inputs[i].count }
        let projected = function.checkedInputs.filter { options.fast || isSampled($0) }
        let projections = projectionChecks(function, inputs: projected, options: options, salt: salt)
        evaluations += projections.evaluations
        let inputsToCompare = function.checkedInputs.filter { !(options.fast && projections.checks[$0]?.check.passed == true) }
        let pairs = inputsToCompare.flatMap { i in selected[i]!.map { (input: i, element: $0) } }
        var (tallies, count) = compareElements(
            function, pairs: pairs, cotangents: cotangents, options: options, workers: workers, progressLabel: progressLabel)
        evaluations += count
        for i in inputsToCompare where isSampled(i) {
            guard var p = projections.checks[i], p.judgement != .pass, (tallies[i]?.failures ?? 0) == 0 else { continue }
            let evaluator = function.makeEvaluator()
            var tally = tallies[i] ?? ComparisonTally()
            var candidates = Array(0..<function.inputs[i].count)
            // A projection that crossed a kink (one element at relu's 0 or a max tie is enough) or
            // could not be judged proves nothing about the elements the sample left out: v is split
            // until each part passes, fails, or is one element, which is then compared one by one.
            if p.judgement != .fail {
                let split = splitUnjudged(function, input: i, projection: p, evaluator: evaluator, options: options)
                let extras = split.singletons.filter { !selected[i]!.contains($0) }
                if !extras.isEmpty {
                    let (extra, more) = compareElements(
                        function, pairs: extras.map { (i, $0) }, cotangents: cotangents, options: options, workers: 1,
                        progressLabel: nil)
                    evaluations += more
                    if let e = extra[i] { tally = ComparisonTally.merged(tally, e) }
                }
                for part in split.unresolved {
                    var comparison = ElementComparison(
                        input: i, inputName: function.inputNames[i], index: Tensor.index(of: part.elements[0], in: function.inputs[i].shape),
                        projected: true, analytic: part.projection.check.analytic, numeric: part.projection.check.numeric,
                        step: part.projection.numeric.step, errorEstimate: part.projection.numeric.error)
                    comparison.inconclusive = part.projection.judgement.inconclusiveReason ?? .nearKink
                    tally.addInconclusive(comparison, entries: 0)
                }
                guard let failing = split.failing, tally.failures == 0 else {
                    evaluations += evaluator.evaluations
                    tallies[i] = tally
                    continue
                }
                p = failing.projection
                candidates = failing.elements
            }
            let located = locate(function, input: i, projection: p, candidates: candidates, evaluator: evaluator, options: options)
            evaluations += evaluator.evaluations
            if let j = located, !selected[i]!.contains(j) {
                let (extra, more) = compareElements(
                    function, pairs: [(i, j)], cotangents: cotangents, options: options, workers: 1, progressLabel: nil)
                evaluations += more
                if let e = extra[i] { tally = ComparisonTally.merged(tally, e) }
            }
            // The projection proves the rule wrong somewhere among these elements, found or not.
            if tally.failures == 0 { tally.failures = 1 }
            let shape = function.inputs[i].shape
            tally.disagreements.append(ProjectionDisagreement(
                input: i, inputName: function.inputNames[i], elementCount: function.inputs[i].count,
                sampled: selected[i]!.map { Tensor.index(of: $0, in: shape) }, analytic: p.check.analytic,
                numeric: p.check.numeric, errorEstimate: p.numeric.error, located: located.map { Tensor.index(of: $0, in: shape) }))
            tallies[i] = tally
        }
        let verdicts = function.checkedInputs.map { i in
            InputVerdict(input: i, tally: tallies[i] ?? ComparisonTally(), projection: options.fast ? projections.checks[i]?.check : nil)
        }
        return (verdicts, evaluations)
    }

    /// The elements of input `input` to check: all of them, or `options.sample` (at least 1)
    /// distinct ones drawn with the options' seed.
    static func elements(ofInput input: Int, count: Int, options: CheckOptions, salt: UInt64) -> [Int] {
        guard let k = options.sample, k < count else { return Array(0..<count) }
        var rng = SeededGenerator(seed: options.seed &+ salt &* 0x9E37_79B9 &+ UInt64(input) &* 7919)
        var indices = Array(0..<count)
        for position in 0..<k {
            let pick = position + Int(rng.next() % UInt64(count - position))
            indices.swapAt(position, pick)
        }
        return indices.prefix(k).sorted()
    }

    /// One input's `uᵀ J v`: the comparison, the finite difference with its error, how it was
    /// judged, and what `locate` needs to bisect it (u, the rule's `Jᵀu` for the input, and v).
    struct Projection {
        var check: ProjectionCheck
        var numeric: NumericDerivative
        var judgement: Judgement
        var ratio: Double
        var u: Tensor
        var gradient: [Double]
        var direction: Tensor
    }

    /// `uᵀ J_i v_i` by backward rule and by finite differences along `v_i`, for each of `inputs`
    /// (u, v seeded random).
    static func projectionChecks(
        _ function: Differentiand, inputs: [Int], options: CheckOptions, salt: UInt64
    ) -> (checks: [Int: Projection], evaluations: Int) {
        guard !inputs.isEmpty else { return ([:], 0) }
        let u = Tensor.randn(function.output.shape, seed: options.seed &+ salt &+ 0xF00D)
        let gradients = function.pullback(u)
        let evaluator = function.makeEvaluator()
        var checks: [Int: Projection] = [:]
        for i in inputs {
            let v = Tensor.randn(function.inputs[i].shape, seed: options.seed &+ salt &+ UInt64(i) &* 31 &+ 0xBEEF)
            let g = gradients[i]?.data ?? [Double](repeating: 0, count: function.inputs[i].count)
            checks[i] = projection(function, input: i, u: u, gradient: g, direction: v, evaluator: evaluator, options: options)
        }
        return (checks, evaluator.evaluations)
    }

    /// `uᵀ J_i v` by the rule, `(Jᵀu)_i · v`, against the stencil's derivative of `uᵀf` along v,
    /// with the second step h/2 when a central difference's two points leave it unresolved, judged
    /// as an element is: its rule rounding is `ruleRounding(max(|Jᵀu|, |u|) · Σ|v|)`. A change of branch
    /// pattern along ±h·v proves nothing (`atKink`).
    static func projection(
        _ function: Differentiand, input i: Int, u: Tensor, gradient g: [Double], direction v: Tensor,
        evaluator: any PerturbedEvaluator, options: CheckOptions
    ) -> Projection {
        let h = options.effectiveStep
        let f0 = function.output.data
        func evaluated(_ offsets: [Double]) -> (values: [Double], scales: [Double], patterns: [[Int]]) {
            let points = offsets.map { evaluator.evaluate(input: i, direction: v, scale: $0 * h) }
            evaluator.reset()
            return (points.map { dot(u.data, $0.change(from: f0)) },
                    points.map { absoluteDot(u.data, $0.changeMagnitude(from: f0)) }, points.map(\.branches))
        }
        let analytic = dot(g, v.data)
        // An element the step cannot resolve makes the projection noise: its elements are compared instead.
        let x0 = function.inputs[i].data
        if let problem = v.data.indices.lazy.filter({ v.data[$0] != 0 }).compactMap({ options.stepProblem(at: x0[$0]) }).first {
            let check = ProjectionCheck(analytic: analytic, numeric: .nan, atKink: false, passed: false)
            return Projection(
                check: check, numeric: NumericDerivative(value: .nan, error: nil, rounding: 0, step: h),
                judgement: .inconclusive(InconclusiveReason(problem.problem)), ratio: 0, u: u, gradient: g, direction: v)
        }
        let first = evaluated(options.stencil.terms.map(\.offset))
        var atKink = first.patterns.contains { $0 != first.patterns[0] }
        var numeric = derivative(values: { first.values[$0] }, scale: { first.scales[$0] }, stencil: options.stencil, h: h)
        var inputSize = 0.0
        for j in 0..<Swift.min(g.count, x0.count) where v.data[j] != 0 { inputSize += abs(x0[j] * g[j]) }
        numeric = withInputRounding(numeric, size: inputSize)
        let tolerance = options.tolerance(numeric: numeric.value)
        let largest = g.reduce(u.data.reduce(0) { Swift.max($0, abs($1)) }) { Swift.max($0, abs($1)) }
        let rounding = ruleRounding(scale: largest * v.data.reduce(0) { $0 + abs($1) })
        var judgement = judge(analytic: analytic, numeric: numeric, tolerance: tolerance, ruleRounding: rounding)
        // Unresolved: the second steps of `secondStepRatios`, the first alone unless the projection would fail on it.
        var ratios = secondStepRatios[...]
        while !atKink && !ratios.isEmpty && (judgement == .unresolved || (judgement == .fail && ratios.count < secondStepRatios.count)) {
            let batch = judgement == .unresolved ? ratios.prefix(1) : ratios
            ratios = ratios.dropFirst(batch.count)
            for r in batch {
                let points = evaluated([r, -r])
                atKink = atKink || points.patterns.contains { $0 != first.patterns[0] }
                numeric = secondStep(numeric, ratio: r, value: (points.values[0] - points.values[1]) / (2 * r * h))
            }
            judgement = judge(analytic: analytic, numeric: numeric, tolerance: tolerance, ruleRounding: rounding)
        }
        // Coarse agreement never convicts (`confirmFailure`): a failing projection is re-estimated
        // along v at steps shrinking to the rounding limit.
        if judgement == .fail && !atKink {
            var run: [NumericDerivative] = []
            var t = h
            for level in 0..<confirmationLevels {
                t /= confirmationRatios[level % confirmationRatios.count]
                guard t >= StepProblem.smallestStep else { break }
                let points = evaluated([t / h, -t / h])
                guard points.patterns.allSatisfy({ $0 == first.patterns[0] }) else { break }
                var d = derivative(values: { points.values[$0] }, scale: { points.scales[$0] }, stencil: .central, h: t)
                d = withInputRounding(d, size: inputSize)
                guard d.value.isFinite, d.rounding <= convergedFraction * options.tolerance(numeric: d.value) else { break }
                run.append(d)
                if convergedEstimate(run, options: options) != nil { break }
            }
            numeric = confirmation(of: numeric, run: run, convicting: true, options: options)
            judgement = judge(analytic: analytic, numeric: numeric, tolerance: options.tolerance(numeric: numeric.value), ruleRounding: rounding)
        }
        if atKink { judgement = .inconclusive(.nearKink) }
        let check = ProjectionCheck(analytic: analytic, numeric: numeric.value, atKink: atKink, passed: judgement == .pass)
        let ratio = mismatchRatio(analytic: analytic, numeric: numeric, tolerance: tolerance, ruleRounding: rounding)
        return Projection(check: check, numeric: numeric, judgement: judgement, ratio: ratio, u: u, gradient: g, direction: v)
    }

    /// The element of input i that a disagreeing `uᵀ J v` comes from: v restricted to each half of
    /// the candidate elements in turn, the half whose projection disagrees more (as a multiple of
    /// what a pass allows) kept, until one element is left; nil when both halves cross a kink or
    /// pass. About 4·log₂(n) evaluations.
    static func locate(
        _ function: Differentiand, input i: Int, projection p: Projection, candidates: [Int]? = nil,
        evaluator: any PerturbedEvaluator, options: CheckOptions
    ) -> Int? {
        var candidates = candidates ?? Array(0..<function.inputs[i].count)
        while candidates.count > 1 {
            let halves = [Array(candidates[..<(candidates.count / 2)]), Array(candidates[(candidates.count / 2)...])]
            let checks = halves.map { half -> Projection in
                var v = Tensor.zeros(p.direction.shape)
                for j in half { v.data[j] = p.direction.data[j] }
                return projection(function, input: i, u: p.u, gradient: p.gradient, direction: v, evaluator: evaluator, options: options)
            }
            let ranked = checks.indices.filter { !checks[$0].check.atKink && checks[$0].judgement != .pass }
            guard let pick = ranked.max(by: { checks[$0].ratio < checks[$1].ratio }) else { return nil }
            candidates = halves[pick]
        }
        return candidates.first
    }

    /// At most this many restricted projections split one sampled input's unjudged `uᵀJv`
    /// (`splitUnjudged`); what is left then is reported inconclusive, never passed.
    static let unjudgedSplitProjections = 128

    /// What splitting an unjudged projection found: a part whose projection fails (to `locate`
    /// in), the single elements whose projection still could not be judged (each at a kink, or
    /// at a step that cannot resolve it: to be compared one by one), and the parts the budget
    /// left unjudged.
    struct UnjudgedSplit {
        var failing: (elements: [Int], projection: Projection)?
        var singletons: [Int] = []
        var unresolved: [(elements: [Int], projection: Projection)] = []
    }

    /// Splits v of a sampled input whose `uᵀJv` over every element was not judged (it crossed a
    /// kink, or could not be resolved) into halves, recursively: a half that passes is settled, a
    /// half that fails stops the split (the rule is wrong there), a half still unjudged is split
    /// again, down to single elements. Each kink element costs about 2·log₂(n) projections; past
    /// `unjudgedSplitProjections` the parts left are returned unresolved.
    static func splitUnjudged(
        _ function: Differentiand, input i: Int, projection p: Projection, evaluator: any PerturbedEvaluator,
        options: CheckOptions
    ) -> UnjudgedSplit {
        var result = UnjudgedSplit()
        var pending: [(elements: [Int], projection: Projection)] = [(Array(0..<function.inputs[i].count), p)]
        var spent = 0
        while let part = pending.popLast() {
            if part.elements.count == 1 {
                result.singletons.append(part.elements[0])
                continue
            }
            if spent + 2 > unjudgedSplitProjections {
                result.unresolved.append(part)
                continue
            }
            let middle = part.elements.count / 2
            for half in [Array(part.elements[..<middle]), Array(part.elements[middle...])] {
                var v = Tensor.zeros(p.direction.shape)
                for j in half { v.data[j] = p.direction.data[j] }
                let q = projection(function, input: i, u: p.u, gradient: p.gradient, direction: v, evaluator: evaluator, options: options)
                spent += 1
                switch q.judgement {
                case .pass: continue
                case .fail:
                    // The input fails: what is still pending no longer matters.
                    result.failing = (half, q)
                    return result
                default: pending.append((half, q))
                }
            }
        }
        result.singletons.sort()
        return result
    }

    /// Element-by-element comparison of the given (input, element) pairs, spread over `workers`
    /// threads, with a progress meter labelled `progressLabel` counting the elements compared.
    static func compareElements(
        _ function: Differentiand, pairs: [(input: Int, element: Int)], cotangents: Cotangents, options: CheckOptions,
        workers: Int, progressLabel: String?
    ) -> ([Int: ComparisonTally], evaluations: Int) {
        guard !pairs.isEmpty else { return ([:], 0) }
        var inputs: [Int] = []
        for p in pairs where !inputs.contains(p.input) { inputs.append(p.input) }
        let analytic = analyticNumbers(function, inputs: inputs, cotangents: cotangents, workers: workers)
        var rowScales: [Int: [Double]] = [:]
        let cotangentScale = switch cotangents {
        case .oneHot: 1.0
        case .projected(let u, _): u.data.reduce(0) { Swift.max($0, abs($1)) }
        }
        for i in inputs {
            rowScales[i] = gradientScales(analytic[i]!, inputCount: function.inputs[i].count, cotangent: cotangentScale)
        }
        var probeNumbers: [Int: [Double]] = [:]
        var probeScale = 0.0
        if case .oneHot(let probe) = cotangents {
            let gradients = function.pullback(probe)
            for i in inputs { probeNumbers[i] = RuleProbes.conforming(gradients, i, like: function.inputs[i]) }
            probeScale = probe.data.reduce(0) { Swift.max($0, abs($1)) }
        }
        let projectedProbe = probeNumbers
        let probeRounding = probeNumbers.mapValues { ruleRounding(scale: $0.reduce(probeScale) { Swift.max($0, abs($1)) }) }
        let allPairs = pairs
        let scales = rowScales
        let progress = progressLabel.map { ProgressMeter(enabled: options.progress, total: allPairs.count, label: $0) }
        struct Partial: Sendable {
            var tallies: [Int: ComparisonTally]
            var evaluations: Int
        }
        let chunkSize = Swift.max(1, Swift.min(64, allPairs.count / (workers * 8) + 1))
        let result = forEachChunk(
            count: allPairs.count, chunkSize: chunkSize, workers: workers,
            makeWorker: { () -> (Range<Int>) -> Partial? in
                let evaluator = function.makeEvaluator()
                return { range in
                    var tallies: [Int: ComparisonTally] = [:]
                    let before = evaluator.evaluations
                    // An element the step cannot resolve is not evaluated: its difference quotient would be 0 or noise.
                    var resolved: [(input: Int, element: Int)] = []
                    for pair in allPairs[range] {
                        guard let (problem, step) = options.stepProblem(at: function.inputs[pair.input].data[pair.element]) else {
                            resolved.append(pair)
                            continue
                        }
                        let components = ElementComponents(
                            function, input: pair.input, element: pair.element, cotangents: cotangents,
                            analytic: analytic[pair.input]!, rowScales: scales[pair.input]!)
                        let k = components.indices.max { abs(components.analytic($0)) < abs(components.analytic($1)) } ?? 0
                        var comparison = components.comparison(
                            k, analytic: components.analytic(k), numeric: NumericDerivative(value: .nan, error: nil, rounding: 0, step: step),
                            undefinedStep: nil)
                        comparison.inconclusive = InconclusiveReason(problem)
                        tallies[pair.input, default: .init()].addInconclusive(comparison, entries: components.count)
                    }
                    let samples = perturb(function, evaluator: evaluator, elements: resolved[...], cotangents: cotangents, options: options)
                    for s in samples {
                        if options.autoStep { tallies[s.input, default: .init()].note(step: s.step) }
                        let components = ElementComponents(
                            function, samples: s, cotangents: cotangents, analytic: analytic[s.input]!, rowScales: scales[s.input]!)
                        if s.branchChange {
                            arbitrateKink(s, components, function: function, evaluator: evaluator, cotangents: cotangents,
                                          options: options, into: &tallies[s.input, default: .init()])
                            continue
                        }
                        var probe: ProbeNumbers? = nil
                        if case .oneHot(let u) = cotangents, let a = projectedProbe[s.input]?[s.element] {
                            probe = ProbeNumbers(u: u.data, analytic: a, ruleRounding: probeRounding[s.input]!)
                        }
                        func measure(_ s: ElementSamples) -> [NumericDerivative] {
                            var numbers = components.indices.map {
                                estimateError(s, component: $0, stencil: options.stencil, analytic: components.analytic($0))
                            }
                            if let side = s.finiteSide, numbers.contains(where: { !$0.value.isFinite }) {
                                numbers = oneSidedNumbers(
                                    s, side: side, function: function, evaluator: evaluator, cotangents: cotangents, options: options)
                            }
                            if unresolved(components, numbers: numbers, probe: probe, options: options) {
                                numbers = secondSteps(
                                    s, ratios: secondStepRatios.prefix(1), numbers: numbers, function: function, evaluator: evaluator,
                                    cotangents: cotangents)
                                if failing(components, numbers: numbers, probe: probe, options: options) {
                                    numbers = secondSteps(
                                        s, ratios: secondStepRatios.dropFirst(), numbers: numbers, function: function,
                                        evaluator: evaluator, cotangents: cotangents)
                                }
                            }
                            return numbers
                        }
                        var s = s
                        var numbers = measure(s)
                        // The function curves on a scale below the step (batch_norm's 1/√(var + eps) at var = 0,
                        // sigmoid(1000x)): shrink the step until the estimates converge, while its points stay
                        // on one branch inside the domain.
                        for _ in 0..<curvatureShrinks where s.finiteSide == nil
                            && curved(components, numbers: numbers, probe: probe, options: options) {
                            guard let shrunk = perturb(
                                function, evaluator: evaluator, elements: [(s.input, s.element)][...], cotangents: cotangents,
                                options: shrinking(options, step: s.step, at: s.x0)).first,
                                !shrunk.branchChange, shrunk.undefinedStep == nil else { break }
                            s = shrunk
                            numbers = measure(s)
                        }
                        // Rounding noise swamps the difference (f large against its change over h: x·x at
                        // x = 3e7, or any f at |x| above 1e10, where the default step is one ulp of x):
                        // the element is measured again at the step --eps auto chooses there, balancing
                        // truncation against rounding; that measure is kept only where it passes. A step the
                        // user gave is kept.
                        if options.step == nil, !options.autoStep, s.finiteSide == nil, s.undefinedStep == nil,
                           noisy(components, numbers: numbers, probe: probe, options: options) {
                            var balanced = options
                            balanced.autoStep = true
                            if let wider = perturb(
                                function, evaluator: evaluator, elements: [(s.input, s.element)][...], cotangents: cotangents,
                                options: balanced).first, !wider.branchChange, wider.undefinedStep == nil {
                                // The wider step may only settle the element as passing: a step that spans many
                                // periods of sin(x) at x = 1e15 agrees with nothing and would convict a right rule,
                                // so what does not pass there stays as the default step left it (inconclusive).
                                let widerNumbers = measure(wider)
                                if !failing(components, numbers: widerNumbers, probe: probe, options: options)
                                    && !curved(components, numbers: widerNumbers, probe: probe, options: options)
                                    && !noisy(components, numbers: widerNumbers, probe: probe, options: options) {
                                    s = wider
                                    numbers = widerNumbers
                                    tallies[s.input, default: .init()].note(rechosenStep: s.step)
                                }
                            }
                        }
                        // Coarse agreement never convicts: an entry about to fail (or still unjudged for
                        // curvature) is re-estimated at steps small enough to resolve f (sin(10⁴x) at
                        // h = 0.125 spans 200 periods).
                        if s.undefinedStep == nil
                            && (failing(components, numbers: numbers, probe: probe, options: options)
                                || curved(components, numbers: numbers, probe: probe, options: options)) {
                            numbers = confirmFailure(
                                s, components, numbers: numbers, probe: probe, function: function, evaluator: evaluator,
                                cotangents: cotangents, options: options)
                        }
                        compareEntries(s, components, numbers: numbers, options: options, into: &tallies[s.input, default: .init()])
                        if let probe {
                            compareProjection(s, components, numbers: numbers, probe: probe, options: options,
                                              into: &tallies[s.input, default: .init()])
                        }
                    }
                    progress?.advance(by: range.count)
                    return Partial(tallies: tallies, evaluations: evaluator.evaluations - before)
                }
            },
            combine: { a, b in
                Partial(
                    tallies: a.tallies.merging(b.tallies, uniquingKeysWith: ComparisonTally.merged),
                    evaluations: a.evaluations + b.evaluations)
            })
        progress?.finish()
        return (result?.tallies ?? [:], result?.evaluations ?? 0)
    }

    /// The scale of each backward call's result for one input, per output element for a full
    /// Jacobian (`rows[k·n + j]`, n = `inputCount`), one value for `uᵀJ`: its largest entry, or the
    /// cotangent's largest (`cotangent`, 1 for one-hot) when that is larger, since a rule such as
    /// tanh's `g·(1 − y²)` rounds at the scale of g even where it cancels to 0. Its rule rounding
    /// is `ruleRounding(scale:)` of it.
    static func gradientScales(_ rows: [Double], inputCount n: Int, cotangent: Double) -> [Double] {
        guard n > 0 else { return [cotangent] }
        return stride(from: 0, to: Swift.max(rows.count, 1), by: n).map { start in
            rows[start..<Swift.min(rows.count, start + n)].reduce(cotangent) { Swift.max($0, abs($1)) }
        }
    }

    /// The seeded random probe of a full-Jacobian check at one element: u, the rule's `(Jᵀu)_j`,
    /// and the rounding that number may carry.
    struct ProbeNumbers {
        var u: [Double]
        var analytic: Double
        var ruleRounding: Double
    }

    /// Some entry (or the probe) cannot be judged from a central difference's two points alone.
    static func unresolved(
        _ components: ElementComponents, numbers: [NumericDerivative], probe: ProbeNumbers?, options: CheckOptions
    ) -> Bool {
        guard numbers.contains(where: { $0.error == nil }) else { return false }
        for k in components.indices where judge(
            analytic: components.analytic(k), numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value),
            ruleRounding: components.ruleRounding(k)) == .unresolved { return true }
        guard let probe else { return false }
        let (numeric, tolerance) = probeNumeric(numbers, probe: probe, step: numbers.first?.step ?? 0, options: options)
        return judge(analytic: probe.analytic, numeric: numeric, tolerance: tolerance, ruleRounding: probe.ruleRounding) == .unresolved
    }

    /// How many times an element whose estimates have not converged for curvature has its step
    /// shrunk (`curvatureShrinkFactor` each time, Richardson's widest step by 32, past its narrowest).
    static let curvatureShrinks = 3
    static func curvatureShrinkFactor(_ stencil: Stencil) -> Double { stencil == .richardson ? 32 : 8 }

    /// The options of a shrunk retry: a fixed step `step / curvatureShrinkFactor` at x (Richardson's relative to max(1, |x|)).
    static func shrinking(_ options: CheckOptions, step: Double, at x: Double) -> CheckOptions {
        var shrunk = options
        shrunk.autoStep = false
        shrunk.step = step / curvatureShrinkFactor(options.stencil) / (options.stencil.scalesStep ? Swift.max(1, abs(x)) : 1)
        return shrunk
    }

    /// Some entry (or the probe) is left unjudged because the function curves too much over the step.
    static func curved(
        _ components: ElementComponents, numbers: [NumericDerivative], probe: ProbeNumbers?, options: CheckOptions
    ) -> Bool {
        let curvature = Judgement.inconclusive(.curvature)
        for k in components.indices where judge(
            analytic: components.analytic(k), numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value),
            ruleRounding: components.ruleRounding(k)) == curvature { return true }
        guard let probe else { return false }
        let (numeric, tolerance) = probeNumeric(numbers, probe: probe, step: numbers.first?.step ?? 0, options: options)
        return judge(analytic: probe.analytic, numeric: numeric, tolerance: tolerance, ruleRounding: probe.ruleRounding) == curvature
    }

    /// A confirmation shrinks the step by these ratios in turn, about 5 each: not powers of 2,
    /// whose points would repeat f's rounding, and not one ratio, whose steps h/5^j alias together
    /// (sin(ωx) where ωh is π times a multiple of 5⁴: D(h/5^j) then converges, to a wrong value).
    /// `confirmationLevelsPerBatch` levels a batch, at most `confirmationLevels` levels (h/10^19).
    static let confirmationRatios: [Double] = [26, 17, 34, 21, 29, 19, 37, 23].map { $0.squareRoot() }
    static let confirmationLevelsPerBatch = 4
    static let confirmationLevels = 28

    /// The entries about to fail, or left unjudged for curvature (every entry when the probe is),
    /// re-estimated before they are convicted: central differences at steps t = h/5.1, then about
    /// 5 times smaller each (`confirmationRatios`), a few levels a batch, until the last four
    /// estimates converge (each disagreement shrinks by at least 4 from the one before, or is
    /// within their rounding, twice in a row, and the last is below a quarter of the tolerance)
    /// or the step stops resolving f: its rounding (with the input's, `withInputRounding`) exceeds a quarter of
    /// the tolerance (it could not converge), x ± t rounds to x, or a point changes branch or leaves f's domain.
    /// A converged entry is judged on its finest estimate (error: its last disagreement plus its
    /// rounding), unless it agrees with the first estimate within both errors (which then stands,
    /// Richardson's being the more accurate): the rule passes where the small steps agree with it
    /// and still fails where they agree with the coarse value. A failing entry that never
    /// converged over four or more steps is inconclusive (`InconclusiveReason.oscillation`): the
    /// coarse steps' agreement was by accident, as it is for sin(ωx) at steps spanning many periods;
    /// with fewer steps before the rounding limit, h was already about as small as a step can
    /// usefully be and the first estimate stands; one unjudged for curvature stays as it was. Runs only for such elements, never on a passing one.
    static func confirmFailure(
        _ s: ElementSamples, _ components: ElementComponents, numbers: [NumericDerivative], probe: ProbeNumbers?,
        function: Differentiand, evaluator: any PerturbedEvaluator, cotangents: Cotangents, options: CheckOptions
    ) -> [NumericDerivative] {
        let doubtful: Set<Judgement> = [.fail, .inconclusive(.curvature)]
        let probeJudgement = probe.map { p in
            let (numeric, tolerance) = probeNumeric(numbers, probe: p, step: s.step, options: options)
            return judge(analytic: p.analytic, numeric: numeric, tolerance: tolerance, ruleRounding: p.ruleRounding)
        }
        let probeDoubtful = probeJudgement.map(doubtful.contains) ?? false
        let judgements = components.indices.map { k in
            judge(
                analytic: components.analytic(k), numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value),
                ruleRounding: components.ruleRounding(k))
        }
        let targets = components.indices.filter { probeDoubtful || doubtful.contains(judgements[$0]) }
        let u: [Double]? = if case .projected(let u, _) = cotangents { u.data } else { nil }
        let f0 = function.output.data
        var series: [Int: [NumericDerivative]] = [:]
        var open = Set(targets)
        var t = s.step, levels = 0
        batches: while !open.isEmpty && levels < confirmationLevels {
            var steps: [Double] = []
            while steps.count < confirmationLevelsPerBatch && levels + steps.count < confirmationLevels {
                let ratio = confirmationRatios[(levels + steps.count) % confirmationRatios.count]
                let next = CheckOptions.takenStep(t / ratio, at: s.x0)
                guard next < t, next >= StepProblem.smallestStep, s.x0 + next != s.x0, s.x0 - next != s.x0 else { break }
                t = next
                steps.append(t)
            }
            guard !steps.isEmpty else { break }
            levels += steps.count
            let evaluated = evaluator.evaluate(points: steps.flatMap { t in
                [t, -t].map { PerturbedPoint(input: s.input, element: s.element, offset: $0) }
            })
            for (m, t) in steps.enumerated() {
                let plus = evaluated[2 * m], minus = evaluated[2 * m + 1]
                // A kink or the domain's edge within the step: the small steps cannot confirm anything.
                guard plus.branches == s.pattern, minus.branches == s.pattern, plus.outputIsFinite, minus.outputIsFinite else {
                    break batches
                }
                let rows = [plus, minus].map { changeRow($0, projection: u, base: f0) }
                for k in open.sorted() {
                    let a = components.analytic(k)
                    var d = derivative(
                        values: { rows[$0].value[k] }, scale: { rows[$0].magnitude[k] == 0 ? s.baseScales[k] : rows[$0].magnitude[k] },
                        stencil: .central, h: t)
                    d = withInputRounding(d, size: abs(s.x0) * Swift.max(abs(a), abs(d.value)))
                    let tolerance = options.tolerance(numeric: d.value)
                    // Past the rounding limit: the finer steps measure noise.
                    guard d.value.isFinite, d.rounding <= convergedFraction * tolerance else {
                        open.remove(k)
                        continue
                    }
                    series[k, default: []].append(d)
                    if convergedEstimate(series[k]!, options: options) != nil { open.remove(k) }
                }
            }
        }
        var refined = numbers
        for k in targets {
            refined[k] = confirmation(
                of: numbers[k], run: series[k] ?? [], convicting: judgements[k] == .fail || probeJudgement == .fail, options: options)
        }
        return refined
    }

    /// What a confirmation's run of estimates at shrinking steps makes of a first estimate.
    /// Converged and agreeing with it within both errors: the better-bounded of the two (a
    /// fail's first estimate, at its larger step, is often good to 1e-9 where the small steps'
    /// rounding is 1e-7); converged and disagreeing: the small steps' number (the coarse steps
    /// were wrong). Never converged over four or more steps of an entry about to be convicted:
    /// the finest estimate, marked `oscillates` (the coarse agreement was by accident). Fewer
    /// steps before the rounding limit or a kink: h is about as small as a step can usefully be,
    /// and the first estimate stands.
    static func confirmation(
        of first: NumericDerivative, run: [NumericDerivative], convicting: Bool, options: CheckOptions
    ) -> NumericDerivative {
        if let confirmed = convergedEstimate(run, options: options) {
            let firstError = first.error ?? first.rounding
            let agree = abs(first.value - confirmed.value) <= confirmed.error! + firstError
            return !agree || confirmed.error! < firstError ? confirmed : first
        }
        guard convicting, run.count >= 4 else { return first }
        var finest = run.last!
        finest.oscillates = true
        return finest
    }

    /// The last of a confirmation's estimates (steps shrinking), with its error (its disagreement
    /// with the one before plus its rounding), once the last four converge: each disagreement
    /// shrinks by at least 4 from the one before or is within their rounding, twice in a row, and
    /// the last is below a quarter of the tolerance. Nil before.
    static func convergedEstimate(_ run: [NumericDerivative], options: CheckOptions) -> NumericDerivative? {
        guard run.count >= 4 else { return nil }
        func converges(_ j: Int) -> Bool {
            let wider = abs(run[j - 1].value - run[j - 2].value), last = abs(run[j].value - run[j - 1].value)
            return (last <= wider / 4 || last <= 2 * (run[j].rounding + run[j - 1].rounding))
                && last + run[j].rounding <= convergedFraction * options.tolerance(numeric: run[j].value)
        }
        let j = run.count - 1
        guard converges(j) && converges(j - 1) else { return nil }
        var confirmed = run[j]
        confirmed.error = abs(run[j].value - run[j - 1].value) + run[j].rounding
        return confirmed
    }

    /// The second steps of a central difference, as fractions of h: first the golden ratio's
    /// 0.618; then, for an entry that would still fail, three more. Not h/2: at steps in a dyadic
    /// ratio the rounding of f(x ± t) repeats (the points fall on the same grid of f's
    /// representable values), so D(h) and D(h/2) can share their rounding error and agree with
    /// each other while both miss f′ (in a simulation of softmax cross-entropy, 37% of the time by
    /// more than ten times their difference; with these four steps, never in 5000 tries).
    static let secondStepRatios: [Double] = [0.6180339887498949, 0.7071067811865476, 0.8660254037844386, 0.5772156649015329]

    /// The central differences of one element with their truncation estimated from second steps
    /// t = r·h (`ratios`), their points x ± t evaluated as one batch: `secondStep` for each
    /// component. Where those points change branch (a kink between t and h) the estimate is
    /// infinite: such an entry can pass within the tolerance, never fail on it.
    static func secondSteps(
        _ s: ElementSamples, ratios: ArraySlice<Double>, numbers: [NumericDerivative], function: Differentiand,
        evaluator: any PerturbedEvaluator, cotangents: Cotangents
    ) -> [NumericDerivative] {
        let u: [Double]? = if case .projected(let u, _) = cotangents { u.data } else { nil }
        let evaluated = evaluator.evaluate(points: ratios.flatMap { r in
            [r, -r].map { PerturbedPoint(input: s.input, element: s.element, offset: $0 * s.step) }
        })
        let rows = evaluated.map { changeRow($0, projection: u, base: function.output.data).value }
        let sameBranch = evaluated.allSatisfy { $0.branches == s.pattern }
        var refined = numbers
        for (m, r) in ratios.enumerated() {
            for k in refined.indices {
                let value = sameBranch ? (rows[2 * m][k] - rows[2 * m + 1][k]) / (2 * r * s.step) : .nan
                refined[k] = secondStep(refined[k], ratio: r, value: value)
            }
        }
        return refined
    }

    /// A central difference D(h) with its truncation estimated from D(t), t = r·h: D(h) − D(t) ≈
    /// c·h²·(1 − r²), so `|D(h) − D(t)| / (1 − r²)` bounds D(h)'s truncation, and both steps'
    /// rounding is in that difference too. With several second steps the largest bound is kept;
    /// the rounding is added once. A non-finite D(t) leaves the estimate infinite.
    static func secondStep(_ n: NumericDerivative, ratio r: Double, value: Double) -> NumericDerivative {
        var refined = n
        let truncation = abs(n.value - value) / (1 - r * r)
        let previous = n.error.map { $0 - n.rounding } ?? 0
        refined.error = truncation.isFinite ? Swift.max(previous, truncation) + n.rounding : .infinity
        return refined
    }

    /// Some entry (or the probe) is left unjudged because rounding swamps the difference
    /// (`InconclusiveReason.noise`, or still unresolved after the second steps, which the
    /// tally counts as noise).
    static func noisy(
        _ components: ElementComponents, numbers: [NumericDerivative], probe: ProbeNumbers?, options: CheckOptions
    ) -> Bool {
        let noise: Set<Judgement> = [.inconclusive(.noise), .unresolved]
        for k in components.indices where noise.contains(judge(
            analytic: components.analytic(k), numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value),
            ruleRounding: components.ruleRounding(k))) { return true }
        guard let probe else { return false }
        let (numeric, tolerance) = probeNumeric(numbers, probe: probe, step: numbers.first?.step ?? 0, options: options)
        return noise.contains(judge(analytic: probe.analytic, numeric: numeric, tolerance: tolerance, ruleRounding: probe.ruleRounding))
    }

    /// Some entry (or the probe) fails on its error bound: before it is convicted, the other
    /// second steps must agree.
    static func failing(
        _ components: ElementComponents, numbers: [NumericDerivative], probe: ProbeNumbers?, options: CheckOptions
    ) -> Bool {
        for k in components.indices where judge(
            analytic: components.analytic(k), numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value),
            ruleRounding: components.ruleRounding(k)) == .fail { return true }
        guard let probe else { return false }
        let (numeric, tolerance) = probeNumeric(numbers, probe: probe, step: numbers.first?.step ?? 0, options: options)
        return judge(analytic: probe.analytic, numeric: numeric, tolerance: tolerance, ruleRounding: probe.ruleRounding) == .fail
    }

    // MARK: - Perturb

    /// The stencil's points of every element of the chunk, evaluated as one batch, each kept as
    /// its change f − f₀ (propagated through the ops' difference rules under Richardson,
    /// `Evaluation.change`); in a projected comparison reduced at once to `uᵀ(f − f₀)`, differenced
    /// element by element before the sum, so the outputs the element does not reach add no rounding.
    static func perturb(
        _ function: Differentiand, evaluator: any PerturbedEvaluator, elements: ArraySlice<(input: Int, element: Int)>,
        cotangents: Cotangents, options: CheckOptions
    ) -> [ElementSamples] {
        let terms = options.stencil.terms
        let u: [Double]? = if case .projected(let u, _) = cotangents { u.data } else { nil }
        let steps = options.autoStep
            ? AutoStep.steps(function, evaluator: evaluator, elements: elements, projection: u, stencil: options.stencil)
            : elements.map { options.step(at: function.inputs[$0.input].data[$0.element]) }
        var points: [PerturbedPoint] = []
        points.reserveCapacity(elements.count * terms.count)
        for ((i, j), h) in zip(elements, steps) {
            for t in terms { points.append(PerturbedPoint(input: i, element: j, offset: t.offset * h)) }
        }
        let evaluated = evaluator.evaluate(points: points)
        return elements.enumerated().map { n, pair in
            let mine = evaluated[(n * terms.count)..<((n + 1) * terms.count)]
            let first = mine.first!
            var finiteAbove = true, finiteBelow = true
            for (t, e) in zip(terms, mine) where !e.outputIsFinite {
                if t.offset > 0 { finiteAbove = false } else { finiteBelow = false }
            }
            let undefined: UndefinedStep? = switch (finiteAbove, finiteBelow) {
            case (true, true): nil
            case (false, true): .plus
            case (true, false): .minus
            case (false, false): .both
            }
            let rows = mine.map { changeRow($0, projection: u, base: function.output.data) }
            let f0 = function.output.data
            var base = [Double](repeating: 0, count: f0.count)
            switch first.moved {
            case .all: for k in f0.indices { base[k] = abs(f0[k]) }
            case .elements(let reached): for k in reached { base[k] = abs(f0[k]) }
            }
            let baseScales = u.map { [absoluteDot($0, base)] } ?? base
            return ElementSamples(
                input: pair.input, element: pair.element, x0: function.inputs[pair.input].data[pair.element],
                step: steps[n], outputs: rows.map(\.value), magnitudes: rows.map(\.magnitude), baseScales: baseScales,
                pattern: first.branches, branchChange: mine.contains { $0.branches != first.branches }, undefinedStep: undefined)
        }
    }

    /// One point's `f − f₀` with its rounding scale, every component or projected on u
    /// (`uᵀ(f − f₀)`, scale `|u|ᵀ·scale`).
    static func changeRow(_ e: Evaluation, projection u: [Double]?, base f0: [Double]) -> (value: [Double], magnitude: [Double]) {
        if let u, e.difference == nil, case .elements(let moved) = e.moved {
            let projected = ProjectedChange(u, e.output.data, from: f0, at: moved)
            return ([projected.value], [projected.magnitude])
        }
        let change = e.change(from: f0), magnitude = e.changeMagnitude(from: f0)
        guard let u else { return (change, magnitude) }
        return ([dot(u, change)], [absoluteDot(u, magnitude)])
    }

    // MARK: - Estimate error

    /// Component k's numeric derivative from the stencil's points, with its error estimate
    /// when the stencil gives one.
    /// Its rounding includes `inputRounding` at `|x₀|·max(|a|, |n|)`, a the rule's number.
    static func estimateError(
        _ s: ElementSamples, component k: Int, stencil: Stencil, analytic a: Double
    ) -> NumericDerivative {
        let unchanged = s.outputs.allSatisfy { $0[k] == 0 }
        let n = derivative(
            values: { s.outputs[$0][k] }, scale: { unchanged ? s.baseScales[k] : s.scale($0, k) }, stencil: stencil, h: s.step)
        return withInputRounding(n, size: abs(s.x0) * Swift.max(abs(a), abs(n.value)))
    }

    /// A difference's rounding from intermediates of its input's size: an op computes from its
    /// operands, so `log_softmax` at logits near 1000 rounds at 1000·ε, not at its output's size,
    /// and x ± h itself rounds at x's. Such an error δ at x moves f by about f′·δ: with `size` =
    /// `Σ_j |x_j|·|∂f/∂x_j|` over the moved elements, this adds `c·ε·size / h` to the rounding
    /// (and to the error bound, when there is one).
    static func withInputRounding(_ n: NumericDerivative, size: Double) -> NumericDerivative {
        var rounded = n
        let extra = FiniteDifference.roundingFactor * Double.ulpOfOne * size / n.step
        guard extra.isFinite, extra > 0 else { return n }
        rounded.rounding += extra
        if let e = n.error { rounded.error = e + extra }
        return rounded
    }

    /// The stencil's derivative with one rounding scale for every point (the size of f).
    static func derivative(values: (Int) -> Double, scale: Double, stencil: Stencil, h: Double) -> NumericDerivative {
        derivative(values: values, scale: { _ in scale }, stencil: stencil, h: h)
    }

    /// The stencil's derivative from the values at its points (in `Stencil.terms` order), with
    /// `scale(p)` the rounding scale of point p's value.
    ///
    /// Every stencil carries its rounding, `c·ε·Σ|weight|·max scale / h` (c =
    /// `FiniteDifference.roundingFactor`). The five-point value is the extrapolation of the central
    /// differences D(h) and D(2h) its points hold, so `|D(h) − D(2h)| / 3` (the central difference's
    /// own truncation at h, which the extrapolation only improves) plus the rounding bounds its
    /// error. A central difference's two points give no truncation estimate: `error` stays nil
    /// until `secondStep` adds one.
    static func derivative(values: (Int) -> Double, scale: (Int) -> Double, stencil: Stencil, h: Double) -> NumericDerivative {
        switch stencil {
        case .central, .fivePoint:
            var sum = 0.0, weights = 0.0, size = 0.0
            for (p, t) in stencil.terms.enumerated() {
                sum += t.weight * values(p)
                weights += abs(t.weight)
                size = Swift.max(size, scale(p))
            }
            let rounding = FiniteDifference.roundingFactor * Double.ulpOfOne * weights * size / h
            guard stencil == .fivePoint else { return NumericDerivative(value: sum / h, error: nil, rounding: rounding, step: h) }
            let near = (values(1) - values(2)) / (2 * h), far = (values(0) - values(3)) / (4 * h)
            return NumericDerivative(value: sum / h, error: abs(near - far) / 3 + rounding, rounding: rounding, step: h)
        case .richardson:
            let levels = 0..<Stencil.richardsonLevels
            return FiniteDifference.richardson(
                plus: levels.map { values(2 * $0) }, minus: levels.map { values(2 * $0 + 1) },
                h: h, scales: levels.map { Swift.max(scale(2 * $0), scale(2 * $0 + 1)) })
        }
    }

    /// Where the stencil's points on one side leave f's domain (sqrt just above 0) or overflow
    /// (exp near 710), the derivative from the other side alone: f at x + side·h/2^k for six
    /// consecutive k and at x itself, as secants extrapolated in powers of the step
    /// (`FiniteDifference.oneSided`), each with its error estimate. Blocks of six halvings, each one
    /// batch, up to `kinkBlocks`, until every component's estimate is below a quarter of its
    /// tolerance; the last block's numbers otherwise (their estimates then leave them unjudged).
    static func oneSidedNumbers(
        _ s: ElementSamples, side: Double, function: Differentiand, evaluator: any PerturbedEvaluator,
        cotangents: Cotangents, options: CheckOptions
    ) -> [NumericDerivative] {
        let f0 = function.output.data
        let u: [Double]? = if case .projected(let u, _) = cotangents { u.data } else { nil }
        // Values are changes f − f₀ (projected, uᵀ(f − f₀)): 0 at the element itself.
        let zeros = [Double](repeating: 0, count: u == nil ? f0.count : 1)
        let origin: (values: [Double], magnitudes: [Double]) = (zeros, zeros)
        var numbers: [NumericDerivative] = []
        for block in 0..<kinkBlocks {
            let steps = (0..<kinkStepsPerBlock).map {
                s.step / Double(sign: .plus, exponent: block * kinkStepsPerBlock + $0, significand: 1)
            } + [0]
            let evaluated = evaluator.evaluate(points: steps.dropLast().map {
                PerturbedPoint(input: s.input, element: s.element, offset: side * $0)
            })
            let rows: [(values: [Double], magnitudes: [Double])] = evaluated.map { e in
                let row = changeRow(e, projection: u, base: f0)
                return (row.value, row.magnitude)
            } + [origin]
            numbers = origin.values.indices.map { k in
                let scale = rows.reduce(0) { Swift.max($0, $1.magnitudes[k]) }
                var d = FiniteDifference.oneSided(values: rows.map { $0.values[k] }, steps: steps, side: side, scale: scale)
                d.side = side
                d.withinToleranceOnly = true
                if !d.value.isFinite { d.error = .infinity }
                return d
            }
            if numbers.allSatisfy({ ($0.error ?? .infinity) <= convergedFraction * options.tolerance(numeric: $0.value) }) { break }
        }
        return numbers
    }

    /// The verdict on one number, with `tolerance` = atol + rtol·|n| and `ruleRounding` the
    /// rounding the backward rule's own number may carry (`ruleRoundingFactor`):
    /// - inconclusive when the finite difference is not a finite number (x ± h leaves the
    ///   function's domain, or f overflows): it proves nothing, and an infinite tolerance
    ///   `atol + rtol·|n|` would otherwise pass any rule;
    /// - fail when the rule gives NaN or an infinity where the difference is finite;
    /// - outside the tolerance: inconclusive when the difference's own error estimate exceeds the
    ///   tolerance (it has not converged, so neither it nor its estimate, then only a lower bound
    ///   of its error, can convict the rule), otherwise fail;
    /// - within the tolerance: fail when the mismatch is more than `certaintyFactor` times what the
    ///   difference's error bound and the rule's rounding explain, otherwise pass. The tolerance
    ///   alone would let through a rule scaled by 1 + 1e-4 where the difference is good to 1e-9,
    ///   or one wrong only where the gradient is below atol;
    /// - unresolved while the difference has no truncation estimate (a central difference from its
    ///   two points) and its rounding alone decides neither way: `secondStep` gives it one.
    static func judge(analytic a: Double, numeric n: NumericDerivative, tolerance: Double, ruleRounding: Double) -> Judgement {
        guard n.value.isFinite else { return .inconclusive(.undefined) }
        // An infinite rule value where the difference's own estimate is above the tolerance (the
        // secants grow as the step shrinks): the derivative may be infinite there.
        guard a.isFinite else {
            if let e = n.error, e > tolerance, !a.isNaN { return .inconclusive(.undefined) }
            return .fail
        }
        if n.oscillates { return .inconclusive(.oscillation) }
        let difference = abs(a - n.value)
        guard let e = n.error else {
            if difference <= tolerance && difference <= certaintyFactor * (n.rounding + ruleRounding) { return .pass }
            if difference > tolerance && n.rounding > tolerance { return .inconclusive(.noise) }
            return .unresolved
        }
        if difference > tolerance { return e > tolerance ? .inconclusive(n.inconclusiveReason) : .fail }
        return difference > certaintyFactor * (e + ruleRounding) && !n.withinToleranceOnly ? .fail : .pass
    }

    /// A backward rule's number is good to `ruleRoundingFactor·ε` of the largest entry of the
    /// gradient the same call returned for that input (a rule sums products, rounding each, so
    /// its small entries round at the scale of its large ones): 1e4·ε ≈ 2.2e-12, a sum of 10⁴
    /// terms each rounded once.
    static let ruleRoundingFactor = 1e4

    /// The rounding allowed a rule's number from a gradient whose largest entry is `scale`.
    static func ruleRounding(scale: Double) -> Double { ruleRoundingFactor * Double.ulpOfOne * scale }

    /// `|a − n|` as a multiple of what a pass allows: above 1 exactly when the entry failed (or is
    /// not finite), so a failure always outranks a pass as the worst element.
    static func mismatchRatio(analytic a: Double, numeric n: NumericDerivative, tolerance: Double, ruleRounding: Double) -> Double {
        let difference = abs(a - n.value)
        guard difference > 0 else { return 0 }
        var allowed = tolerance
        if let e = n.error, difference <= tolerance, !n.withinToleranceOnly { allowed = Swift.min(tolerance, certaintyFactor * (e + ruleRounding)) }
        let ratio = difference / allowed
        return ratio.isNaN ? .infinity : ratio
    }

    /// A failure whose mismatch is this many times the difference's error estimate is
    /// reported as wrong beyond doubt.
    static let certaintyFactor = 10.0

    enum Judgement: Hashable {
        case pass, fail
        case inconclusive(InconclusiveReason)
        /// A central difference whose two points cannot decide: it needs `secondStep`.
        case unresolved

        var inconclusiveReason: InconclusiveReason? {
            if case .inconclusive(let reason) = self { return reason }
            return self == .unresolved ? .noise : nil
        }
    }

    // MARK: - Compare full Jacobian

    /// Every entry of the element's column (or its one `uᵀJ` entry) against the rule.
    static func compareEntries(
        _ s: ElementSamples, _ components: ElementComponents, numbers: [NumericDerivative], options: CheckOptions,
        into tally: inout ComparisonTally
    ) {
        for k in components.indices {
            let a = components.analytic(k)
            // Where a step leaves f's domain, a rule value of NaN or ∞ is the arithmetic of an
            // infinite derivative (0·∞ in sqrt's rule at 0): undefined, not wrong.
            if s.undefinedStep != nil && !a.isFinite {
                var comparison = components.comparison(k, analytic: a, numeric: numbers[k], undefinedStep: s.undefinedStep)
                comparison.inconclusive = .undefined
                tally.addInconclusive(comparison, entries: 1)
                continue
            }
            tally.add(
                analytic: a, numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value),
                ruleRounding: components.ruleRounding(k), options: options
            ) {
                components.comparison(k, analytic: a, numeric: numbers[k], undefinedStep: s.undefinedStep)
            }
        }
    }

    // MARK: - Compare projection

    /// The probe's finite difference `Σ_k u_k · column_k` with its error (`Σ|u_k|·error_k`, nil
    /// while some entry has none) and rounding, and its tolerance `Σ_k |u_k| · (atol + rtol·|column_k|)`
    /// (what entries that each pass allow).
    static func probeNumeric(
        _ numbers: [NumericDerivative], probe: ProbeNumbers, step: Double, options: CheckOptions
    ) -> (numeric: NumericDerivative, tolerance: Double) {
        var value = 0.0, tolerance = 0.0, error: Double? = 0, rounding = 0.0
        for k in numbers.indices {
            let w = abs(probe.u[k])
            value += probe.u[k] * numbers[k].value
            tolerance += w * options.tolerance(numeric: numbers[k].value)
            if let e = numbers[k].error, let sum = error { error = sum + w * e } else { error = nil }
            rounding += w * numbers[k].rounding
        }
        let side = numbers.lazy.compactMap(\.side).first
        var numeric = NumericDerivative(value: value, error: error, rounding: rounding, step: step, side: side)
        numeric.withinToleranceOnly = numbers.contains(where: \.withinToleranceOnly)
        numeric.oscillates = numbers.contains(where: \.oscillates)
        return (numeric, tolerance)
    }

    /// In a full-Jacobian check, `uᵀJ` for the random probe u: the rule's `backward(u)` against
    /// `Σ_k u_k · column_k` (`probeNumeric`). A rule right only for one-hot cotangents fails here.
    static func compareProjection(
        _ s: ElementSamples, _ components: ElementComponents, numbers: [NumericDerivative], probe: ProbeNumbers,
        options: CheckOptions, into tally: inout ComparisonTally
    ) {
        let (numeric, tolerance) = probeNumeric(numbers, probe: probe, step: s.step, options: options)
        let oneSided = numeric.side != nil
        let describe = {
            ElementComparison(
                input: components.input, inputName: components.inputName, index: components.index, projected: true,
                analytic: probe.analytic, numeric: numeric.value, step: s.step, errorEstimate: numeric.error,
                undefinedStep: numeric.value.isFinite && !oneSided ? nil : s.undefinedStep, oneSided: oneSided ? true : nil)
        }
        if s.undefinedStep != nil && !probe.analytic.isFinite {
            var comparison = describe()
            comparison.inconclusive = .undefined
            tally.addInconclusive(comparison, entries: 0)
            return
        }
        tally.add(
            analytic: probe.analytic, numeric: numeric, tolerance: tolerance, ruleRounding: probe.ruleRounding,
            options: options, countsAsEntry: false, describe: describe)
    }

    // MARK: - Arbitrate kinks

    /// One side's converged one-sided derivatives of every component, and the branch
    /// pattern of the steps they came from.
    struct OneSidedResult {
        var derivatives: [NumericDerivative]
        var pattern: [Int]
        /// The steps (indices into the side's samples) the derivatives came from.
        var window: Range<Int>
    }

    /// The element's stencil points straddle a change of branch pattern. Shrinks the step on
    /// both sides together, h, h/2, h/4, … (blocks of six, each one batch), until each side's
    /// last steps share one branch pattern and the one-sided derivative extrapolated over them
    /// has converged (its error estimate below a quarter of the tolerance), with at least one
    /// side on the element's own branch (or, at the last block, none: the element sits on the
    /// kink itself, as abs at 0); so at most one kink lies between the two runs. Then,
    /// per component: sides equal within twice their error estimates are a smooth entry judged
    /// against their mean (the element is not at a kink); sides that differ are a kink, where
    /// the rule's value must lie between them.
    /// When that cannot be reached by h/2^23 the element is inconclusive, never a failure.
    static func arbitrateKink(
        _ s: ElementSamples, _ components: ElementComponents, function: Differentiand, evaluator: any PerturbedEvaluator,
        cotangents: Cotangents, options: CheckOptions, into tally: inout ComparisonTally
    ) {
        let u: [Double]? = if case .projected(let u, _) = cotangents { u.data } else { nil }
        // The values are changes f − f₀ (projected, uᵀ(f − f₀)): 0 at the element itself.
        let base = [Double](repeating: 0, count: u == nil ? function.output.count : 1)
        let baseMagnitude = base
        let basePattern = evaluator.evaluate(points: [PerturbedPoint(input: s.input, element: s.element, offset: 0)])[0].branches
        var sides = [SideSamples(side: 1), SideSamples(side: -1)]
        var accepted: (right: OneSidedResult, left: OneSidedResult)?
        for block in 0..<kinkBlocks {
            for n in sides.indices { sides[n].extend(s, block: block, evaluator: evaluator, projection: u, base: function.output.data) }
            let last = block == kinkBlocks - 1
            let candidates = sides.map { $0.candidate(base: base, baseMagnitude: baseMagnitude, basePattern: basePattern, finalBlock: last, options: options) }
            if let right = candidates[0], let left = candidates[1], right.pattern == basePattern || left.pattern == basePattern || last {
                accepted = (right, left)
                break
            }
        }
        guard let (right, left) = accepted else {
            let numbers = components.indices.map {
                estimateError(s, component: $0, stencil: options.stencil, analytic: components.analytic($0))
            }
            let k = components.indices.max { abs(components.analytic($0) - numbers[$0].value) < abs(components.analytic($1) - numbers[$1].value) } ?? 0
            var comparison = components.comparison(k, analytic: components.analytic(k), numeric: numbers[k], undefinedStep: s.undefinedStep)
            // A side whose secants grow without bound as the step shrinks has an infinite one-sided
            // derivative (sqrt(relu(x)) at 0): the derivative is undefined there, not wrong.
            comparison.inconclusive = sides.contains { $0.diverges(component: k) } || !components.analytic(k).isFinite ? .undefined : .nearKink
            tally.addInconclusive(comparison, entries: components.count)
            return
        }
        var kinked: [(comparison: ElementComparison, ratio: Double, jump: Double)] = []
        for k in components.indices {
            let l = left.derivatives[k], r = right.derivatives[k], a = components.analytic(k)
            guard l.value.isFinite && r.value.isFinite else {
                var comparison = components.comparison(k, analytic: a, numeric: l.value.isFinite ? r : l, undefinedStep: nil)
                comparison.inconclusive = .undefined
                tally.addInconclusive(comparison, entries: 1)
                continue
            }
            let jump = abs(r.value - l.value)
            let error = Swift.max(l.error ?? 0, r.error ?? 0)
            let mean = NumericDerivative(
                value: (l.value + r.value) / 2, error: error + jump / 2, rounding: Swift.max(l.rounding, r.rounding),
                step: Swift.min(l.step, r.step))
            // The sides agree within their own errors: no kink at this entry, however the stencil's
            // points fell. A jump beyond them, however small, is a kink.
            if jump <= 2 * ((l.error ?? 0) + (r.error ?? 0)) {
                var numeric = centralOverSharedSteps(sides, right.window, left.window, component: k).flatMap {
                    ($0.error ?? .infinity) < (mean.error ?? .infinity) ? $0 : nil
                } ?? mean
                numeric.withinToleranceOnly = true
                tally.add(
                    analytic: a, numeric: numeric, tolerance: options.tolerance(numeric: numeric.value),
                    ruleRounding: components.ruleRounding(k), options: options
                ) {
                    components.comparison(k, analytic: a, numeric: numeric, undefinedStep: nil)
                }
                continue
            }
            var comparison = components.comparison(k, analytic: a, numeric: mean, undefinedStep: nil)
            comparison.errorEstimate = error
            comparison.atKink = true
            comparison.leftDerivative = l.value
            comparison.rightDerivative = r.value
            kinked.append((comparison, options.kinkRatio(analytic: a, left: l.value, right: r.value), jump))
        }
        tally.addKinkElement(kinked)
    }

    /// Where both sides agree, the central differences `(f(x + t) − f(x − t)) / 2t` over the steps
    /// both windows share, extrapolated as Richardson does: far more accurate than the one-sided
    /// values, from points already evaluated. Nil when fewer than two steps are shared.
    static func centralOverSharedSteps(
        _ sides: [SideSamples], _ right: Range<Int>, _ left: Range<Int>, component k: Int
    ) -> NumericDerivative? {
        let shared = right.clamped(to: left)
        guard shared.count >= 2 else { return nil }
        let steps = shared.map { sides[0].steps[$0] }
        let series = shared.map { (sides[0].values[$0][k] - sides[1].values[$0][k]) / (2 * sides[0].steps[$0]) }
        let rounding = shared.map {
            FiniteDifference.roundingFactor * Double.ulpOfOne * Swift.max(sides[0].magnitudes[$0][k], sides[1].magnitudes[$0][k]) / sides[0].steps[$0]
        }
        return FiniteDifference.extrapolate(series: series, steps: steps, rounding: rounding, order: 2)
    }

    /// The points `x + side·t` of one side of a kink arbitration, widest step first.
    struct SideSamples {
        var side: Double
        var steps: [Double] = []
        var values: [[Double]] = []
        var magnitudes: [[Double]] = []
        var patterns: [[Int]] = []

        init(side: Double) { self.side = side }

        /// Evaluates the next six steps, h/2^(6·block) … h/2^(6·block + 5), as one batch.
        mutating func extend(
            _ s: ElementSamples, block: Int, evaluator: any PerturbedEvaluator, projection u: [Double]?, base f0: [Double]
        ) {
            let blockSteps = (0..<kinkStepsPerBlock).map { q in
                s.step / Double(sign: .plus, exponent: block * kinkStepsPerBlock + q, significand: 1)
            }
            let evaluated = evaluator.evaluate(points: blockSteps.map {
                PerturbedPoint(input: s.input, element: s.element, offset: side * $0)
            })
            for (t, e) in zip(blockSteps, evaluated) {
                steps.append(t)
                patterns.append(e.branches)
                let row = JacobianCheck.changeRow(e, projection: u, base: f0)
                values.append(row.value)
                magnitudes.append(row.magnitude)
            }
        }

        /// The secants of component k over the last four steps grow by at least a fifth each
        /// halving (as `1/√t` does): the one-sided derivative is infinite.
        func diverges(component k: Int) -> Bool {
            guard values.count >= 4 else { return false }
            let n = values.count
            let secants = ((n - 3)..<n).map { (q: Int) -> Double in
                let rise: Double = values[q - 1][k] - values[q][k]
                let run: Double = steps[q - 1] - steps[q]
                return abs(rise / run)
            }
            return secants[1] > 1.2 * secants[0] && secants[2] > 1.2 * secants[1]
        }

        /// The side's one-sided derivatives from its last run of same-pattern steps (at most six),
        /// when that run has three steps or more and has converged. When the last run is the
        /// element's own branch but its steps are too small to converge (rounding), or this is the
        /// final block, the run before it stands in: the kink is closer than the steps resolve.
        func candidate(
            base: [Double], baseMagnitude: [Double], basePattern: [Int], finalBlock: Bool, options: CheckOptions
        ) -> OneSidedResult? {
            var runs: [Range<Int>] = []
            var end = patterns.count
            while end > 0 && runs.count < 2 {
                var start = end - 1
                while start > 0 && patterns[start - 1] == patterns[end - 1] { start -= 1 }
                runs.append(start..<end)
                end = start
            }
            guard let trailing = runs.first else { return nil }
            if let result = converged(trailing, base: base, baseMagnitude: baseMagnitude, options: options) { return result }
            let stalled = trailing.count >= 3 && patterns[trailing.lowerBound] == basePattern
            if (stalled || finalBlock), runs.count > 1 {
                return converged(runs[1], base: base, baseMagnitude: baseMagnitude, options: options)
            }
            return nil
        }

        /// The extrapolated one-sided derivatives over six consecutive steps of `run` (at least
        /// three), the smallest window first and then wider ones (the smallest steps round most),
        /// once every component's error estimate is below a quarter of its tolerance.
        func converged(_ run: Range<Int>, base: [Double], baseMagnitude: [Double], options: CheckOptions) -> OneSidedResult? {
            for end in stride(from: run.upperBound, to: run.lowerBound + 2, by: -kinkStepsPerBlock) {
                let window = Swift.max(run.lowerBound, end - kinkStepsPerBlock)..<end
                if let result = extrapolated(window, base: base, baseMagnitude: baseMagnitude, options: options) { return result }
            }
            return nil
        }

        func extrapolated(_ used: Range<Int>, base: [Double], baseMagnitude: [Double], options: CheckOptions) -> OneSidedResult? {
            let usedSteps = Array(steps[used])
            var derivatives: [NumericDerivative] = []
            derivatives.reserveCapacity(base.count)
            for k in base.indices {
                let scale = used.reduce(baseMagnitude[k]) { Swift.max($0, magnitudes[$1][k]) }
                let d = FiniteDifference.oneSided(values: used.map { values[$0][k] }, steps: usedSteps, side: side, scale: scale)
                guard (d.error ?? .infinity) <= convergedFraction * options.tolerance(numeric: d.value) else { return nil }
                derivatives.append(d)
            }
            return OneSidedResult(derivatives: derivatives, pattern: patterns[used.lowerBound], window: used)
        }
    }

    // MARK: - Analytic numbers

    /// The backward rule's numbers for each input: with one-hot cotangents the
    /// Jacobian row-major `[output element][input element]`, else `uᵀ J`. A gradient
    /// not shaped like its input (the shape probe reports it) counts as zeros.
    static func analyticNumbers(
        _ function: Differentiand, inputs: [Int], cotangents: Cotangents, workers: Int
    ) -> [Int: [Double]] {
        switch cotangents {
        case .projected(let u, _):
            let gradients = function.pullback(u)
            var numbers: [Int: [Double]] = [:]
            for i in inputs {
                numbers[i] = RuleProbes.conforming(gradients, i, like: function.inputs[i])
                    ?? [Double](repeating: 0, count: function.inputs[i].count)
            }
            return numbers
        case .oneHot:
            let outputShape = function.output.shape
            let outputCount = function.output.count
            struct Rows: Sendable {
                var rows: [(Int, [Tensor?])]
            }
            let collected = forEachChunk(
                count: outputCount, chunkSize: Swift.max(1, outputCount / (workers * 4) + 1), workers: workers,
                makeWorker: { () -> (Range<Int>) -> Rows? in
                    { range in
                        var rows: [(Int, [Tensor?])] = []
                        var seed = Tensor.zeros(outputShape)
                        for k in range {
                            seed.data[k] = 1
                            rows.append((k, function.pullback(seed)))
                            seed.data[k] = 0
                        }
                        return Rows(rows: rows)
                    }
                },
                combine: { Rows(rows: $0.rows + $1.rows) })
            var numbers: [Int: [Double]] = [:]
            for i in inputs {
                numbers[i] = [Double](repeating: 0, count: outputCount * function.inputs[i].count)
            }
            for (k, gradients) in collected?.rows ?? [] {
                for i in inputs {
                    guard let g = RuleProbes.conforming(gradients, i, like: function.inputs[i]) else { continue }
                    let n = g.count
                    numbers[i]!.withUnsafeMutableBufferPointer { rows in
                        for j in 0..<n { rows[k * n + j] = g[j] }
                    }
                }
            }
            return numbers
        }
    }
}

/// The numbers one perturbed element is compared on: each output element of its Jacobian
/// column, or its one `uᵀJ` entry.
struct ElementComponents {
    let input: Int
    let inputName: String
    private let inputShape: [Int]
    /// The rule's numbers: `rows[k·n + element]` for a full Jacobian, `[uᵀJ]` projected.
    private let rows: [Double]
    private let element: Int
    private let inputCount: Int
    private let outputShape: [Int]?
    private let projected: Bool
    /// The largest entry of each backward call's gradient for this input (`JacobianCheck.gradientScales`).
    private let rowScales: [Double]
    let count: Int

    init(
        _ function: Differentiand, samples s: ElementSamples, cotangents: JacobianCheck.Cotangents, analytic: [Double],
        rowScales: [Double]
    ) {
        self.init(function, input: s.input, element: s.element, cotangents: cotangents, analytic: analytic, rowScales: rowScales)
    }

    init(
        _ function: Differentiand, input: Int, element: Int, cotangents: JacobianCheck.Cotangents, analytic: [Double],
        rowScales: [Double]
    ) {
        self.rowScales = rowScales
        self.input = input
        inputName = function.inputNames[input]
        inputShape = function.inputs[input].shape
        rows = analytic
        self.element = element
        inputCount = function.inputs[input].count
        switch cotangents {
        case .oneHot:
            outputShape = function.output.shape
            projected = false
            count = function.output.count
        case .projected(_, let isRandom):
            outputShape = nil
            projected = isRandom
            count = 1
        }
    }

    var indices: Range<Int> { 0..<count }

    /// The element's multi-index, built only for a comparison that is kept.
    var index: [Int] { Tensor.index(of: element, in: inputShape) }

    func analytic(_ k: Int) -> Double {
        outputShape == nil ? rows[element] : rows[k * inputCount + element]
    }

    /// The rounding the rule's number for component k may carry: that of its backward call's gradient.
    func ruleRounding(_ k: Int) -> Double {
        JacobianCheck.ruleRounding(scale: rowScales[outputShape == nil ? 0 : k])
    }

    func comparison(_ k: Int, analytic a: Double, numeric n: NumericDerivative, undefinedStep: UndefinedStep?) -> ElementComparison {
        ElementComparison(
            input: input, inputName: inputName, index: index, outputIndex: outputShape.map { Tensor.index(of: k, in: $0) },
            projected: projected, analytic: a, numeric: n.value, step: n.step, errorEstimate: n.error,
            undefinedStep: n.value.isFinite && n.side == nil ? nil : undefinedStep ?? n.side.map(UndefinedStep.init(leftOutFrom:)),
            oneSided: n.side != nil ? true : nil)
    }
}

/// `Σ |a_k·b_k|`: the scale of `aᵀb` for its rounding.
func absoluteDot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for k in 0..<Swift.min(a.count, b.count) { s += abs(a[k] * b[k]) }
    return s
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for k in 0..<Swift.min(a.count, b.count) { s += a[k] * b[k] }
    return s
}

/// The fast-mode comparison `uᵀ J v` of one input or leaf.
public struct ProjectionCheck: Sendable, Codable, Equatable {
    /// `uᵀ (J v)` from the backward rule: `(Jᵀu) · v`.
    public var analytic: Double
    /// `uᵀ (f(x + h v) − f(x − h v)) / 2h` (or the five-point stencil along v).
    public var numeric: Double
    public var absoluteError: Double
    public var relativeError: Double
    /// The branch pattern changed along ±h v: the comparison proves nothing, the elements are checked.
    public var atKink: Bool
    public var passed: Bool

    init(analytic: Double, numeric: Double, atKink: Bool, passed: Bool) {
        self.analytic = analytic
        self.numeric = numeric
        self.absoluteError = abs(analytic - numeric)
        self.relativeError = ChainruleCheck.relativeError(analytic: analytic, numeric: numeric)
        self.atKink = atKink
        self.passed = passed
    }
}
