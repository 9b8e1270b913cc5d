import Foundation
import SwiftProtobuf
import Testing
@testable import ChainruleONNX

/// Session 23's red team on Gemm: the standard's A and B are matrices and C
/// broadcasts one way to their product, but a 1-D A was read as a vector, a
/// C larger than the product widened it, and `transB: 2` did not transpose.
@Suite("Red team 23: Gemm's operands")
struct RedTeam23ONNXTests {
    /// y = Gemm(x, w[, c]) with these shapes and attributes.
    static func gemm(x: [Int64], w: [Int64], c: [Int64]? = nil, attributes: [Onnx_AttributeProto] = []) -> Onnx_ModelProto {
        func constant(_ name: String, _ dims: [Int64]) -> Onnx_TensorProto {
            Onnx_TensorProto.with { $0.name = name; $0.dataType = 1; $0.dims = dims; $0.floatData = (0..<dims.reduce(1, *)).map { Float($0 % 5) - 2 } }
        }
        var model = BadModelTests.model(op: "Gemm", weight: constant("w", w))
        model.graph.input[0].type.tensorType.shape.dim = x.map { size in Onnx_TensorShapeProto.Dimension.with { $0.dimValue = size } }
        if let c {
            model.graph.initializer.append(constant("c", c))
            model.graph.node[0].input.append("c")
        }
        model.graph.node[0].attribute = attributes
        return model
    }

    static func flag(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with { $0.name = name; $0.type = .int; $0.i = value }
    }

    @Test("operands that are not Gemm's are refused, naming the shapes", arguments: [
        (gemm(x: [3], w: [3, 4]), "A and B must be matrices (2-D), got A 3 and B 3×4"),
        (gemm(x: [2, 3], w: [3, 4, 1]), "A and B must be matrices (2-D), got A 2×3 and B 3×4×1"),
        (gemm(x: [2, 3], w: [4, 3]), "A 2×3 and B 4×3 do not multiply: 3 ≠ 4"),
        (gemm(x: [2, 3], w: [3, 4], attributes: [flag("transA", 1)]), "Aᵀ 3×2 and B 3×4 do not multiply: 2 ≠ 3"),
        (gemm(x: [2, 3], w: [3, 4], c: [3, 4]), "C 3×4 does not broadcast to the product's 2×4"),
        (gemm(x: [2, 3], w: [3, 4], c: [2, 2, 4]), "C 2×2×4 does not broadcast to the product's 2×4"),
        (gemm(x: [2, 3], w: [3, 4], c: [3]), "C 3 does not broadcast to the product's 2×4"),
    ])
    func operandsThatAreNotGemmsAreRefused(_ model: Onnx_ModelProto, _ expected: String) {
        let text = BadModelTests.message { _ = try BadModelTests.read(model) }
        #expect(text == "model.onnx: node '/block/Gemm' (Gemm, opset 17): \(expected)", "\(text)")
    }

    /// The shapes the standard allows read, C broadcast from 1, N, 1×N, M×1 or M×N.
    @Test("Gemm's own shapes read", arguments: [[1], [4], [1, 4], [2, 1], [2, 4]] as [[Int64]])
    func gemmsOwnShapesRead(_ c: [Int64]) throws {
        let read = try BadModelTests.read(Self.gemm(x: [2, 3], w: [3, 4], c: c))
        #expect(read.graph[read.output].shape == [2, 4])
    }

    /// Any flag that is not 0 transposes (the standard: "non-zero"); before, only 1 did.
    @Test func aTransposeFlagOtherThanOneTransposes() throws {
        let one = try BadModelTests.read(Self.gemm(x: [2, 3], w: [4, 3], attributes: [Self.flag("transB", 1)]))
        let two = try BadModelTests.read(Self.gemm(x: [2, 3], w: [4, 3], attributes: [Self.flag("transB", 2)]))
        #expect(two.graph[two.output].shape == [2, 4])
        #expect(two.graph[two.output].value?.data == one.graph[one.output].value?.data)
    }
}
