// The numeric kernels the heavy ops share: a register-tiled matrix product,
// im2col / col2im, which turn a convolution into one matrix product per
// image (forward) and back (backward), and whole-buffer elementwise loops.

/// Dense matrix kernels on row-major buffers.
public enum MatrixKernel {
    /// `C (+)= op(A) · op(B)`, with `op(A)` of shape m×k and `op(B)` of shape k×n.
    ///
    /// `transposeA` means `A` is stored k×m (row-major) and used as its
    /// transpose; likewise `transposeB` (stored n×k). Two kernels do the work:
    /// - `A·B`: tiles of 4 rows × 4 columns of `C` whose 16 sums stay in
    ///   registers over the whole inner loop (see `multiplyRowMajor`);
    /// - `A·Bᵀ`: rows of `A` against rows of `B`, both contiguous, as dot
    ///   products with SIMD accumulators, four rows of `B` at a time (the
    ///   weight gradient of a convolution, the forward of `linear`).
    /// A transposed `A` is first copied into row-major order (O(size), small
    /// beside the O(m·n·k) product), and so is a transposed `B` whose rows
    /// are too short (k < `dotProductMinimumLength`) for dot products to pay.
    /// With `accumulate` the product is added to `C`; otherwise `C` is
    /// overwritten (it may be uninitialised memory then), with the same bits
    /// as adding the product to zeros.
    ///
    /// `cStride` is the distance between rows of `C` (default n), to write a
    /// block of columns of a wider matrix. With `parallel`, a product of at
    /// least `WorkerPool.parallelMinimumWork` multiply-adds is cut into blocks
    /// of rows (or of columns, when C is wider than tall) run on the worker
    /// pool. Each element's sum is the same whatever block it falls in, so
    /// the result has the same bits as on one thread.
    public static func multiply(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false,
        cStride: Int? = nil, parallel: Bool = false
    ) {
        if m == 0 || n == 0 { return }
        let ldc = cStride ?? n
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        switch (transposeA, transposeB) {
        case (false, false):
            rowMajor(a, b, c, m: m, k: k, n: n, cStride: ldc, accumulate: accumulate, parallel: parallel)
        case (true, false):
            withTransposed(a, rows: k, columns: m) { at in
                rowMajor(at, b, c, m: m, k: k, n: n, cStride: ldc, accumulate: accumulate, parallel: parallel)
            }
        case (false, true) where k < dotProductMinimumLength:
            withTransposed(b, rows: n, columns: k) { bt in
                rowMajor(a, bt, c, m: m, k: k, n: n, cStride: ldc, accumulate: accumulate, parallel: parallel)
            }
        case (false, true):
            transposedB(a, b, c, m: m, k: k, n: n, cStride: ldc, accumulate: accumulate, parallel: parallel)
        case (true, true):
            withTransposed(a, rows: k, columns: m) { at in
                multiply(at, b, into: c, m: m, k: k, n: n, transposeB: true, accumulate: accumulate,
                         cStride: ldc, parallel: parallel)
            }
        }
    }

    /// Calls `block(rows, columns)` on blocks of an m×n product that cover it once: the whole
    /// of it unless `parallel`, else rows (or columns, when there are more of them) in
    /// multiples of 4, the kernels' tile, handed to the worker pool.
    @inline(__always) static func forEachBlock(
        m: Int, k: Int, n: Int, parallel: Bool, _ block: @Sendable (Range<Int>, Range<Int>) -> Void
    ) {
        guard parallel else { return block(0..<m, 0..<n) }
        let (work, overflow) = m.multipliedReportingOverflow(by: k * n)
        let size = overflow ? Int.max : work
        if m >= n {
            WorkerPool.forEachRange(count: m, work: size, granularity: 4) { rows in block(rows, 0..<n) }
        } else {
            WorkerPool.forEachRange(count: n, work: size, granularity: 4) { columns in block(0..<m, columns) }
        }
    }

    /// `multiplyRowMajor` over the blocks of `forEachBlock`.
    static func rowMajor(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, cStride: Int, accumulate: Bool, parallel: Bool
    ) {
        let a = SharedReadPointer(a), b = SharedReadPointer(b), c = SharedPointer(c)
        forEachBlock(m: m, k: k, n: n, parallel: parallel) { rows, columns in
            multiplyRowMajor(
                a.address + rows.lowerBound * k, b.address + columns.lowerBound,
                c.address + rows.lowerBound * cStride + columns.lowerBound,
                m: rows.count, k: k, n: columns.count, bStride: n, cStride: cStride, accumulate: accumulate)
        }
    }

    /// `multiplyTransposedB` over the blocks of `forEachBlock`.
    static func transposedB(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, cStride: Int, accumulate: Bool, parallel: Bool
    ) {
        let a = SharedReadPointer(a), b = SharedReadPointer(b), c = SharedPointer(c)
        forEachBlock(m: m, k: k, n: n, parallel: parallel) { rows, columns in
            multiplyTransposedB(
                a.address + rows.lowerBound * k, b.address + columns.lowerBound * k,
                c.address + rows.lowerBound * cStride + columns.lowerBound,
                m: rows.count, k: k, n: columns.count, cStride: cStride, accumulate: accumulate)
        }
    }

    /// Below this inner size `A·Bᵀ` transposes `B` rather than taking dot products.
    static let dotProductMinimumLength = 32

    /// Calls `body` with a row-major copy of the transpose of the rows×columns matrix `source`.
    static func withTransposed(
        _ source: UnsafePointer<Double>, rows: Int, columns: Int, _ body: (UnsafePointer<Double>) -> Void
    ) {
        let transposed = UnsafeMutablePointer<Double>.allocate(capacity: rows * columns)
        defer { transposed.deallocate() }
        // Blocks of 32×32 keep both the read and the write side in cache.
        let block = 32
        for r0 in stride(from: 0, to: rows, by: block) {
            let r1 = Swift.min(r0 + block, rows)
            for c0 in stride(from: 0, to: columns, by: block) {
                let c1 = Swift.min(c0 + block, columns)
                for r in r0..<r1 {
                    for col in c0..<c1 { transposed[col * rows + r] = source[r * columns + col] }
                }
            }
        }
        body(UnsafePointer(transposed))
    }

    typealias Lanes = SIMD4<Double>
    @inline(__always) static func load(_ p: UnsafePointer<Double>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }
    @inline(__always) static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    /// C (+)= A · B for row-major A (m×k), B (k×n, rows `bStride` apart), C (m×n, rows `cStride` apart).
    ///
    /// Tiles of 4 rows × 4 columns of C: per step of the inner loop one
    /// 4-wide load from a row of B and four values of A, broadcast, feed 16
    /// multiply-adds into sums held in registers; C is read (when
    /// accumulating) and written once per tile instead of once per step.
    /// Rows left over (m mod 4) go one at a time, columns left over (n mod 4)
    /// one at a time. Every element of C is summed in the order p = 0, 1, …,
    /// k − 1 onto its old value (or onto 0): the bits of the textbook loop.
    static func multiplyRowMajor(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, bStride: Int, cStride: Int, accumulate: Bool
    ) {
        let columnEnd = n - n % 4
        var i = 0
        while i + 4 <= m {
            let a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
            let c0 = c + i * cStride, c1 = c0 + cStride, c2 = c1 + cStride, c3 = c2 + cStride
            var j = 0
            while j < columnEnd {
                var s0 = accumulate ? load(c0 + j) : Lanes(), s1 = accumulate ? load(c1 + j) : Lanes()
                var s2 = accumulate ? load(c2 + j) : Lanes(), s3 = accumulate ? load(c3 + j) : Lanes()
                var row = b + j
                for p in 0..<k {
                    let y = load(row)
                    s0 += Lanes(repeating: a0[p]) * y
                    s1 += Lanes(repeating: a1[p]) * y
                    s2 += Lanes(repeating: a2[p]) * y
                    s3 += Lanes(repeating: a3[p]) * y
                    row += bStride
                }
                store(s0, c0 + j)
                store(s1, c1 + j)
                store(s2, c2 + j)
                store(s3, c3 + j)
                j += 4
            }
            for r in 0..<4 {
                multiplyLeftoverColumns(a0 + r * k, b, c0 + r * cStride, k: k, n: n, bStride: bStride, from: columnEnd, accumulate: accumulate)
            }
            i += 4
        }
        while i < m {
            let ai = a + i * k, ci = c + i * cStride
            var j = 0
            while j < columnEnd {
                var s = accumulate ? load(ci + j) : Lanes()
                var row = b + j
                for p in 0..<k {
                    s += Lanes(repeating: ai[p]) * load(row)
                    row += bStride
                }
                store(s, ci + j)
                j += 4
            }
            multiplyLeftoverColumns(ai, b, ci, k: k, n: n, bStride: bStride, from: columnEnd, accumulate: accumulate)
            i += 1
        }
    }

    /// Columns `start..<n` of one row of C (+)= A · B: `a` is that row of A, `c` that row of C.
    @inline(__always) static func multiplyLeftoverColumns(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        k: Int, n: Int, bStride: Int, from start: Int, accumulate: Bool
    ) {
        for j in start..<n {
            var s = accumulate ? c[j] : 0
            for p in 0..<k { s += a[p] * b[p * bStride + j] }
            c[j] = s
        }
    }
}

extension MatrixKernel {
    /// C (+)= A · Bᵀ for row-major A (m×k), B (n×k), C (m×n, rows `cStride` apart): C[i, j] = A[i, ·] · B[j, ·].
    static func multiplyTransposedB(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, cStride: Int, accumulate: Bool
    ) {
        let vectorEnd = k - k % 4
        /// The old value of C (or 0) plus a dot product, as `C += t` on zeros would give it.
        @inline(__always) func put(_ t: Double, _ p: UnsafeMutablePointer<Double>) { p.pointee = (accumulate ? p.pointee : 0) + t }
        for i in 0..<m {
            let ai = a + i * k, ci = c + i * cStride
            var j = 0
            while j + 4 <= n {
                let b0 = b + j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k
                var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
                var p = 0
                while p < vectorEnd {
                    let x = load(ai + p)
                    s0 += x * load(b0 + p)
                    s1 += x * load(b1 + p)
                    s2 += x * load(b2 + p)
                    s3 += x * load(b3 + p)
                    p += 4
                }
                var t0 = s0.sum(), t1 = s1.sum(), t2 = s2.sum(), t3 = s3.sum()
                while p < k {
                    let x = ai[p]
                    t0 += x * b0[p]
                    t1 += x * b1[p]
                    t2 += x * b2[p]
                    t3 += x * b3[p]
                    p += 1
                }
                put(t0, ci + j)
                put(t1, ci + j + 1)
                put(t2, ci + j + 2)
                put(t3, ci + j + 3)
                j += 4
            }
            while j < n {
                let bj = b + j * k
                var s = Lanes()
                var p = 0
                while p < vectorEnd {
                    s += load(ai + p) * load(bj + p)
                    p += 4
                }
                var t = s.sum()
                while p < k {
                    t += ai[p] * bj[p]
                    p += 1
                }
                put(t, ci + j)
                j += 1
            }
        }
    }
}

/// The geometry of a 2-D sliding window (convolution or pooling) over one
/// image: input size, kernel size, stride, zero padding and output size.
public struct WindowGeometry: Sendable, Equatable {
    public var channels: Int
    public var height: Int, width: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var stride: Int, pad: Int
    public var outputHeight: Int, outputWidth: Int

    /// Rows of the im2col matrix: one per (channel, kernel row, kernel column).
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the im2col matrix: one per output position.
    public var outputPositions: Int { outputHeight * outputWidth }
    public var imageSize: Int { channels * height * width }

    /// The output columns whose window column `kernelColumn` falls inside
    /// the image (not into the padding): 0 ≤ oj·stride + kernelColumn − pad < width.
    func validOutputColumns(kernelColumn: Int) -> Range<Int> {
        let offset = kernelColumn - pad
        // smallest oj with oj·stride + offset ≥ 0, and first oj with oj·stride + offset ≥ width:
        // ⌈a / stride⌉ for a > 0 written (a − 1)/stride + 1, which no stride up to Int.max overflows
        // (a ≤ width + pad, and the shape rule made sure width + 2·pad is an Int).
        let first = offset >= 0 ? 0 : (-offset - 1) / stride + 1
        let end = width - offset <= 0 ? 0 : (width - offset - 1) / stride + 1
        return Swift.min(first, outputWidth)..<Swift.max(Swift.min(end, outputWidth), Swift.min(first, outputWidth))
    }
}

/// Unfolding an image into its patches and folding patches back.
public enum PatchKernel {
    /// im2col: writes the patches of one C×H×W image into `columns`, a
    /// (C·KH·KW) × (OH·OW) row-major matrix. Row (c, ki, kj), column (oi, oj)
    /// holds `image[c, oi·stride + ki − pad, oj·stride + kj − pad]`, or 0 where
    /// that falls into the zero padding. Given `rows`, only those rows are
    /// written, the first of them at the start of `columns` (one thread's
    /// share of a weight gradient).
    public static func im2col(
        _ image: UnsafePointer<Double>, _ g: WindowGeometry, into columns: UnsafeMutablePointer<Double>,
        rows: Range<Int>? = nil
    ) {
        let positions = g.outputPositions
        let window = g.kernelHeight * g.kernelWidth
        let wanted = rows ?? 0..<g.patchSize
        for row in wanted {
            let c = row / window, ki = row % window / g.kernelWidth, kj = row % g.kernelWidth
            let plane = image + c * g.height * g.width
            let out = columns + (row - wanted.lowerBound) * positions
            let valid = g.validOutputColumns(kernelColumn: kj)
            for oi in 0..<g.outputHeight {
                let ii = oi * g.stride + ki - g.pad
                let target = out + oi * g.outputWidth
                if ii < 0 || ii >= g.height {
                    target.update(repeating: 0, count: g.outputWidth)
                    continue
                }
                let source = plane + ii * g.width + kj - g.pad
                for oj in 0..<valid.lowerBound { target[oj] = 0 }
                if g.stride == 1 {
                    (target + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
                } else {
                    for oj in valid { target[oj] = source[oj * g.stride] }
                }
                for oj in valid.upperBound..<g.outputWidth { target[oj] = 0 }
            }
        }
    }

    /// col2im, the adjoint of `im2col`: adds every entry of `columns` back
    /// onto the image element it was copied from (entries that came from the
    /// padding are dropped). Overlapping patches accumulate.
    public static func col2im(
        _ columns: UnsafePointer<Double>, _ g: WindowGeometry, addingInto image: UnsafeMutablePointer<Double>
    ) {
        let positions = g.outputPositions
        var row = 0
        for c in 0..<g.channels {
            let plane = image + c * g.height * g.width
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let source = columns + row * positions
                    let valid = g.validOutputColumns(kernelColumn: kj)
                    for oi in 0..<g.outputHeight {
                        let ii = oi * g.stride + ki - g.pad
                        if ii < 0 || ii >= g.height { continue }
                        let target = plane + ii * g.width + kj - g.pad
                        let sourceRow = source + oi * g.outputWidth
                        if g.stride == 1 {
                            for oj in valid { target[oj] += sourceRow[oj] }
                        } else {
                            for oj in valid { target[oj * g.stride] += sourceRow[oj] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}

/// Whole-buffer loops for elementwise rules: one call per tensor, the rule
/// inlined into the loop (no closure call per element), so a simple rule
/// such as max(x, 0) compiles to vector instructions.
public enum ElementwiseKernel {
    /// out[i] = f(x[i]) for i < count.
    @inline(__always) public static func map(
        _ x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, count: Int, _ f: (Double) -> Double
    ) {
        for i in 0..<count { out[i] = f(x[i]) }
    }

    /// dx[i] = g[i] · f′(x[i], y[i]) for i < count: the vector–Jacobian product of an
    /// elementwise op from its derivative at each input x and output y.
    @inline(__always) public static func pullback(
        x: UnsafePointer<Double>, y: UnsafePointer<Double>, gradient g: UnsafePointer<Double>,
        into dx: UnsafeMutablePointer<Double>, count: Int, _ derivative: (_ x: Double, _ y: Double) -> Double
    ) {
        for i in 0..<count { dx[i] = g[i] * derivative(x[i], y[i]) }
    }
}

extension Array where Element == Double {
    /// An array of `count` doubles whose every element `body` writes (a kernel's
    /// output), without first filling it with zeros. `body` is not called for 0.
    @inline(__always) static func written(count: Int, _ body: (UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { body(buffer.baseAddress!) }
            initialized = count
        }
    }
}
