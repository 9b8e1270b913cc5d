import ChainruleCore
import Testing

@Suite struct ReductionTests {
    let matrix = Tensor([[1, 2, 3], [4, 5, 6]])

    @Test func sumOverAllElementsAndAlongAxes() throws {
        let all = try valueAndGradients([matrix]) { sum($0[0]) }
        #expect(all.value == Tensor(21))
        #expect(all.gradients[0] == Tensor.ones([2, 3]))
        #expect(try valueAndGradients([matrix]) { sum($0[0], axis: 0) }.value == Tensor([5, 7, 9]))
        #expect(try valueAndGradients([matrix]) { sum($0[0], axis: 1) }.value == Tensor([6, 15]))
        #expect(try valueAndGradients([matrix]) { sum($0[0], axis: -1, keepdims: true) }.value
                == Tensor(shape: [2, 1], data: [6, 15]))
        #expect(try valueAndGradients([matrix]) { sum($0[0], keepdims: true) }.value
                == Tensor(shape: [1, 1], data: [21]))
    }

    @Test func sumAlongAnAxisSendsEachRowItsGradient() throws {
        let (_, d) = try valueAndGradients([matrix], seed: Tensor([10, 20])) { sum($0[0], axis: 1) }
        #expect(d[0] == Tensor([[10, 10, 10], [20, 20, 20]]))
    }

    @Test func meanDividesTheGradientByTheCount() throws {
        let all = try valueAndGradients([matrix]) { mean($0[0]) }
        #expect(all.value == Tensor(3.5))
        #expect(all.gradients[0] == Tensor(shape: [2, 3], repeating: 1.0 / 6))
        let rows = try valueAndGradients([matrix]) { mean($0[0], axis: 1) }
        #expect(rows.value == Tensor([2, 5]))
        #expect(rows.gradients[0] == Tensor(shape: [2, 3], repeating: 1.0 / 3))
    }

    @Test func reductionsOfA3DTensorKeepTheOtherAxes() throws {
        let x = Tensor(shape: [2, 3, 4], data: (0..<24).map(Double.init))
        let middle = try valueAndGradients([x]) { sum($0[0], axis: 1) }.value
        #expect(middle.shape == [2, 4])
        #expect(middle.data[0] == 0 + 4 + 8)
        #expect(middle.data[7] == 15 + 19 + 23)
        #expect(try valueAndGradients([x]) { mean($0[0], axis: 1, keepdims: true) }.value.shape == [2, 1, 4])
        #expect(try valueAndGradients([x]) { max($0[0], axis: -3) }.value == Tensor(shape: [3, 4], data: (12..<24).map(Double.init)))
    }

    @Test func maxRoutesTheGradientToTheFirstMaximum() throws {
        let (y, d) = try valueAndGradients([Tensor([1, 3, 3, 2])]) { max($0[0]) }
        #expect(y.scalar == 3)
        #expect(d[0] == Tensor([0, 1, 0, 0]))
    }

    @Test func maxAlongAnAxisRoutesEachColumnToItsMaximum() throws {
        let x = Tensor([[1, 9, 3], [7, 2, 3]])
        let (y, d) = try valueAndGradients([x], seed: Tensor([10, 20, 30])) { max($0[0], axis: 0) }
        #expect(y == Tensor([7, 9, 3]))
        #expect(d[0] == Tensor([[0, 20, 30], [10, 0, 0]]))
    }

    /// The branches are the argmax positions, so a tie is seen as a kink.
    @Test func maxDeclaresTiesAsAKink() {
        let op = ReduceMax()
        #expect(op.branches([Tensor([1, 3, 2])]) == [1])
        #expect(op.branches([Tensor([3 + 1e-6, 3])]) != op.branches([Tensor([3 - 1e-6, 3])]))
    }

    @Test func anAxisOutOfRangeIsRefusedWithTheValidRange() {
        let g = Graph()
        let x = g.input("x", matrix)
        do {
            try g.apply(ReduceSum(ReductionAxis(axis: 2)), [x.id])
            Issue.record("sum accepted axis 2 of a matrix")
        } catch {
            #expect(error.description == "sum: axis 2 is out of range for a tensor of rank 2: valid axes are -2…1 (input shapes: 2×3)")
        }
        let s = g.input("s", 4)
        do {
            try g.apply(ReduceMean(ReductionAxis(axis: 0)), [s.id])
            Issue.record("mean accepted an axis of a scalar")
        } catch {
            #expect(error.description.contains("a scalar has no axis; leave out axis: to reduce all elements"))
        }
    }

    @Test func maxOfAnEmptyAxisIsRefused() {
        let g = Graph()
        let x = g.input("x", Tensor.zeros([2, 0]))
        #expect(throws: GraphError.self) { try g.apply(ReduceMax(ReductionAxis(axis: 1)), [x.id]) }
        #expect(throws: Never.self) { try g.apply(ReduceSum(ReductionAxis(axis: 1)), [x.id]) }
    }

    @Test func reductionsAreBuiltFromTheRegistryWithOptionalAxis() throws {
        let spec = try #require(Registry.spec(named: "mean"))
        #expect(spec.signature == "mean(x, axis?:, keepdims: false)")
        let all = try spec.build(OpArguments(attributes: ["keepdims": .bool(false)], tensorInputs: ["x"]))
        #expect(try all.outputShape([[2, 3]]) == [])
        let columns = try spec.build(OpArguments(attributes: ["axis": .int(0), "keepdims": .bool(true)], tensorInputs: ["x"]))
        #expect(try columns.outputShape([[2, 3]]) == [1, 3])
        #expect(columns.attributes == ["axis": .int(0), "keepdims": .bool(true)])
    }
}
