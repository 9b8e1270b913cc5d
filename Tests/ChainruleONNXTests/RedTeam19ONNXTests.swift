import ChainruleCore
@testable import ChainruleONNX
import Foundation
import Testing

/// Models whose attributes or folded constants would make the reader compute
/// more than it may: each is refused with the node and the limit, before the work.
@Suite struct RedTeam19ONNXTests {
    static func int64s(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with { $0.name = name; $0.type = .ints; $0.ints = values }
    }

    /// `x` (1×1×4×4) → `op` with these attributes → `y`, with a 1×1×3×3 weight for Conv.
    static func window(_ op: String, _ attributes: [Onnx_AttributeProto]) -> Onnx_ModelProto {
        let weight = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [1, 1, 3, 3]; $0.floatData = Array(repeating: 1, count: 9) }
        var model = BadModelTests.model(op: op, weight: op == "Conv" ? weight : nil)
        model.graph.input[0].type.tensorType.shape.dim = [1, 1, 4, 4].map { size in Onnx_TensorShapeProto.Dimension.with { $0.dimValue = size } }
        model.graph.node[0].attribute = attributes
        return model
    }

    @Test("a window size past 10^15 is refused before the ops' size arithmetic", arguments: [
        ("Conv", [int64s("strides", [.max, .max])]),
        ("Conv", [int64s("pads", [.max, .max, .max, .max])]),
        ("MaxPool", [int64s("kernel_shape", [2, 2]), int64s("strides", [.max, .max])]),
        ("AveragePool", [int64s("kernel_shape", [.max, .max])]),
    ])
    func hugeWindowAttributesAreRefused(_ op: String, _ attributes: [Onnx_AttributeProto]) {
        let text = BadModelTests.message { _ = try BadModelTests.read(Self.window(op, attributes)) }
        #expect(text.hasPrefix("model.onnx: node '/block/\(op)' (\(op), opset 17): kernel ["), "\(text)")
        #expect(text.hasSuffix("sizes are below 10^15"), "\(text)")
    }

    @Test func aStrideLargerThanTheInputStillReads() throws {
        let imported = try BadModelTests.read(Self.window("Conv", [Self.int64s("strides", [1000, 1000])]))
        #expect(imported.graph[imported.output].shape == [1, 1, 1, 1])
    }

    /// `Gather(d, i)` of a 1000×1000 constant by 1000×1000 indices folds to 10⁹
    /// elements (8 GB): refused from its shape, nothing gathered.
    @Test func aFoldedGatherOverTheElementLimitIsRefusedBeforeItIsComputed() {
        var model = BadModelTests.model(op: "Add")
        model.graph.initializer = [
            Onnx_TensorProto.with { $0.name = "d"; $0.dataType = 1; $0.dims = [1000, 1000]; $0.rawData = Data(count: 4_000_000) },
            Onnx_TensorProto.with { $0.name = "i"; $0.dataType = 7; $0.dims = [1000, 1000]; $0.rawData = Data(count: 8_000_000) },
        ]
        model.graph.node.insert(Onnx_NodeProto.with { $0.opType = "Gather"; $0.name = "/pick"; $0.input = ["d", "i"]; $0.output = ["g"] }, at: 0)
        model.graph.node[1].input = ["x", "g"]
        let limits = ONNXLimits(maxElements: 50_000_000, maxMemory: 1 << 32)
        let data = try! model.serializedData()
        let text = BadModelTests.message {
            _ = try ONNXImporter.read(data: data, file: "model.onnx", folder: nil, options: ONNXImportOptions(limits: limits))
        }
        #expect(text == "model.onnx: node '/pick' (Gather, opset 17): its result would have shape 1000×1000×1000, more than 50000000 elements (--max-elements); it was not computed")
    }

    /// A folded Concat of one folded value repeated: its result is counted before it is made.
    @Test func aFoldedConcatOverTheElementLimitIsRefusedBeforeItIsComputed() {
        var model = BadModelTests.model(op: "Add")
        let constant = Onnx_NodeProto.with {
            $0.opType = "Constant"; $0.name = "/c"; $0.output = ["c"]
            $0.attribute = [Onnx_AttributeProto.with { $0.name = "value_floats"; $0.type = .floats; $0.floats = Array(repeating: 0, count: 1000) }]
        }
        let concat = Onnx_NodeProto.with {
            $0.opType = "Concat"; $0.name = "/cat"; $0.input = Array(repeating: "c", count: 2000); $0.output = ["cc"]
            $0.attribute = [Onnx_AttributeProto.with { $0.name = "axis"; $0.type = .int; $0.i = 0 }]
        }
        model.graph.node = [constant, concat] + model.graph.node
        model.graph.node[2].input = ["x", "cc"]
        let text = BadModelTests.message { _ = try BadModelTests.read(model) }
        #expect(text == "model.onnx: node '/cat' (Concat, opset 17): its result would have shape 2000000, more than 1000000 elements (--max-elements); it was not computed")
    }
}
