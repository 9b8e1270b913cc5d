import ChainruleCore
@testable import ChainruleONNX
import Foundation
import Testing

/// Models a fuzzer writes: unnamed nodes, shapes past any real size, ranks in
/// the thousands, model files that are devices. Each is refused naming what.
@Suite struct RedTeam20ONNXTests {
    static func constant(_ name: String, _ values: [Int64]) -> Onnx_TensorProto {
        Onnx_TensorProto.with { $0.name = name; $0.dataType = 7; $0.dims = [Int64(values.count)]; $0.int64Data = values }
    }

    /// `x` (2×3) → `op`(x, second) → `y`, with `second` an int64 initializer.
    static func withConstant(_ op: String, _ values: [Int64], named: Bool = true) -> Onnx_ModelProto {
        var model = BadModelTests.model(op: op)
        model.graph.initializer = [constant("second", values)]
        model.graph.node[0].input = ["x", "second"]
        if !named { model.graph.node[0].name = "" }
        return model
    }

    /// ONNX allows nodes without names (hand-built models often have them): the
    /// message names the node by what it writes, never as `node ''`.
    @Test func anUnnamedNodeIsNamedByWhatItWrites() {
        let text = BadModelTests.message { _ = try BadModelTests.read(Self.withConstant("Reshape", [7, -1], named: false)) }
        #expect(text.hasPrefix("model.onnx: the unnamed node writing 'y' (Reshape, opset 17): "), "\(text)")
    }

    /// 2⁶² is a whole number: the refusal says it is too large, not that it is not an integer.
    @Test func aHugeReshapeSizeIsRefusedAsTooLarge() {
        let text = BadModelTests.message { _ = try BadModelTests.read(Self.withConstant("Reshape", [1 << 62, -1])) }
        #expect(text == "model.onnx: node '/block/Reshape' (Reshape, opset 17): shape [4.61169e+18, -1]: size 4.61169e+18 at axis 0 is too large (sizes are below 10^15)", "\(text)")
    }

    /// An Unsqueeze of 100,000 axes made a tensor of rank 100,001, whose page took minutes.
    @Test func anUnsqueezePastSixtyFourAxesIsRefused() {
        let text = BadModelTests.message { _ = try BadModelTests.read(Self.withConstant("Unsqueeze", (2..<100_002).map(Int64.init))) }
        #expect(text.contains("100002 axes, more than the 64 a tensor may have"), "\(text)")
    }

    @Test func aDeclaredInputOfAThousandAxesIsRefused() {
        var model = BadModelTests.model()
        model.graph.input[0].type.tensorType.shape.dim = Array(repeating: Onnx_TensorShapeProto.Dimension.with { $0.dimValue = 1 }, count: 1000)
        let text = BadModelTests.message { _ = try BadModelTests.read(model) }
        #expect(text == "model.onnx: input 'x' declares 1000 axes, more than the 64 a tensor may have", "\(text)")
    }

    @Test func aModelFileThatIsADeviceIsRefusedBeforeReading() {
        let text = BadModelTests.message { _ = try ONNXImporter.read(path: "/dev/zero", options: ONNXImportOptions(limits: BadModelTests.limits)) }
        #expect(text == "/dev/zero: cannot read it: it is a device, not an .onnx model", "\(text)")
    }
}
