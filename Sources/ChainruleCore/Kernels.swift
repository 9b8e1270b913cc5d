// The two numeric kernels the heavy ops share: a cache-friendly matrix
// product, and im2col / col2im, which turn a convolution into one matrix
// product per image (forward) and back (backward).

/// Dense matrix kernels on row-major buffers.
public enum MatrixKernel {
    /// `C (+)= op(A) · op(B)`, with `op(A)` of shape m×k and `op(B)` of shape k×n.
    ///
    /// `transposeA` means `A` is stored k×m (row-major) and used as its
    /// transpose; likewise `transposeB` (stored n×k). Two kernels do the work:
    /// - `A·B`: four rows of `C` at a time in i-k-j order, so that the
    ///   innermost loop streams one row of `B` and four rows of `C`
    ///   contiguously and vectorises;
    /// - `A·Bᵀ`: rows of `A` against rows of `B`, both contiguous, as dot
    ///   products with SIMD accumulators, four rows of `B` at a time (the
    ///   weight gradient of a convolution, the forward of `linear`).
    /// A transposed `A` is first copied into row-major order (O(size), small
    /// beside the O(m·n·k) product), and so is a transposed `B` whose rows
    /// are too short (k < `dotProductMinimumLength`) for dot products to pay.
    /// With `accumulate` the product is added to `C`; otherwise `C` is overwritten.
    public static func multiply(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false
    ) {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        if m == 0 || n == 0 || k == 0 { return }
        switch (transposeA, transposeB) {
        case (false, false):
            multiplyRowMajor(a, b, c, m: m, k: k, n: n)
        case (true, false):
            withTransposed(a, rows: k, columns: m) { at in multiplyRowMajor(at, b, c, m: m, k: k, n: n) }
        case (false, true) where k < dotProductMinimumLength:
            withTransposed(b, rows: n, columns: k) { bt in multiplyRowMajor(a, bt, c, m: m, k: k, n: n) }
        case (false, true):
            multiplyTransposedB(a, b, c, m: m, k: k, n: n)
        case (true, true):
            withTransposed(a, rows: k, columns: m) { at in
                multiply(at, b, into: c, m: m, k: k, n: n, transposeB: true, accumulate: true)
            }
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

    /// C += A · B for row-major A (m×k), B (k×n), C (m×n).
    static func multiplyRowMajor(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int
    ) {
        var i = 0
        while i + 4 <= m {
            let c0 = c + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n
            let a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
            for p in 0..<k {
                let x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p]
                let row = b + p * n
                for j in 0..<n {
                    let y = row[j]
                    c0[j] += x0 * y
                    c1[j] += x1 * y
                    c2[j] += x2 * y
                    c3[j] += x3 * y
                }
            }
            i += 4
        }
        while i < m {
            let ci = c + i * n, ai = a + i * k
            for p in 0..<k {
                let x = ai[p]
                let row = b + p * n
                for j in 0..<n { ci[j] += x * row[j] }
            }
            i += 1
        }
    }
}

extension MatrixKernel {
    /// C += A · Bᵀ for row-major A (m×k), B (n×k), C (m×n): C[i, j] = A[i, ·] · B[j, ·].
    static func multiplyTransposedB(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int
    ) {
        typealias Lanes = SIMD4<Double>
        @inline(__always) func load(_ p: UnsafePointer<Double>) -> Lanes {
            UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
        }
        let vectorEnd = k - k % 4
        for i in 0..<m {
            let ai = a + i * k, ci = c + i * n
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
                ci[j] += t0
                ci[j + 1] += t1
                ci[j + 2] += t2
                ci[j + 3] += t3
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
                ci[j] += t
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
        // smallest oj with oj·stride + offset ≥ 0, and first oj with oj·stride + offset ≥ width
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let end = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride
        return Swift.min(first, outputWidth)..<Swift.max(Swift.min(end, outputWidth), Swift.min(first, outputWidth))
    }
}

/// Unfolding an image into its patches and folding patches back.
public enum PatchKernel {
    /// im2col: writes the patches of one C×H×W image into `columns`, a
    /// (C·KH·KW) × (OH·OW) row-major matrix. Row (c, ki, kj), column (oi, oj)
    /// holds `image[c, oi·stride + ki − pad, oj·stride + kj − pad]`, or 0 where
    /// that falls into the zero padding.
    public static func im2col(
        _ image: UnsafePointer<Double>, _ g: WindowGeometry, into columns: UnsafeMutablePointer<Double>
    ) {
        let positions = g.outputPositions
        var row = 0
        for c in 0..<g.channels {
            let plane = image + c * g.height * g.width
            for ki in 0..<g.kernelHeight {
                for kj in 0..<g.kernelWidth {
                    let out = columns + row * positions
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
                    row += 1
                }
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
