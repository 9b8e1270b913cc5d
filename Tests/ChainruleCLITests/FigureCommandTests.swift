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
        defer { try? FileManager.default.removeItem(at: folder) }
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

    @Test("no figure name exits 2 and lists the figures")
    func noName() throws {
        let run = try CLIRun(["figure", "-o", "/tmp/never-written.png"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("name a figure, or use --list to see them: activations,"))
    }

    @Test("--scale outside 0…16 exits 2 and names the range, for figure and render alike", arguments: [("0", "0"), ("17", "17"), ("nan", "NaN")])
    func badScale(_ scale: String, shown: String) throws {
        for command in [["figure", "circuit"], ["render", "--example", "cs231n"]] {
            let run = try CLIRun(command + ["-o", "/tmp/never-written.png", "--scale", scale])
            #expect(run.status == 2)
            #expect(run.stderr.contains("--scale must be above 0 and at most 16, got \(shown)"), "\(command): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.png"))
    }
}

@Suite("chainrule render refuses bad options before drawing")
struct RenderOptionTests {
    @Test("a misspelt --example exits 2 and suggests the example meant")
    func unknownExample() throws {
        let run = try CLIRun(["render", "--example", "cs231", "-o", "/tmp/never-written.png"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown example 'cs231': did you mean 'cs231n'? the examples are cs231n,"))
    }

    @Test("a program file together with --example exits 2: one program only")
    func programAndExample() throws {
        let run = try CLIRun(["render", "samples/cs231n-circuit.grad", "--example", "cs231n", "-o", "/tmp/never-written.png"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("give one program: a FILE, - for standard input, -e EXPR, or --example NAME"))
    }

    @Test("--precision outside 0…12 exits 2", arguments: ["-1", "13"])
    func badPrecision(_ precision: String) throws {
        let run = try CLIRun(["render", "--example", "cs231n", "-o", "/tmp/never-written.png", "--precision=\(precision)"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--precision must be between 0 and 12, got \(precision)"))
    }
}
