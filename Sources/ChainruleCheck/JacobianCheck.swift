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
    /// every op had a rule, else the size of f there (0 where f did not move: it cancels exactly).
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
    /// The branch pattern differs between the points: a kink may lie between them.
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
    static func check(
        _ function: Differentiand, cotangents: Cotangents, options: CheckOptions, salt: UInt64,
        workers: Int, progressLabel: String?
    ) -> (verdicts: [InputVerdict], evaluations: Int) {
        var evaluations = 0
        var projections: [Int: ProjectionCheck] = [:]
        var inputsToCompare = function.checkedInputs
        if options.fast {
            let (checks, count) = fastChecks(function, options: options, salt: salt)
            evaluations += count
            projections = checks
            inputsToCompare = function.checkedInputs.filter { !(checks[$0]?.passed ?? false) }
        }
        let (tallies, count) = compareElements(
            function, inputs: inputsToCompare, cotangents: cotangents, options: options, salt: salt,
            workers: workers, progressLabel: progressLabel)
        evaluations += count
        let verdicts = function.checkedInputs.map { i in
            InputVerdict(input: i, tally: tallies[i] ?? ComparisonTally(), projection: projections[i])
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

    /// `uᵀ J_i v_i` by backward rule and by finite differences along `v_i`, for every checked input.
    static func fastChecks(
        _ function: Differentiand, options: CheckOptions, salt: UInt64
    ) -> ([Int: ProjectionCheck], evaluations: Int) {
        let u = Tensor.randn(function.output.shape, seed: options.seed &+ salt &+ 0xF00D)
        let gradients = function.pullback(u)
        let evaluator = function.makeEvaluator()
        let h = options.effectiveStep
        let terms = options.stencil.terms
        var checks: [Int: ProjectionCheck] = [:]
        for i in function.checkedInputs {
            let v = Tensor.randn(function.inputs[i].shape, seed: options.seed &+ salt &+ UInt64(i) &* 31 &+ 0xBEEF)
            let analytic = dot(gradients[i]?.data ?? [], v.data)
            let evaluated = terms.map { evaluator.evaluate(input: i, direction: v, scale: $0.offset * h) }
            evaluator.reset()
            let atKink = evaluated.contains { $0.branches != evaluated[0].branches }
            let values = evaluated.map { dot(u.data, $0.change(from: function.output.data)) }
            let scales = evaluated.map { absoluteDot(u.data, $0.changeMagnitude(from: function.output.data)) }
            let numeric = derivative(values: { values[$0] }, scale: { scales[$0] }, stencil: options.stencil, h: h)
            let passed = !atKink && judge(analytic: analytic, numeric: numeric, tolerance: options.tolerance(numeric: numeric.value)) == .pass
            checks[i] = ProjectionCheck(analytic: analytic, numeric: numeric.value, atKink: atKink, passed: passed)
        }
        return (checks, evaluator.evaluations)
    }

    /// Element-by-element comparison of the given inputs, spread over `workers` threads,
    /// with a progress meter labelled `progressLabel` counting the elements compared.
    static func compareElements(
        _ function: Differentiand, inputs: [Int], cotangents: Cotangents, options: CheckOptions, salt: UInt64,
        workers: Int, progressLabel: String?
    ) -> ([Int: ComparisonTally], evaluations: Int) {
        guard !inputs.isEmpty else { return ([:], 0) }
        let analytic = analyticNumbers(function, inputs: inputs, cotangents: cotangents, workers: workers)
        var probeNumbers: [Int: [Double]] = [:]
        if case .oneHot(let probe) = cotangents {
            let gradients = function.pullback(probe)
            for i in inputs { probeNumbers[i] = RuleProbes.conforming(gradients, i, like: function.inputs[i]) }
        }
        let projectedProbe = probeNumbers
        var pairs: [(input: Int, element: Int)] = []
        for i in inputs {
            for j in elements(ofInput: i, count: function.inputs[i].count, options: options, salt: salt) {
                pairs.append((i, j))
            }
        }
        let allPairs = pairs
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
                    let samples = perturb(function, evaluator: evaluator, elements: allPairs[range], cotangents: cotangents, options: options)
                    for s in samples {
                        if options.autoStep { tallies[s.input, default: .init()].note(step: s.step) }
                        let components = ElementComponents(
                            function, samples: s, cotangents: cotangents, analytic: analytic[s.input]!)
                        if s.branchChange {
                            arbitrateKink(s, components, function: function, evaluator: evaluator, cotangents: cotangents,
                                          options: options, into: &tallies[s.input, default: .init()])
                            continue
                        }
                        var numbers = components.indices.map { estimateError(s, component: $0, stencil: options.stencil) }
                        if let side = s.finiteSide, numbers.contains(where: { !$0.value.isFinite }) {
                            numbers = oneSidedNumbers(
                                s, side: side, function: function, evaluator: evaluator, cotangents: cotangents, options: options)
                        }
                        compareEntries(s, components, numbers: numbers, options: options, into: &tallies[s.input, default: .init()])
                        if case .oneHot(let probe) = cotangents {
                            compareProjection(
                                s, components, numbers: numbers, probe: probe.data, analytic: projectedProbe[s.input]?[s.element],
                                options: options, into: &tallies[s.input, default: .init()])
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
            return ElementSamples(
                input: pair.input, element: pair.element, x0: function.inputs[pair.input].data[pair.element],
                step: steps[n], outputs: rows.map(\.value), magnitudes: rows.map(\.magnitude),
                branchChange: mine.contains { $0.branches != first.branches }, undefinedStep: undefined)
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
    static func estimateError(_ s: ElementSamples, component k: Int, stencil: Stencil) -> NumericDerivative {
        derivative(values: { s.outputs[$0][k] }, scale: { s.scale($0, k) }, stencil: stencil, h: s.step)
    }

    /// The stencil's derivative with one rounding scale for every point (the size of f).
    static func derivative(values: (Int) -> Double, scale: Double, stencil: Stencil, h: Double) -> NumericDerivative {
        derivative(values: values, scale: { _ in scale }, stencil: stencil, h: h)
    }

    /// The stencil's derivative from the values at its points (in `Stencil.terms` order), with
    /// `scale(p)` the rounding scale of point p's value.
    static func derivative(values: (Int) -> Double, scale: (Int) -> Double, stencil: Stencil, h: Double) -> NumericDerivative {
        switch stencil {
        case .central, .fivePoint:
            var sum = 0.0
            for (p, t) in stencil.terms.enumerated() { sum += t.weight * values(p) }
            return NumericDerivative(value: sum / h, error: nil, rounding: 0, step: h)
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
                if !d.value.isFinite { d.error = .infinity }
                return d
            }
            if numbers.allSatisfy({ ($0.error ?? .infinity) <= convergedFraction * options.tolerance(numeric: $0.value) }) { break }
        }
        return numbers
    }

    /// The verdict on one number:
    /// - inconclusive when the finite difference is not a finite number (x ± h leaves the
    ///   function's domain, or f overflows): it proves nothing, and an infinite tolerance
    ///   `atol + rtol·|n|` would otherwise pass any rule;
    /// - fail when the rule gives NaN or an infinity where the difference is finite;
    /// - pass within `tolerance`;
    /// - inconclusive when the difference's own error estimate exceeds the tolerance: the
    ///   difference has not converged, so neither it nor its estimate (then only a lower
    ///   bound of its error) can convict the rule;
    /// - otherwise fail.
    static func judge(analytic a: Double, numeric n: NumericDerivative, tolerance: Double) -> Judgement {
        guard n.value.isFinite else { return .inconclusive(.undefined) }
        // An infinite rule value where the difference's own estimate is above the tolerance (the
        // secants grow as the step shrinks): the derivative may be infinite there.
        guard a.isFinite else {
            if let e = n.error, e > tolerance, !a.isNaN { return .inconclusive(.undefined) }
            return .fail
        }
        let difference = abs(a - n.value)
        if difference <= tolerance { return .pass }
        if let e = n.error, e > tolerance { return .inconclusive(n.inconclusiveReason) }
        return .fail
    }

    /// A failure whose mismatch is this many times the difference's error estimate is
    /// reported as wrong beyond doubt.
    static let certaintyFactor = 10.0

    enum Judgement: Equatable {
        case pass, fail
        case inconclusive(InconclusiveReason)
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
            tally.add(analytic: a, numeric: numbers[k], tolerance: options.tolerance(numeric: numbers[k].value), options: options) {
                components.comparison(k, analytic: a, numeric: numbers[k], undefinedStep: s.undefinedStep)
            }
        }
    }

    // MARK: - Compare projection

    /// In a full-Jacobian check, `uᵀJ` for the random probe u: the rule's `backward(u)` against
    /// `Σ_k u_k · column_k`, within `Σ_k |u_k| · (atol + rtol·|column_k|)` (what entries that each
    /// pass allow). A rule right only for one-hot cotangents fails here.
    static func compareProjection(
        _ s: ElementSamples, _ components: ElementComponents, numbers: [NumericDerivative], probe u: [Double],
        analytic: Double?, options: CheckOptions, into tally: inout ComparisonTally
    ) {
        guard let analytic else { return }
        var value = 0.0, tolerance = 0.0, error: Double? = options.stencil.estimatesError ? 0 : nil, rounding = 0.0
        for k in numbers.indices {
            value += u[k] * numbers[k].value
            tolerance += abs(u[k]) * options.tolerance(numeric: numbers[k].value)
            if let e = numbers[k].error { error = (error ?? 0) + abs(u[k]) * e }
            rounding += abs(u[k]) * numbers[k].rounding
        }
        let side = numbers.lazy.compactMap(\.side).first
        let numeric = NumericDerivative(value: value, error: error, rounding: rounding, step: s.step, side: side)
        let oneSided = side != nil
        let describe = {
            ElementComparison(
                input: components.input, inputName: components.inputName, index: components.index, projected: true,
                analytic: analytic, numeric: value, step: s.step, errorEstimate: error,
                undefinedStep: value.isFinite && !oneSided ? nil : s.undefinedStep, oneSided: oneSided ? true : nil)
        }
        if s.undefinedStep != nil && !analytic.isFinite {
            var comparison = describe()
            comparison.inconclusive = .undefined
            tally.addInconclusive(comparison, entries: 0)
            return
        }
        tally.add(analytic: analytic, numeric: numeric, tolerance: tolerance, options: options, countsAsEntry: false, describe: describe)
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
            let numbers = components.indices.map { estimateError(s, component: $0, stencil: options.stencil) }
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
                let numeric = centralOverSharedSteps(sides, right.window, left.window, component: k).flatMap {
                    ($0.error ?? .infinity) < (mean.error ?? .infinity) ? $0 : nil
                } ?? mean
                tally.add(analytic: a, numeric: numeric, tolerance: options.tolerance(numeric: numeric.value), options: options) {
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
    let count: Int

    init(_ function: Differentiand, samples s: ElementSamples, cotangents: JacobianCheck.Cotangents, analytic: [Double]) {
        input = s.input
        inputName = function.inputNames[s.input]
        inputShape = function.inputs[s.input].shape
        rows = analytic
        element = s.element
        inputCount = function.inputs[s.input].count
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
