import ChainruleCore

/// One evaluation of a checked function at perturbed inputs.
struct Evaluation {
    var output: Tensor
    /// The branch pattern of every piecewise op evaluated (see `Operation.branches`).
    var branches: [Int]
}

/// Evaluates a checked function with one input perturbed, reusing its own copy
/// of the inputs (and, for graphs, of every node's value). One per thread.
protocol PerturbedEvaluator: AnyObject {
    /// Sets element `element` of input `input` to `value` and evaluates. Other
    /// inputs are at their unperturbed values.
    func evaluate(input: Int, element: Int, value: Double) -> Evaluation
    /// Sets input `input` to `base + scale · direction` and evaluates.
    func evaluate(input: Int, direction: Tensor, scale: Double) -> Evaluation
    /// Puts one element back to its unperturbed value, without evaluating.
    func resetElement(input: Int, element: Int)
    /// Puts every input back to its unperturbed value.
    func reset()
    /// Forward evaluations done so far (op forwards for an op, cone recomputes for a graph).
    var evaluations: Int { get }
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

/// Finite-difference Jacobians against backward rules.
enum JacobianCheck {
    /// Which cotangents the backward rule is run with.
    enum Cotangents {
        /// One-hot cotangents, one backward pass per output element: the full Jacobian,
        /// so a failure names both the input and the output element.
        case oneHot
        /// One cotangent `u`: compares `uᵀ J` element by element of each input.
        case projected(Tensor)
    }

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
        var checks: [Int: ProjectionCheck] = [:]
        for i in function.checkedInputs {
            let v = Tensor.randn(function.inputs[i].shape, seed: options.seed &+ salt &+ UInt64(i) &* 31 &+ 0xBEEF)
            let analytic = dot(gradients[i]?.data ?? [], v.data)
            var numeric = 0.0
            let atKink = evaluateStencil(options.stencil, evaluate: { offset in
                evaluator.evaluate(input: i, direction: v, scale: offset * h)
            }, visit: { _, weight, output in
                numeric += weight * dot(u.data, output.data)
            })
            evaluator.reset()
            numeric /= h
            let passed = !atKink && options.accepts(analytic: analytic, numeric: numeric)
            checks[i] = ProjectionCheck(analytic: analytic, numeric: numeric, atKink: atKink, passed: passed)
        }
        return (checks, evaluator.evaluations)
    }

    /// Evaluates the stencil's points `x + offset·h` through `evaluate` (which takes the
    /// offset), hands each output to `visit` with its offset and weight, and returns
    /// whether the branch pattern changed between the points: a kink lies between them.
    static func evaluateStencil(
        _ stencil: Stencil, evaluate: (Double) -> Evaluation, visit: (_ offset: Double, _ weight: Double, Tensor) -> Void
    ) -> Bool {
        var firstBranches: [Int]?
        var atKink = false
        for (offset, weight) in stencil.terms {
            let e = evaluate(offset)
            visit(offset, weight, e.output)
            if let first = firstBranches { atKink = atKink || first != e.branches } else { firstBranches = e.branches }
        }
        return atKink
    }

    /// Element-by-element comparison of the given inputs, spread over `workers` threads,
    /// with a progress meter labelled `progressLabel` counting the elements compared.
    static func compareElements(
        _ function: Differentiand, inputs: [Int], cotangents: Cotangents, options: CheckOptions, salt: UInt64,
        workers: Int, progressLabel: String?
    ) -> ([Int: ComparisonTally], evaluations: Int) {
        guard !inputs.isEmpty else { return ([:], 0) }
        let outputCount = function.output.count
        let analytic = analyticNumbers(function, inputs: inputs, cotangents: cotangents, workers: workers)
        let projection: [Double]? = if case .projected(let u) = cotangents { u.data } else { nil }
        var pairs: [(input: Int, element: Int)] = []
        for i in inputs {
            for j in elements(ofInput: i, count: function.inputs[i].count, options: options, salt: salt) {
                pairs.append((i, j))
            }
        }
        let allPairs = pairs
        let progress = progressLabel.map { ProgressMeter(enabled: options.progress, total: allPairs.count, label: $0) }
        let h = options.effectiveStep
        let y = function.output.data
        let uy = projection.map { dot($0, y) }
        struct Partial: Sendable {
            var tallies: [Int: ComparisonTally]
            var evaluations: Int
        }
        let chunkSize = Swift.max(1, Swift.min(64, allPairs.count / (workers * 8) + 1))
        let result = forEachChunk(
            count: allPairs.count, chunkSize: chunkSize, workers: workers,
            makeWorker: { () -> (Range<Int>) -> Partial? in
                let evaluator = function.makeEvaluator()
                var column = [Double](repeating: 0, count: outputCount)
                return { range in
                    var tallies: [Int: ComparisonTally] = [:]
                    let before = evaluator.evaluations
                    for (i, j) in allPairs[range] {
                        let x0 = function.inputs[i].data[j]
                        for k in 0..<outputCount { column[k] = 0 }
                        var plus: [Double] = [], minus: [Double] = [], plus2: [Double]? = nil, minus2: [Double]? = nil
                        var finiteAbove = true, finiteBelow = true
                        let atKink = evaluateStencil(options.stencil, evaluate: { offset in
                            evaluator.evaluate(input: i, element: j, value: x0 + offset * h)
                        }, visit: { offset, weight, output in
                            output.data.withUnsafeBufferPointer { f in
                                for k in 0..<outputCount { column[k] += weight * f[k] }
                            }
                            switch offset {
                            case 1: plus = output.data
                            case -1: minus = output.data
                            case 2: plus2 = output.data
                            case -2: minus2 = output.data
                            default: break
                            }
                            if !output.allFinite {
                                if offset > 0 { finiteAbove = false } else { finiteBelow = false }
                            }
                        })
                        evaluator.resetElement(input: i, element: j)
                        for k in 0..<outputCount { column[k] /= h }
                        let name = function.inputNames[i]
                        let index = Tensor.index(of: j, in: function.inputs[i].shape)
                        let undefinedStep: String? = switch (finiteAbove, finiteBelow) {
                        case (true, true): nil
                        case (false, true): "x + h"
                        case (true, false): "x − h"
                        case (false, false): "x ± h"
                        }
                        if let u = projection, let uy {
                            let a = analytic[i]![j]
                            let n = dot(u, column)
                            let comparison = {
                                ElementComparison(
                                    input: i, inputName: name, index: index, analytic: a, numeric: n,
                                    undefinedStep: n.isFinite ? nil : undefinedStep)
                            }
                            if atKink {
                                let sides = OneSided(
                                    y: uy, plus: dot(u, plus), minus: dot(u, minus),
                                    plus2: plus2.map { dot(u, $0) }, minus2: minus2.map { dot(u, $0) }, h: h)
                                tallies[i, default: .init()].addKink(
                                    comparison(), sides: sides, entries: 1, options: options)
                            } else {
                                tallies[i, default: .init()].add(analytic: a, numeric: n, options: options, describe: comparison)
                            }
                        } else {
                            let rows = analytic[i]!
                            let n_i = function.inputs[i].count
                            let comparison = { (k: Int) in
                                let n = column[k]
                                return ElementComparison(
                                    input: i, inputName: name, index: index,
                                    outputIndex: Tensor.index(of: k, in: function.output.shape),
                                    analytic: rows[k * n_i + j], numeric: n,
                                    undefinedStep: n.isFinite ? nil : undefinedStep)
                            }
                            if atKink {
                                // The output element that speaks for this input element: the one
                                // whose rule value lies furthest outside its one-sided derivatives,
                                // else (all inside) the one where the kink shows most (the two
                                // one-sided derivatives differ most), then where rule and difference do.
                                var worstK = 0
                                var worstSides: OneSided?
                                var worstKey = (ratio: -Double.infinity, jump: -Double.infinity, difference: -Double.infinity)
                                for k in 0..<outputCount {
                                    let a = rows[k * n_i + j]
                                    let sides = OneSided(
                                        y: y[k], plus: plus[k], minus: minus[k], plus2: plus2?[k], minus2: minus2?[k], h: h)
                                    let ratio = options.kinkRatio(
                                        analytic: a, numeric: column[k], left: sides.left, right: sides.right,
                                        alsoAccepted: sides.secondOrder)
                                    let key = (ratio: ratio > 1 ? ratio : 0, jump: abs(sides.right - sides.left), difference: abs(a - column[k]))
                                    if key > worstKey {
                                        worstKey = key
                                        worstK = k
                                        worstSides = sides
                                    }
                                }
                                tallies[i, default: .init()].addKink(
                                    comparison(worstK), sides: worstSides!, entries: outputCount, options: options)
                            } else {
                                for k in 0..<outputCount {
                                    tallies[i, default: .init()].add(
                                        analytic: rows[k * n_i + j], numeric: column[k], options: options) { comparison(k) }
                                }
                            }
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

    /// The backward rule's numbers for each input: with one-hot cotangents the
    /// Jacobian row-major `[output element][input element]`, else `uᵀ J`.
    static func analyticNumbers(
        _ function: Differentiand, inputs: [Int], cotangents: Cotangents, workers: Int
    ) -> [Int: [Double]] {
        switch cotangents {
        case .projected(let u):
            let gradients = function.pullback(u)
            var numbers: [Int: [Double]] = [:]
            for i in inputs {
                numbers[i] = gradients[i]?.data ?? [Double](repeating: 0, count: function.inputs[i].count)
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
                    guard let g = gradients[i] else { continue }
                    let n = g.count
                    numbers[i]!.withUnsafeMutableBufferPointer { rows in
                        for j in 0..<n { rows[k * n + j] = g.data[j] }
                    }
                }
            }
            return numbers
        }
    }
}

/// The one-sided difference quotients of one perturbed element (or of `uᵀf` along it):
/// `left = (f(x) − f(x−h)) / h`, `right = (f(x+h) − f(x)) / h`, and, when the stencil evaluated
/// x ± 2h (five-point), the second-order ones `(−3f(x) + 4f(x+h) − f(x+2h)) / 2h` and its mirror.
struct OneSided {
    var left: Double
    var right: Double
    /// The second-order estimates (none for the central difference).
    var secondOrder: [Double]

    init(y: Double, plus: Double, minus: Double, plus2: Double?, minus2: Double?, h: Double) {
        left = (y - minus) / h
        right = (plus - y) / h
        if let plus2, let minus2 {
            secondOrder = [(-3 * y + 4 * plus - plus2) / (2 * h), (3 * y - 4 * minus + minus2) / (2 * h)]
        } else {
            secondOrder = []
        }
    }
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
