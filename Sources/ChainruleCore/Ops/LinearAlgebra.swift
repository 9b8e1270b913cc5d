// Matrix products: `matmul` (NumPy's, batched over leading axes) and
// `linear` (x·Wᵀ + b, W shaped [out, in] as PyTorch's nn.Linear).

/// `matmul(a, b)`, NumPy's `a @ b`.
///
/// The last two axes are matrices: a is …×m×k, b is …×k×n, the result …×m×n.
/// Leading (batch) axes broadcast as NumPy does, so `[2, 3, 4] @ [4, 5]` is
/// three products with the same right-hand matrix. A 1-D operand is a vector:
/// `a` of shape [k] acts as a 1×k row, `b` of shape [k] as a k×1 column, and
/// that axis is dropped from the result (so `[k] @ [k]` is a scalar).
/// Backward: dA = G·Bᵀ, dB = Aᵀ·G per batch entry, summed over broadcast axes.
/// Large products run on the worker pool, with the bits of one thread.
public struct MatMul: Operation {
    public init() {}
    public var name: String { "matmul" }
    public var symbol: String { "@" }
    public var notation: Notation { .infix("@", precedence: 2) }

    /// The shapes as batched matrices: 1-D operands promoted, the batch shape broadcast.
    struct Layout {
        var a: [Int], b: [Int]          // promoted operand shapes, rank ≥ 2
        var batch: [Int]                // broadcast batch shape
        var m: Int, k: Int, n: Int
        var output: [Int]               // the result's shape, promoted axes dropped
    }

    func layout(_ shapes: [[Int]]) throws(ShapeError) -> Layout {
        try requireInputs(name, shapes, ["a", "b"])
        guard !shapes[0].isEmpty, !shapes[1].isEmpty else {
            throw ShapeError(op: name, shapes: shapes, "needs vectors or matrices, not scalars; use mul for a scalar product")
        }
        let a = shapes[0].count == 1 ? [1] + shapes[0] : shapes[0]
        let b = shapes[1].count == 1 ? shapes[1] + [1] : shapes[1]
        let m = a[a.count - 2], k = a[a.count - 1], n = b[b.count - 1]
        guard b[b.count - 2] == k else {
            throw ShapeError(
                op: name, shapes: shapes,
                "inner sizes differ: a is …×m×k with k = \(k), b is …×k×n with k = \(b[b.count - 2]); the last axis of a must equal the second-to-last of b")
        }
        let aBatch = Array(a.dropLast(2)), bBatch = Array(b.dropLast(2))
        guard let batch = broadcastShapes(aBatch, bBatch) else {
            throw ShapeError(
                op: name, shapes: shapes,
                "batch axes \(describeShape(aBatch)) and \(describeShape(bBatch)) do not broadcast: each pair of sizes, aligned from the last, must be equal or one of them 1")
        }
        var output = batch
        if shapes[0].count > 1 { output.append(m) }
        if shapes[1].count > 1 { output.append(n) }
        return Layout(a: a, b: b, batch: batch, m: m, k: k, n: n, output: output)
    }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try layout(shapes).output }

    /// For each batch entry, the matrix offsets into a and b.
    func batchOffsets(_ l: Layout) -> (a: [Int], b: [Int]) {
        let aBatch = Array(l.a.dropLast(2)), bBatch = Array(l.b.dropLast(2))
        let aOffsets = Tensor.broadcastOffsets(from: aBatch, to: l.batch).map { $0 * l.m * l.k }
        let bOffsets = Tensor.broadcastOffsets(from: bBatch, to: l.batch).map { $0 * l.k * l.n }
        return (aOffsets, bOffsets)
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let l = try! layout(inputs.map(\.shape))
        let offsets = batchOffsets(l)
        let size = l.m * l.n
        // Each batch entry's product overwrites its block of the output.
        let out = [Double].written(count: offsets.a.count * size) { c in
            inputs[0].data.withUnsafeBufferPointer { a in
                inputs[1].data.withUnsafeBufferPointer { b in
                    for t in offsets.a.indices {
                        MatrixKernel.multiply(
                            a.baseAddress! + offsets.a[t], b.baseAddress! + offsets.b[t], into: c + t * size,
                            m: l.m, k: l.k, n: l.n, parallel: true)
                    }
                }
            }
        }
        return Tensor(shape: l.output, data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let l = try! layout(inputs.map(\.shape))
        let offsets = batchOffsets(l)
        let size = l.m * l.n
        var da = [Double](repeating: 0, count: inputs[0].count)
        var db = [Double](repeating: 0, count: inputs[1].count)
        inputs[0].data.withUnsafeBufferPointer { a in
            inputs[1].data.withUnsafeBufferPointer { b in
                gradient.data.withUnsafeBufferPointer { g in
                    da.withUnsafeMutableBufferPointer { dap in
                        db.withUnsafeMutableBufferPointer { dbp in
                            for t in offsets.a.indices {
                                let gt = g.baseAddress! + t * size
                                // dA (m×k) += G (m×n) · Bᵀ (n×k); broadcast entries accumulate
                                MatrixKernel.multiply(
                                    gt, b.baseAddress! + offsets.b[t], into: dap.baseAddress! + offsets.a[t],
                                    m: l.m, k: l.n, n: l.k, transposeB: true, accumulate: true, parallel: true)
                                // dB (k×n) += Aᵀ (k×m) · G (m×n)
                                MatrixKernel.multiply(
                                    a.baseAddress! + offsets.a[t], gt, into: dbp.baseAddress! + offsets.b[t],
                                    m: l.k, k: l.m, n: l.n, transposeA: true, accumulate: true, parallel: true)
                            }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: inputs[0].shape, data: da), Tensor(shape: inputs[1].shape, data: db)]
    }
}

/// `linear(x, W, b?)` = x·Wᵀ + b, PyTorch's nn.Linear.
///
/// W is [out, in]; x is [in] or […, in] with any leading axes (usually the
/// batch [N, in]), giving […, out]; the optional bias b is [out]. Backward:
/// dx = G·W, dW = Gᵀ·x (rows summed over all leading axes), db = column sums of G.
/// Large products run on the worker pool, with the bits of one thread.
public struct Linear: Operation {
    public let hasBias: Bool
    public init(hasBias: Bool = true) { self.hasBias = hasBias }
    public var name: String { "linear" }
    public func layerAttributes(inputShapes: [[Int]]) -> LayerAttributes { LayerAttributes(weightInputs: hasBias ? [1, 2] : [1]) }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try requireInputs(name, shapes, hasBias ? ["x", "W", "b"] : ["x", "W"])
        let x = shapes[0], w = shapes[1]
        guard w.count == 2 else {
            throw ShapeError(op: name, shapes: shapes, "W must be a matrix [out, in], got \(describeShape(w))")
        }
        guard let features = x.last else {
            throw ShapeError(op: name, shapes: shapes, "x must be [in] or [N, in], not a scalar")
        }
        guard features == w[1] else {
            throw ShapeError(
                op: name, shapes: shapes,
                "x has \(features) features (its last axis) but W \(describeShape(w)) is [out, in] with in = \(w[1]); they must agree (x·Wᵀ)")
        }
        if hasBias, shapes[2] != [w[0]] {
            throw ShapeError(op: name, shapes: shapes, "b must be [out] = [\(w[0])], got \(describeShape(shapes[2]))")
        }
        return Array(x.dropLast()) + [w[0]]
    }

    /// The rows of x·Wᵀ: the product of x's axes before its last (1 for a vector), not
    /// `x.count / in`, which is 0 for an x with no features however many rows it has.
    static func rows(_ x: Tensor) -> Int { x.shape.dropLast().reduce(1, *) }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0], w = inputs[1]
        let outFeatures = w.shape[0], inFeatures = w.shape[1]
        let rows = Self.rows(x)
        let out = [Double].written(count: rows * outFeatures) { op in
            x.data.withUnsafeBufferPointer { xp in
                w.data.withUnsafeBufferPointer { wp in
                    // Y (rows × out) = X (rows × in) · Wᵀ (in × out), overwriting the output
                    MatrixKernel.multiply(
                        xp.baseAddress!, wp.baseAddress!, into: op,
                        m: rows, k: inFeatures, n: outFeatures, transposeB: true, parallel: true)
                    if hasBias {
                        inputs[2].data.withUnsafeBufferPointer { bp in
                            for r in 0..<rows {
                                let row = op + r * outFeatures
                                for j in 0..<outFeatures { row[j] += bp[j] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], data: out)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        backward(inputs, output: output, gradient: gradient, wanted: [true, true, true])
    }

    /// Computes only the wanted products: a data batch's dx is half the work of a first layer.
    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor, wanted: [Bool]) -> [Tensor?] {
        let x = inputs[0], w = inputs[1]
        let outFeatures = w.shape[0], inFeatures = w.shape[1]
        let rows = Self.rows(x)
        var result: [Tensor?] = Array(repeating: nil, count: inputs.count)
        gradient.data.withUnsafeBufferPointer { gp in
            if wanted[0] {
                // dX (rows × in) = G (rows × out) · W (out × in)
                let dx = [Double].written(count: x.count) { dxp in
                    w.data.withUnsafeBufferPointer { wp in
                        MatrixKernel.multiply(
                            gp.baseAddress!, wp.baseAddress!, into: dxp, m: rows, k: outFeatures, n: inFeatures, parallel: true)
                    }
                }
                result[0] = Tensor(shape: x.shape, data: dx)
            }
            if wanted[1] {
                // dW (out × in) = Gᵀ (out × rows) · X (rows × in)
                let dw = [Double].written(count: w.count) { dwp in
                    x.data.withUnsafeBufferPointer { xp in
                        MatrixKernel.multiply(
                            gp.baseAddress!, xp.baseAddress!, into: dwp,
                            m: outFeatures, k: rows, n: inFeatures, transposeA: true, parallel: true)
                    }
                }
                result[1] = Tensor(shape: w.shape, data: dw)
            }
            if hasBias && wanted[2] {
                var db = [Double](repeating: 0, count: outFeatures)
                db.withUnsafeMutableBufferPointer { dbp in
                    for r in 0..<rows {
                        let row = gp.baseAddress! + r * outFeatures
                        for j in 0..<outFeatures { dbp[j] += row[j] }
                    }
                }
                result[2] = Tensor(db)
            }
        }
        return result
    }
}

extension MatMul {
    /// Bilinear: ΔA·B + (A + ΔA)·ΔB.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        bilinearDifference(forward, a: x[0], b: x[1], da: deltas[0], db: deltas[1], outputShape: output.shape)
    }
}

extension Linear {
    /// Bilinear in x and W, the bias added: Δx·Wᵀ + (x + Δx)·ΔWᵀ + Δb.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        let product = bilinearDifference(
            Linear(hasBias: false).forward, a: x[0], b: x[1], da: deltas[0], db: deltas[1], outputShape: output.shape)
        guard hasBias, deltas.count > 2, let db = deltas[2] else { return product }
        let n = db.count
        return Tensor(shape: output.shape, data: product.data.indices.map { product.data[$0] + db.data[$0 % n] })
    }
}

enum LinearAlgebraOps {
    static let family = "linear algebra"
    static let specs: [OpSpec] = [
        OpSpec(
            name: "matmul", family: family,
            doc: "a @ b: …×m×k times …×k×n → …×m×n, batch axes broadcast, 1-D operands are vectors (NumPy's matmul)",
            parameters: [OpParameter("a", .tensor), OpParameter("b", .tensor)],
            build: { _ in MatMul() },
            samples: [
                OpSample("2×3 @ 3×4", op: MatMul(), inputs: [Tensor.randn([2, 3], seed: 201), Tensor.randn([3, 4], seed: 202)]),
                OpSample("batched 2×5×3 @ 3×2 (b broadcast)", op: MatMul(),
                         inputs: [Tensor.randn([2, 5, 3], seed: 203), Tensor.randn([3, 2], seed: 204)]),
                OpSample("batched 2×1×2×3 @ 3×3×2", op: MatMul(),
                         inputs: [Tensor.randn([2, 1, 2, 3], seed: 205), Tensor.randn([3, 3, 2], seed: 206)]),
                OpSample("vector 3 @ 3×2", op: MatMul(), inputs: [Tensor.randn([3], seed: 207), Tensor.randn([3, 2], seed: 208)]),
                OpSample("2×3 @ vector 3", op: MatMul(), inputs: [Tensor.randn([2, 3], seed: 209), Tensor.randn([3], seed: 210)]),
            ]),
        OpSpec(
            name: "linear", family: family,
            doc: "x·Wᵀ + b with W [out, in], x [N, in] (or [in], or any leading axes) → [N, out]",
            parameters: [OpParameter("x", .tensor), OpParameter("W", .tensor), OpParameter("b", .optionalTensor)],
            build: { args in Linear(hasBias: args.has("b")) },
            samples: [
                OpSample("x 4×3, W 2×3, b 2", op: Linear(),
                         inputs: [Tensor.randn([4, 3], seed: 211), Tensor.randn([2, 3], seed: 212), Tensor.randn([2], seed: 213)]),
                OpSample("x 3 (one example), W 2×3, no bias", op: Linear(hasBias: false),
                         inputs: [Tensor.randn([3], seed: 214), Tensor.randn([2, 3], seed: 215)]),
                OpSample("x 2×2×3 (leading axes), W 4×3, b 4", op: Linear(),
                         inputs: [Tensor.randn([2, 2, 3], seed: 216), Tensor.randn([4, 3], seed: 217), Tensor.randn([4], seed: 218)]),
            ]),
    ]
}

// MARK: - builder API

/// `a @ b` (NumPy's matmul); see `MatMul`.
public func matmul(_ a: Var, _ b: Var) -> Var { a.graph.build(MatMul(), [a, b]) }

/// `x·Wᵀ + b` with W [out, in]; see `Linear`.
public func linear(_ x: Var, _ W: Var, _ b: Var? = nil) -> Var {
    x.graph.build(Linear(hasBias: b != nil), [x, W] + (b.map { [$0] } ?? []))
}

extension Linear: PartialForward {
    /// `y[r, c] = x[r, ·] · W[c, ·] + b[c]` reads row r of x and row c of W: a moved element of x
    /// moves its row of y, one of W or b its column. The moved rows go through `forward` with x cut
    /// to those rows, the moved columns with W and b cut to those columns.
    public func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput? {
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
