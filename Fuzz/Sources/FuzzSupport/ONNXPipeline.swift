import ChainruleCheck
import ChainruleCore
import ChainruleLanguage
import ChainruleONNX
import Foundation

extension Pipeline {
    /// Reads `bytes` as an ONNX model under `limits` (external data looked
    /// for in `folder`), then evaluates, checks and draws it as `run` does a
    /// program. Never throws: a refusal is an `ONNXError`, described.
    public static func runONNX(bytes: Data, folder: URL, variant: Variant, limits: Limits) {
        let model: ONNXModel
        do {
            model = try ONNXImporter.read(
                data: bytes, file: "fuzz.onnx", folder: folder,
                options: ONNXImportOptions(
                    limits: ONNXLimits(maxElements: limits.maxElements, maxMemory: limits.maxMemory),
                    seed: variant.hash & 0xff))
        } catch {
            _ = error.description
            return
        }
        let program = Program(graph: model.graph, output: model.output, outputName: model.outputName, notes: model.notes, file: "fuzz.onnx")
        do {
            let evaluation = try program.evaluate()
            _ = evaluation.json()
        } catch {
            _ = error.description
            return
        }
        var report: CheckReport?
        if program.graph.count <= limits.maxCheckedNodes { report = check(program, variant: variant, limits: limits) }
        if program.graph.count <= limits.maxDrawnNodes { draw(program, report: report, variant: variant, limits: limits) }
    }
}
