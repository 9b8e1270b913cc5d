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

    /// Every node's value: leaves as stored, ops computed in order. A NaN or an
    /// infinity propagates; `GradientCheck.firstNonFinite` finds where it started.
    func forwardValues() throws(GraphError) -> [Tensor] {
        var values: [Tensor] = []
        values.reserveCapacity(nodes.count)
        for node in nodes {
            guard let op = node.op else {
                values.append(node.value!)
                continue
            }
            let inputs = node.inputs.map { values[$0.index] }
            do {
                try op.validate(inputs)
            } catch {
                throw .invalidValue(node: node.id, nodeName: node.displayName, location: node.location, error)
            }
            values.append(op.forward(inputs))
        }
        return values
    }

    /// Backpropagation from the output with cotangent `seed`: every node's gradient
    /// (`nil` where the output does not depend on the node).
    func gradients(values: [Tensor], seed: Tensor) -> [Tensor?] {
        var gradients = [Tensor?](repeating: nil, count: nodes.count)
        gradients[output] = seed
        for i in stride(from: output, through: 0, by: -1) {
            guard let op = nodes[i].op, let g = gradients[i] else { continue }
            let inputs = nodes[i].inputs.map { values[$0.index] }
            let inputGradients = op.backward(inputs, output: values[i], gradient: g)
            for (k, input) in nodes[i].inputs.enumerated() {
                guard op.isDifferentiable(input: k), let gk = inputGradients[k] else { continue }
                if let existing = gradients[input.index] {
                    gradients[input.index] = existing.zipMap(gk, +)
                } else {
                    gradients[input.index] = gk
                }
            }
        }
        return gradients
    }

    /// The op nodes downstream of each leaf, in order (the leaf itself left out).
    func cones(of leaves: [NodeID]) -> [[Int]] {
        leaves.map { leaf in
            var reached = [Bool](repeating: false, count: nodes.count)
            reached[leaf.index] = true
            var cone: [Int] = []
            for i in (leaf.index + 1)..<Swift.max(nodes.count, leaf.index + 1)
            where nodes[i].inputs.contains(where: { reached[$0.index] }) {
                reached[i] = true
                cone.append(i)
            }
            return cone.filter { $0 <= output }
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
        var branches: [Int] = []
        for i in cones[input] {
            let node = snapshot.nodes[i]
            let op = node.op!
            let inputs = node.inputs.map { values[$0.index] }
            values[i] = op.forward(inputs)
            branches += op.branches(inputs)
        }
        return Evaluation(output: values[snapshot.output], branches: branches)
    }
}
