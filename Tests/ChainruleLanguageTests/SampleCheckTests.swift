import ChainruleCheck
import ChainruleCore
import ChainruleLanguage
import Foundation
import Testing

/// The gradient checker on compiled programs: op blocks are checked like
/// built-in ops, and a wrong custom backward is caught and placed.
@Suite struct SampleCheckTests {
    func compileSample(_ name: String) throws -> Program {
        let url = GoldenTests.samplesFolder.appendingPathComponent("\(name).grad")
        return try Compiler.compile(source: try String(contentsOf: url, encoding: .utf8), file: "samples/\(name).grad")
    }

    @Test(arguments: ["cs231n-circuit", "sigmoid-neuron", "micrograd-neuron", "softmax-cross-entropy", "custom-op", "frozen-layer"])
    func smallSamplesPassTheCheck(_ name: String) throws {
        let program = try compileSample(name)
        let report = try GradientCheck.graph(program.graph, output: program.output)
        #expect(report.passed, "\(name): \(report.nodes.filter { $0.status == .fail }.map(\.name))")
    }

    @Test func aWrongCustomBackwardFailsNamingTheOpNodeAndLine() throws {
        let program = try compileSample("custom-op-wrong")
        let report = try GradientCheck.graph(program.graph, output: program.output)
        #expect(!report.passed)
        let failed = report.nodes.filter { $0.status == .fail }
        #expect(failed.map(\.op) == ["badsigmoid"])
        #expect(failed.first?.location?.line == 11)
        #expect(program.customOperations["badsigmoid"]?.definition.line == 5)
    }
}
