// 2-D convolution, NCHW input and OIHW weights, by im2col and one matrix
// product per image. Backward runs the same kernels the other way: the
// weight gradient is gOut · colsᵀ, the input gradient col2im(Wᵀ · gOut).

/// The output size of a sliding window along one axis:
/// `(input − kernel + 2·pad)/stride + 1`.
///
/// It must be a whole number (the seeds' rule: a window that does not fit
/// evenly is a design mistake worth hearing about), unless `floor` asks for
/// PyTorch's rounding down, which drops the last rows/columns that do not
/// fill a window. `pad` is `nil` for ops without padding (pooling), so the
/// formula in the message is the one the op really uses.
func slidingWindowOutputSize(
    op: String, shapes: [[Int]], axis: String, input: Int, kernel: Int, stride: Int, pad: Int?, floor: Bool
) throws(ShapeError) -> Int {
    let padding = pad ?? 0
    // Attributes come from people: a padding this large cannot be meant,
    // and the sum must not overflow.
    let (twice, o1) = padding.multipliedReportingOverflow(by: 2)
    let (padded, o2) = input.addingReportingOverflow(twice)
    guard !o1 else {
        throw ShapeError(op: op, shapes: shapes, "pad \(padding) is too large: the padded input \(axis) would overflow")
    }
    guard !o2 else {
        throw ShapeError(op: op, shapes: shapes, "input \(axis) \(input) is too large: padded by 2·\(padding) it would overflow")
    }
    guard padded >= kernel else {
        let paddedText = pad.map { "\(input) + 2·\($0) = \(padded)" } ?? "\(input)"
        throw ShapeError(
            op: op, shapes: shapes,
            "kernel \(axis) \(kernel) is larger than the \(pad == nil ? "" : "padded ")input \(axis) \(paddedText); use a smaller kernel\(pad == nil ? "" : " or more padding")")
    }
    let span = padded - kernel
    if span % stride == 0 || floor { return span / stride + 1 }
    let formula = pad.map { "(\(input) − \(kernel) + 2·\($0))/\(stride) + 1" } ?? "(\(input) − \(kernel))/\(stride) + 1"
    let exact = exactQuotient(span, stride, plus: 1)
    let knobs = pad == nil ? "kernel and stride" : "stride and padding"
    throw ShapeError(
        op: op, shapes: shapes,
        "output \(axis) \(formula) = \(exact) is not a whole number; choose \(knobs) so that it is")
}

/// `numerator/denominator + plus` written exactly (positive numbers): a
/// terminating decimal as such (`500000.5`, not a rounded `500000`), else
/// its whole part and the fraction left (`2 + 1/3`).
func exactQuotient(_ numerator: Int, _ denominator: Int, plus: Int) -> String {
    let whole = numerator / denominator + plus
    var remainder = numerator % denominator
    guard remainder != 0 else { return String(whole) }
    func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    let common = gcd(remainder, denominator)
    let (top, bottom) = (remainder / common, denominator / common)
    var rest = bottom
    for factor in [2, 5] { while rest % factor == 0 { rest /= factor } }
    guard rest == 1 else { return "\(whole) + \(top)/\(bottom)" }
    // Terminating: long division, one digit a step, as many digits as the powers of 2 and 5 need.
    var digits = ""
    remainder = top
    while remainder != 0 {
        let (shifted, overflow) = remainder.multipliedReportingOverflow(by: 10)
        guard !overflow else { return "\(whole) + \(top)/\(bottom)" }
        digits.append(String(shifted / bottom))
        remainder = shifted % bottom
    }
    return "\(whole).\(digits)"
}

/// Refuses a stride or kernel size that is not positive, naming the op.
func requirePositive(_ value: Int, _ name: String, op: String) throws(ValueError) {
    guard value > 0 else { throw ValueError(op: op, "\(name) must be a positive integer, got \(value)") }
}

/// `conv2d(x, W, b?)`: cross-correlation of a batch of images with a bank of
/// filters, as in every deep-learning library.
///
/// x is N×C×H×W, W is O×C×KH×KW, the optional bias b has O entries; the output
/// is N×O×OH×OW with OH = (H − KH + 2·pad)/stride + 1 (and likewise OW), zero
/// padding, one stride for both axes.
public struct Conv2D: Operation {
    public let stride: Int
    public let pad: Int
    /// PyTorch's rounding down of a non-whole output size; off by default.
    public let floor: Bool
    public let hasBias: Bool

    /// Throws a `ValueError` for a stride that is not positive or a negative padding.
    public init(stride: Int = 1, pad: Int = 0, floor: Bool = false, hasBias: Bool = true) throws(ValueError) {
        try requirePositive(stride, "stride", op: "conv2d")
        guard pad >= 0 else { throw ValueError(op: "conv2d", "pad must be 0 or more, got \(pad)") }
        self.stride = stride
        self.pad = pad
        self.floor = floor
        self.hasBias = hasBias
    }

    public var name: String { "conv2d" }
    public var symbol: String { "conv" }
    public var attributes: [String: AttributeValue] {
        ["stride": .int(stride), "pad": .int(pad), "floor": .bool(floor)]
    }

    /// The kernel is the weight's KH×KW (`shapes[1]` is O×C×KH×KW).
    public func layerAttributes(inputShapes shapes: [[Int]]) -> LayerAttributes {
        let w = shapes.count > 1 ? shapes[1] : []
        return LayerAttributes(kernel: w.count == 4 ? [w[2], w[3]] : nil, stride: stride, pad: pad,
                               weightInputs: hasBias ? [1, 2] : [1])
    }

    /// The window geometry of one image, for input and weight shapes that passed `outputShape`.
    func geometry(_ x: [Int], _ w: [Int]) -> WindowGeometry {
        let oh = (x[2] - w[2] + 2 * pad) / stride + 1
        let ow = (x[3] - w[3] + 2 * pad) / stride + 1
        return WindowGeometry(
            channels: x[1], height: x[2], width: x[3], kernelHeight: w[2], kernelWidth: w[3],
            stride: stride, pad: pad, outputHeight: oh, outputWidth: ow)
    }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try requireInputs(name, shapes, hasBias ? ["x", "W", "b"] : ["x", "W"])
        let x = shapes[0], w = shapes[1]
        guard x.count == 4 else {
            throw ShapeError(op: name, shapes: shapes, "x must be N×C×H×W (a batch of images), got \(describeShape(x)); a single image needs a batch axis of 1")
        }
        guard w.count == 4 else {
            throw ShapeError(op: name, shapes: shapes, "W must be O×C×KH×KW (out channels × in channels × kernel height × kernel width), got \(describeShape(w))")
        }
        guard w[1] == x[1] else {
            throw ShapeError(
                op: name, shapes: shapes,
                "x has \(x[1]) channels (axis 1 of \(describeShape(x))) but W \(describeShape(w)) expects \(w[1]) (axis 1 of O×C×KH×KW); give W \(x[1]) input channels")
        }
        if hasBias, shapes[2] != [w[0]] {
            throw ShapeError(
                op: name, shapes: shapes,
                "b must have one entry per output channel, shape \(w[0]), got \(describeShape(shapes[2]))")
        }
        let ow = try slidingWindowOutputSize(
            op: name, shapes: shapes, axis: "width", input: x[3], kernel: w[3], stride: stride, pad: pad, floor: floor)
        let oh = try slidingWindowOutputSize(
            op: name, shapes: shapes, axis: "height", input: x[2], kernel: w[2], stride: stride, pad: pad, floor: floor)
        return [x[0], w[0], oh, ow]
    }

    /// Images in parallel on the worker pool (each chunk of images with its own im2col
    /// buffer): every output element is computed as on one thread.
    public func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0], w = inputs[1]
        let g = geometry(x.shape, w.shape)
        let batch = x.shape[0], filters = w.shape[0]
        let outPerImage = filters * g.outputPositions
        let work = batch * outPerImage * g.patchSize
        let out = [Double].written(count: batch * outPerImage) { op in
            x.data.withUnsafeBufferPointer { xp in
                w.data.withUnsafeBufferPointer { wp in
                    let bias = hasBias ? inputs[2].data : []
                    bias.withUnsafeBufferPointer { bp in
                        let x = SharedReadPointer(xp.baseAddress!), w = SharedReadPointer(wp.baseAddress!)
                        let out = SharedPointer(op), b = hasBias ? bp.baseAddress.map(SharedReadPointer.init) : nil
                        WorkerPool.forEachRange(count: batch, work: work) { images in
                            let columns = UnsafeMutablePointer<Double>.allocate(capacity: g.patchSize * g.outputPositions)
                            defer { columns.deallocate() }
                            for n in images {
                                // out[n] (O × OH·OW) = W (O × C·KH·KW) · cols (C·KH·KW × OH·OW), overwritten
                                PatchKernel.im2col(x.address + n * g.imageSize, g, into: columns)
                                MatrixKernel.multiply(
                                    w.address, columns, into: out.address + n * outPerImage,
                                    m: filters, k: g.patchSize, n: g.outputPositions)
                                guard let b else { continue }
                                for o in 0..<filters {
                                    let plane = out.address + n * outPerImage + o * g.outputPositions
                                    for i in 0..<g.outputPositions { plane[i] += b.address[o] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, filters, g.outputHeight, g.outputWidth], data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        backward(inputs, output: output, gradient: gradient, wanted: [true, true, true])
    }

    /// Computes only the wanted products: an image batch's dx (Wᵀ·G and col2im) is skipped
    /// when unwanted. Each runs on the worker pool, split so that every element is summed in
    /// the order of one thread: dW over its columns (the rows of im2col, each chunk unfolding
    /// only its own), still summing the images in order; dx over images; db over filters.
    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor, wanted: [Bool]) -> [Tensor?] {
        let x = inputs[0], w = inputs[1]
        let g = geometry(x.shape, w.shape)
        // With no images, channels or filters there is nothing to add up: zeros.
        let empty = x.count == 0 || gradient.count == 0
        var result: [Tensor?] = [
            wanted[0] ? Tensor(shape: x.shape, data: empty ? [Double](repeating: 0, count: x.count) : inputGradient(x, w, gradient, g)) : nil,
            wanted[1] ? Tensor(shape: w.shape, data: empty ? [Double](repeating: 0, count: w.count) : weightGradient(x, w, gradient, g)) : nil,
        ]
        if hasBias { result.append(wanted[2] ? Tensor(biasGradient(gradient, filters: w.shape[0], g)) : nil) }
        return result
    }

    /// dW = Σ over images n of gOut[n] (O × L) · cols[n]ᵀ (L × C·KH·KW), columns split over the pool.
    private func weightGradient(_ x: Tensor, _ w: Tensor, _ gradient: Tensor, _ g: WindowGeometry) -> [Double] {
        let batch = x.shape[0], filters = w.shape[0]
        let outPerImage = filters * g.outputPositions
        var dw = [Double](repeating: 0, count: w.count)
        x.data.withUnsafeBufferPointer { xp in
            gradient.data.withUnsafeBufferPointer { gp in
                dw.withUnsafeMutableBufferPointer { dwp in
                    let x = SharedReadPointer(xp.baseAddress!), gOut = SharedReadPointer(gp.baseAddress!)
                    let dw = SharedPointer(dwp.baseAddress!)
                    WorkerPool.forEachRange(count: g.patchSize, work: batch * outPerImage * g.patchSize) { patchRows in
                        let columns = UnsafeMutablePointer<Double>.allocate(capacity: patchRows.count * g.outputPositions)
                        defer { columns.deallocate() }
                        for n in 0..<batch {
                            // dW[:, rows] += gOut (O × L) · cols[rows]ᵀ (L × rows)
                            PatchKernel.im2col(x.address + n * g.imageSize, g, into: columns, rows: patchRows)
                            MatrixKernel.multiply(
                                gOut.address + n * outPerImage, columns, into: dw.address + patchRows.lowerBound,
                                m: filters, k: g.outputPositions, n: patchRows.count,
                                transposeB: true, accumulate: true, cStride: g.patchSize)
                        }
                    }
                }
            }
        }
        return dw
    }

    /// dx[n] = col2im(Wᵀ (C·KH·KW × O) · gOut[n] (O × L)), images split over the pool.
    private func inputGradient(_ x: Tensor, _ w: Tensor, _ gradient: Tensor, _ g: WindowGeometry) -> [Double] {
        let batch = x.shape[0], filters = w.shape[0]
        let outPerImage = filters * g.outputPositions
        var dx = [Double](repeating: 0, count: x.count)
        w.data.withUnsafeBufferPointer { wp in
            gradient.data.withUnsafeBufferPointer { gp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    let w = SharedReadPointer(wp.baseAddress!), gOut = SharedReadPointer(gp.baseAddress!)
                    let dx = SharedPointer(dxp.baseAddress!)
                    WorkerPool.forEachRange(count: batch, work: batch * outPerImage * g.patchSize) { images in
                        let columns = UnsafeMutablePointer<Double>.allocate(capacity: g.patchSize * g.outputPositions)
                        defer { columns.deallocate() }
                        for n in images {
                            MatrixKernel.multiply(
                                w.address, gOut.address + n * outPerImage, into: columns,
                                m: g.patchSize, k: filters, n: g.outputPositions, transposeA: true)
                            PatchKernel.col2im(columns, g, addingInto: dx.address + n * g.imageSize)
                        }
                    }
                }
            }
        }
        return dx
    }

    /// db[o] = Σ over images n, in order, of the sum of gOut[n, o, ·, ·]; filters split over the pool.
    private func biasGradient(_ gradient: Tensor, filters: Int, _ g: WindowGeometry) -> [Double] {
        var db = [Double](repeating: 0, count: filters)
        guard gradient.count > 0 else { return db }
        let batch = gradient.shape[0], outPerImage = filters * g.outputPositions
        gradient.data.withUnsafeBufferPointer { gp in
            db.withUnsafeMutableBufferPointer { dbp in
                let gOut = SharedReadPointer(gp.baseAddress!), db = SharedPointer(dbp.baseAddress!)
                WorkerPool.forEachRange(count: filters, work: gradient.count) { filterRange in
                    for n in 0..<batch {
                        for o in filterRange {
                            let plane = gOut.address + n * outPerImage + o * g.outputPositions
                            var total = 0.0
                            for i in 0..<g.outputPositions { total += plane[i] }
                            db.address[o] += total
                        }
                    }
                }
            }
        }
        return db
    }
}

extension Conv2D {
    /// Bilinear in x and W, the bias added: conv(Δx, W) + conv(x + Δx, ΔW) + Δb per filter.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        let unbiased = try! Conv2D(stride: stride, pad: pad, floor: floor, hasBias: false)
        var total = bilinearDifference(
            unbiased.forward, a: x[0], b: x[1], da: deltas[0], db: deltas[1], outputShape: output.shape)
        guard hasBias, deltas.count > 2, let db = deltas[2] else { return total }
        let positions = output.shape[2] * output.shape[3], filters = output.shape[1]
        for i in total.data.indices { total.data[i] += db.data[(i / positions) % filters] }
        return total
    }
}

enum ConvolutionOps {
    static let family = "convolution"
    static let specs: [OpSpec] = [
        OpSpec(
            name: "conv2d", family: family,
            doc: "2-D convolution: x N×C×H×W, W O×C×KH×KW, b O → N×O×OH×OW, OH = (H − KH + 2·pad)/stride + 1 (whole, unless floor: true)",
            parameters: [
                OpParameter("x", .tensor), OpParameter("W", .tensor), OpParameter("b", .optionalTensor),
                OpParameter("stride", .int, default: .int(1)), OpParameter("pad", .int, default: .int(0)),
                OpParameter("floor", .bool, default: .bool(false)),
            ],
            build: { args throws(ValueError) in
                try Conv2D(
                    stride: args.optionalInt("stride", of: "conv2d") ?? 1, pad: args.optionalInt("pad", of: "conv2d") ?? 0,
                    floor: args.bool("floor", of: "conv2d", default: false), hasBias: args.has("b"))
            },
            samples: [
                OpSample(
                    "1×2×5×5 with 3 filters 3×3, stride 2, pad 1, bias", op: try! Conv2D(stride: 2, pad: 1),
                    inputs: [Tensor.randn([1, 2, 5, 5], seed: 301), Tensor.randn([3, 2, 3, 3], seed: 302),
                             Tensor.randn([3], seed: 303)]),
                OpSample(
                    "batch of 2, 1×4×4 with 2 filters 2×2, no bias", op: try! Conv2D(hasBias: false),
                    inputs: [Tensor.randn([2, 1, 4, 4], seed: 304), Tensor.randn([2, 1, 2, 2], seed: 305)]),
                OpSample(
                    "1×1×6×5, 3×2 kernel, stride 2, floor mode", op: try! Conv2D(stride: 2, floor: true),
                    inputs: [Tensor.randn([1, 1, 6, 5], seed: 306), Tensor.randn([2, 1, 3, 2], seed: 307),
                             Tensor.randn([2], seed: 308)]),
            ]),
    ]
}

// MARK: - builder API

/// Stops the program with an op's `ValueError` text: the builder API's way
/// of refusing a bad attribute, as `Graph.build` does for shapes.
func makeOp<T: Operation>(_ make: () throws(ValueError) -> T) -> T {
    do {
        return try make()
    } catch {
        fatalError(error.description)
    }
}

/// `conv2d(x, W, b)`: x N×C×H×W, W O×C×KH×KW, b O (optional).
public func conv2d(_ x: Var, _ W: Var, _ b: Var? = nil, stride: Int = 1, pad: Int = 0, floor: Bool = false) -> Var {
    let op = makeOp { () throws(ValueError) in try Conv2D(stride: stride, pad: pad, floor: floor, hasBias: b != nil) }
    return x.graph.build(op, [x, W] + (b.map { [$0] } ?? []))
}
