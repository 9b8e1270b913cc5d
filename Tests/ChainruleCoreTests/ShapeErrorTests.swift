import ChainruleCore
import Testing

/// The shape rules' refusals, each with the words that tell the person what to change.
@Suite struct ShapeErrorTests {
    func message(_ op: any Operation, _ shapes: [[Int]]) -> String {
        do {
            let shape = try op.outputShape(shapes)
            return "accepted: \(shape)"
        } catch {
            return error.message
        }
    }

    func buildMessage(_ name: String, _ attributes: [String: AttributeValue], inputs: [String] = ["x"]) -> String {
        do {
            _ = try Registry.spec(named: name)!.build(OpArguments(attributes: attributes, tensorInputs: inputs))
            return "built"
        } catch {
            return error.message
        }
    }

    @Test func conv2dNamesTheLayoutItNeeds() throws {
        let conv = try Conv2D(hasBias: true)
        #expect(message(conv, [[3, 32, 32], [10, 3, 5, 5], [10]]).hasPrefix("x must be N×C×H×W (a batch of images), got 3×32×32"))
        #expect(message(conv, [[1, 3, 32, 32], [10, 3, 5], [10]]).hasPrefix("W must be O×C×KH×KW"))
        #expect(message(conv, [[1, 3, 32, 32], [10, 3, 5, 5], [3]]) == "b must have one entry per output channel, shape 10, got 3")
        #expect(message(conv, [[1, 3, 4, 4], [2, 3, 5, 5], [2]])
            == "kernel width 5 is larger than the padded input width 4 + 2·0 = 4; use a smaller kernel or more padding")
    }

    @Test func linearAndMatmulSayWhatFits() {
        #expect(message(Linear(), [[2, 3], [4, 3, 1], [4]]).hasPrefix("W must be a matrix [out, in]"))
        #expect(message(Linear(), [[], [4, 3], [4]]).contains("not a scalar"))
        #expect(message(Linear(), [[2, 3], [4, 3], [3]]) == "b must be [out] = [4], got 3")
        #expect(message(MatMul(), [[], [3, 2]]).hasPrefix("needs vectors or matrices, not scalars"))
        #expect(message(MatMul(), [[2, 2, 3], [4, 3, 5]]).hasPrefix("batch axes 2 and 4 do not broadcast"))
    }

    @Test func classificationLossesNeedRowsOfScoresAndOneLabelPerRow() {
        #expect(message(CrossEntropy(), [[5], [1]]).hasPrefix("logits must be [N, C] (one row of class scores per example), got 5"))
        #expect(message(Hinge(), [[2, 3], [3]]).hasPrefix("labels must be [N] = [2], one class index per row of scores 2×3, got 3"))
        #expect(message(CrossEntropy(), [[2, 0], [2]]) == "needs at least one class")
    }

    @Test func pairLossesRefuseBroadcasting() {
        #expect(message(MeanSquaredError(), [[2, 3], [3]]).hasSuffix("must have the same shape (no broadcasting in a loss)"))
        #expect(message(BinaryCrossEntropyWithLogits(), [[4], [1]]).hasSuffix("must have the same shape (no broadcasting in a loss)"))
    }

    @Test func reshapeExplainsItsElementCounts() {
        #expect(message(Reshape(shape: [0, -1]), [[0, 4]]).contains("the other sizes multiply to 0, so the -1 could be anything"))
        #expect(buildMessage("reshape", [:]) == "needs the new shape, e.g. reshape(x, shape: [2, -1])")
    }

    @Test func attributesAreRefusedByTheirSpec() {
        #expect(buildMessage("maxpool2d", [:]) == "needs a kernel size, e.g. maxpool2d(x, kernel: 2)")
        #expect(buildMessage("avgpool2d", [:]) == "needs a kernel size, e.g. avgpool2d(x, kernel: 2)")
        #expect(buildMessage("dropout", ["seed": .int(-1)]) == "seed must be 0 or more, got -1")
        #expect(buildMessage("conv2d", ["floor": .int(3)], inputs: ["x", "W"]).contains("must be true or false"))
        #expect(buildMessage("transpose", ["axes": .double(0.5)]).contains("must be a list of whole numbers"))
    }
}
