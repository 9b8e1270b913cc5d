// Shape ops: they move or regroup elements and never change a value, so
// each backward moves the gradient back the same way.

// MARK: - transpose

/// Permutes the axes: output axis i is input axis `axes[i]`. Without `axes`
/// it reverses them, as NumPy's `transpose` (a matrix's transpose).
/// Backward: the gradient permuted by the inverse permutation.
public struct Transpose: Operation {
    /// The permutation; `nil` reverses the axes. Negative entries count from the end.
    public var axes: [Int]?
    public init(axes: [Int]? = nil) { self.axes = axes }
    public var name: String { "transpose" }
    public var symbol: String { "ᵀ" }
    public var attributes: [String: AttributeValue] { axes.map { ["axes": .ints($0)] } ?? [:] }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = try sameShapeRule(name, shapes)
        guard let axes else { return shape.reversed() }
        let rank = shape.count
        let resolved = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard axes.count == rank, resolved.sorted() == Array(0..<rank) else {
            let expected = rank == 0 ? "[] (a scalar has no axes)" : "an order of 0…\(rank - 1), each once"
            throw ShapeError(
                op: name, shapes: shapes,
                "axes \(AttributeValue.ints(axes)) is not a permutation of the \(rank) axes of a \(describeShape(shape)) tensor: give \(expected)")
        }
        return resolved.map { shape[$0] }
    }

    /// The permutation for an input of this rank, negative axes resolved.
    func permutation(rank: Int) -> [Int] {
        guard let axes else { return Array((0..<rank).reversed()) }
        return axes.map { $0 < 0 ? $0 + rank : $0 }
    }

    public func forward(_ x: [Tensor]) -> Tensor {
        x[0].permuted(permutation(rank: x[0].rank))
    }

    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let permutation = permutation(rank: x[0].rank)
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (outputAxis, inputAxis) in permutation.enumerated() { inverse[inputAxis] = outputAxis }
        return [gradient.permuted(inverse)]
    }
}

extension Tensor {
    /// The axes permuted: output axis i is axis `permutation[i]` of this tensor
    /// (the output walked in order, the source followed with permuted strides).
    func permuted(_ permutation: [Int]) -> Tensor {
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        let sourceStrides = Tensor.strides(shape)
        var out = [Double](repeating: 0, count: count)
        data.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { out in
                Tensor.forEachStridedOffset(shape: outShape, strides: permutation.map { sourceStrides[$0] }) { position, offset in
                    out[position] = source[offset]
                }
            }
        }
        return Tensor(shape: outShape, data: out)
    }
}

// MARK: - reshape

/// The same elements in row-major order under another shape; one size may
/// be −1 and is inferred from the element count. Backward: the gradient
/// reshaped back.
public struct Reshape: Operation {
    /// The new shape, with at most one −1.
    public var shape: [Int]
    public init(shape: [Int]) { self.shape = shape }
    public var name: String { "reshape" }
    public var attributes: [String: AttributeValue] { ["shape": .ints(shape)] }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        let input = try sameShapeRule(name, shapes)
        let count = Tensor.elementCount(input)
        let written = AttributeValue.ints(shape)
        if let bad = shape.firstIndex(where: { $0 < -1 }) {
            throw ShapeError(
                op: name, shapes: shapes,
                "size \(shape[bad]) at position \(bad) of \(written) is negative; sizes are ≥ 0, and one of them may be -1 to be inferred")
        }
        let holes = shape.filter { $0 == -1 }.count
        guard holes <= 1 else {
            throw ShapeError(op: name, shapes: shapes, "\(written) has \(holes) sizes of -1; at most one size can be inferred")
        }
        guard Tensor.checkedElementCount(shape.filter { $0 != -1 }) != nil else {
            throw ShapeError(op: name, shapes: shapes, "\(written) has more elements than can be counted")
        }
        if holes == 1 {
            let known = shape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                let why = known == 0
                    ? "the other sizes multiply to 0, so the -1 could be anything"
                    : "the other sizes hold \(known) elements and \(count) is not a multiple of \(known)"
                throw ShapeError(
                    op: name, shapes: shapes,
                    "cannot reshape \(describeShape(input)) (\(count) elements) into \(written): \(why)")
            }
        } else if Tensor.elementCount(shape) != count {
            throw ShapeError(
                op: name, shapes: shapes,
                "cannot reshape \(describeShape(input)) (\(count) elements) into \(describeShape(shape)) (\(Tensor.elementCount(shape)) elements): the element counts must be equal")
        }
        return inferredShape(elementCount: count)
    }

    /// The shape with its −1 replaced by what makes `elementCount` elements.
    func inferredShape(elementCount: Int) -> [Int] {
        guard let hole = shape.firstIndex(of: -1) else { return shape }
        var resolved = shape
        resolved[hole] = elementCount / shape.filter { $0 != -1 }.reduce(1, *)
        return resolved
    }

    public func forward(_ x: [Tensor]) -> Tensor { x[0].reshaped(inferredShape(elementCount: x[0].count)) }

    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.reshaped(x[0].shape)]
    }
}

// MARK: - flatten

/// Keeps the batch axis and joins all the others: N×C×H×W → N×(C·H·W), so a
/// 1×3×32×32 image becomes 1×3072 for a linear layer. A vector or a scalar
/// has nothing to join and stays as it is. Backward: the gradient reshaped back.
public struct Flatten: Operation {
    public init() {}
    public var name: String { "flatten" }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        let shape = try sameShapeRule(name, shapes)
        guard shape.count > 1 else { return shape }
        return [shape[0], Tensor.elementCount(Array(shape.dropFirst()))]
    }

    public func forward(_ x: [Tensor]) -> Tensor {
        let shape = x[0].shape
        guard shape.count > 1 else { return x[0] }
        return x[0].reshaped([shape[0], Tensor.elementCount(Array(shape.dropFirst()))])
    }

    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.reshaped(x[0].shape)]
    }
}

// MARK: - difference rules (linear: the op applied to the deltas)

extension Transpose {
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

extension Reshape {
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

extension Flatten {
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

// MARK: - registry

enum ShapeOps {
    static let family = "shape"
    static let specs: [OpSpec] = [
        OpSpec(name: "transpose", family: family,
               doc: "permutes the axes (output axis i = input axis axes[i]); without axes, reverses them",
               parameters: [OpParameter("x", .tensor), OpParameter("axes", .ints, optional: true)],
               build: { (args) throws(ValueError) -> any Operation in
                   Transpose(axes: try args.optionalInts("axes", of: "transpose"))
               },
               samples: [
                   OpSample("matrix 2×3", op: Transpose(), inputs: [Tensor.uniform([2, 3], low: -2, high: 2, seed: 71)]),
                   OpSample("NCHW → NHWC, 2×3×2×2", op: Transpose(axes: [0, 2, 3, 1]),
                            inputs: [Tensor.uniform([2, 3, 2, 2], low: -2, high: 2, seed: 72)]),
                   OpSample("negative axes on 2×3×4", op: Transpose(axes: [-1, 0, 1]),
                            inputs: [Tensor.uniform([2, 3, 4], low: -2, high: 2, seed: 73)]),
               ]),
        OpSpec(name: "reshape", family: family,
               doc: "the same elements under another shape; one size may be −1 and is inferred",
               parameters: [OpParameter("x", .tensor), OpParameter("shape", .ints)],
               build: { (args) throws(ValueError) -> any Operation in
                   guard let shape = try args.optionalInts("shape", of: "reshape") else {
                       throw ValueError(op: "reshape", "needs the new shape, e.g. reshape(x, shape: [2, -1])")
                   }
                   return Reshape(shape: shape)
               },
               samples: [
                   OpSample("2×3 → 3×2", op: Reshape(shape: [3, 2]), inputs: [Tensor.uniform([2, 3], low: -2, high: 2, seed: 74)]),
                   OpSample("2×3×4 → 4×−1", op: Reshape(shape: [4, -1]), inputs: [Tensor.uniform([2, 3, 4], low: -2, high: 2, seed: 75)]),
               ]),
        OpSpec(name: "flatten", family: family,
               doc: "keeps the batch axis and joins the rest: N×C×H×W → N×(C·H·W); a vector stays as it is",
               parameters: [OpParameter("x", .tensor)],
               build: { _ in Flatten() },
               samples: [
                   OpSample("2×3×2×2 → 2×12", op: Flatten(), inputs: [Tensor.uniform([2, 3, 2, 2], low: -2, high: 2, seed: 76)]),
               ]),
    ]
}

// MARK: - builder API

/// Reverses the axes (`axes: nil`) or permutes them: output axis i is input axis `axes[i]`.
public func transpose(_ x: Var, axes: [Int]? = nil) -> Var { x.graph.build(Transpose(axes: axes), [x]) }
/// The same elements under `shape`; one size may be −1.
public func reshape(_ x: Var, _ shape: [Int]) -> Var { x.graph.build(Reshape(shape: shape), [x]) }
/// Keeps the batch axis and joins the rest: 1×3×32×32 → 1×3072.
public func flatten(_ x: Var) -> Var { x.graph.build(Flatten(), [x]) }
