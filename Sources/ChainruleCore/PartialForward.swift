/// Which elements of a value a perturbed evaluation recomputed; every other element is the
/// unperturbed value, bit for bit. Decided by the ops' structure alone (which output elements
/// read which input elements), never by comparing numbers, so every point of one perturbed
/// element moves the same elements and their branch patterns line up.
public enum MovedElements: Equatable, Sendable {
    /// The whole value.
    case all
    /// Only these elements, ascending and distinct (none: the value did not move).
    case elements([Int])

    public static let none = MovedElements.elements([])
}

/// One op's output at perturbed inputs, with the elements that were recomputed and the branch
/// pattern (`Operation.branches`) of those elements only: the others sit at their unperturbed
/// inputs, so their branches are the same at every point and comparing the recomputed ones
/// between two points compares the whole patterns.
public struct PartialOutput {
    public var output: Tensor
    public var moved: MovedElements
    public var branches: [Int]

    public init(output: Tensor, moved: MovedElements, branches: [Int]) {
        self.output = output
        self.moved = moved
        self.branches = branches
    }
}

/// An op whose output, when only some elements of its inputs move, changes only in a part it can
/// recompute alone: by its own `forward` on the slice of the inputs that part reads, so element
/// by element the arithmetic (and the bits) of the whole forward. The rest is copied from the
/// unperturbed output. One element of a dense layer's weight moves one column of its output
/// (rows × in multiplications instead of rows × in × out); one element into tanh moves one element.
/// The checker's perturbed evaluations use it; each op states it beside its own `forward`.
///
/// That the part has the whole forward's bits is pinned by `PartialForwardCheckTests` for every
/// conforming op in the registry, so a check with it gives the same numbers, verdicts and reports as without.
public protocol PartialForward: Operation {
    /// The output at `inputs` (already perturbed) when only `moved[i]` of input i moved, with
    /// `base` the output at the unperturbed inputs; nil when the part would be the whole output
    /// (the caller then runs `forward`).
    func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput?
}

extension PartialForward {
    /// `base` with the elements `positions` replaced by `values` (one per position, in order).
    func replacing(_ base: Tensor, at positions: [Int], with values: [Double]) -> Tensor {
        var output = base
        output.data.withUnsafeMutableBufferPointer { out in
            for (n, e) in positions.enumerated() { out[e] = values[n] }
        }
        return output
    }
}

/// The rows `rows` of a row-major matrix with rows of `length`, one after another.
func gatherRows(_ data: [Double], _ rows: [Int], length: Int) -> [Double] {
    var cut: [Double] = []
    cut.reserveCapacity(rows.count * length)
    for r in rows { cut.append(contentsOf: data[(r * length)..<((r + 1) * length)]) }
    return cut
}

/// `values` sorted, each once.
func ascendingUnique(_ values: [Int]) -> [Int] {
    guard values.count > 1 else { return values }
    var sorted = values.sorted()
    var last = 0
    for i in 1..<sorted.count where sorted[i] != sorted[last] {
        last += 1
        sorted[last] = sorted[i]
    }
    return Array(sorted[...last])
}
