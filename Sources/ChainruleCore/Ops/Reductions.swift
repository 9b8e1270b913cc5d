// Reductions: sum, mean and max over all elements or along one axis.
//
// Along an axis, the input is seen as outer × reduced × inner blocks
// (outer = the axes before it, inner = the axes after it), so every loop
// runs over whole contiguous rows of `inner` elements.

/// Where a reduction reduces: all elements (`axis == nil`) or one axis
/// (negative counts from the end), and whether the reduced axis stays as a 1.
public struct ReductionAxis: Sendable, Equatable {
    public var axis: Int?
    public var keepdims: Bool

    public init(axis: Int? = nil, keepdims: Bool = false) {
        self.axis = axis
        self.keepdims = keepdims
    }

    var attributes: [String: AttributeValue] {
        var attributes: [String: AttributeValue] = ["keepdims": .bool(keepdims)]
        if let axis { attributes["axis"] = .int(axis) }
        return attributes
    }

    /// The output shape, or an error naming the op when the axis does not exist.
    func outputShape(_ op: String, _ shapes: [[Int]], refusesEmpty: Bool) throws(ShapeError) -> [Int] {
        let shape = try sameShapeRule(op, shapes)
        guard let axis else {
            if refusesEmpty && Tensor.elementCount(shape) == 0 {
                throw ShapeError(op: op, shapes: shapes, "has no value for an empty tensor")
            }
            return reducedShape(shape)
        }
        let rank = shape.count
        guard (-rank..<rank).contains(axis) else {
            let valid = rank == 0
                ? "a scalar has no axis; leave out axis: to reduce all elements"
                : "valid axes are \(-rank)…\(rank - 1)"
            throw ShapeError(op: op, shapes: shapes, "axis \(axis) is out of range for a tensor of rank \(rank): \(valid)")
        }
        if refusesEmpty && shape[axis < 0 ? axis + rank : axis] == 0 {
            throw ShapeError(op: op, shapes: shapes, "axis \(axis) has size 0, so there is nothing to reduce")
        }
        return reducedShape(shape)
    }

    /// The output shape for an input of `shape` whose axis is valid.
    func reducedShape(_ shape: [Int]) -> [Int] {
        guard let axis else { return keepdims ? [Int](repeating: 1, count: shape.count) : [] }
        let resolved = axis < 0 ? axis + shape.count : axis
        var out = shape
        if keepdims { out[resolved] = 1 } else { out.remove(at: resolved) }
        return out
    }

    /// The outer × reduced × inner view of an input of `shape` (already validated).
    func layout(_ shape: [Int]) -> ReductionLayout {
        guard let axis else { return ReductionLayout(outer: 1, reduced: Tensor.elementCount(shape), inner: 1) }
        let resolved = axis < 0 ? axis + shape.count : axis
        return ReductionLayout(
            outer: Tensor.elementCount(Array(shape[..<resolved])),
            reduced: shape[resolved],
            inner: Tensor.elementCount(Array(shape[(resolved + 1)...])))
    }
}

/// An input seen as `outer` blocks of `reduced` rows of `inner` contiguous
/// elements; the output has outer × inner elements.
struct ReductionLayout {
    var outer: Int
    var reduced: Int
    var inner: Int

    /// Σ over the reduced axis, times `scale`.
    func sum(_ input: [Double], scale: Double) -> [Double] {
        var out = [Double](repeating: 0, count: outer * inner)
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                if inner == 1 {
                    // The reduced elements are contiguous: one running total per output.
                    for o in 0..<outer {
                        var total = 0.0
                        for k in (o * reduced)..<((o + 1) * reduced) { total += x[k] }
                        y[o] = total * scale
                    }
                } else {
                    for o in 0..<outer {
                        for k in 0..<reduced {
                            let row = (o * reduced + k) * inner
                            for i in 0..<inner { y[o * inner + i] += x[row + i] }
                        }
                    }
                    if scale != 1 { for j in 0..<y.count { y[j] *= scale } }
                }
            }
        }
        return out
    }

    /// The adjoint of `sum`: each output element's gradient, times `scale`,
    /// copied to every input element it summed.
    func spread(_ gradient: [Double], scale: Double) -> [Double] {
        var dx = [Double](repeating: 0, count: outer * reduced * inner)
        gradient.withUnsafeBufferPointer { g in
            dx.withUnsafeMutableBufferPointer { dx in
                if inner == 1 {
                    for o in 0..<outer {
                        let value = g[o] * scale
                        for k in (o * reduced)..<((o + 1) * reduced) { dx[k] = value }
                    }
                } else {
                    for o in 0..<outer {
                        for k in 0..<reduced {
                            let row = (o * reduced + k) * inner
                            for i in 0..<inner { dx[row + i] = g[o * inner + i] * scale }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// For each output element, the position k along the reduced axis of the
    /// first maximum (ties keep the earliest; the first NaN wins, `winsMaximum`).
    /// The axis must not be empty.
    func argmax(_ input: [Double]) -> [Int] {
        precondition(reduced > 0, "max over an empty axis")
        var best = [Double](repeating: 0, count: outer * inner)
        var positions = [Int](repeating: 0, count: outer * inner)
        input.withUnsafeBufferPointer { x in
            best.withUnsafeMutableBufferPointer { best in
                positions.withUnsafeMutableBufferPointer { position in
                    for o in 0..<outer {
                        for i in 0..<inner { best[o * inner + i] = x[o * reduced * inner + i] }
                        for k in 1..<reduced {
                            let row = (o * reduced + k) * inner
                            for i in 0..<inner where winsMaximum(x[row + i], over: best[o * inner + i]) {
                                best[o * inner + i] = x[row + i]
                                position[o * inner + i] = k
                            }
                        }
                    }
                }
            }
        }
        return positions
    }

    /// The flat input offset of output element `j`'s element at position `k`.
    func inputOffset(output j: Int, position k: Int) -> Int {
        let o = j / inner, i = j % inner
        return (o * reduced + k) * inner + i
    }
}

// MARK: - sum, mean, max

/// Σ of the elements, over all or along `axis`. Backward: every element gets
/// the gradient of the sum it went into.
public struct ReduceSum: Operation {
    public var reduction: ReductionAxis
    public init(_ reduction: ReductionAxis = ReductionAxis()) { self.reduction = reduction }
    public var name: String { "sum" }
    public var symbol: String { "Σ" }
    public var attributes: [String: AttributeValue] { reduction.attributes }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try reduction.outputShape(name, shapes, refusesEmpty: false)
    }
    public func forward(_ x: [Tensor]) -> Tensor {
        Tensor(shape: reduction.reducedShape(x[0].shape), data: reduction.layout(x[0].shape).sum(x[0].data, scale: 1))
    }
    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [Tensor(shape: x[0].shape, data: reduction.layout(x[0].shape).spread(gradient.data, scale: 1))]
    }
}

/// The mean of the elements, over all or along `axis`. Backward: every
/// element gets the gradient of its mean divided by the count n.
public struct ReduceMean: Operation {
    public var reduction: ReductionAxis
    public init(_ reduction: ReductionAxis = ReductionAxis()) { self.reduction = reduction }
    public var name: String { "mean" }
    public var attributes: [String: AttributeValue] { reduction.attributes }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try reduction.outputShape(name, shapes, refusesEmpty: true)
    }
    public func forward(_ x: [Tensor]) -> Tensor {
        let layout = reduction.layout(x[0].shape)
        return Tensor(shape: reduction.reducedShape(x[0].shape), data: layout.sum(x[0].data, scale: 1 / Double(layout.reduced)))
    }
    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let layout = reduction.layout(x[0].shape)
        return [Tensor(shape: x[0].shape, data: layout.spread(gradient.data, scale: 1 / Double(layout.reduced)))]
    }
}

/// The largest element, over all or along `axis`. Backward: the gradient
/// goes to the first maximum only; a tie is a kink (the branches are the
/// argmax positions).
public struct ReduceMax: Operation {
    public var reduction: ReductionAxis
    public init(_ reduction: ReductionAxis = ReductionAxis()) { self.reduction = reduction }
    public var name: String { "max" }
    public var attributes: [String: AttributeValue] { reduction.attributes }
    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try reduction.outputShape(name, shapes, refusesEmpty: true)
    }
    public func forward(_ x: [Tensor]) -> Tensor {
        let layout = reduction.layout(x[0].shape)
        let positions = layout.argmax(x[0].data)
        let input = x[0].data
        var out = [Double](repeating: 0, count: positions.count)
        for j in 0..<positions.count { out[j] = input[layout.inputOffset(output: j, position: positions[j])] }
        return Tensor(shape: reduction.reducedShape(x[0].shape), data: out)
    }
    public func backward(_ x: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let layout = reduction.layout(x[0].shape)
        let positions = layout.argmax(x[0].data)
        let upstream = gradient.data
        var dx = [Double](repeating: 0, count: x[0].count)
        for j in 0..<positions.count { dx[layout.inputOffset(output: j, position: positions[j])] = upstream[j] }
        return [Tensor(shape: x[0].shape, data: dx)]
    }
    public func branches(_ x: [Tensor]) -> [Int] { reduction.layout(x[0].shape).argmax(x[0].data) }
}

// MARK: - difference rules

extension ReduceSum {
    /// Linear: the deltas summed.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

extension ReduceMean {
    /// Linear: the deltas' mean.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

extension ReduceMax {
    /// The maximum at x + Δ (as `forward` picks it there) against the one at x.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let d = deltas[0] else { return Tensor.zeros(output.shape) }
        let layout = reduction.layout(x[0].shape)
        let offsets = { (v: Tensor) in layout.argmax(v.data).enumerated().map { layout.inputOffset(output: $0, position: $1) } }
        return selectionDifference(x[0], d, base: offsets(x[0]), perturbed: offsets(x[0].zipMap(d, +)), shape: output.shape)
    }
}

// MARK: - registry

enum ReductionOps {
    static let family = "reductions"

    static let parameters = [
        OpParameter("x", .tensor), OpParameter("axis", .int, optional: true), OpParameter("keepdims", .bool, default: .bool(false)),
    ]

    static func reductionAxis(_ args: OpArguments, of op: String) throws(ValueError) -> ReductionAxis {
        ReductionAxis(axis: try args.optionalInt("axis", of: op), keepdims: try args.bool("keepdims", of: op, default: false))
    }

    /// All elements, each axis of a matrix, keepdims, a negative axis and the
    /// middle axis of a 3-D tensor.
    static func samples(_ make: (ReductionAxis) -> any Operation) -> [OpSample] {
        [
            OpSample("all elements of 2×3", op: make(ReductionAxis()), inputs: [Tensor.uniform([2, 3], low: -2, high: 2, seed: 61)]),
            OpSample("axis 0 of 2×3", op: make(ReductionAxis(axis: 0)), inputs: [Tensor.uniform([2, 3], low: -2, high: 2, seed: 62)]),
            OpSample("axis −1 of 2×3, keepdims", op: make(ReductionAxis(axis: -1, keepdims: true)),
                     inputs: [Tensor.uniform([2, 3], low: -2, high: 2, seed: 63)]),
            OpSample("axis 1 of 2×3×4", op: make(ReductionAxis(axis: 1)), inputs: [Tensor.uniform([2, 3, 4], low: -2, high: 2, seed: 64)]),
            OpSample("all elements of a scalar", op: make(ReductionAxis()), inputs: [Tensor(1.3)]),
        ]
    }

    static let specs: [OpSpec] = [
        OpSpec(name: "sum", family: family, doc: "Σ of the elements, over all or along axis (negative counts from the end)",
               parameters: parameters,
               build: { (args) throws(ValueError) -> any Operation in ReduceSum(try reductionAxis(args, of: "sum")) },
               samples: samples { ReduceSum($0) }),
        OpSpec(name: "mean", family: family, doc: "the mean of the elements, over all or along axis",
               parameters: parameters,
               build: { (args) throws(ValueError) -> any Operation in ReduceMean(try reductionAxis(args, of: "mean")) },
               samples: samples { ReduceMean($0) }),
        OpSpec(name: "max", family: family,
               doc: "the largest element, over all or along axis; the gradient goes to the first maximum",
               parameters: parameters, kinks: "ties for the maximum",
               build: { (args) throws(ValueError) -> any Operation in ReduceMax(try reductionAxis(args, of: "max")) },
               samples: samples { ReduceMax($0) }),
    ]
}

// MARK: - builder API

/// Σ over all elements, or along `axis` (negative counts from the end).
public func sum(_ x: Var, axis: Int? = nil, keepdims: Bool = false) -> Var {
    x.graph.build(ReduceSum(ReductionAxis(axis: axis, keepdims: keepdims)), [x])
}
/// The mean over all elements, or along `axis`.
public func mean(_ x: Var, axis: Int? = nil, keepdims: Bool = false) -> Var {
    x.graph.build(ReduceMean(ReductionAxis(axis: axis, keepdims: keepdims)), [x])
}
/// The largest element over all elements, or along `axis`.
public func max(_ x: Var, axis: Int? = nil, keepdims: Bool = false) -> Var {
    x.graph.build(ReduceMax(ReductionAxis(axis: axis, keepdims: keepdims)), [x])
}
