import ChainruleCore

/// Evaluates one op with one input perturbed, on its own copy of the inputs. An op
/// that conforms to `BatchedOperation` gets a whole batch of points in one call.
final class OperationEvaluator: PerturbedEvaluator {
    private let op: any Operation
    private let base: [Tensor]
    private var inputs: [Tensor]
    private(set) var evaluations = 0

    init(op: any Operation, inputs: [Tensor]) {
        self.op = op
        self.base = inputs
        self.inputs = inputs
    }

    func evaluate(input: Int, element: Int, value: Double) -> Evaluation {
        inputs[input].data[element] = value
        return run()
    }

    func evaluate(input: Int, direction: Tensor, scale: Double) -> Evaluation {
        inputs[input] = base[input].zipMap(direction) { $0 + scale * $1 }
        return run()
    }

    func resetElement(input: Int, element: Int) {
        inputs[input].data[element] = base[input].data[element]
    }

    func reset() { inputs = base }

    func evaluate(points: [PerturbedPoint]) -> [Evaluation] {
        guard let batched = op as? any BatchedOperation else { return evaluateOneByOne(points) }
        let arguments = points.map { p in
            var perturbed = base
            perturbed[p.input].data[p.element] = p.value
            return perturbed
        }
        evaluations += points.count
        return batched.evaluate(batch: arguments).map { Evaluation(output: $0.output, branches: $0.branches) }
    }

    /// One point: for a batched op, its output and branches in one call.
    private func run() -> Evaluation {
        evaluations += 1
        if let batched = op as? any BatchedOperation {
            let evaluated = batched.evaluate(batch: [inputs])[0]
            return Evaluation(output: evaluated.output, branches: evaluated.branches)
        }
        return Evaluation(output: op.forward(inputs), branches: op.branches(inputs))
    }
}

/// A graph's values as one flat table, and the passes the checker needs over a
/// copy of the graph's nodes: forward, backward with any seed, and recomputing
/// only the cone downstream of one leaf.
struct GraphSnapshot: Sendable {
    let nodes: [Node]
    let output: Int

    init(_ graph: Graph, output: NodeID) {
        self.nodes = graph.nodes
        self.output = output.index
    }

    /// Every node's value (`Graph.forwardValues`). A NaN or an infinity
    /// propagates; `GradientCheck.firstNonFinite` finds where it started.
    func forwardValues() throws(GraphError) -> [Tensor] {
        try Graph.forwardValues(nodes: nodes)
    }

    /// Backpropagation from the output with cotangent `seed`: every node's gradient
    /// (`nil` where the output does not depend on the node).
    func gradients(values: [Tensor], seed: Tensor) -> [Tensor?] {
        Graph.gradients(nodes: nodes, values: values, output: NodeID(output), seed: seed)
    }

    /// The op nodes downstream of each leaf up to the output, in order (the leaf itself left out).
    func cones(of leaves: [NodeID]) -> [[Int]] {
        leaves.map { leaf in
            Graph.downstream(of: leaf, in: nodes).dropFirst().map(\.index).filter { $0 <= output }
        }
    }
}

/// The inputs of a graph's output node with the cotangents its rule gives them for the seed of
/// ones: the end-to-end check's Richardson numbers also extrapolate `Σ uᵀ(v − v₀)` over these
/// inputs v, differenced element by element before the output node reduces them (see
/// `JacobianCheck.estimateError`).
struct OutputContraction: Sendable {
    var inputs: [(node: Int, cotangent: [Double])]

    /// The contraction for `snapshot`'s output node at `values`, when it is an op whose rule gives
    /// gradients shaped like its inputs; nil otherwise.
    init?(_ snapshot: GraphSnapshot, values: [Tensor]) {
        let node = snapshot.nodes[snapshot.output]
        guard let op = node.op else { return nil }
        let inputs = node.inputs.map { values[$0.index] }
        let gradients = op.backward(inputs, output: values[snapshot.output], gradient: Tensor.ones(values[snapshot.output].shape))
        var pairs: [(node: Int, cotangent: [Double])] = []
        for (k, input) in node.inputs.enumerated() where op.isDifferentiable(input: k) {
            guard let u = RuleProbes.conforming(gradients, k, like: inputs[k]) else { return nil }
            pairs.append((input.index, u))
        }
        self.inputs = pairs
    }

    /// `Σ uᵀ(v − v₀)` over the output node's inputs at `values` against `base`.
    func change(values: [Tensor], base: [Tensor]) -> ProjectedChange {
        var total = ProjectedChange(value: 0, magnitude: 0)
        for (node, u) in inputs {
            let part = ProjectedChange(u, values[node].data, from: base[node].data)
            total.value += part.value
            total.magnitude += part.magnitude
        }
        return total
    }
}

/// Evaluates a graph's output with one leaf perturbed: recomputes only the
/// nodes downstream of that leaf, on its own copy of the value table, and
/// collects the branch patterns of those nodes for kink detection.
final class ConeEvaluator: PerturbedEvaluator {
    private let snapshot: GraphSnapshot
    private let leaves: [NodeID]
    private let cones: [[Int]]
    private let base: [Tensor]
    private var values: [Tensor]
    /// The leaf whose cone holds perturbed values, if any.
    private var dirty: Int?
    /// The branch patterns of the cone's nodes at the last evaluation, concatenated.
    private var branches: [Int] = []
    private let contraction: OutputContraction?
    private(set) var evaluations = 0

    init(snapshot: GraphSnapshot, values: [Tensor], leaves: [NodeID], cones: [[Int]], contraction: OutputContraction? = nil) {
        self.snapshot = snapshot
        self.leaves = leaves
        self.cones = cones
        self.base = values
        self.values = values
        self.contraction = contraction
    }

    func evaluate(input: Int, element: Int, value: Double) -> Evaluation {
        prepare(input)
        values[leaves[input].index].data[element] = value
        return recompute(input)
    }

    func evaluate(input: Int, direction: Tensor, scale: Double) -> Evaluation {
        prepare(input)
        let leaf = leaves[input].index
        values[leaf] = base[leaf].zipMap(direction) { $0 + scale * $1 }
        return recompute(input)
    }

    func resetElement(input: Int, element: Int) {
        let leaf = leaves[input].index
        values[leaf].data[element] = base[leaf].data[element]
    }

    func reset() {
        guard let d = dirty else { return }
        let leaf = leaves[d].index
        values[leaf] = base[leaf]
        for i in cones[d] { values[i] = base[i] }
        dirty = nil
    }

    /// Another leaf's perturbation must not leak into this one's cone.
    private func prepare(_ input: Int) {
        if dirty != input { reset() }
        dirty = input
    }

    private func recompute(_ input: Int) -> Evaluation {
        evaluations += 1
        // Refilled in place: its storage is reused once the previous evaluation's copy is gone.
        branches.removeAll(keepingCapacity: true)
        for i in cones[input] {
            let node = snapshot.nodes[i]
            let op = node.op!
            let inputs = node.inputs.map { values[$0.index] }
            values[i] = op.forward(inputs)
            branches.append(contentsOf: op.branches(inputs))
        }
        return Evaluation(
            output: values[snapshot.output], branches: branches, contracted: contraction?.change(values: values, base: base))
    }
}
