import ChainruleCheck
import ChainruleCore
import ChainruleLanguage
import ChainruleONNX
import Foundation
import Testing

/// The models of Fixtures/, exported by scripts/onnx/make-fixtures.py with
/// torch.onnx.export, against torch's float64 outputs and input gradients
/// computed from the same weights.
@Suite struct TorchReferenceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let models = ["mlp", "lenet", "small-cnn", "view-net"]
    static let limits = ONNXLimits(maxElements: 1_000_000, maxMemory: 1 << 28)

    static func npy(_ name: String) throws -> Tensor {
        try Npy.load(path: fixtures.appendingPathComponent(name).path)
    }

    static func load(_ model: String, input: Tensor? = nil, loss: ONNXLoss? = nil) throws -> ONNXModel {
        let inputs = try input.map { ["": $0] } ?? ["": npy("\(model).input.npy")]
        return try ONNXImporter.read(
            path: fixtures.appendingPathComponent("\(model).onnx").path,
            options: ONNXImportOptions(limits: limits, inputs: inputs, loss: loss))
    }

    /// The largest |a − b| / max(|b|, 1e-300) over the elements.
    static func worstRelativeError(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.data, b.data).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? 0
    }

    @Test(arguments: models)
    func forwardOutputMatchesTorch(model: String) throws {
        let imported = try Self.load(model)
        let expected = try Self.npy("\(model).output.npy")
        let output = try #require(imported.graph[imported.output].value)
        #expect(output.shape == expected.shape)
        #expect(Self.worstRelativeError(output, expected) < 1e-9)
    }

    @Test(arguments: models)
    func inputGradientOfTheSummedOutputMatchesTorch(model: String) throws {
        let imported = try Self.load(model)
        try imported.graph.backward(from: imported.output)
        let expected = try Self.npy("\(model).input-grad.npy")
        let gradient = try #require(imported.graph[imported.inputs[0].node].gradient)
        #expect(gradient.shape == expected.shape)
        let scale = expected.data.map(abs).max()!
        let worst = zip(gradient.data, expected.data).map { abs($0 - $1) / max(abs($1), scale * 1e-6) }.max()!
        #expect(worst < 1e-8)
        #expect(imported.notes.contains { $0.contains("gradients are those of sum(output)") })
    }

    /// The check `chainrule check` runs: tensors above 2,000 elements sampled at 200 elements.
    static func check(_ model: ONNXModel, fast: Bool = false) throws -> CheckReport {
        let options = CheckOptions(fast: fast).samplingLargeTensors(of: model.graph).options
        return try GradientCheck.graph(model.graph, output: model.output, options: options)
    }

    @Test(arguments: models)
    func gradientCheckPasses(model: String) throws {
        let report = try Self.check(try Self.load(model))
        #expect(report.passed)
        #expect(report.nodes.count > 3)
    }

    /// torch ≥ 2.9's default exporter: module paths in node metadata, weights in a `.onnx.data` sidecar.
    @Test func theTorchExportBasedExporterReadsWithItsSidecarAndModuleNames() throws {
        let imported = try Self.load("lenet-dynamo", input: try Self.npy("lenet.input.npy"))
        let output = try #require(imported.graph[imported.output].value)
        #expect(Self.worstRelativeError(output, try Self.npy("lenet.output.npy")) < 1e-9)
        let layers = imported.graph.layers
        #expect(layers.map(\.name) == ["features.conv1", "features.relu1", "features.pool1", "features.conv2", "features.relu2", "features.pool2", "classifier.fc1", "classifier.sigmoid", "classifier.fc2"])
        #expect(layers.map(\.kind).prefix(3) == ["Conv2d", "ReLU", "MaxPool2d"])
        #expect(imported.graph.nodes.filter { $0.role == .param }.map(\.displayName).first == "features.conv1.weight")
    }

    @Test func crossEntropyLossOnTheLogits() throws {
        let imported = try Self.load("lenet", loss: ONNXLoss(.crossEntropy, labels: [3, 7]))
        #expect(imported.graph[imported.output].shape == [])
        #expect(imported.outputName == "loss")
        #expect(try Self.check(imported, fast: true).passed)
        #expect(throws: ONNXError.self) { try Self.load("lenet", loss: ONNXLoss(.crossEntropy, labels: [3])) }
        #expect(throws: ONNXError.self) { try Self.load("lenet", loss: ONNXLoss(.crossEntropy, labels: [3, 10])) }
    }

    @Test func layersAndParametersAreNamedAsInPyTorch() throws {
        let imported = try Self.load("lenet")
        let graph = imported.graph
        #expect(graph.layers.map(\.name) == ["features.conv1", "features.relu1", "features.pool1", "features.conv2", "features.relu2", "features.pool2", "classifier.fc1", "classifier.sigmoid", "classifier.fc2"])
        #expect(graph.layers[0].kind == "Conv")
        // What the model view prints comes from the op: 4 filters, pad 1.
        let conv = try #require(graph.nodes(inLayer: 0).first { graph[$0].op != nil })
        let shapes = graph[conv].inputs.map { graph[$0].shape }
        #expect(shapes[1].first == 4 && graph[conv].op?.layerAttributes(inputShapes: shapes).pad == 1)
        let parameters = graph.nodes.filter { $0.role == .param }
        #expect(parameters.map(\.displayName) == ["features.conv1.weight", "features.conv1.bias", "features.conv2.weight", "features.conv2.bias", "classifier.fc1.weight", "classifier.fc1.bias", "classifier.fc2.weight", "classifier.fc2.bias"])
        let conv1 = try #require(graph.layers.firstIndex { $0.name == "features.conv1" })
        #expect(parameters.filter { $0.layer == conv1 }.map(\.displayName) == ["features.conv1.weight", "features.conv1.bias"])
    }

    @Test func batchNormStatisticsAreConstantsAndItsAffineWeightsParameters() throws {
        let graph = try Self.load("small-cnn").graph
        func role(_ name: String) -> NodeRole? { graph.nodes.first { $0.name == name }?.role }
        #expect(role("bn1.running_mean") == .constant && role("bn1.running_var") == .constant)
        #expect(role("bn1.weight") == .param && role("bn1.bias") == .param)
        #expect(graph.nodes.contains { $0.op?.name == "batch_norm" } && graph.nodes.contains { $0.op?.name == "global_avgpool" })
    }

    @Test func viewChainIsFoldedIntoOneReshape() throws {
        let graph = try Self.load("view-net").graph
        let reshapes = graph.nodes.filter { $0.op?.name == "reshape" }
        #expect(reshapes.count == 1)
        #expect(reshapes.first?.op?.attributes["shape"] == .ints([2, -1]))
        #expect(graph.nodes.contains { $0.op?.name == "concat" })
    }

    @Test func withoutAnInputTheDeclaredShapeIsFilledWithSeededNoise() throws {
        let path = Self.fixtures.appendingPathComponent("lenet.onnx").path
        let first = try ONNXImporter.read(path: path, options: ONNXImportOptions(limits: Self.limits))
        let again = try ONNXImporter.read(path: path, options: ONNXImportOptions(limits: Self.limits))
        let input = try #require(first.graph[first.inputs[0].node].value)
        #expect(input.shape == [1, 1, 16, 16])
        #expect(input.data == again.graph[again.inputs[0].node].value?.data)
        #expect(first.notes.contains { $0.contains("input input is random normal, seed 0, of the declared shape 1×1×16×16 (its dynamic axes set to 1)") })
        #expect(first.graph[first.output].shape == [1, 10])
    }
}
