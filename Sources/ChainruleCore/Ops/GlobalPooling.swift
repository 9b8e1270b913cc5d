// Global pooling: one window as large as the whole image, so no geometry
// can fail to fit, whatever the image size.

/// `global_avgpool(x)`: the mean of each channel of each image, N×C×H×W →
/// N×C×1×1 (any rank ≥ 3: every axis after the channels is averaged and
/// kept with size 1), as ONNX's `GlobalAveragePool` and PyTorch's
/// `AdaptiveAvgPool2d(1)`. Backward spreads each gradient evenly: g/(H·W).
public struct GlobalAvgPool: Operation {
    public init() {}
    public var name: String { "global_avgpool" }
    public var symbol: String { "avgpool" }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try requireInputs(name, shapes, ["x"])
        let x = shapes[0]
        guard x.count >= 3, Tensor.elementCount(Array(x.dropFirst(2))) > 0 else {
            throw ShapeError(op: name, shapes: shapes, "x must be N×C×H×W (or N×C×L, N×C×D×H×W) with a non-empty image, got \(describeShape(x))")
        }
        return [x[0], x[1]] + Array(repeating: 1, count: x.count - 2)
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        let inner = Tensor.elementCount(Array(x.shape.dropFirst(2)))
        let means = (0..<(x.count / inner)).map { plane in
            x.data[(plane * inner)..<((plane + 1) * inner)].reduce(0, +) / Double(inner)
        }
        return Tensor(shape: try! outputShape([x.shape]), data: means)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let x = inputs[0]
        let inner = Tensor.elementCount(Array(x.shape.dropFirst(2)))
        let dx = (0..<x.count).map { gradient.data[$0 / inner] / Double(inner) }
        return [Tensor(shape: x.shape, data: dx)]
    }
}

extension GlobalAvgPool {
    /// Linear: the deltas' means.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

enum GlobalPoolingOps {
    static let family = PoolingOps.family
    static let specs: [OpSpec] = [
        OpSpec(
            name: "global_avgpool", family: family,
            doc: "the mean of each channel over the whole image: N×C×H×W → N×C×1×1",
            parameters: [OpParameter("x", .tensor)],
            build: { _ in GlobalAvgPool() },
            samples: [
                OpSample("2×3×3×2", op: GlobalAvgPool(), inputs: [Tensor.randn([2, 3, 3, 2], seed: 721)]),
                OpSample("1-D signals 2×2×5", op: GlobalAvgPool(), inputs: [Tensor.randn([2, 2, 5], seed: 722)]),
            ]),
    ]
}

// MARK: - builder API

/// The mean of each channel over the whole image: N×C×H×W → N×C×1×1.
public func globalAvgpool(_ x: Var) -> Var { x.graph.build(GlobalAvgPool(), [x]) }
