import ChainruleCore

/// An op whose forward costs less many points at a time than one by one — an op
/// that lives in another process (a NumPy or torch layer behind a pipe), where
/// each call is a round trip. The checker hands it every perturbed point of a
/// chunk of elements in one call instead of calling `forward` once per point.
///
/// `forward(batch:)` must return exactly what `points.map(forward)` would, and
/// `branches(batch:)` what `points.map(branches)` would (the defaults do that).
public protocol BatchedOperation: Operation {
    /// The outputs at each point, in order: one call for the whole batch.
    func forward(batch points: [[Tensor]]) -> [Tensor]
    /// The branch patterns at each point (see `Operation.branches`), in order.
    func branches(batch points: [[Tensor]]) -> [[Int]]
}

extension BatchedOperation {
    public func forward(batch points: [[Tensor]]) -> [Tensor] { points.map(forward) }
    public func branches(batch points: [[Tensor]]) -> [[Int]] { points.map(branches) }
}
