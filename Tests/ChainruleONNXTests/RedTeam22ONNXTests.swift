import ChainruleCore
@testable import ChainruleONNX
import Foundation
import Testing

/// Session 22's red team: attributes written as another type than the spec's
/// (read as the other field's zero, so the model computed something else in
/// silence), attributes given twice, and a Dropout in training mode.
@Suite struct RedTeam22ONNXTests {
    static func attribute(_ name: String, _ type: Onnx_AttributeProto.AttributeType, int: Int64? = nil, float: Float? = nil,
                          ints: [Int64]? = nil, string: String? = nil) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with {
            $0.name = name
            $0.type = type
            if let int { $0.i = int }
            if let float { $0.f = float }
            if let ints { $0.ints = ints }
            if let string { $0.s = Data(string.utf8) }
        }
    }

    /// y = op(x) with these attributes (x 2×3, or 2×3×4 for Flatten; a 3×4 weight for Gemm).
    static func model(_ op: String, _ attributes: [Onnx_AttributeProto]) -> Onnx_ModelProto {
        let weight = op == "Gemm" ? Onnx_TensorProto.with { $0.name = "w"; $0.dataType = 1; $0.dims = [3, 4]; $0.floatData = Array(repeating: 1, count: 12) } : nil
        var model = BadModelTests.model(op: op, weight: weight)
        if op == "Flatten" {
            model.graph.input[0].type.tensorType.shape.dim = [2, 3, 4].map { size in Onnx_TensorShapeProto.Dimension.with { $0.dimValue = size } }
        }
        model.graph.node[0].attribute = attributes
        return model
    }

    /// Before: Gemm's alpha 2 written as an INT was read as 0 (every output 0), LeakyRelu's
    /// slope as 0 (a ReLU), Flatten's axis 2.0 as 0 (1×24, not 6×4), Gemm's transB 1.0 as 0.
    @Test("an attribute of the wrong type is refused, naming it and both types", arguments: [
        ("Gemm", attribute("alpha", .int, int: 2), "its attribute alpha is written as an INT, but Gemm's alpha is a FLOAT"),
        ("LeakyRelu", attribute("alpha", .int, int: 2), "its attribute alpha is written as an INT, but LeakyRelu's alpha is a FLOAT"),
        ("Flatten", attribute("axis", .float, float: 2), "its attribute axis is written as a FLOAT, but Flatten's axis is an INT"),
        ("Gemm", attribute("transB", .float, float: 1), "its attribute transB is written as a FLOAT, but Gemm's transB is an INT"),
        ("Softmax", attribute("axis", .string, string: "0"), "its attribute axis is written as a STRING, but Softmax's axis is an INT"),
        ("Transpose", attribute("perm", .int, int: 1), "its attribute perm is written as an INT, but Transpose's perm is INTS (a list)"),
    ])
    func anAttributeOfTheWrongTypeIsRefused(_ op: String, _ attribute: Onnx_AttributeProto, _ expected: String) {
        let text = BadModelTests.message { _ = try BadModelTests.read(Self.model(op, [attribute])) }
        #expect(text.hasPrefix("model.onnx: node '/block/\(op)' (\(op), opset 17): \(expected)"), "\(text)")
    }

    /// Before: the first `axis` was taken and the second ignored.
    @Test func anAttributeGivenTwiceIsRefusedAndOnceIsRead() throws {
        let text = BadModelTests.message {
            _ = try BadModelTests.read(Self.model("Flatten", [Self.attribute("axis", .int, int: 2), Self.attribute("axis", .int, int: 1)]))
        }
        #expect(text == "model.onnx: node '/block/Flatten' (Flatten, opset 17): gives the attribute axis twice; ONNX allows each attribute once", "\(text)")
        // Given once, of its own type or of none (old exporters wrote no type), it reads.
        let typed = try BadModelTests.read(Self.model("Flatten", [Self.attribute("axis", .int, int: 2)]))
        #expect(typed.graph[typed.output].shape == [6, 4])
        let untyped = try BadModelTests.read(Self.model("Flatten", [Self.attribute("axis", .undefined, int: 2)]))
        #expect(untyped.graph[untyped.output].shape == [6, 4])
        let gemm = try BadModelTests.read(Self.model("Gemm", [Self.attribute("alpha", .float, float: 2)]))
        let plain = try BadModelTests.read(Self.model("Gemm", []))
        #expect(gemm.graph[gemm.output].value?.data == plain.graph[plain.output].value?.data.map { 2 * $0 })
    }

    /// y = x + c, with c a Constant node of these attributes.
    static func constantModel(_ attributes: [Onnx_AttributeProto]) -> Onnx_ModelProto {
        var model = BadModelTests.model(op: "Add")
        let constant = Onnx_NodeProto.with { $0.opType = "Constant"; $0.name = "/c"; $0.output = ["c"]; $0.attribute = attributes }
        model.graph.node.insert(constant, at: 0)
        model.graph.node[1].input = ["x", "c"]
        return model
    }

    /// Before: value_floats written as INTS read as an empty tensor; two values, the first found.
    @Test func aConstantsValueOfTheWrongTypeOrGivenTwiceIsRefused() {
        let wrong = BadModelTests.message { _ = try BadModelTests.read(Self.constantModel([Self.attribute("value_floats", .ints, ints: [1, 2, 3])])) }
        #expect(wrong == "model.onnx: node '/c' (Constant, opset 17): its attribute value_floats is written as INTS (a list), but Constant's value_floats is FLOATS (a list) (the ONNX spec's type; re-export the model)", "\(wrong)")
        let twice = BadModelTests.message {
            _ = try BadModelTests.read(Self.constantModel([Self.attribute("value_float", .float, float: 1), Self.attribute("value_int", .int, int: 2)]))
        }
        #expect(twice == "model.onnx: node '/c' (Constant, opset 17): gives its value 2 times (value_float, value_int); a Constant has exactly one value attribute", "\(twice)")
        #expect(throws: Never.self) { try BadModelTests.read(Self.constantModel([Self.attribute("value_int", .int, int: 2)])) }
    }

    /// Dropout(x, ratio, training_mode) with training_mode 1 drops at random: it is no identity.
    @Test func aDropoutInTrainingModeIsRefused() throws {
        func dropout(mode: Int64?) -> Onnx_ModelProto {
            var model = BadModelTests.model(op: "Dropout")
            model.graph.initializer = [Onnx_TensorProto.with { $0.name = "ratio"; $0.dataType = 1; $0.floatData = [0.5] }]
            if let mode {
                model.graph.initializer.append(Onnx_TensorProto.with { $0.name = "mode"; $0.dataType = 7; $0.int64Data = [mode] })
            }
            model.graph.node[0].input = ["x", "ratio"] + (mode == nil ? [] : ["mode"])
            return model
        }
        let text = BadModelTests.message { _ = try BadModelTests.read(dropout(mode: 1)) }
        #expect(text == "model.onnx: node '/block/Dropout' (Dropout, opset 17): training_mode is true: it drops elements at random; Chainrule imports Dropout for inference (export the model in eval() mode)", "\(text)")
        #expect(try BadModelTests.read(dropout(mode: 0)).graph[try BadModelTests.read(dropout(mode: 0)).output].shape == [2, 3])
        #expect(throws: Never.self) { try BadModelTests.read(dropout(mode: nil)) }
    }

    /// Before: external data named a named pipe inside the model's folder, and the open
    /// waited for a writer forever; a folder was "cannot read 12 bytes".
    @Test func externalDataThatIsAPipeOrAFolderIsRefusedAtOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam22-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("weights"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(mkfifo(folder.appendingPathComponent("pipe.data").path, 0o644) == 0)
        func external(_ location: String) -> Onnx_TensorProto {
            Onnx_TensorProto.with {
                $0.name = "w"; $0.dataType = 1; $0.dims = [3]; $0.dataLocation = .external
                $0.externalData = [Onnx_StringStringEntryProto.with { $0.key = "location"; $0.value = location }]
            }
        }
        for (location, reason) in [("pipe.data", "it is a pipe"), ("weights", "it is a folder")] {
            let text = BadModelTests.message { _ = try BadModelTests.read(BadModelTests.model(op: "Add", weight: external(location)), folder: folder) }
            #expect(text == "model.onnx: tensor 'w': cannot read its external data file '\(location)' in \(folder.standardizedFileURL.resolvingSymlinksInPath().path): \(reason), not a file of tensor data", "\(text)")
        }
    }

    /// Before: the second input 'x' (shape 4) replaced the first (2×3) for every node, and the
    /// first got the note "y does not depend on x".
    @Test func anInputDeclaredTwiceIsRefused() {
        var model = BadModelTests.model()
        var second = model.graph.input[0]
        second.type.tensorType.shape.dim = [Onnx_TensorShapeProto.Dimension.with { $0.dimValue = 4 }]
        model.graph.input.append(second)
        let text = BadModelTests.message { _ = try BadModelTests.read(model) }
        #expect(text == "model.onnx: the model declares the input 'x' twice; each input has its own name", "\(text)")
    }

    /// Before: an input of strings was given random normal numbers.
    @Test func anInputOfStringsOrComplexNumbersIsRefused() throws {
        for (type, kind) in [(Int32(8), "strings"), (Int32(14), "complex numbers"), (Int32(15), "complex numbers")] {
            var model = BadModelTests.model()
            model.graph.input[0].type.tensorType.elemType = type
            let text = BadModelTests.message { _ = try BadModelTests.read(model) }
            #expect(text == "model.onnx: input 'x' holds \(kind); Chainrule reads models whose inputs are real numbers", "\(text)")
        }
        var integers = BadModelTests.model()
        integers.graph.input[0].type.tensorType.elemType = 7
        #expect(try BadModelTests.read(integers).graph[try BadModelTests.read(integers).output].shape == [2, 3])
    }

    /// Pow(x, p) broadcasts as NumPy does: a scalar x to the power of a [1] exponent is [1].
    /// Before: it was pow_const, of shape scalar.
    @Test func aScalarToThePowerOfAOneElementVectorIsAVector() throws {
        func power(base: [Int64], exponent: [Int64]) throws -> [Int] {
            var model = BadModelTests.model(op: "Pow", weight: Onnx_TensorProto.with { $0.name = "p"; $0.dataType = 1; $0.dims = exponent; $0.floatData = [2] })
            model.graph.input[0].type.tensorType.shape.dim = base.map { size in Onnx_TensorShapeProto.Dimension.with { $0.dimValue = size } }
            let imported = try BadModelTests.read(model)
            return imported.graph[imported.output].shape
        }
        #expect(try power(base: [], exponent: [1]) == [1])
        #expect(try power(base: [], exponent: []) == [])
        #expect(try power(base: [2, 3], exponent: [1]) == [2, 3])
    }
}
