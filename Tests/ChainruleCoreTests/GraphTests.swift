import ChainruleCore
import Testing

@Suite struct GraphTests {
    @Test func cs231nCircuit() throws {
        let g = Graph()
        let x = g.input("x", -2), y = g.input("y", 5), z = g.input("z", -4)
        let q = (x + y).named("q")
        let f = (q * z).named("f")
        try g.backward(f)
        #expect(f.value.scalar == -12)
        #expect(x.gradient?.scalar == -4)
        #expect(y.gradient?.scalar == -4)
        #expect(z.gradient?.scalar == 3)
        #expect(q.gradient?.scalar == -4)
    }

    @Test func gradientsAccumulateWhenANodeIsUsedTwice() throws {
        let g = Graph()
        let x = g.input("x", 3)
        let y = x * x
        try g.backward(y)
        #expect(y.value.scalar == 9)
        #expect(x.gradient?.scalar == 6)
    }

    @Test func broadcastGradientsSumBackToTheInputShape() throws {
        let g = Graph()
        let a = g.input("a", Tensor([[1, 2, 3], [4, 5, 6]]))
        let b = g.input("b", Tensor([10, 20, 30]))
        let s = a * b
        try g.backward(s)
        #expect(s.shape == [2, 3])
        #expect(b.gradient == Tensor([5, 7, 9]))
        #expect(a.gradient == Tensor([[10, 20, 30], [10, 20, 30]]))
    }

    @Test func nodesNotUpstreamOfTheOutputHaveNoGradient() throws {
        let g = Graph()
        let x = g.input("x", 2)
        let unused = g.input("u", 7)
        let f = x * 3
        try g.backward(f)
        #expect(unused.gradient == nil)
        #expect(x.gradient?.scalar == 3)
    }

    @Test func shapeErrorsNameTheOpAndTheShapes() {
        let g = Graph()
        let a = g.input("a", Tensor.zeros([2, 3]))
        let b = g.input("b", Tensor.zeros([4]))
        #expect(throws: GraphError.self) { try g.apply(Add(), [a.id, b.id]) }
        do {
            try g.apply(Add(), [a.id, b.id])
        } catch {
            #expect(error.description.contains("add: shapes 2×3 and 4 do not broadcast"))
        }
    }
}

@Suite struct TensorDescriptionTests {
    @Test func smallTensorsPrintAsNestedLists() {
        #expect(Tensor([[1, 2, 3], [4, 5.5, 6]]).description == "Tensor 2×3 [[1, 2, 3], [4, 5.5, 6]]")
        #expect(Tensor(-4).description == "-4")
        #expect(Tensor([0.25]).description == "Tensor 1 [0.25]")
    }

    @Test func largeTensorsPrintASummary() {
        let t = Tensor(shape: [10, 20], data: (0..<200).map(Double.init))
        #expect(t.description == "Tensor 10×20 min 0 max 199 mean 99.5 first [0, 1, 2, 3, 4, 5, …]")
    }
}

@Suite struct InputCountTests {
    @Test func aWrongInputCountNamesTheInputs() throws {
        #expect(throws: ShapeError(op: "conv2d", shapes: [[1, 3, 8, 8], [4, 3, 3, 3]], "takes 3 inputs (x, W, b), got 2")) {
            try Conv2D(stride: 1, pad: 0, hasBias: true).outputShape([[1, 3, 8, 8], [4, 3, 3, 3]])
        }
        #expect(throws: ShapeError(op: "relu", shapes: [[2], [2]], "takes 1 input (x), got 2")) {
            try Activation.relu.outputShape([[2], [2]])
        }
    }
}

@Suite struct ValueFreshnessTests {
    @Test func aValueFollowsANewLeafValue() {
        let g = Graph()
        let x = g.input("x", 2)
        let y = x * 3
        #expect(y.value.scalar == 6)
        g.setValue(5, of: x.id)
        #expect(y.value.scalar == 15)
    }
}
