import ChainruleCore
import Testing

@Suite struct LinearAlgebraTests {
    @Test func matmulOfTwoMatrices() throws {
        let g = Graph()
        let a = g.input("a", Tensor([[1, 2], [3, 4]]))
        let b = g.input("b", Tensor([[5, 6], [7, 8]]))
        let c = matmul(a, b)
        try g.backward(c)
        #expect(c.value == Tensor([[19, 22], [43, 50]]))
        // d Σ(A·B) / dA = 1·Bᵀ: each row of dA holds the row sums of B
        #expect(a.gradient == Tensor([[11, 15], [11, 15]]))
        // d Σ(A·B) / dB = Aᵀ·1: each column of dB holds the column sums of A
        #expect(b.gradient == Tensor([[4, 4], [6, 6]]))
    }

    @Test func matmulBatchesOverLeadingAxesAndBroadcastsThem() throws {
        #expect(try MatMul().outputShape([[2, 5, 3], [3, 4]]) == [2, 5, 4])
        #expect(try MatMul().outputShape([[2, 1, 5, 3], [7, 3, 4]]) == [2, 7, 5, 4])
        #expect(try MatMul().outputShape([[3], [3, 4]]) == [4])
        #expect(try MatMul().outputShape([[6, 3], [3]]) == [6])
        #expect(try MatMul().outputShape([[3], [3]]) == [])
        // An empty inner axis gives a sum of nothing: zeros.
        #expect(MatMul().forward([Tensor.zeros([2, 0]), Tensor.zeros([0, 3])]) == Tensor.zeros([2, 3]))
        // Each batch entry is its own product: entry 1 of a batch of 2 against a shared B.
        let a = Tensor.randn([2, 3, 4], seed: 1), b = Tensor.randn([4, 2], seed: 2)
        let batched = MatMul().forward([a, b])
        let second = MatMul().forward([Tensor(shape: [3, 4], data: Array(a.data[12..<24])), b])
        #expect(Array(batched.data[6..<12]) == second.data)
    }

    @Test func matmulNamesTheInnerSizesThatDiffer() {
        #expect(throws: ShapeError.self) { try MatMul().outputShape([[2, 3], [4, 5]]) }
        do {
            _ = try MatMul().outputShape([[2, 3], [4, 5]])
        } catch {
            #expect(error.description.hasPrefix("matmul: inner sizes differ: a is …×m×k with k = 3, b is …×k×n with k = 4"))
        }
    }

    @Test func linearIsXTimesWTransposedPlusB() throws {
        let g = Graph()
        let x = g.input("x", Tensor([[1, 2, 3]]))
        let W = g.param("W", Tensor([[1, 0, -1], [2, 1, 0]]))   // [out 2, in 3]
        let b = g.param("b", Tensor([0.5, -1]))
        let y = linear(x, W, b)
        try g.backward(y)
        #expect(y.value == Tensor([[1 - 3 + 0.5, 2 + 2 - 1]]))
        #expect(W.gradient == Tensor([[1, 2, 3], [1, 2, 3]]))
        #expect(b.gradient == Tensor([1, 1]))
        #expect(x.gradient == Tensor([[3, 1, -1]]))
    }

    @Test func linearRefusesFeaturesThatDoNotMatchW() {
        do {
            _ = try Linear().outputShape([[4, 5], [2, 3], [2]])
            Issue.record("accepted x 4×5 with W 2×3")
        } catch {
            #expect(error.description.contains("x has 5 features (its last axis) but W 2×3 is [out, in] with in = 3"))
        }
    }

    /// Inner sizes 5 and 41: below and above the length where A·Bᵀ switches to dot products.
    @Test(arguments: [(7, 5, 6), (6, 41, 9)])
    func matrixKernelMatchesTheTextbookProductInEveryTransposeMode(size: (Int, Int, Int)) {
        let (m, k, n) = size
        let a = Tensor.randn([m, k], seed: 3), b = Tensor.randn([k, n], seed: 4)
        var expected = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += a[i, p] * b[p, j] } } }
        func transposed(_ t: Tensor) -> [Double] {
            var out = [Double](repeating: 0, count: t.count)
            for r in 0..<t.shape[0] { for c in 0..<t.shape[1] { out[c * t.shape[0] + r] = t[r, c] } }
            return out
        }
        let aT = transposed(a), bT = transposed(b)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Double](repeating: 0, count: m * n)
            (ta ? aT : a.data).withUnsafeBufferPointer { ap in
                (tb ? bT : b.data).withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        MatrixKernel.multiply(ap.baseAddress!, bp.baseAddress!, into: cp.baseAddress!,
                                              m: m, k: k, n: n, transposeA: ta, transposeB: tb)
                    }
                }
            }
            let worst = zip(c, expected).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-12, "transposeA \(ta), transposeB \(tb): off by \(worst)")
        }
    }
}
