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

    /// `gradients(values:seed:)` that first checks each rule's gradients: one per input, each
    /// shaped like its input. A wrong one would make the next rule index out of range.
    func shapeCheckedGradients(values: [Tensor], seed: Tensor) -> Result<[Tensor?], WrongShapeGradient> {
        var gradients = [Tensor?](repeating: nil, count: nodes.count)
        gradients[output] = seed
        for i in stride(from: output, through: 0, by: -1) {
            guard let op = nodes[i].op, let gradient = gradients[i] else { continue }
            let inputs = nodes[i].inputs.map { values[$0.index] }
            let inputGradients = op.backward(inputs, output: values[i], gradient: gradient)
            guard inputGradients.count == inputs.count else {
                return .failure(WrongShapeGradient(node: nodes[i], input: nil, shape: [], expected: []))
            }
            for (k, input) in nodes[i].inputs.enumerated() {
                guard op.isDifferentiable(input: k), let g = inputGradients[k] else { continue }
                guard g.shape == inputs[k].shape, g.data.count == inputs[k].count else {
                    return .failure(WrongShapeGradient(node: nodes[i], input: k, shape: g.shape, expected: inputs[k].shape))
                }
                gradients[input.index] = gradients[input.index].map { $0.zipMap(g, +) } ?? g
            }
        }
        return .success(gradients)
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

/// A backward rule that returned the wrong number of gradients, or one not shaped like its input.
struct WrongShapeGradient: Error, CustomStringConvertible {
    var node: Node
    /// The input whose gradient is misshapen; nil when the count of gradients is wrong.
    var input: Int?
    var shape: [Int]
    var expected: [Int]

    var description: String {
        let op = node.op.map { " (\($0.name))" } ?? ""
        guard let input else {
            return "the backward rule of node \(node.displayName)\(op) returns the wrong number of gradients, so the end-to-end check cannot backpropagate"
        }
        return "the backward rule of node \(node.displayName)\(op) returns a gradient of shape \(describeShape(shape)) for input \(input), shaped \(describeShape(expected)), so the end-to-end check cannot backpropagate"
    }
}
