import ChainruleCore
import Testing

@Suite struct PoolingTests {
    /// A 4×4 image whose 2×2 windows have their maxima at known places.
    let image = Tensor(shape: [1, 1, 4, 4], data: [
        1, 3, 2, 1,
        4, 2, 0, 5,
        7, 1, 9, 9,
        2, 8, 6, 3,
    ])

    @Test func maxPoolPicksEachWindowsMaximum() throws {
        let g = Graph()
        let x = g.input("x", image)
        let p = maxpool2d(x, kernel: 2)
        #expect(p.value == Tensor(shape: [1, 1, 2, 2], data: [4, 5, 8, 9]))
    }

    @Test func maxPoolGradientLandsOnlyOnTheWindowMaxima() throws {
        let g = Graph()
        let x = g.input("x", image)
        let p = maxpool2d(x, kernel: 2)
        try g.backward(p, seed: Tensor(shape: [1, 1, 2, 2], data: [10, 20, 30, 40]))
        // The bottom-right window ties (9, 9): the first in row-major order wins.
        #expect(x.gradient == Tensor(shape: [1, 1, 4, 4], data: [
            0, 0, 0, 0,
            10, 0, 0, 20,
            0, 0, 40, 0,
            0, 30, 0, 0,
        ]))
        // The tie is a kink: nudging the second 9 up moves the winner.
        let op = try MaxPool2D(kernel: 2)
        var nudged = image
        nudged[0, 0, 2, 3] += 1e-6
        #expect(op.branches([image]) != op.branches([nudged]))
    }

    @Test func overlappingWindowsAccumulateTheirGradients() throws {
        let g = Graph()
        let x = g.input("x", Tensor(shape: [1, 1, 3, 3], data: [
            0, 1, 0,
            1, 9, 1,
            0, 1, 0,
        ]))
        let p = maxpool2d(x, kernel: 2, stride: 1)
        try g.backward(p)
        // All four windows share the centre, which is each one's maximum.
        #expect(p.value == Tensor(shape: [1, 1, 2, 2], repeating: 9))
        #expect(x.gradient?[0, 0, 1, 1] == 4)
        #expect(x.gradient?.sum == 4)
    }

    @Test func avgPoolSpreadsTheGradientEvenly() throws {
        let g = Graph()
        let x = g.input("x", image)
        let p = avgpool2d(x, kernel: 2)
        try g.backward(p)
        #expect(p.value == Tensor(shape: [1, 1, 2, 2], data: [2.5, 2, 4.5, 6.75]))
        #expect(x.gradient == Tensor(shape: [1, 1, 4, 4], repeating: 0.25))
    }

    @Test func aWindowThatDoesNotFitIsRefusedUnlessFloorIsAsked() throws {
        let op = try MaxPool2D(kernel: 2)
        do {
            _ = try op.outputShape([[1, 1, 5, 5]])
            Issue.record("accepted a 2×2 pool on 5×5")
        } catch {
            #expect(error.description.hasPrefix(
                "maxpool2d: output width (5 − 2)/2 + 1 = 2.5 is not a whole number; choose kernel and stride so that it is"))
        }
        #expect(try MaxPool2D(kernel: 2, floor: true).outputShape([[1, 1, 5, 5]]) == [1, 1, 2, 2])
    }

    @Test func aKernelOfZeroIsAValueErrorFromTheRegistry() {
        let spec = Registry.spec(named: "maxpool2d")!
        #expect(throws: ValueError.self) {
            try spec.build(OpArguments(attributes: ["kernel": .int(0), "floor": .bool(false)], tensorInputs: ["x"]))
        }
        #expect(throws: ValueError.self) { try AvgPool2D(kernel: 2, stride: -1) }
        // Stride left out: the kernel size.
        #expect((try? spec.build(OpArguments(attributes: ["kernel": .int(3)], tensorInputs: ["x"])))?.attributes["stride"] == .int(3))
    }
}
