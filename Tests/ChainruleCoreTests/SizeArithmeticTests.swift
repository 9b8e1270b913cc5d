import ChainruleCore
import Testing

/// Sizes that come from people and files are counted without overflow, and
/// an empty tensor gets the value NumPy gives it.
@Suite struct SizeArithmeticTests {
    @Test func elementCountsRefuseWhatStridesCannotCount() {
        #expect(Tensor.checkedElementCount([2, 3, 4]) == 24)
        #expect(Tensor.checkedElementCount([0, 3]) == 0)
        #expect(Tensor.checkedElementCount([]) == 1)
        #expect(Tensor.checkedElementCount([-1, 3]) == nil)
        #expect(Tensor.checkedElementCount([1 << 32, 1 << 32]) == nil)
        // No elements, but its strides would be 2^64: refused too.
        #expect(Tensor.checkedElementCount([0, 1 << 32, 1 << 32]) == nil)
        #expect(Tensor.checkedElementCount([0, 1 << 31, 1 << 31]) == 0)
    }

    @Test func stridesOfShapesWithAZeroSizedAxis() {
        #expect(Tensor.strides([0, 4]) == [4, 1])
        #expect(Tensor.strides([3, 0, 2]) == [0, 2, 1])
        #expect(Tensor.zeros([0, 1 << 31, 1 << 31]).strides == [1 << 62, 1 << 31, 1])
    }

    @Test func meanLossesOfNoElementsAreNaN() {
        let empty = Tensor(shape: [0, 3], data: [])
        #expect(MeanSquaredError().forward([empty, empty]).scalar.isNaN)
        #expect(BinaryCrossEntropyWithLogits().forward([empty, empty]).scalar.isNaN)
    }

    @Test func aHugePaddingIsAShapeErrorNotAnOverflow() throws {
        let conv = try Conv2D(stride: 1, pad: Int.max / 2 + 1)
        #expect(throws: ShapeError.self) { try conv.outputShape([[1, 1, 4, 4], [1, 1, 3, 3], [1]]) }
    }

    @Test func aBroadcastNoTensorCanHoldIsRefusedWhereTheGraphIsBuilt() {
        let graph = Graph()
        let a = graph.leaf("a", shape: [1 << 32, 1], role: .input)
        let b = graph.leaf("b", shape: [1, 1 << 32], role: .input)
        #expect(throws: GraphError.self) { try graph.apply(Add(), [a, b]) }
    }

    @Test func aReshapeToAnUncountableShapeIsAShapeError() {
        let reshape = Reshape(shape: [1 << 32, 1 << 32, -1])
        #expect(throws: ShapeError.self) { try reshape.outputShape([[4]]) }
    }
}
