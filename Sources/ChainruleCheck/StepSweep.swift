import ChainruleCore
import Foundation

/// The V-curve of one node's rule: |rule − numeric| against the step h, for every stencil,
/// at one element of the node's inputs — what `chainrule check FILE --sweep NODE` draws.
///
/// The element is the one whose `uᵀJ` entry (u the node-local check's seeded random
/// cotangent) is largest in size, so the curve is of a number the check compares.
public struct StepSweep: Sendable {
    /// The node, its op, and the input element swept.
    public var node: String
    public var op: String
    public var inputName: String
    public var index: [Int]
    /// The rule's `uᵀJ` entry at that element.
    public var analytic: Double
    /// The steps, 1e-1 down to 1e-12, four per decade.
    public var steps: [Double]
    /// |analytic − numeric| at each step, per stencil (Richardson's h is its widest step).
    public var errors: [Stencil: [Double]]
    /// The step Richardson chose at its default widest step (the one the check would use).
    public var richardsonChosenStep: Double
    /// Richardson's own error estimate there.
    public var richardsonErrorEstimate: Double
    /// `Σ|u_k f_k|` at the element: the rounding line is `ε · scale / h`.
    public var roundingScale: Double

    /// The steps of every sweep: 10⁻¹ down to 10⁻¹², four per decade.
    public static let steps: [Double] = (4...48).map { pow(10, -Double($0) / 4) }
}

/// No op node of that name in the graph.
public struct UnknownNode: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var suggestion: String?
    public var description: String {
        "no op node named '\(name)'\(suggestion.map { " (did you mean \($0)?)" } ?? ""); --sweep takes the name of a node computed by an op"
    }
}

extension GradientCheck {
    /// The op node of `graph` named `name` (its `displayName`), or an error with the closest name.
    public static func opNode(named name: String, in graph: Graph) throws(UnknownNode) -> NodeID {
        let ops = graph.nodes.filter { $0.op != nil }
        if let node = ops.first(where: { $0.displayName == name }) { return node.id }
        throw UnknownNode(name: name, suggestion: Suggestions.closest(to: name, among: ops.map(\.displayName)))
    }

    /// Sweeps the step of node `id`'s rule at the values it saw (see `StepSweep`); with
    /// `input`, at the largest `uᵀJ` entry of that input only (a Python layer's `--sweep w`).
    public static func sweep(
        _ graph: Graph, node id: NodeID, input: Int? = nil, options: CheckOptions = CheckOptions()
    ) throws(GraphError) -> StepSweep {
        let snapshot = GraphSnapshot(graph, output: id)
        let values = try snapshot.forwardValues()
        let node = graph[id]
        let op = node.op!
        let inputs = node.inputs.map { values[$0.index] }
        let output = values[id.index]
        // A difference quotient of NaN or infinity measures nothing: say so rather than draw it.
        guard inputs.allSatisfy(\.allFinite), output.allFinite else {
            throw .invalidValue(node: id, nodeName: node.displayName, location: node.location, ValueError(
                op: op.name, "its inputs or its output hold NaN or infinity at the program's values: a step sweep needs finite values"))
        }
        let u = Tensor.randn(output.shape, seed: options.seed &+ UInt64(id.index) &+ 0xC0DE)
        let gradients = op.backward(inputs, output: output, gradient: u)
        var best: (input: Int, element: Int, value: Double) = (0, 0, -1)
        for i in inputs.indices where op.isDifferentiable(input: i) && (input == nil || input == i) {
            guard let g = RuleProbes.conforming(gradients, i, like: inputs[i]) else { continue }
            for (j, value) in g.enumerated() where abs(value) > abs(best.value) || best.value == -1 { best = (i, j, value) }
        }
        let evaluator = OperationEvaluator(op: op, inputs: inputs)
        let x0 = inputs[best.input].data[best.element]
        func numeric(_ stencil: Stencil, h: Double) -> (NumericDerivative, scale: Double) {
            let points = stencil.terms.map { PerturbedPoint(input: best.input, element: best.element, offset: $0.offset * h) }
            let outputs = evaluator.evaluate(points: points).map(\.output.data)
            let values = outputs.map { dot(u.data, $0) }
            let scale = outputs.map { absoluteDot(u.data, $0) }.max() ?? 0
            return (JacobianCheck.derivative(values: { values[$0] }, scale: scale, stencil: stencil, h: h), scale)
        }
        var errors: [Stencil: [Double]] = [:]
        for stencil in Stencil.allCases {
            errors[stencil] = StepSweep.steps.map { abs(best.value - numeric(stencil, h: $0).0.value) }
        }
        let chosen = numeric(.richardson, h: Stencil.richardson.defaultStep * Swift.max(1, abs(x0)))
        let names = node.inputs.map { graph[$0].displayName }
        return StepSweep(
            node: node.displayName, op: op.name, inputName: names[best.input],
            index: Tensor.index(of: best.element, in: inputs[best.input].shape), analytic: best.value,
            steps: StepSweep.steps, errors: errors, richardsonChosenStep: chosen.0.step,
            richardsonErrorEstimate: chosen.0.error ?? .nan, roundingScale: chosen.scale)
    }
}
