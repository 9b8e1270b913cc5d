import ChainruleCore

/// Evaluates one op with one input perturbed, on its own copy of the inputs.
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

    private func run() -> Evaluation {
        evaluations += 1
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
    private(set) var evaluations = 0

    init(snapshot: GraphSnapshot, values: [Tensor], leaves: [NodeID], cones: [[Int]]) {
        self.snapshot = snapshot
        self.leaves = leaves
        self.cones = cones
        self.base = values
        self.values = values
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
        return Evaluation(output: values[snapshot.output], branches: branches)
    }
}
