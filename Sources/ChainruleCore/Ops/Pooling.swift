// 2-D pooling over NCHW images: square windows, a stride (the kernel size
// unless given), no padding. Where windows overlap (stride < kernel) an
// input element collects the gradient of every window it belongs to.

/// The window geometry shared by both pools; one plane (one channel of one image) at a time.
struct PoolWindow: Sendable {
    let kernel: Int, stride: Int
    let height: Int, width: Int, outputHeight: Int, outputWidth: Int

    init(kernel: Int, stride: Int, floor: Bool, shapes: [[Int]], op: String) throws(ShapeError) {
        try requireInputs(op, shapes, ["x"])
        let x = shapes[0]
        guard x.count == 4 else {
            throw ShapeError(op: op, shapes: shapes, "x must be N×C×H×W (a batch of images), got \(describeShape(x)); a single image needs a batch axis of 1")
        }
        self.kernel = kernel
        self.stride = stride
        height = x[2]
        width = x[3]
        outputWidth = try slidingWindowOutputSize(
            op: op, shapes: shapes, axis: "width", input: x[3], kernel: kernel, stride: stride, pad: nil, floor: floor)
        outputHeight = try slidingWindowOutputSize(
            op: op, shapes: shapes, axis: "height", input: x[2], kernel: kernel, stride: stride, pad: nil, floor: floor)
    }

    var planeSize: Int { height * width }
    var outputPlaneSize: Int { outputHeight * outputWidth }

    /// Calls `body(output, corner)` for every output element of the planes
    /// `planes` in row-major order: its flat index, and the flat offset in the
    /// input of its window's top-left element (row ki of the window starts at
    /// `corner + ki·width`). Offsets stay below the input's element count, an
    /// `Int`, so the arithmetic cannot wrap and goes unchecked.
    @inline(__always)
    func forEachWindow(planes: Range<Int>, _ body: (_ output: Int, _ corner: Int) -> Void) {
        var output = planes.lowerBound &* outputPlaneSize
        let rowStep = stride &* width
        for plane in planes {
            var rowCorner = plane &* planeSize
            for _ in 0..<outputHeight {
                var corner = rowCorner
                for _ in 0..<outputWidth {
                    body(output, corner)
                    output &+= 1
                    corner &+= stride
                }
                rowCorner &+= rowStep
            }
        }
    }

    /// Calls `body(output, winner)` for every window of the planes `planes` of `x`
    /// in row-major order: its flat index and the flat offset in `x` of its first
    /// maximum in row-major order (the window's first NaN wins wherever it is,
    /// `winsMaximum`). Plain loops on the buffer, inlined into each caller.
    @inline(__always)
    func forEachWinner(_ x: UnsafePointer<Double>, planes: Range<Int>, _ body: (_ output: Int, _ winner: Int) -> Void) {
        forEachWindow(planes: planes) { output, corner in
            var best = corner
            var bestValue = x[corner]
            var row = corner
            for _ in 0..<kernel {
                for kj in 0..<kernel where winsMaximum(x[row &+ kj], over: bestValue) {
                    best = row &+ kj
                    bestValue = x[best]
                }
                row &+= width
            }
            body(output, best)
        }
    }
}

/// What max- and average-pooling share: a square window moved by a stride
/// over the last two axes of an N×C×H×W input, and its shape rule.
public protocol PoolingOperation: Operation {
    var kernel: Int { get }
    var stride: Int { get }
    var floor: Bool { get }
}

extension PoolingOperation {
    public var attributes: [String: AttributeValue] {
        ["kernel": .int(kernel), "stride": .int(stride), "floor": .bool(floor)]
    }

    public func layerAttributes(inputShapes: [[Int]]) -> LayerAttributes {
        LayerAttributes(kernel: [kernel, kernel], stride: stride)
    }

    func window(_ shapes: [[Int]]) throws(ShapeError) -> PoolWindow {
        try PoolWindow(kernel: kernel, stride: stride, floor: floor, shapes: shapes, op: name)
    }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        let w = try window(shapes)
        return [shapes[0][0], shapes[0][1], w.outputHeight, w.outputWidth]
    }
}

/// `maxpool2d(x, kernel:, stride:)`: the largest element of each kernel×kernel window.
///
/// Backward routes each window's gradient to its maximum only (the first
/// one, in row-major order, on ties); every other element of the window
/// gets 0. Not differentiable where two elements of a window tie for the
/// maximum: `branches` gives the argmax of each window, so the checker sees
/// a kink when x ± h changes which element wins.
public struct MaxPool2D: PoolingOperation {
    public let kernel: Int
    public let stride: Int
    public let floor: Bool

    /// `stride` defaults to `kernel` (non-overlapping windows). Throws a
    /// `ValueError` for a kernel or stride that is not positive.
    public init(kernel: Int, stride: Int? = nil, floor: Bool = false) throws(ValueError) {
        try requirePositive(kernel, "kernel", op: "maxpool2d")
        try requirePositive(stride ?? kernel, "stride", op: "maxpool2d")
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.floor = floor
    }

    public var name: String { "maxpool2d" }
    public var symbol: String { "maxpool" }

    /// For every output element, the flat offset in x of its window's first maximum.
    func argmaxOffsets(_ x: Tensor) -> [Int] {
        let w = try! window([x.shape])
        let planes = x.shape[0] * x.shape[1]
        var offsets = [Int](repeating: 0, count: planes * w.outputPlaneSize)
        guard !offsets.isEmpty else { return offsets }
        x.data.withUnsafeBufferPointer { xp in
            offsets.withUnsafeMutableBufferPointer { op in
                w.forEachWinner(xp.baseAddress!, planes: 0..<planes) { o, winner in op[o] = winner }
            }
        }
        return offsets
    }

    /// Each window's winner, found and copied in one pass; planes in parallel on the worker pool.
    public func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        let w = try! window([x.shape])
        let planes = x.shape[0] * x.shape[1]
        let work = planes * w.outputPlaneSize * kernel * kernel
        let out = [Double].written(count: planes * w.outputPlaneSize) { op in
            x.data.withUnsafeBufferPointer { xp in
                let x = SharedReadPointer(xp.baseAddress!), out = SharedPointer(op)
                WorkerPool.forEachRange(count: planes, work: work) { planes in
                    w.forEachWinner(x.address, planes: planes) { o, winner in out.address[o] = x.address[winner] }
                }
            }
        }
        return Tensor(shape: [x.shape[0], x.shape[1], w.outputHeight, w.outputWidth], data: out)
    }

    /// The winners found again (the op keeps no state between passes), each sent its window's
    /// gradient; planes in parallel on the worker pool (a window's winner is in its own plane).
    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let x = inputs[0]
        let w = try! window([x.shape])
        let planes = x.shape[0] * x.shape[1]
        let work = planes * w.outputPlaneSize * kernel * kernel
        var dx = [Double](repeating: 0, count: x.count)
        if gradient.count > 0 {
            x.data.withUnsafeBufferPointer { xp in
                gradient.data.withUnsafeBufferPointer { gp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        let x = SharedReadPointer(xp.baseAddress!), g = SharedReadPointer(gp.baseAddress!)
                        let dx = SharedPointer(dxp.baseAddress!)
                        WorkerPool.forEachRange(count: planes, work: work) { planes in
                            w.forEachWinner(x.address, planes: planes) { o, winner in dx.address[winner] += g.address[o] }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: x.shape, data: dx)]
    }

    /// The winning element's offset, per window.
    public func branches(_ inputs: [Tensor]) -> [Int] { argmaxOffsets(inputs[0]) }

    public func layerAttributes(inputShapes: [[Int]]) -> LayerAttributes {
        LayerAttributes(kernel: [kernel, kernel], stride: stride, picksWinners: true)
    }
}

/// `avgpool2d(x, kernel:, stride:)`: the mean of each kernel×kernel window.
/// Backward spreads each window's gradient evenly, g/kernel², over its elements.
public struct AvgPool2D: PoolingOperation {
    public let kernel: Int
    public let stride: Int
    public let floor: Bool

    /// `stride` defaults to `kernel`. Throws a `ValueError` for a kernel or stride that is not positive.
    public init(kernel: Int, stride: Int? = nil, floor: Bool = false) throws(ValueError) {
        try requirePositive(kernel, "kernel", op: "avgpool2d")
        try requirePositive(stride ?? kernel, "stride", op: "avgpool2d")
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.floor = floor
    }

    public var name: String { "avgpool2d" }
    public var symbol: String { "avgpool" }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        let w = try! window([x.shape])
        let planes = x.shape[0] * x.shape[1]
        let scale = 1 / Double(kernel * kernel)
        var out = [Double](repeating: 0, count: planes * w.outputPlaneSize)
        x.data.withUnsafeBufferPointer { xp in
            w.forEachWindow(planes: 0..<planes) { o, corner in
                var total = 0.0
                for ki in 0..<w.kernel {
                    let row = corner + ki * w.width
                    for kj in 0..<w.kernel { total += xp[row + kj] }
                }
                out[o] = total * scale
            }
        }
        return Tensor(shape: [x.shape[0], x.shape[1], w.outputHeight, w.outputWidth], data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let x = inputs[0]
        let w = try! window([x.shape])
        let planes = x.shape[0] * x.shape[1]
        let scale = 1 / Double(kernel * kernel)
        var dx = [Double](repeating: 0, count: x.count)
        w.forEachWindow(planes: 0..<planes) { o, corner in
            let share = gradient.data[o] * scale
            for ki in 0..<w.kernel {
                let row = corner + ki * w.width
                for kj in 0..<w.kernel { dx[row + kj] += share }
            }
        }
        return [Tensor(shape: x.shape, data: dx)]
    }
}

/// The parameters of both pools. `stride` has no fixed default: left out, it is the kernel size.
let poolParameters = [
    OpParameter("x", .tensor), OpParameter("kernel", .int), OpParameter("stride", .int, optional: true),
    OpParameter("floor", .bool, default: .bool(false)),
]

extension MaxPool2D {
    /// Each window's winner at x + Δ (as `forward` picks it there) against its winner at x.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let d = deltas[0] else { return Tensor.zeros(output.shape) }
        return selectionDifference(
            x[0], d, base: argmaxOffsets(x[0]), perturbed: argmaxOffsets(x[0].zipMap(d, +)), shape: output.shape)
    }
}

extension AvgPool2D {
    /// Linear: the deltas' window means.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

enum PoolingOps {
    static let family = "pooling"
    static let specs: [OpSpec] = [
        OpSpec(
            name: "maxpool2d", family: family,
            doc: "max over kernel×kernel windows of N×C×H×W (stride defaults to kernel); gradient to each window's max only",
            parameters: poolParameters,
            kinks: "ties for a window's maximum (the first max wins)",
            build: { args throws(ValueError) in
                guard let kernel = try args.optionalInt("kernel", of: "maxpool2d") else {
                    throw ValueError(op: "maxpool2d", "needs a kernel size, e.g. maxpool2d(x, kernel: 2)")
                }
                return try MaxPool2D(
                    kernel: kernel, stride: args.optionalInt("stride", of: "maxpool2d"),
                    floor: args.bool("floor", of: "maxpool2d", default: false))
            },
            samples: [
                OpSample("1×2×4×4, kernel 2", op: try! MaxPool2D(kernel: 2), inputs: [Tensor.randn([1, 2, 4, 4], seed: 401)]),
                OpSample("overlapping: 2×1×5×5, kernel 3, stride 2", op: try! MaxPool2D(kernel: 3, stride: 2),
                         inputs: [Tensor.randn([2, 1, 5, 5], seed: 402)]),
                OpSample("1×1×5×4, kernel 2, floor mode", op: try! MaxPool2D(kernel: 2, floor: true),
                         inputs: [Tensor.randn([1, 1, 5, 4], seed: 403)]),
            ]),
        OpSpec(
            name: "avgpool2d", family: family,
            doc: "mean over kernel×kernel windows of N×C×H×W (stride defaults to kernel)",
            parameters: poolParameters,
            build: { args throws(ValueError) in
                guard let kernel = try args.optionalInt("kernel", of: "avgpool2d") else {
                    throw ValueError(op: "avgpool2d", "needs a kernel size, e.g. avgpool2d(x, kernel: 2)")
                }
                return try AvgPool2D(
                    kernel: kernel, stride: args.optionalInt("stride", of: "avgpool2d"),
                    floor: args.bool("floor", of: "avgpool2d", default: false))
            },
            samples: [
                OpSample("1×2×4×4, kernel 2", op: try! AvgPool2D(kernel: 2), inputs: [Tensor.randn([1, 2, 4, 4], seed: 404)]),
                OpSample("overlapping: 1×1×5×5, kernel 3, stride 1", op: try! AvgPool2D(kernel: 3, stride: 1),
                         inputs: [Tensor.randn([1, 1, 5, 5], seed: 405)]),
            ]),
    ]
}

// MARK: - builder API

/// Max over kernel×kernel windows; `stride` defaults to `kernel`.
public func maxpool2d(_ x: Var, kernel: Int, stride: Int? = nil, floor: Bool = false) -> Var {
    x.graph.build(makeOp { () throws(ValueError) in try MaxPool2D(kernel: kernel, stride: stride, floor: floor) }, [x])
}

/// Mean over kernel×kernel windows; `stride` defaults to `kernel`.
public func avgpool2d(_ x: Var, kernel: Int, stride: Int? = nil, floor: Bool = false) -> Var {
    x.graph.build(makeOp { () throws(ValueError) in try AvgPool2D(kernel: kernel, stride: stride, floor: floor) }, [x])
}
