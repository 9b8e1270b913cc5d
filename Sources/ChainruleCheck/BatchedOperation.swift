import ChainruleCore

/// An op whose forward costs less many points at a time than one by one — an op
/// that lives in another process (a NumPy or torch layer behind a pipe), where
/// each call is a round trip. The checker hands it every perturbed point of a
/// chunk of elements in one call instead of calling `forward` once per point.
///
/// `forward(batch:)` must return exactly what `points.map(forward)` would,
/// `branches(batch:)` what `points.map(branches)` would, and `evaluate(batch:)`
/// both together (the defaults do that). The checker calls `evaluate(batch:)`:
/// an op whose answer carries both (a pipe) gives them in one round trip.
public protocol BatchedOperation: Operation {
    /// The outputs at each point, in order: one call for the whole batch.
    func forward(batch points: [[Tensor]]) -> [Tensor]
    /// The branch patterns at each point (see `Operation.branches`), in order.
    func branches(batch points: [[Tensor]]) -> [[Int]]
    /// Each point's output and branch pattern, in order: one call for the whole batch.
    func evaluate(batch points: [[Tensor]]) -> [(output: Tensor, branches: [Int])]
}

extension BatchedOperation {
    public func forward(batch points: [[Tensor]]) -> [Tensor] { points.map(forward) }
    public func branches(batch points: [[Tensor]]) -> [[Int]] { points.map(branches) }
    public func evaluate(batch points: [[Tensor]]) -> [(output: Tensor, branches: [Int])] {
        let outputs = forward(batch: points), branches = branches(batch: points)
        return outputs.indices.map { (outputs[$0], $0 < branches.count ? branches[$0] : []) }
    }
}
