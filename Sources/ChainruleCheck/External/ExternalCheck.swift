import ChainruleCore
import Foundation

extension ExternalOperation {
    /// The node-local check of the Python layer at its inputs, through
    /// `GradientCheck.operation` (so every comparison the checker makes applies), as a
    /// report of one node — the op's output `out` — with its inputs named as in Python.
    ///
    /// Throws the pipe's first failure instead of a report: values that came back as
    /// NaN from a broken pipe are never judged.
    public func check(options: CheckOptions = CheckOptions()) throws(ExternalError) -> CheckReport {
        let start = Date()
        let before = statistics.evaluations
        let rule = GradientCheck.operation(self, inputs: inputs, inputNames: inputNames, options: options)
        if let failure { throw failure }
        let node = NodeCheck(node: outputNode, name: Self.outputName, op: name, location: location, verdict: rule.verdict)
        return CheckReport(
            nodes: [node], options: options, forwardEvaluations: statistics.evaluations - before,
            seconds: Date().timeIntervalSince(start), notes: rule.problem.map { [$0] } ?? [])
    }

    /// The op as a graph of one node: a leaf per input (a constant when it gets no
    /// gradient) and the op's output `out`, for figures.
    public func graph() -> (graph: Graph, output: NodeID) {
        let graph = Graph()
        let leaves = inputs.indices.map { i in
            graph.leaf(inputNames[i], inputs[i], role: isDifferentiable(input: i) ? .input : .constant)
        }
        do {
            let out = try graph.apply(self, leaves, name: Self.outputName, location: location)
            return (graph, out)
        } catch {
            preconditionFailure("ExternalOperation.graph: the op refuses its own inputs' shapes: \(error)")
        }
    }

    /// The output node's name, as `backward(…, out, grad)` calls it.
    public static let outputName = "out"

    /// The output's node id in `graph()` and in `check`'s report: after the inputs.
    public var outputNode: NodeID { NodeID(inputs.count) }
}
