import ChainruleCore
import Testing

@Suite struct ShapeTests {
    @Test func transposeOfAMatrix() throws {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        let (y, d) = try valueAndGradients([x], seed: Tensor([[10, 40], [20, 50], [30, 60]])) { transpose($0[0]) }
        #expect(y == Tensor([[1, 4], [2, 5], [3, 6]]))
        #expect(d[0] == Tensor([[10, 20, 30], [40, 50, 60]]))
    }

    @Test func transposeWithoutAxesReversesThem() throws {
        let x = Tensor(shape: [2, 3, 4], data: (0..<24).map(Double.init))
        let y = try valueAndGradients([x]) { transpose($0[0]) }.value
        #expect(y.shape == [4, 3, 2])
        #expect(y[3, 2, 1] == x[1, 2, 3])
    }

    @Test func transposeNCHWToNHWC() throws {
        let x = Tensor(shape: [1, 3, 4, 5], data: (0..<60).map(Double.init))
        let seed = Tensor(shape: [1, 4, 5, 3], data: (0..<60).map { Double($0) * 0.5 })
        let (y, d) = try valueAndGradients([x], seed: seed) { transpose($0[0], axes: [0, 2, 3, 1]) }
        #expect(y.shape == [1, 4, 5, 3])
        #expect(y[0, 3, 1, 2] == x[0, 2, 3, 1])
        #expect(y[0, 1, 4, 0] == x[0, 0, 1, 4])
        // The gradient goes back by the inverse permutation.
        #expect(d[0].shape == [1, 3, 4, 5])
        #expect(d[0][0, 2, 3, 1] == seed[0, 3, 1, 2])
        #expect(d[0][0, 1, 0, 4] == seed[0, 0, 4, 1])
    }

    @Test func transposeRefusesAnAxesListThatIsNotAPermutation() {
        let g = Graph()
        let x = g.input("x", Tensor.zeros([1, 3, 4, 5]))
        do {
            try g.apply(Transpose(axes: [0, 2, 2, 1]), [x.id])
            Issue.record("transpose accepted [0, 2, 2, 1]")
        } catch {
            #expect(error.description == "transpose: axes [0, 2, 2, 1] is not a permutation of the 4 axes of a 1×3×4×5 tensor: give an order of 0…3, each once (input shapes: 1×3×4×5)")
        }
        #expect(throws: GraphError.self) { try g.apply(Transpose(axes: [0, 1]), [x.id]) }
    }

    @Test func reshapeInfersTheMinusOne() throws {
        let x = Tensor(shape: [2, 3, 4], data: (0..<24).map(Double.init))
        let seed = Tensor(shape: [4, 6], data: (0..<24).map { -Double($0) })
        let (y, d) = try valueAndGradients([x], seed: seed) { reshape($0[0], [4, -1]) }
        #expect(y.shape == [4, 6])
        #expect(y.data == x.data)
        #expect(d[0] == Tensor(shape: [2, 3, 4], data: seed.data))
    }

    @Test func reshapeErrorsNameBothElementCounts() {
        let g = Graph()
        let x = g.input("x", Tensor.zeros([2, 3]))
        func message(_ shape: [Int]) -> String {
            do {
                try g.apply(Reshape(shape: shape), [x.id])
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(message([4, 2]) == "reshape: cannot reshape 2×3 (6 elements) into 4×2 (8 elements): the element counts must be equal (input shapes: 2×3)")
        #expect(message([-1, 4]) == "reshape: cannot reshape 2×3 (6 elements) into [-1, 4]: the other sizes hold 4 elements and 6 is not a multiple of 4 (input shapes: 2×3)")
        #expect(message([-1, -1]).contains("at most one size can be inferred"))
        #expect(message([2, -3]).contains("size -3 at position 1 of [2, -3] is negative"))
        #expect(message([3, 2]) == "accepted")
    }

    @Test func flattenKeepsTheBatchAxis() throws {
        let image = Tensor.zeros([1, 3, 32, 32])
        let (y, d) = try valueAndGradients([image]) { flatten($0[0]) }
        #expect(y.shape == [1, 3072])
        #expect(d[0].shape == [1, 3, 32, 32])
        #expect(try valueAndGradients([Tensor.zeros([5, 2, 3])]) { flatten($0[0]) }.value.shape == [5, 6])
        #expect(try valueAndGradients([Tensor([1, 2, 3])]) { flatten($0[0]) }.value == Tensor([1, 2, 3]))
    }
}
