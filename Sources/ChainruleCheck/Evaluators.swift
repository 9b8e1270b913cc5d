import ChainruleCore

/// Evaluates one op with one input perturbed, on its own copy of the inputs. An op
/// that conforms to `BatchedOperation` gets a whole batch of points in one call. With
/// `differences`, each evaluation also carries `f − f₀` by the op's difference rule
/// (`Operation.change`), from the exact offset; without, an op that conforms to
/// `PartialForward` recomputes only the part of its output one moved element reaches.
final class OperationEvaluator: PerturbedEvaluator {
    private let op: any Operation
    private let base: [Tensor]
    /// The unperturbed output, when evaluations carry differences or recompute a part.
    private let baseOutput: Tensor?
    private let differences: Bool
    /// The op, when it recomputes parts.
    private let partial: (any PartialForward)?
    private var inputs: [Tensor]
    private(set) var evaluations = 0

    init(op: any Operation, inputs: [Tensor], differences: Bool = false) {
        self.op = op
        self.base = inputs
        self.inputs = inputs
        // A batched (external) op has no difference rule: its points stay one batch.
        self.differences = differences && !(op is any BatchedOperation)
        self.partial = op as? any PartialForward
        self.baseOutput = self.differences || partial != nil ? op.forward(inputs) : nil
    }

    func evaluate(input: Int, element: Int, offset: Double) -> Evaluation {
        inputs[input].data[element] = base[input].data[element] + offset
        guard let baseOutput else { return run() }
        evaluations += 1
        guard differences else {
            let moved = base.indices.map { $0 == input ? MovedElements.elements([element]) : .none }
            let part = perturbedForward(op, partial: partial, inputs: inputs, base: baseOutput, moved: moved)
            return Evaluation(output: part.output, branches: part.branches, moved: part.moved)
        }
        var deltas = [Tensor?](repeating: nil, count: base.count)
        deltas[input] = elementMove(like: base[input], element: element, offset: offset)
        let change = op.change(base, output: baseOutput, deltas: deltas, perturbed: inputs)
        return Evaluation(
            output: change.perturbed, branches: op.branches(inputs), difference: change.difference,
            differenceIsAccurate: change.accurate)
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
            perturbed[p.input].data[p.element] += p.offset
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

/// Evaluates a graph's output with one leaf perturbed: recomputes only the
/// nodes downstream of that leaf, on its own copy of the value table, and
/// collects the branch patterns of those nodes for kink detection. Without
/// `differences`, each node recomputes only the elements its moved inputs reach
/// where its op can (`PartialForward`: one element of a first layer's weight moves one
/// column of it), the same bits as recomputing it whole. With `differences`, the cone is
/// carried as (value, difference) pairs: each node's change by its op's difference rule
/// (`Operation.change`) from its inputs' changes, starting from the leaf's exact offset,
/// so the output's `f − f₀` does not cancel.
final class ConeEvaluator: PerturbedEvaluator {
    private let snapshot: GraphSnapshot
    private let leaves: [NodeID]
    private let cones: [[Int]]
    private let base: [Tensor]
    private var values: [Tensor]
    private let differences: Bool
    /// Each node's change from its base value in the current evaluation (nil: unchanged).
    private var deltas: [Tensor?]
    /// Without differences, which elements of each node's value the current evaluation moved.
    private var moved: [MovedElements]
    /// Each node's op when it recomputes parts (`PartialForward`), by node index.
    private let partials: [(any PartialForward)?]
    /// The leaf whose cone holds perturbed values, if any.
    private var dirty: Int?
    /// The branch patterns of the cone's nodes at the last evaluation, concatenated.
    private var branches: [Int] = []
    private(set) var evaluations = 0

    init(snapshot: GraphSnapshot, values: [Tensor], leaves: [NodeID], cones: [[Int]], differences: Bool = false) {
        self.snapshot = snapshot
        self.leaves = leaves
        self.cones = cones
        self.base = values
        self.values = values
        self.differences = differences
        self.deltas = differences ? [Tensor?](repeating: nil, count: values.count) : []
        self.moved = differences ? [] : [MovedElements](repeating: .none, count: values.count)
        self.partials = snapshot.nodes.map { $0.op as? any PartialForward }
    }

    func evaluate(input: Int, element: Int, offset: Double) -> Evaluation {
        prepare(input)
        let leaf = leaves[input].index
        values[leaf].data[element] = base[leaf].data[element] + offset
        if differences {
            deltas[leaf] = elementMove(like: base[leaf], element: element, offset: offset)
        } else {
            moved[leaf] = .elements([element])
        }
        return recompute(input)
    }

    func evaluate(input: Int, direction: Tensor, scale: Double) -> Evaluation {
        prepare(input)
        let leaf = leaves[input].index
        values[leaf] = base[leaf].zipMap(direction) { $0 + scale * $1 }
        if differences {
            deltas[leaf] = direction.map { scale * $0 }
        } else {
            moved[leaf] = .all
        }
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
        if differences {
            deltas[leaf] = nil
            for i in cones[d] { deltas[i] = nil }
        } else {
            moved[leaf] = .none
            for i in cones[d] { moved[i] = .none }
        }
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
        var accurate = true
        for i in cones[input] {
            let node = snapshot.nodes[i]
            let op = node.op!
            let inputs = node.inputs.map { values[$0.index] }
            if differences {
                let change = op.change(
                    node.inputs.map { base[$0.index] }, output: base[i], deltas: node.inputs.map { deltas[$0.index] },
                    perturbed: inputs)
                values[i] = change.perturbed
                deltas[i] = change.difference
                accurate = accurate && change.accurate
                branches.append(contentsOf: op.branches(inputs))
            } else {
                let part = perturbedForward(
                    op, partial: partials[i], inputs: inputs, base: base[i], moved: node.inputs.map { moved[$0.index] })
                values[i] = part.output
                moved[i] = part.moved
                branches.append(contentsOf: part.branches)
            }
        }
        guard differences else { return Evaluation(output: values[snapshot.output], branches: branches, moved: moved[snapshot.output]) }
        return Evaluation(
            output: values[snapshot.output], branches: branches,
            difference: deltas[snapshot.output] ?? Tensor.zeros(base[snapshot.output].shape), differenceIsAccurate: accurate)
    }
}

/// The delta of one element moved by `offset`: zeros shaped like `x`, `offset` at `element`.
private func elementMove(like x: Tensor, element: Int, offset: Double) -> Tensor {
    var moved = Tensor.zeros(x.shape)
    moved.data[element] = offset
    return moved
}

/// The op's output at perturbed inputs where only `moved` of them moved: the part that can move
/// when the op recomputes parts (`partial`, the op itself as a `PartialForward`), else the whole forward.
func perturbedForward(
    _ op: any ChainruleCore.Operation, partial: (any PartialForward)?, inputs: [Tensor], base: Tensor, moved: [MovedElements]
) -> PartialOutput {
    if let partial, !moved.contains(.all), let part = partial.partialForward(inputs, base: base, moved: moved) {
        return part
    }
    return PartialOutput(output: op.forward(inputs), moved: .all, branches: op.branches(inputs))
}
