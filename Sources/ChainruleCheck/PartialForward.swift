import ChainruleCore

/// Which elements of a value a perturbed evaluation recomputed; every other element is the
/// unperturbed value, bit for bit. Decided by the ops' structure alone (which output elements
/// read which input elements), never by comparing numbers, so every point of one perturbed
/// element moves the same elements and their branch patterns line up.
enum MovedElements: Equatable, Sendable {
    /// The whole value.
    case all
    /// Only these elements, ascending and distinct (none: the value did not move).
    case elements([Int])

    static let none = MovedElements.elements([])
}

/// One op's output at perturbed inputs, with the elements that were recomputed and the branch
/// pattern (`Operation.branches`) of those elements only: the others sit at their unperturbed
/// inputs, so their branches are the same at every point and comparing the recomputed ones
/// between two points compares the whole patterns.
struct PartialOutput {
    var output: Tensor
    var moved: MovedElements
    var branches: [Int]
}

/// An op whose output, when only some elements of its inputs move, changes only in a part it can
/// recompute alone: by its own `forward` on the slice of the inputs that part reads, so element
/// by element the arithmetic (and the bits) of the whole forward. The rest is copied from the
/// unperturbed output. One element of a dense layer's weight moves one column of its output
/// (rows × in multiplications instead of rows × in × out); one element into tanh moves one element.
///
/// That the part has the whole forward's bits is pinned by `PartialForwardTests` for every
/// conforming op, so a check with it gives the same numbers, verdicts and reports as without.
protocol PartialForward: ChainruleCore.Operation {
    /// The output at `inputs` (already perturbed) when only `moved[i]` of input i moved, with
    /// `base` the output at the unperturbed inputs; nil when the part would be the whole output
    /// (the caller then runs `forward`).
    func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput?
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

extension UnaryElementwise: PartialForward {
    /// Output element k reads input element k alone: the moved elements through `forward` as one short vector.
    func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput? {
        guard case .elements(let elements) = moved[0] else { return nil }
        let x = inputs[0].data
        let slice = [Tensor(shape: [elements.count], data: elements.map { x[$0] })]
        let y = forward(slice).data
        var output = base
        output.data.withUnsafeMutableBufferPointer { out in
            for (n, e) in elements.enumerated() { out[e] = y[n] }
        }
        return PartialOutput(output: output, moved: moved[0], branches: branches(slice))
    }
}

extension Linear: PartialForward {
    /// `y[r, c] = x[r, ·] · W[c, ·] + b[c]` reads row r of x and row c of W: a moved element of x
    /// moves its row of y, one of W or b its column. The moved rows go through `forward` with x cut
    /// to those rows, the moved columns with W and b cut to those columns.
    func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput? {
        let x = inputs[0], w = inputs[1]
        let outFeatures = w.shape[0], inFeatures = w.shape[1], rowCount = x.shape.dropLast().reduce(1, *)
        guard inFeatures > 0, outFeatures > 0, case .elements(let xMoved) = moved[0], case .elements(let wMoved) = moved[1]
        else { return nil }
        let rows = ascendingUnique(xMoved.map { $0 / inFeatures })
        var columns = wMoved.map { $0 / inFeatures }
        if hasBias {
            guard case .elements(let bMoved) = moved[2] else { return nil }
            columns += bMoved
        }
        columns = ascendingUnique(columns)
        guard rows.count < rowCount, columns.count < outFeatures else { return nil }
        var output = base
        output.data.withUnsafeMutableBufferPointer { out in
            if !columns.isEmpty {
                var cut = [x, Tensor(shape: [columns.count, inFeatures], data: gatherRows(w.data, columns, length: inFeatures))]
                if hasBias { cut.append(Tensor(shape: [columns.count], data: columns.map { inputs[2].data[$0] })) }
                let y = forward(cut).data
                for r in 0..<rowCount {
                    for (n, c) in columns.enumerated() { out[r * outFeatures + c] = y[r * columns.count + n] }
                }
            }
            if !rows.isEmpty {
                var cut = inputs
                cut[0] = Tensor(shape: [rows.count, inFeatures], data: gatherRows(x.data, rows, length: inFeatures))
                let y = forward(cut).data
                for (n, r) in rows.enumerated() {
                    for c in 0..<outFeatures { out[r * outFeatures + c] = y[n * outFeatures + c] }
                }
            }
        }
        var elements: [Int] = []
        elements.reserveCapacity(rows.count * outFeatures + (rowCount - rows.count) * columns.count)
        var nextMovedRow = 0
        for r in 0..<rowCount {
            if nextMovedRow < rows.count && rows[nextMovedRow] == r {
                elements.append(contentsOf: (r * outFeatures)..<((r + 1) * outFeatures))
                nextMovedRow += 1
            } else {
                for c in columns { elements.append(r * outFeatures + c) }
            }
        }
        return PartialOutput(output: output, moved: .elements(elements), branches: [])
    }
}

/// The rows `rows` of a row-major matrix with rows of `length`, one after another.
private func gatherRows(_ data: [Double], _ rows: [Int], length: Int) -> [Double] {
    var cut: [Double] = []
    cut.reserveCapacity(rows.count * length)
    for r in rows { cut.append(contentsOf: data[(r * length)..<((r + 1) * length)]) }
    return cut
}

private func ascendingUnique(_ values: [Int]) -> [Int] {
    guard values.count > 1 else { return values }
    var sorted = values.sorted()
    var last = 0
    for i in 1..<sorted.count where sorted[i] != sorted[last] {
        last += 1
        sorted[last] = sorted[i]
    }
    return Array(sorted[...last])
}
