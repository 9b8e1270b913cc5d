@testable import ChainruleCore
import Synchronization
import Testing

/// The worker pool's splits, and the kernels that use it giving the bits of one thread with
/// 2 and 3 threads (3 cuts every size unevenly), at odd sizes above `parallelMinimumWork`.
/// Serialized: its tests set the process-wide thread count in turn.
@Suite(.serialized) struct ParallelKernelTests {
    /// `body` run with `threads` threads, the old count restored after.
    func with<T>(threads: Int, _ body: () -> T) -> T {
        let old = WorkerPool.threads
        WorkerPool.threads = threads
        defer { WorkerPool.threads = old }
        return body()
    }

    /// The same bits in every tensor (a NaN equal to itself), nil gradients in the same places.
    func sameBits(_ lhs: [Tensor?], _ rhs: [Tensor?]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { l, r in
            l?.shape == r?.shape && l?.data.map(\.bitPattern) == r?.data.map(\.bitPattern)
        }
    }

    /// `op`'s forward and its backward against a random cotangent, with 1 thread and with 2 and 3.
    func expectSameBitsOnAnyThreadCount(_ op: some Operation, _ inputs: [Tensor], _ label: String) {
        func run() -> [Tensor?] {
            let y = op.forward(inputs)
            return [y] + op.backward(inputs, output: y, gradient: Tensor.randn(y.shape, seed: 99))
        }
        let one = with(threads: 1, run)
        for threads in [2, 3] {
            #expect(sameBits(with(threads: threads, run), one), "\(label) with \(threads) threads")
        }
    }

    @Test func rangesCoverTheCountOnceAlignedToTheGranule() {
        let seen = Mutex<[Range<Int>]>([])
        with(threads: 3) {
            WorkerPool.forEachRange(count: 103, work: WorkerPool.parallelMinimumWork, granularity: 4) { range in
                seen.withLock { $0.append(range) }
            }
        }
        let ranges = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        // 26 granules of 4 (the last 3 long) in 6 chunks, 2 per thread: 5, 5, 4, 4, 4, 4 granules.
        #expect(ranges == [0..<20, 20..<40, 40..<56, 56..<72, 72..<88, 88..<103])
    }

    @Test func smallWorkOrOneThreadRunsTheWholeRangeAtOnce() {
        let seen = Mutex<[Range<Int>]>([])
        with(threads: 3) {
            WorkerPool.forEachRange(count: 50, work: WorkerPool.parallelMinimumWork - 1) { range in seen.withLock { $0.append(range) } }
        }
        with(threads: 1) {
            WorkerPool.forEachRange(count: 50, work: Int.max) { range in seen.withLock { $0.append(range) } }
        }
        #expect(seen.withLock { $0 } == [0..<50, 0..<50])
    }

    @Test func everyChunkRunsOnce() {
        let counts = Mutex([Int](repeating: 0, count: 37))
        with(threads: 4) { WorkerPool.forEachChunk(37) { chunk in counts.withLock { $0[chunk] += 1 } } }
        #expect(counts.withLock { $0 } == [Int](repeating: 1, count: 37))
    }

    /// Tall (split by rows), wide (split by columns), and k below the dot-product switch, in every transpose mode.
    @Test(arguments: [(37, 53, 41), (5, 29, 701), (61, 13, 97)])
    func matrixProductsGiveTheBitsOfOneThread(size: (Int, Int, Int)) {
        let (m, k, n) = size
        let a = Tensor.randn([m * k], seed: 21).data, b = Tensor.randn([k * n], seed: 22).data
        let old = Tensor.randn([m * n], seed: 23).data
        for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
            for accumulate in [false, true] {
                func product() -> [UInt64] {
                    var c = old
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                MatrixKernel.multiply(
                                    ap.baseAddress!, bp.baseAddress!, into: cp.baseAddress!, m: m, k: k, n: n,
                                    transposeA: transposeA, transposeB: transposeB, accumulate: accumulate, parallel: true)
                            }
                        }
                    }
                    return c.map(\.bitPattern)
                }
                let one = with(threads: 1, product)
                for threads in [2, 3] {
                    #expect(with(threads: threads, product) == one,
                            "\(m)×\(k)×\(n) transposeA \(transposeA) transposeB \(transposeB) accumulate \(accumulate), \(threads) threads")
                }
            }
        }
    }

    @Test func conv2dForwardAndBackwardGiveTheBitsOfOneThread() throws {
        // 9 images, 3 channels 17×15, 7 filters 3×3, stride 2, pad 1: 27 patch rows, 9×8 positions.
        let x = Tensor.randn([9, 3, 17, 15], seed: 31), w = Tensor.randn([7, 3, 3, 3], seed: 32), b = Tensor.randn([7], seed: 33)
        expectSameBitsOnAnyThreadCount(try Conv2D(stride: 2, pad: 1), [x, w, b], "conv2d stride 2 pad 1")
        // Few positions (k = 25 < 32: the weight gradient takes the transposed-copy path), many images.
        let small = Tensor.randn([67, 3, 6, 6], seed: 34), filters = Tensor.randn([5, 3, 2, 2], seed: 35)
        expectSameBitsOnAnyThreadCount(try Conv2D(hasBias: false), [small, filters], "conv2d 67 images 6×6")
    }

    @Test func linearAndMatmulGiveTheBitsOfOneThread() {
        let x = Tensor.randn([37, 61], seed: 41), w = Tensor.randn([43, 61], seed: 42), b = Tensor.randn([43], seed: 43)
        expectSameBitsOnAnyThreadCount(Linear(), [x, w, b], "linear 37×61 → 43")
        // A batch of 3 against one broadcast right-hand matrix: its gradient sums the batch in order.
        let a = Tensor.randn([3, 41, 37], seed: 44), m = Tensor.randn([37, 45], seed: 45)
        expectSameBitsOnAnyThreadCount(MatMul(), [a, m], "matmul 3×41×37 @ 37×45")
    }

    @Test func maxpoolGivesTheBitsOfOneThread() throws {
        // Overlapping windows (kernel 3, stride 2): an element may win two windows of its plane.
        let x = Tensor.randn([12, 8, 21, 19], seed: 51)
        expectSameBitsOnAnyThreadCount(try MaxPool2D(kernel: 3, stride: 2), [x], "maxpool2d kernel 3 stride 2")
        expectSameBitsOnAnyThreadCount(try MaxPool2D(kernel: 2), [Tensor.randn([33, 8, 16, 16], seed: 52)], "maxpool2d kernel 2")
    }
}
