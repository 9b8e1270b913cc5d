@testable import ChainruleCore
import Foundation
import Testing

/// The fast kernels against the plain loops they replace: the register-tiled
/// matrix product, relu's whole-tensor loops and max-pool's winner walk, at
/// sizes that leave tiles and windows over (odd sizes, 1-element edges).
@Suite struct KernelTests {
    /// C (+)= A·B as the textbook triple loop sums it: p = 0, 1, … onto C's old value.
    func textbookProduct(_ a: [Double], _ b: [Double], onto c: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var c = c
        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        return c
    }

    func transposed(_ x: [Double], rows: Int, columns: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = x[r * columns + c] } }
        return out
    }

    /// Runs the kernel; without `accumulate`, C starts as NaNs, which an overwrite must never read.
    func kernelProduct(_ a: [Double], _ b: [Double], onto c: [Double], m: Int, k: Int, n: Int,
                       transposeA: Bool, transposeB: Bool, accumulate: Bool) -> [Double] {
        var c = accumulate ? c : [Double](repeating: .nan, count: m * n)
        let a = transposeA ? transposed(a, rows: m, columns: k) : a
        let b = transposeB ? transposed(b, rows: k, columns: n) : b
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    MatrixKernel.multiply(ap.baseAddress!, bp.baseAddress!, into: cp.baseAddress!, m: m, k: k, n: n,
                                          transposeA: transposeA, transposeB: transposeB, accumulate: accumulate)
                }
            }
        }
        return c
    }

    /// Sizes around the 4×4 tile (1, 3, 4, 5, 9 rows and columns) and the dot-product switch at k = 32.
    @Test(arguments: [(1, 1, 1), (1, 7, 5), (3, 2, 4), (4, 5, 4), (5, 3, 9), (9, 1, 6), (8, 27, 13), (6, 33, 7)])
    func tiledProductGivesTheTextbookBitsInEveryMode(size: (Int, Int, Int)) {
        let (m, k, n) = size
        let a = Tensor.randn([m * k], seed: 11).data, b = Tensor.randn([k * n], seed: 12).data
        let old = Tensor.randn([m * n], seed: 13).data
        for accumulate in [false, true] {
            let expected = textbookProduct(a, b, onto: accumulate ? old : [Double](repeating: 0, count: m * n), m: m, k: k, n: n)
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let c = kernelProduct(a, b, onto: old, m: m, k: k, n: n, transposeA: ta, transposeB: tb, accumulate: accumulate)
                if tb && k >= MatrixKernel.dotProductMinimumLength {
                    // Dot products sum in four lanes: the same value up to rounding.
                    let worst = zip(c, expected).map { abs($0 - $1) }.max()!
                    #expect(worst < 1e-12, "\(m)×\(k)×\(n) transposeA \(ta), transposeB \(tb), accumulate \(accumulate): off by \(worst)")
                } else {
                    #expect(c == expected, "\(m)×\(k)×\(n) transposeA \(ta), transposeB \(tb), accumulate \(accumulate)")
                }
            }
        }
    }

    @Test func anEmptyInnerSizeGivesZerosOrLeavesCAsItWas() {
        let old = [1.5, -2, 3, 4, 5, 6]
        #expect(kernelProduct([], [], onto: old, m: 2, k: 0, n: 3, transposeA: false, transposeB: false, accumulate: false) == [0, 0, 0, 0, 0, 0])
        #expect(kernelProduct([], [], onto: old, m: 2, k: 0, n: 3, transposeA: false, transposeB: false, accumulate: true) == old)
    }

    /// Values where max(x, 0) and its slope are delicate: a NaN stays NaN, −0 becomes 0, infinities.
    let awkward: [Double] = [-1.5, -0.0, 0, 0.25, 3, .nan, .infinity, -.infinity, -1e-300, 7]

    /// The same bits, NaNs included, as `lhs == rhs` cannot compare them.
    func sameBits(_ lhs: [Double], _ rhs: [Double]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test(arguments: [0, 1, 5, 10])
    func reluLoopsGiveTheBitsOfItsScalarRule(count: Int) {
        let x = Tensor(Array((awkward + awkward).prefix(count)))
        let g = Tensor(Array([2.0, -3, 0.5, .nan, -0.0, 4, 1, -1, 8, 9, 2, -3, 0.5, 1, -0.0, 4, 1, -1, 8, 9].prefix(count)))
        let y = Activation.relu.forward([x])
        #expect(sameBits(y.data, x.data.map { Swift.max($0, 0) }))
        let dx = Activation.relu.backward([x], output: y, gradient: g)[0]!
        #expect(sameBits(dx.data, (0..<count).map { g.data[$0] * (x.data[$0] > 0 ? 1 : 0) }))
    }

    @Test func theClosurePathOfAnElementwiseOpTakesEveryElement() {
        let x = Tensor(shape: [3, 1], data: [-1, 0.5, 2])
        let y = Unary.exp.forward([x])
        #expect(y.data == x.data.map { Foundation.exp($0) })
        let dx = Unary.exp.backward([x], output: y, gradient: Tensor(shape: [3, 1], data: [1, 2, 3]))[0]!
        #expect(dx.data == [1 * y.data[0], 2 * y.data[1], 3 * y.data[2]])
        #expect(Tensor(shape: [0, 4], data: []).map { $0 + 1 }.shape == [0, 4])
    }

    /// Max-pooling written as the definition reads: every window, every element, first maximum wins.
    func referencePool(_ x: Tensor, kernel: Int, stride: Int, outputHeight: Int, outputWidth: Int, gradient: Tensor)
        -> (output: [Double], dx: [Double]) {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        var output: [Double] = [], dx = [Double](repeating: 0, count: x.count)
        for plane in 0..<planes {
            for oi in 0..<outputHeight {
                for oj in 0..<outputWidth {
                    var best = -1
                    for ki in 0..<kernel {
                        for kj in 0..<kernel {
                            let at = plane * h * w + (oi * stride + ki) * w + oj * stride + kj
                            if best < 0 || x.data[at] > x.data[best] { best = at }
                        }
                    }
                    dx[best] += gradient.data[output.count]
                    output.append(x.data[best])
                }
            }
        }
        return (output, dx)
    }

    /// Odd sizes, overlapping windows, floor mode, a 1×1 kernel and a 1×1 image, ties from rounding to halves.
    @Test(arguments: [([2, 3, 5, 7], 1, 1, false), ([1, 2, 5, 5], 3, 2, false), ([2, 1, 7, 5], 2, 2, true),
                      ([1, 1, 1, 1], 1, 1, false), ([3, 2, 6, 6], 2, 2, false), ([1, 1, 9, 9], 3, 3, false)])
    func maxPoolMatchesTheDefinitionForwardAndBackward(shape: [Int], kernel: Int, stride: Int, floor: Bool) throws {
        let x = Tensor.randn(shape, seed: 21).map { ($0 * 2).rounded() / 2 }
        let op = try MaxPool2D(kernel: kernel, stride: stride, floor: floor)
        let y = op.forward([x])
        let g = Tensor.randn(y.shape, seed: 22)
        let reference = referencePool(x, kernel: kernel, stride: stride, outputHeight: y.shape[2], outputWidth: y.shape[3], gradient: g)
        #expect(y.data == reference.output)
        #expect(op.backward([x], output: y, gradient: g)[0]!.data == reference.dx)
        #expect(op.branches([x]).map { x.data[$0] } == reference.output)
    }

    /// The convolution's forward (im2col, tiled product, bias) against the sum it stands for, at
    /// channel, kernel and padding sizes that leave tiles over.
    @Test(arguments: [(1, 1, 1, 1, 0, 1), (2, 3, 5, 3, 1, 1), (1, 2, 7, 3, 2, 2), (3, 1, 4, 1, 0, 1)])
    func convolutionForwardMatchesTheDirectSum(batch: Int, channels: Int, size: Int, kernel: Int, pad: Int, stride: Int) throws {
        let filters = 5
        let x = Tensor.randn([batch, channels, size, size], seed: 31)
        let w = Tensor.randn([filters, channels, kernel, kernel], seed: 32), b = Tensor.randn([filters], seed: 33)
        let y = try Conv2D(stride: stride, pad: pad).forward([x, w, b])
        let out = y.shape[2]
        for n in 0..<batch {
            for o in 0..<filters {
                for oi in 0..<out {
                    for oj in 0..<out {
                        var total = 0.0
                        for c in 0..<channels {
                            for ki in 0..<kernel {
                                for kj in 0..<kernel {
                                    let (i, j) = (oi * stride + ki - pad, oj * stride + kj - pad)
                                    guard i >= 0, i < size, j >= 0, j < size else { continue }
                                    total += x[n, c, i, j] * w[o, c, ki, kj]
                                }
                            }
                        }
                        #expect(abs(y[n, o, oi, oj] - (total + b[o])) < 1e-12)
                    }
                }
            }
        }
    }
}
