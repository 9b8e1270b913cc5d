import ChainruleCore

/// `check --fast` on a graph in a few whole-graph passes, as PyTorch's fast gradcheck does:
/// every leaf moves at once along a seeded random direction V (constants too, except leaves
/// feeding an input without a gradient, such as labels), the graph is evaluated at each of the
/// stencil's points `x + offset·h·V` (two forward passes for the central difference), and one
/// backward pass from a seeded random cotangent r at the output gives every node's upstream
/// gradient g_N and its rule's result on it (the pass's observer hands both over, so no rule
/// runs twice). Then
///
/// - node-local, for each op node N: `g_N · (N(in⁺) − N(in⁻)) / 2h` (its output's change at the
///   inputs the pass gave it) against `Σ_i backward_N(g_N)_i · (in⁺_i − in⁻_i) / 2h`, the rule's
///   number for the same input change: the projection `uᵀ J_N v` with u = g_N and v the
///   propagated change;
/// - end-to-end: `r · (f(x + hV) − f(x − hV)) / 2h` against `Σ_leaves ∇_leaf · V_leaf` from the
///   same backward pass.
///
/// r is random, so no rule sees an all-ones cotangent. A node whose branch pattern differs
/// between the points (its inputs crossed a kink), whose numbers disagree, or whose inputs the
/// pass did not move (nothing upstream was perturbed), or that received a zero gradient g_N (its
/// projection would be 0 against 0 whatever its rule), is left to the node-local check of its
/// own; the end-to-end comparison likewise, to the per-leaf check.
struct FastGraphCheck {
    /// The projection of each op node that passed, by node index.
    var passedNodes: [Int: ProjectionCheck] = [:]
    /// Nodes whose projection ran and disagreed or crossed a kink: their elements are compared.
    var disagreeingNodes: Set<Int> = []
    /// The end-to-end projection over every moved leaf (nil when the output is a leaf).
    var endToEnd: ProjectionCheck?
    /// Leaves the output depends on (they have a gradient).
    var reachedLeaves: Set<Int> = []
    /// Forward evaluations of the whole graph.
    var evaluations = 0

    init(_ snapshot: GraphSnapshot, values: [Tensor], options: CheckOptions) {
        let nodes = snapshot.nodes
        let output = snapshot.output
        let h = options.effectiveStep
        let terms = options.stencil.terms
        // Leaves that may move: those whose every consumer takes them at an input with a gradient.
        var movable = [Bool](repeating: true, count: nodes.count)
        for node in nodes {
            guard let op = node.op else { continue }
            for (k, input) in node.inputs.enumerated() where !op.isDifferentiable(input: k) { movable[input.index] = false }
        }
        var directions = [Tensor?](repeating: nil, count: nodes.count)
        for node in nodes where node.op == nil && movable[node.id.index] && node.id.index <= output {
            directions[node.id.index] = Tensor.randn(values[node.id.index].shape, seed: options.seed &+ UInt64(node.id.index) &* 7919 &+ 0xFA57)
        }
        // The stencil's points: every node's value and branch pattern at x + offset·h·V.
        var points: [[Tensor]] = []
        var patterns: [[[Int]]] = []
        for t in terms {
            var shifted = values
            var branches = [[Int]](repeating: [], count: nodes.count)
            for i in 0...output {
                let node = nodes[i]
                guard let op = node.op else {
                    if let v = directions[i] { shifted[i] = Self.moved(values[i], along: v, by: t.offset * h) }
                    continue
                }
                let inputs = node.inputs.map { shifted[$0.index] }
                shifted[i] = op.forward(inputs)
                branches[i] = op.branches(inputs)
            }
            points.append(shifted)
            patterns.append(branches)
        }
        evaluations = terms.count
        func derivative(_ value: (Int) -> Double, scale: Double) -> NumericDerivative {
            JacobianCheck.derivative(values: value, scale: scale, stencil: options.stencil, h: h)
        }
        func judged(analytic: Double, numeric: NumericDerivative, ruleRounding: Double, atKink: Bool) -> ProjectionCheck {
            let passed = !atKink && JacobianCheck.judge(
                analytic: analytic, numeric: numeric, tolerance: options.tolerance(numeric: numeric.value),
                ruleRounding: ruleRounding) == .pass
            return ProjectionCheck(analytic: analytic, numeric: numeric.value, atKink: atKink, passed: passed)
        }
        // One backward pass from a random cotangent r; each node's projection is judged as its
        // rule runs in it, from the gradient g_N it received and the rule's own result.
        var passed: [Int: ProjectionCheck] = [:]
        var disagreeing: Set<Int> = []
        let r = Tensor.randn(values[output].shape, seed: options.seed &+ 0x5EED)
        let pass = Graph.shapeCheckedGradients(nodes: nodes, values: values, output: NodeID(output), seed: r) { id, g, rule in
            let i = id.index
            let op = nodes[i].op!
            let inputs = nodes[i].inputs
            let checked = inputs.indices.filter { op.isDifferentiable(input: $0) }
            // The propagated change of each checked input, (in at each point − in₀): zero when nothing upstream moved.
            let moved = checked.contains { k in points.contains { $0[inputs[k].index] != values[inputs[k].index] } }
            guard moved else { return }
            // A node that received no gradient (`0 * f(x)`, a relu dead on every element after it)
            // projects its rule on g_N = 0: both sides are 0 whatever the rule, so it proves nothing.
            guard g.data.contains(where: { $0 != 0 }) else { return }
            // The projection of N's rule on cotangent u (its rule's result `rule`), or nil when
            // the rule's gradient is misshapen.
            func projected(_ u: Tensor, rule: [Tensor?]) -> ProjectionCheck? {
                // The rule's number for the same input change, differenced by the same stencil:
                // A_p = Σ_i backward(u)_i · (in_i at point p − in_i), exact for a leaf (the change is
                // offset·h·V) and to the stencil's order for a propagated one, as the numeric side is.
                var ruleValues = [Double](repeating: 0, count: points.count)
                // The rule's rounding: its largest entry (or u's) times the size of the change, Σ|Δin| / (|offset|·h).
                var largest = u.data.reduce(0) { Swift.max($0, abs($1)) }
                // Σ|a_j·in_j|: the rounding of intermediates of the inputs' size (`JacobianCheck.withInputRounding`).
                var inputSize = 0.0
                var changeSizes = [Double](repeating: 0, count: points.count)
                for k in checked {
                    let input = values[inputs[k].index]
                    guard let a = RuleProbes.conforming(rule, k, like: input) else { return nil }
                    for p in points.indices {
                        let shifted = points[p][inputs[k].index].data
                        var sum = 0.0, size = 0.0
                        for j in a.indices where shifted[j] != input.data[j] {
                            sum += a[j] * (shifted[j] - input.data[j])
                            size += abs(shifted[j] - input.data[j])
                        }
                        ruleValues[p] += sum
                        changeSizes[p] += size / (abs(terms[p].offset) * h)
                    }
                    largest = a.reduce(largest) { Swift.max($0, abs($1)) }
                    for j in a.indices { inputSize += abs(a[j] * input.data[j]) }
                }
                let analytic = derivative({ ruleValues[$0] }, scale: 0).value
                let ruleRounding = JacobianCheck.ruleRounding(scale: largest * (changeSizes.max() ?? 0))
                let changes = points.map { ProjectedChange(u.data, $0[i].data, from: values[i].data) }
                let numeric = JacobianCheck.withInputRounding(
                    derivative({ changes[$0].value }, scale: changes.reduce(0) { Swift.max($0, $1.magnitude) }), size: inputSize)
                let atKink = patterns.contains { $0[i] != patterns[0][i] }
                return judged(analytic: analytic, numeric: numeric, ruleRounding: ruleRounding, atKink: atKink)
            }
            guard var check = projected(g, rule: rule) else { disagreeing.insert(i); return }
            // Where g_N is 0 (outputs a relu after N kills, or a max-pool does not pick), the
            // projection says nothing of the rule's rows for those outputs: N is projected again on
            // g_N with its zeros replaced by seeded random numbers, from the same points (one more
            // call of its rule, no forward pass).
            if check.passed, g.data.contains(0) {
                var filled = g
                let noise = Tensor.randn(g.shape, seed: options.seed &+ UInt64(i) &* 104_729 &+ 0x2E80)
                let scale = g.data.reduce(0) { Swift.max($0, abs($1)) }
                for j in filled.data.indices where filled.data[j] == 0 { filled.data[j] = scale * noise.data[j] }
                let inputValues = inputs.map { values[$0.index] }
                guard let again = projected(filled, rule: op.backward(inputValues, output: values[i], gradient: filled)) else {
                    disagreeing.insert(i)
                    return
                }
                if !again.passed { check = again }
            }
            if check.passed { passed[i] = check } else { disagreeing.insert(i) }
        }
        passedNodes = passed
        disagreeingNodes = disagreeing
        // A rule that returned a misshapen gradient stopped the pass: its node-local check says which.
        guard case .success(let gradients) = pass else {
            if case .failure(let wrong) = pass { disagreeingNodes.insert(wrong.node.id.index) }
            return
        }
        reachedLeaves = Set(nodes.indices.filter { nodes[$0].op == nil && gradients[$0] != nil })
        guard nodes[output].op != nil else { return }
        var analytic = 0.0, ruleScale = 0.0, leafSize = 0.0
        let cotangentScale = r.data.reduce(0) { Swift.max($0, abs($1)) }
        for (leaf, v) in directions.enumerated() {
            guard let v, let g = gradients[leaf], g.shape == v.shape else { continue }
            analytic += dot(g.data, v.data)
            ruleScale += g.data.reduce(cotangentScale) { Swift.max($0, abs($1)) } * v.data.reduce(0) { $0 + abs($1) }
            for j in g.data.indices { leafSize += abs(g.data[j] * values[leaf].data[j]) }
        }
        let changes = points.map { ProjectedChange(r.data, $0[output].data, from: values[output].data) }
        let numeric = JacobianCheck.withInputRounding(
            derivative({ changes[$0].value }, scale: changes.reduce(0) { Swift.max($0, $1.magnitude) }), size: leafSize)
        let atKink = patterns.indices.contains { p in (0...output).contains { patterns[p][$0] != patterns[0][$0] } }
        endToEnd = judged(analytic: analytic, numeric: numeric, ruleRounding: JacobianCheck.ruleRounding(scale: ruleScale), atKink: atKink)
    }

    /// `x + step·v`, element by element.
    static func moved(_ x: Tensor, along v: Tensor, by step: Double) -> Tensor {
        var data = x.data
        data.withUnsafeMutableBufferPointer { d in
            v.data.withUnsafeBufferPointer { v in
                for j in d.indices { d[j] += step * v[j] }
            }
        }
        return Tensor(shape: x.shape, data: data)
    }
}
