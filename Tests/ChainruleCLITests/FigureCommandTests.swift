import Foundation
import Testing

@Suite("chainrule figure")
struct FigureCommandTests {
    @Test("--list names every figure with its description")
    func list() throws {
        let run = try CLIRun(["figure", "--list"])
        #expect(run.status == 0)
        let names = run.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
        #expect(names == ["activations", "relu", "error-vs-h", "loss-surface", "loss-curve", "losses", "softmax", "neuron", "network", "templates",
                          "conv-arithmetic", "pooling", "circuit", "neuron-gates", "micrograd"])
        #expect(run.stdout.contains("error-vs-h       finite-difference error against the step h"))
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

    @Test("--scale outside 0…16 exits 2 and names the range, for figure and render alike", arguments: [("0", "0"), ("17", "17"), ("-1", "-1")])
    func badScale(_ scale: String, shown: String) throws {
        for command in [["figure", "circuit"], ["render", "--example", "cs231n"]] {
            let run = try CLIRun(command + ["-o", "/tmp/never-written.png", "--scale", scale])
            #expect(run.status == 2)
            #expect(run.stderr.contains("--scale must be above 0 and at most 16, got \(shown)"), "\(command): \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.png"))
    }
}

@Suite("chainrule figure: diagrams from arguments and programs")
struct DiagramCommandTests {
    /// Runs `chainrule figure ARGS -o FILE.svg` in a fresh folder and returns the run and the SVG.
    func drawn(_ arguments: [String]) throws -> (run: CLIRun, svg: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-diagram-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("figure.svg").path
        let run = try CLIRun(["figure"] + arguments + ["-o", path])
        return (run, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    @Test("neuron from numbers, conv-arithmetic and softmax from arguments, network from a program")
    func fromArguments() throws {
        let neuron = try drawn(["neuron", "--inputs", "1,2", "--weights", "0.5,-1", "--bias", "0.1", "--activation", "sigmoid"])
        #expect(neuron.run.status == 0, "\(neuron.run.stderr)")
        #expect(neuron.svg.contains(">z = -1.40</text>") && neuron.svg.contains(">0.20</text>"))
        let conv = try drawn(["conv-arithmetic", "--input", "5", "--kernel", "3", "--stride", "1", "--pad", "1"])
        #expect(conv.svg.contains(">= (5 − 3 + 2·1)/1 + 1 = 5</text>"))
        let softmax = try drawn(["softmax", "--logits", "1,1", "--label", "1", "--title", "Two ties"])
        #expect(softmax.svg.contains(">0.500</text>") && softmax.svg.contains(">Two ties</text>"))
        let network = try drawn(["network", "samples/mlp.grad"])
        #expect(network.run.status == 0, "\(network.run.stderr)")
        #expect(network.svg.contains(">16 units</text>"))
    }

    @Test("a training log becomes a slide; a bad one exits 2 at its line", arguments: [
        ("epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.7\n", 0, ""),
        ("epoch,loss\n0,1.0\n1,x\n", 2, "log.csv:3: 'x' in column loss is not a number"),
    ])
    func log(text: String, status: Int32, message: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("log.csv").path
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        let png = folder.appendingPathComponent("curve.png").path
        let run = try CLIRun(["figure", "loss-curve", "--log", log, "-o", png, "--scale", "1"])
        #expect(run.status == status, "\(run.stderr)")
        #expect(message.isEmpty || run.stderr.contains(message))
        #expect(FileManager.default.fileExists(atPath: png) == (status == 0))
    }

    @Test("bad arguments exit 2 with what was wrong, and write nothing", arguments: [
        (["conv-arithmetic", "--input", "7", "--kernel", "4", "--stride", "2", "--pad", "0"], "(7 − 4 + 2·0)/2 + 1 = 2.5 is not a whole number"),
        (["softmax", "--kernel", "3"], "the figure softmax does not read --kernel: it reads --logits, --label"),
        (["softmax", "--logits", "1,2", "--label", "2"], "label 2 is not a class"),
        (["softmax", "--logits", "1,x"], "--logits takes finite numbers separated by commas"),
        (["neuron", "--inputs", "1,2", "--weights", "3"], "2 inputs but 1 weight"),
        (["neuron", "--activation", "sigmoidd"], "did you mean 'sigmoid'?"),
        (["network"], "the figure network is drawn from a program"),
        (["templates", "samples/cs231n-circuit.grad"], "has no linear layer"),
        (["pooling", "--fit", "wide"], "--fit takes slide (16:9), 4:3 or WxH"),
        (["circuit", "--fit", "4:3"], "the figure circuit is a graph, whose page follows from its layout"),
    ])
    func refused(arguments: [String], message: String) throws {
        let result = try drawn(arguments)
        #expect(result.run.status == 2)
        #expect(result.run.stderr.contains(message), "\(result.run.stderr)")
        #expect(result.svg.isEmpty)
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

@Suite("--fit on the training figures")
struct TrainingFigureFitTests {
    /// A PNG's width and height in pixels, from its IHDR chunk.
    private func pixelSize(_ path: String) throws -> (Int, Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func word(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    @Test("figure lr-schedules and figure optimizers draw on the page --fit asks for", arguments: [
        (["lr-schedules"], "4:3", (720, 540)),
        (["optimizers", "--optimizers", "sgd,momentum"], "1200x500", (1200, 500)),
        (["lr-schedules"], "slide", (960, 540)),
    ])
    func page(_ command: [String], fit: String, points: (Int, Int)) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-fit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("figure.png").path
        let run = try CLIRun(["figure"] + command + ["--fit", fit, "--scale", "1", "-o", path])
        #expect(run.status == 0, "\(run.stderr)")
        let size = try pixelSize(path)
        #expect(size == points)
    }

    @Test("a page --fit cannot parse exits 2 before anything is drawn")
    func badPage() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-fit-\(UUID().uuidString).png").path
        let run = try CLIRun(["figure", "lr-schedules", "--fit", "wide", "-o", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--fit takes slide (16:9), 4:3 or WxH"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
