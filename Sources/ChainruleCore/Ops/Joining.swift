// Joining tensors along an axis: the gradient of each input is its own
// slice of the output's gradient.

/// `concat(a, b, axis:)`: the inputs joined along `axis` (negative counts
/// from the end), as NumPy's `concatenate` and ONNX's `Concat`. The op takes
/// any number of inputs (ONNX's Concat does); the language calls it with two.
/// Every other axis must agree. Backward: each input gets the slice of the
/// gradient where its elements went.
public struct Concat: Operation {
    public let axis: Int
    public init(axis: Int = 0) { self.axis = axis }
    public var name: String { "concat" }
    public var symbol: String { "concat" }
    public var attributes: [String: AttributeValue] { ["axis": .int(axis)] }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        guard let first = shapes.first else { throw ShapeError(op: name, shapes: shapes, "needs at least one input") }
        let rank = first.count
        guard rank > 0, (-rank..<rank).contains(axis) else {
            throw ShapeError(op: name, shapes: shapes, "axis \(axis) does not exist in a \(describeShape(first)) tensor: give one of \(-rank)…\(rank - 1)")
        }
        let resolved = axis < 0 ? axis + rank : axis
        var out = first
        for (index, shape) in shapes.enumerated().dropFirst() {
            var expected = first
            expected[resolved] = shape.count == rank ? shape[resolved] : 0
            guard shape.count == rank, shape == expected else {
                throw ShapeError(
                    op: name, shapes: shapes,
                    "input \(index) is \(describeShape(shape)) but input 0 is \(describeShape(first)): all sizes but axis \(resolved)'s must agree")
            }
            out[resolved] += shape[resolved]
        }
        return out
    }

    /// The resolved axis, the number of blocks before it, and the block size after it.
    private func layout(_ shape: [Int]) -> (outer: Int, inner: Int, resolved: Int) {
        let resolved = axis < 0 ? axis + shape.count : axis
        return (Tensor.elementCount(Array(shape[..<resolved])), Tensor.elementCount(Array(shape[(resolved + 1)...])), resolved)
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let shape = try! outputShape(inputs.map(\.shape))
        let (outer, inner, resolved) = layout(shape)
        var out: [Double] = []
        out.reserveCapacity(Tensor.elementCount(shape))
        for block in 0..<outer {
            for x in inputs {
                let width = x.shape[resolved] * inner
                out += x.data[(block * width)..<((block + 1) * width)]
            }
        }
        return Tensor(shape: shape, data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let (outer, inner, resolved) = layout(output.shape)
        var slices = inputs.map { _ in [Double]() }
        var position = 0
        for _ in 0..<outer {
            for (k, x) in inputs.enumerated() {
                let width = x.shape[resolved] * inner
                slices[k] += gradient.data[position..<(position + width)]
                position += width
            }
        }
        return zip(inputs, slices).map { Tensor(shape: $0.shape, data: $1) }
    }
}

extension Concat {
    /// Linear: the deltas joined.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

enum JoiningOps {
    static let family = ShapeOps.family
    static let specs: [OpSpec] = [
        OpSpec(
            name: "concat", family: family,
            doc: "joins a and b along axis (negative counts from the end); the other sizes must agree",
            parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor), OpParameter("axis", .int, default: .int(0))],
            build: { args throws(ValueError) in Concat(axis: try args.optionalInt("axis", of: "concat") ?? 0) },
            samples: [
                OpSample("channels: 2×1×2×2 and 2×3×2×2 on axis 1", op: Concat(axis: 1),
                         inputs: [Tensor.randn([2, 1, 2, 2], seed: 731), Tensor.randn([2, 3, 2, 2], seed: 732)]),
                OpSample("rows: 1×3 and 2×3", op: Concat(axis: 0),
                         inputs: [Tensor.randn([1, 3], seed: 733), Tensor.randn([2, 3], seed: 734)]),
                OpSample("three inputs on axis −1", op: Concat(axis: -1),
                         inputs: [Tensor.randn([2, 1], seed: 735), Tensor.randn([2, 2], seed: 736), Tensor.randn([2, 3], seed: 737)]),
            ]),
    ]
}

// MARK: - builder API

/// The inputs joined along `axis`; see `Concat`.
public func concat(_ inputs: [Var], axis: Int = 0) -> Var { inputs[0].graph.build(Concat(axis: axis), inputs) }
