import Foundation
import Testing

@Suite("chainrule figure")
struct FigureCommandTests {
    @Test("--list names every figure with its description")
    func list() throws {
        let run = try CLIRun(["figure", "--list"])
        #expect(run.status == 0)
        let names = run.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        #expect(names == ["activations", "error-vs-h", "loss-surface", "loss-curve", "circuit", "neuron", "micrograd"])
        #expect(run.stdout.contains("error-vs-h    finite-difference error against the step h"))
    }

    @Test("a figure is written as PNG, and nothing else is left in the folder")
    func writesPNG() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-figure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("curve.png").path
        let run = try CLIRun(["figure", "loss-curve", "-o", path, "--scale", "1", "--palette", "colorblind"])
        #expect(run.status == 0, "\(run.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["curve.png"])
    }

    @Test("a misspelt name exits 2 and suggests the figure meant")
    func unknownName() throws {
        let run = try CLIRun(["figure", "los-curve", "-o", "/tmp/never-written.png"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown figure 'los-curve': did you mean 'loss-curve'?"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.png"))
    }

    @Test("an output that is not PNG, SVG or PDF exits 2 and says which endings work")
    func badExtension() throws {
        let run = try CLIRun(["figure", "circuit", "-o", "circuit.dot"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("end the file name with .png, .svg or .pdf"))
    }

    @Test("a folder that does not exist exits 2 and is named")
    func missingFolder() throws {
        let run = try CLIRun(["figure", "circuit", "-o", "/no-such-folder/circuit.png"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("the folder '/no-such-folder' does not exist"))
    }
}
