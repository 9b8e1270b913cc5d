import ChainruleCheck
import ChainruleCore
@testable import ChainruleONNX
import Foundation
import Testing

/// The losses besides cross-entropy that `check --loss` and `train --loss` put
/// on a model's output, against their formulas on the output's values.
@Suite struct ONNXLossTests {
    static let limits = ONNXLimits(maxElements: 1_000_000, maxMemory: 1 << 28)

    /// The value the loss node computed and the output it was computed from.
    static func lossAndOutput(_ model: ONNXModel) throws -> (loss: Double, output: Tensor) {
        let output = try #require(model.graph[model.output].inputs.first.flatMap { model.graph[$0].value })
        return (try #require(model.graph[model.output].value).scalar, output)
    }

    @Test func hingeOnLeNetsScoresIsCS231nsMulticlassSVMLoss() throws {
        let fixtures = TorchReferenceTests.fixtures
        let model = try ONNXImporter.read(
            path: fixtures.appendingPathComponent("lenet.onnx").path,
            options: ONNXImportOptions(limits: Self.limits, inputs: ["": try TorchReferenceTests.npy("lenet.input.npy")], loss: ONNXLoss(.hinge, labels: [3, 7])))
        let (loss, scores) = try Self.lossAndOutput(model)
        #expect(model.graph[model.output].op?.name == "hinge")
        // Σ_{j≠y} max(0, s_j − s_y + 1), averaged over the 2 rows of 10 scores.
        let labels = [3, 7]
        var total = 0.0
        for row in 0..<2 {
            let s = Array(scores.data[(row * 10)..<(row * 10 + 10)])
            for j in 0..<10 where j != labels[row] { total += max(0, s[j] - s[labels[row]] + 1) }
        }
        #expect(abs(loss - total / 2) <= 1e-12 * max(1, abs(loss)))
        #expect(try TorchReferenceTests.check(model, fast: true).passed)
    }

    /// y = x·w for a 2×3 input and a 3×1 weight: one logit per example, as `nn.Linear(3, 1)` exports.
    static func singleLogitModel() -> Onnx_ModelProto {
        let weight = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [3, 1]; $0.floatData = [0.5, -1, 2] }
        return BadModelTests.model(op: "MatMul", weight: weight)
    }

    static func read(_ model: Onnx_ModelProto, loss: ONNXLoss) throws -> ONNXModel {
        let x = Tensor(shape: [2, 3], data: [0.3, -0.2, 0.9, -1.1, 0.4, 0.05])
        return try ONNXImporter.read(data: try model.serializedData(), file: "m.onnx", folder: nil,
                                     options: ONNXImportOptions(limits: Self.limits, inputs: ["": x], loss: loss))
    }

    @Test func binaryCrossEntropyTakesOneLogitPerExampleAndLabels0Or1() throws {
        let model = try Self.read(Self.singleLogitModel(), loss: ONNXLoss(.binaryCrossEntropyWithLogits, labels: [1, 0]))
        let (loss, logits) = try Self.lossAndOutput(model)
        #expect(logits.shape == [2, 1])
        // mean of −[t·log σ(z) + (1 − t)·log(1 − σ(z))] over the 2 logits.
        func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
        let z = logits.data
        let expected = -(log(sigmoid(z[0])) + log(1 - sigmoid(z[1]))) / 2
        #expect(abs(loss - expected) <= 1e-12 * abs(expected))
        #expect(try TorchReferenceTests.check(model, fast: false).passed)
    }

    @Test func aLossOfTheWrongOutputShapeOrLabelIsRefused() {
        func message(_ body: () throws -> Void) -> String { BadModelTests.message(body) }
        #expect(message { _ = try Self.read(Self.singleLogitModel(), loss: ONNXLoss(.binaryCrossEntropyWithLogits, labels: [1, 2])) }
            == "m.onnx: --labels: class 2 is out of range: binary_cross_entropy_with_logits takes labels 0 or 1")
        #expect(message { _ = try Self.read(BadModelTests.model(), loss: ONNXLoss(.binaryCrossEntropyWithLogits, labels: [1, 0])) }
            == "m.onnx: --loss binary_cross_entropy_with_logits takes the output as one logit per example (N or N×1), with one label per example: the output is 2×3 and 2 labels were given")
        #expect(message { _ = try Self.read(Self.singleLogitModel(), loss: ONNXLoss(.hinge, labels: [0])) }
            == "m.onnx: --loss hinge takes the output as scores N×C, with one label per example: the output is 2×1 and 1 label was given")
    }
}
