import ChainruleCore
import Testing

@Suite struct ConvolutionTests {
    /// The textbook definition, one output element at a time.
    func directConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: Int, pad: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h - kh + 2 * pad) / stride + 1, ow = (wd - kw + 2 * pad) / stride + 1
        var out = Tensor.zeros([n, o, oh, ow])
        for image in 0..<n { for filter in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var total = b[filter]
            for channel in 0..<c { for ki in 0..<kh { for kj in 0..<kw {
                let row = i * stride + ki - pad, column = j * stride + kj - pad
                if row >= 0, row < h, column >= 0, column < wd {
                    total += x[image, channel, row, column] * w[filter, channel, ki, kj]
                }
            } } }
            out[image, filter, i, j] = total
        } } } }
        return out
    }

    @Test func cs231nConvLayerKeepsTheSizeWithPadTwo() throws {
        // A 32×32×3 image, 10 filters 5×5, stride 1, pad 2 → 32×32×10, and 10·3·5·5 + 10 = 760 parameters.
        let g = Graph()
        let x = g.input("x", Tensor.randn([1, 3, 32, 32], seed: 1))
        let W = g.param("conv.W", Tensor.randn([10, 3, 5, 5], seed: 2, scale: 0.1))
        let b = g.param("conv.b", Tensor.zeros([10]))
        let h = conv2d(x, W, b, stride: 1, pad: 2)
        #expect(h.shape == [1, 10, 32, 32])
        #expect(W.shape == [10, 3, 5, 5] && b.shape == [10])
        #expect(W.value.count + b.value.count == 760)
        try g.backward(h)
        #expect(W.gradient?.shape == [10, 3, 5, 5])
        // With the all-ones seed, db[o] counts the output positions: 32·32.
        #expect(b.gradient == Tensor(shape: [10], repeating: 1024))
    }

    @Test func forwardEqualsTheDirectConvolutionWithStrideTwoAndPadding() {
        let x = Tensor.randn([2, 3, 7, 7], seed: 3)
        let w = Tensor.randn([4, 3, 3, 3], seed: 4)
        let b = Tensor.randn([4], seed: 5)
        let op = try! Conv2D(stride: 2, pad: 1)
        let fast = op.forward([x, w, b])
        let slow = directConvolution(x, w, b, stride: 2, pad: 1)
        #expect(fast.shape == [2, 4, 4, 4])
        #expect(zip(fast.data, slow.data).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func aStrideThatDoesNotFitIsRefusedInTheSeedsWords() throws {
        let stride2 = try Conv2D(stride: 2, hasBias: false)
        let g = Graph()
        let x = g.input("x", Tensor.zeros([1, 3, 32, 32]))
        let W = g.param("W", Tensor.zeros([10, 3, 5, 5]))
        do {
            try g.apply(stride2, [x.id, W.id])
            Issue.record("accepted stride 2 on 32 with a 5×5 kernel")
        } catch {
            #expect(error.description.hasPrefix(
                "conv2d: output width (32 − 5 + 2·0)/2 + 1 = 14.5 is not a whole number; choose stride and padding so that it is"))
        }
        // PyTorch's floor mode, only when asked: ⌊27/2⌋ + 1 = 14.
        #expect(try Conv2D(stride: 2, floor: true, hasBias: false).outputShape([[1, 3, 32, 32], [10, 3, 5, 5]]) == [1, 10, 14, 14])
    }

    @Test func channelMismatchSaysWhichChannelsAndWhichWeights() throws {
        let op = try Conv2D(hasBias: false)
        do {
            _ = try op.outputShape([[1, 3, 32, 32], [10, 4, 5, 5]])
            Issue.record("accepted 3 channels against weights for 4")
        } catch {
            #expect(error.description.contains("x has 3 channels (axis 1 of 1×3×32×32) but W 10×4×5×5 expects 4"))
        }
    }

    @Test func aStrideOfZeroIsAValueErrorFromTheRegistry() {
        let spec = Registry.spec(named: "conv2d")!
        #expect(throws: ValueError.self) {
            try spec.build(OpArguments(attributes: ["stride": .int(0), "pad": .int(0), "floor": .bool(false)], tensorInputs: ["x", "W"]))
        }
        #expect(throws: ValueError.self) { try Conv2D(pad: -1) }
        #expect(throws: ValueError.self) {
            try spec.build(OpArguments(attributes: ["stride": .bool(true)], tensorInputs: ["x", "W"]))
        }
    }
}
