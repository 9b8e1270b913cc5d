import ChainruleCore
@testable import ChainruleONNX
import Foundation
import SwiftProtobuf
import Testing

/// Files that are not models Chainrule can read: each is refused with a
/// message that says what is wrong, never a crash, and before a large tensor is allocated.
@Suite struct BadModelTests {
    static let limits = ONNXLimits(maxElements: 1_000_000, maxMemory: 1 << 28)

    /// A one-node model y = op(x), x a 2×3 input, with `weight` as an initializer.
    static func model(op: String = "Relu", opset: Int64 = 17, weight: Onnx_TensorProto? = nil) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.opsetImport = [Onnx_OperatorSetIdProto.with { $0.version = opset }]
        model.graph = Onnx_GraphProto.with { graph in
            graph.input = [Onnx_ValueInfoProto.with { input in
                input.name = "x"
                input.type.tensorType.elemType = 1
                input.type.tensorType.shape.dim = [2, 3].map { size in Onnx_TensorShapeProto.Dimension.with { $0.dimValue = size } }
            }]
            graph.node = [Onnx_NodeProto.with {
                $0.opType = op
                $0.name = "/block/\(op)"
                $0.input = weight.map { ["x", $0.name] } ?? ["x"]
                $0.output = ["y"]
            }]
            if let weight { graph.initializer = [weight] }
            graph.output = [Onnx_ValueInfoProto.with { $0.name = "y" }]
        }
        return model
    }

    static func read(_ model: Onnx_ModelProto, folder: URL? = nil) throws(ONNXError) -> ONNXModel {
        let data = try! model.serializedData()
        return try ONNXImporter.read(data: data, file: "model.onnx", folder: folder, options: ONNXImportOptions(limits: limits))
    }

    /// The message of the `ONNXError` that `body` throws.
    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as ONNXError { return error.message } catch { return "not an ONNXError: \(error)" }
        return "(no error)"
    }

    @Test func aValidOneNodeModelReads() throws {
        let imported = try Self.read(Self.model())
        #expect(imported.graph[imported.output].shape == [2, 3])
        #expect(imported.graph.layers.map(\.name) == ["block"])
    }

    @Test func unsupportedOpNamesItsTypeNodeAndOpsetAndListsTheSupportedOnes() {
        let text = Self.message { _ = try Self.read(Self.model(op: "Erf", opset: 19)) }
        #expect(text.contains("model.onnx: node '/block/Erf': op Erf (opset 19) is not supported; Chainrule imports Add, Sub"))
        #expect(text.contains("GlobalAveragePool"))
    }

    @Test(arguments: [12, 22])
    func opsetsOutside13To21AreRefused(opset: Int64) {
        #expect(Self.message { _ = try Self.read(Self.model(opset: opset)) }
            == "model.onnx: the model uses opset \(opset); Chainrule reads opsets 13 to 21 (re-export with torch.onnx.export(..., opset_version=17))")
    }

    @Test func truncatedAndForeignFilesAreRefused() throws {
        let data = try Self.model().serializedData()
        for cut in [data.count / 3, data.count - 1] {
            let text = Self.message { _ = try ONNXImporter.read(data: data.prefix(cut), file: "cut.onnx", folder: nil, options: ONNXImportOptions(limits: Self.limits)) }
            #expect(text.hasPrefix("cut.onnx: not an ONNX model, or one cut short"))
        }
        let foreign = Self.message { _ = try ONNXImporter.read(data: Data("x = 1\ny = x * 2\n".utf8), file: "a.onnx", folder: nil, options: ONNXImportOptions(limits: Self.limits)) }
        #expect(foreign.hasPrefix("a.onnx: not an ONNX model"))
        #expect(Self.message { _ = try ONNXImporter.read(data: Data(), file: "e.onnx", folder: nil, options: ONNXImportOptions(limits: Self.limits)) }
            == "e.onnx: the file is empty, not an ONNX model")
    }

    @Test func aTensorOverTheElementLimitIsRefusedBeforeItIsRead() {
        // Dims of 10¹⁰ elements and no data at all: refused from the dims alone.
        let huge = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [100_000, 100_000] }
        #expect(Self.message { _ = try Self.read(Self.model(op: "Add", weight: huge)) }
            == "model.onnx: tensor 'w' of shape 100000×100000 has more than 1000000 elements, the limit (--max-elements); it was not read")
    }

    @Test func anInputDeclaredOverTheLimitIsRefusedNotShrunk() {
        var model = Self.model()
        model.graph.input[0].type.tensorType.shape.dim[1].dimValue = 1_000_000_000_000
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: input 'x' declares shape 2×1000000000000: a size must lie in 0…1000000 (--max-elements)")
    }

    @Test func rawDataOfTheWrongLengthIsRefused() {
        let short = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [3]; $0.rawData = Data([0, 0, 128, 63]) }
        #expect(Self.message { _ = try Self.read(Self.model(op: "Add", weight: short)) }
            == "model.onnx: tensor 'w' of shape 3 needs 12 bytes of raw_data, but has 4")
    }

    @Test func weightsAreReadFromEveryField() throws {
        let float = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [3]; $0.floatData = [0.5, -1, 2] }
        let double = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 11; $0.dims = [3]; $0.doubleData = [0.1, -1, 2] }
        var rawBytes = Data()
        for value in [Float(0.25), 3, -4] { withUnsafeBytes(of: value.bitPattern.littleEndian) { rawBytes.append(contentsOf: $0) } }
        let raw = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [3]; $0.rawData = rawBytes }
        for (tensor, expected) in [(float, [0.5, -1, 2]), (double, [0.1, -1, 2]), (raw, [0.25, 3, -4])] {
            let imported = try Self.read(Self.model(op: "Add", weight: tensor))
            #expect(imported.graph.nodes.first { $0.name == "w" }?.value?.data == expected)
        }
    }

    @Test func externalDataIsFollowedInsideTheModelsFolderOnly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = Data(repeating: 0, count: 8)
        for value in [Float(1.5), -2, 4] { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try bytes.write(to: folder.appendingPathComponent("model.onnx.data"))
        func external(_ location: String) -> Onnx_TensorProto {
            Onnx_TensorProto.with {
                $0.name = "w"; $0.dataType = 1; $0.dims = [3]; $0.dataLocation = .external
                $0.externalData = [("location", location), ("offset", "8"), ("length", "12")].map { entry in
                    Onnx_StringStringEntryProto.with { $0.key = entry.0; $0.value = entry.1 }
                }
            }
        }
        let imported = try Self.read(Self.model(op: "Add", weight: external("model.onnx.data")), folder: folder)
        #expect(imported.graph.nodes.first { $0.name == "w" }?.value?.data == [1.5, -2, 4])
        for escape in ["../model.onnx.data", "/etc/passwd", "sub/../../x"] {
            #expect(Self.message { _ = try Self.read(Self.model(op: "Add", weight: external(escape)), folder: folder) }
                .contains("names external data '\(escape)', which is outside the model's folder"))
        }
        #expect(Self.message { _ = try Self.read(Self.model(op: "Add", weight: external("model.onnx.data"))) }
            == "model.onnx: tensor 'w' keeps its data in an external file, which a model read from memory cannot follow")
    }

    @Test func unsupportedAttributesNameTheNode() {
        var model = Self.model(op: "Softmax")
        model.graph.node[0].attribute = [Onnx_AttributeProto.with { $0.name = "axis"; $0.type = .int; $0.i = 0 }]
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: node '/block/Softmax' (Softmax, opset 17): axis 0 of a rank-2 input: Chainrule's softmax acts on the last axis only")
    }

    @Test func theMemoryBudgetIsCheckedFromShapesBeforeAllocating() {
        let options = ONNXImportOptions(limits: ONNXLimits(maxElements: 1_000_000, maxMemory: 64))
        let data = try! Self.model().serializedData()
        let text = Self.message { _ = try ONNXImporter.read(data: data, file: "model.onnx", folder: nil, options: options) }
        #expect(text.hasPrefix("model.onnx: the model needs more than 64 bytes for its values and gradients (--max-memory)"))
    }

    @Test func aMissingInitializerIsNamedWithTheNodeThatReadsIt() {
        var model = Self.model(op: "Add")
        model.graph.node[0].input = ["x", "w"]
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: node '/block/Add' (Add) reads 'w', which no earlier node, initializer or input makes")
    }

    /// Nodes are read in file order (ONNX requires a topological one), so a cycle
    /// is refused at its first edge back, never followed round.
    @Test func anInputThatIsNotATensorIsRefused() {
        var model = Self.model()
        model.graph.input[0].type = Onnx_TypeProto.with { $0.sequenceType.elemType.tensorType.elemType = 1 }
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: input 'x' is a sequence; Chainrule reads models whose inputs are dense tensors")
    }

    @Test func aSparseInitializerIsNamedAsSuch() {
        var model = Self.model(op: "Add")
        model.graph.node[0].input = ["x", "w"]
        model.graph.sparseInitializer = [Onnx_SparseTensorProto.with {
            $0.dims = [2, 3]
            $0.values = Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [1]; $0.floatData = [2] }
            $0.indices = Onnx_TensorProto.with { $0.dataType = 7; $0.dims = [1]; $0.int64Data = [4] }
        }]
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: node '/block/Add' (Add) reads 'w', a sparse initializer; Chainrule reads dense initializers only (save the weight dense)")
    }

    /// Subgraphs nest through attributes (an If inside a Loop inside …): a file
    /// nested past protobuf's depth limit is refused by the decoder, not followed down the stack.
    @Test func subgraphsNestedPastTheDecodersDepthLimitAreRefused() throws {
        var graph = Onnx_GraphProto()
        for depth in 0..<40 {
            graph = Onnx_GraphProto.with { outer in
                outer.node = [Onnx_NodeProto.with {
                    $0.opType = "If"
                    $0.name = "if\(depth)"
                    $0.attribute = [Onnx_AttributeProto.with { $0.name = "then_branch"; $0.type = .graph; $0.g = graph }]
                }]
            }
        }
        var model = Self.model()
        model.graph.node += graph.node
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: the model nests messages (subgraphs in attributes, types in types) more than 100 deep, protobuf's decoding limit; it was not read")
        model.graph.node[1].attribute[0].g = Onnx_GraphProto()
        #expect(Self.message { _ = try Self.read(model) }
            .hasPrefix("model.onnx: node 'if39': op If (opset 17) is not supported"))
    }

    @Test func aCycleIsRefusedAtTheNodeThatReadsAheadOfItself() {
        var model = Self.model(op: "Relu")
        model.graph.node = [
            Onnx_NodeProto.with { $0.opType = "Add"; $0.name = "a"; $0.input = ["x", "b_out"]; $0.output = ["a_out"] },
            Onnx_NodeProto.with { $0.opType = "Relu"; $0.name = "b"; $0.input = ["a_out"]; $0.output = ["b_out"] },
        ]
        model.graph.output = [Onnx_ValueInfoProto.with { $0.name = "b_out" }]
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: node 'a' (Add) reads 'b_out', which no earlier node, initializer or input makes")
    }

    @Test func anOutputNoNodeMakesIsRefused() {
        var model = Self.model()
        model.graph.output = [Onnx_ValueInfoProto.with { $0.name = "z" }]
        #expect(Self.message { _ = try Self.read(model) } == "model.onnx: the model's output 'z' is made by no node")
    }

    @Test func aNodeWritingANameAlreadyDefinedIsRefused() {
        var model = Self.model(op: "Relu")
        model.graph.node = [
            Onnx_NodeProto.with { $0.opType = "Relu"; $0.name = "a"; $0.input = ["x"]; $0.output = ["y"] },
            Onnx_NodeProto.with { $0.opType = "Relu"; $0.name = "b"; $0.input = ["y"]; $0.output = ["x"] },
        ]
        model.graph.output = [Onnx_ValueInfoProto.with { $0.name = "y" }]
        #expect(Self.message { _ = try Self.read(model) }
            == "model.onnx: node 'b' (Relu, opset 17): writes 'x', which an earlier node, initializer or input already defines (each name is assigned once)")
    }
}
