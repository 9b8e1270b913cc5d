import ChainruleCore
import Foundation

extension GradientCheck {
    /// The time of one recompute of each differentiable leaf's downstream cone, in
    /// seconds (the fastest of `repetitions`, one thread), measured with the same
    /// evaluator the end-to-end check uses.
    ///
    /// The yardstick of the end-to-end check's speed: with the central difference it
    /// cannot do better than `2 × Σ over leaves (elements × cone time)` on one core.
    public static func coneRecomputeSeconds(
        _ graph: Graph, output: NodeID, repetitions: Int = 5
    ) throws(GraphError) -> [(leaf: NodeID, elements: Int, seconds: Double)] {
        let snapshot = GraphSnapshot(graph, output: output)
        let values = try snapshot.forwardValues()
        let leaves = graph.differentiableLeaves
        let evaluator = ConeEvaluator(snapshot: snapshot, values: values, leaves: leaves, cones: snapshot.cones(of: leaves))
        return leaves.enumerated().map { i, leaf in
            var fastest = Double.infinity
            for _ in 0..<Swift.max(1, repetitions) {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = evaluator.evaluate(input: i, element: 0, offset: 1e-6)
                fastest = Swift.min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            evaluator.reset()
            return (leaf, values[leaf.index].count, fastest)
        }
    }
}
