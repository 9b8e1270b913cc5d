import ChainruleCore
import ChainruleLanguage
import Foundation
import Testing

/// Each sample in samples/ against its `eval --json` output in Fixtures/.
///
/// Regenerate the fixtures after an intended change with
/// `CHAINRULE_REGENERATE_GOLDEN=1 swift test --filter GoldenTests`, then read the diff.
/// Numbers are compared to 1e-12 relative, so a change in summation order
/// inside an op does not fail the test, but any real change does.
@Suite struct GoldenTests {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let samplesFolder = testsFolder.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples")
    static let fixturesFolder = testsFolder.appendingPathComponent("Fixtures")

    static var sampleNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: samplesFolder.path)) ?? []
        return files.filter { $0.hasSuffix(".grad") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test func everySampleTheDocsPromiseExists() {
        let promised = [
            "cs231n-circuit", "sigmoid-neuron", "micrograd-neuron", "mlp", "softmax-cross-entropy", "svm-loss",
            "linear-classifier", "conv-layer", "lenet", "maxpool-routing", "custom-op", "custom-op-wrong", "frozen-layer",
        ]
        #expect(Set(promised).isSubset(of: Set(Self.sampleNames)))
    }

    @Test(arguments: sampleNames)
    func sampleMatchesItsFixture(_ name: String) throws {
        let source = try String(contentsOf: Self.samplesFolder.appendingPathComponent("\(name).grad"), encoding: .utf8)
        // As `chainrule eval samples/NAME.grad` does: load("…") is read beside the file.
        var options = CompileOptions()
        options.baseDirectory = Self.samplesFolder.path
        let json = try Compiler.compile(source: source, file: "samples/\(name).grad", options: options).evaluate().json()
        let fixture = Self.fixturesFolder.appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["CHAINRULE_REGENERATE_GOLDEN"] == "1" {
            try Data(json.utf8).write(to: fixture)
            return
        }
        let expected = try #require(FileManager.default.contents(atPath: fixture.path),
                                    "no fixture for \(name): run CHAINRULE_REGENERATE_GOLDEN=1 swift test --filter GoldenTests")
        let actual = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let golden = try JSONSerialization.jsonObject(with: expected) as! [String: Any]
        #expect(actual["output"] as? String == golden["output"] as? String)
        #expect(actual["notes"] as? [String] == golden["notes"] as? [String])
        try expectClose(actual["value"], golden["value"], "value")
        let gradients = actual["gradients"] as! [String: Any], goldenGradients = golden["gradients"] as! [String: Any]
        #expect(Set(gradients.keys) == Set(goldenGradients.keys))
        for (leaf, tensor) in goldenGradients {
            try expectClose(gradients[leaf], tensor, "gradient of \(leaf)")
        }
    }

    /// Same shape, and every element equal to 1e-12 relative (NaN and the
    /// infinities, written as strings, must match exactly).
    func expectClose(_ actual: Any?, _ expected: Any?, _ what: String) throws {
        let a = try #require(actual as? [String: Any], "\(what) missing")
        let e = try #require(expected as? [String: Any])
        #expect(a["shape"] as? [Int] == e["shape"] as? [Int], "\(what): shape")
        let aData = a["data"] as! [Any], eData = e["data"] as! [Any]
        try #require(aData.count == eData.count, "\(what): element count")
        var worst: (index: Int, actual: Double, expected: Double)?
        for i in aData.indices {
            if let text = eData[i] as? String {
                #expect(aData[i] as? String == text, "\(what)[\(i)]")
                continue
            }
            let x = (aData[i] as! NSNumber).doubleValue, y = (eData[i] as! NSNumber).doubleValue
            if abs(x - y) > 1e-12 * max(1, abs(y)) && worst == nil { worst = (i, x, y) }
        }
        #expect(worst == nil, "\(what): element \(worst?.index ?? 0) is \(worst?.actual ?? 0), the fixture has \(worst?.expected ?? 0)")
    }
}
