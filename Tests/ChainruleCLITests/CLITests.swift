import Foundation
import Testing

/// Runs the built `chainrule` executable, as a user would.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The `chainrule` binary beside this test bundle in the build folder.
    static var executable: URL {
        var folder = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("chainrule").path),
              folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("chainrule")
    }

    /// The repository's top folder (for samples/).
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    init(_ arguments: [String], stdin: String? = nil) throws {
        let process = Process()
        process.executableURL = CLIRun.executable
        process.arguments = arguments
        process.currentDirectoryURL = CLIRun.repository
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }
}

@Suite struct CLITests {
    @Test func demoPrintsTheCircuitGradients() throws {
        let run = try CLIRun(["demo"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("f = -12"))
        #expect(run.stdout.contains("∂f/∂x = -4"))
        #expect(run.stdout.contains("∂f/∂z = 3"))
    }

    @Test func usageErrorsExitWithTwo() throws {
        let run = try CLIRun(["ops", "--no-such-flag"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("Unknown option '--no-such-flag'"))
        #expect(run.stdout.isEmpty)
    }

    /// Before: Swift's `Double(_:)` read these (`--rtol inf` passed every rule, `--logits 0x10` drew a 16).
    static let numericOptions: [[String]] = [
        ["check", "-e", "x = 1\ny = x*x", "--atol"], ["check", "-e", "x = 1\ny = x*x", "--rtol"],
        ["check", "-e", "x = 1\ny = x*x", "--eps"], ["render", "-e", "x = 1", "-o", "a.png", "--scale"],
        ["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "1", "--lr"],
        ["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "1", "--beta1"],
        ["figure", "neuron", "-o", "n.png", "--bias"], ["figure", "softmax", "-o", "s.png", "--logits"],
        ["render", "-e", "x = 1", "-o", "a.svg", "--layout-timeout"],
    ]

    @Test("A numeric option reads a number as a program writes one: 0x10, 0x1p-3, inf, nan and 1_0 are refused, exit 2", arguments: numericOptions)
    func numericOptionsReadProgramNumbers(_ command: [String]) throws {
        for text in ["0x10", "0x1p-3", "inf", "nan", "1_0"] {
            let run = try CLIRun(command + [text])
            #expect(run.status == 2, "\(command.last!) \(text): \(run.stderr)")
            #expect(run.stderr.contains("'\(text)' is not") || run.stderr.contains("'\(text)' is invalid"), "\(command.last!) \(text): \(run.stderr)")
        }
    }

    @Test("An infinite tolerance, which would pass every rule, is refused")
    func anInfiniteToleranceIsRefused() throws {
        for option in ["--atol", "--rtol"] {
            let run = try CLIRun(["check", "samples/custom-op-wrong.grad", option, "1e400"])
            #expect(run.status == 2, "\(option): \(run.stdout)")
            #expect(!run.stdout.contains("PASSED"))
        }
    }

    /// ArgumentParser's usage errors and validations say `Error:`; Chainrule's own, `error:`.
    /// Every message starts the same, whoever found the problem.
    @Test("Every error message starts with 'error: ', ArgumentParser's usage errors and validations as Chainrule's own")
    func oneErrorPrefix() throws {
        let runs = [
            try CLIRun(["ops", "--no-such-flag"]),
            try CLIRun(["render", "-e", "x = 1", "--batch", "0", "-o", "a.png"]),
            try CLIRun(["render", "-e", "x = 1"]),
            try CLIRun(["render", "no-such-file.grad", "-o", "a.png"]),
            try CLIRun(["check", "-e", "x = 1\ny = x*x", "--eps", "-1"]),
        ]
        for run in runs {
            #expect(run.status == 2)
            #expect(run.stderr.hasPrefix("error: "), "\(run.stderr)")
            #expect(!run.stderr.contains("Error: "), "\(run.stderr)")
        }
    }

    @Test func opsListsTheRegistryAsJSON() throws {
        let run = try CLIRun(["ops", "--json"])
        #expect(run.status == 0)
        let entries = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        let names = entries?.compactMap { $0["name"] as? String } ?? []
        #expect(names.contains("add"))
        #expect(names.contains("relu"))
        #expect(entries?.allSatisfy { ($0["samples"] as? [String])?.isEmpty == false } == true)
    }

    @Test func evalPrintsTheCircuitAndItsGradients() throws {
        let run = try CLIRun(["eval", "samples/cs231n-circuit.grad"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("f = -12"))
        #expect(run.stdout.contains("x  -4"))
    }

    @Test func evalReadsStandardInput() throws {
        let run = try CLIRun(["eval", "-", "--json"], stdin: "x = 3\ny = x * x\n")
        #expect(run.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect(json?["output"] as? String == "y")
        #expect((json?["value"] as? [String: Any])?["data"] as? [Double] == [9])
        let gradients = json?["gradients"] as? [String: [String: Any]]
        #expect(gradients?["x"]?["data"] as? [Double] == [6])
    }

    @Test func aProgramErrorExitsTwoWithFileLineColumnAndACaret() throws {
        let run = try CLIRun(["eval", "-e", "x = 2\ny = sigmod(x)"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("<expression>:2:5: error:"))
        #expect(run.stderr.contains("sigmoid"))
        #expect(run.stderr.contains("^"))
    }

    @Test func aMissingFileExitsTwo() throws {
        let run = try CLIRun(["check", "samples/no-such-program.grad"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("cannot read 'samples/no-such-program.grad'"))
    }

    @Test func aFolderIsNotAProgram() throws {
        let run = try CLIRun(["eval", "samples"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("'samples' is a folder: give one of its programs, e.g. samples/"))
    }

    @Test(arguments: [
        (["check", "--ops", "--eps", "0"], "--eps must be a positive step, got 0.0"),
        (["check", "--ops", "--atol=-1"], "--atol must be a finite number, 0 or more, got -1.0"),
        (["check", "--ops", "--rtol=-1"], "--rtol must be a finite number, 0 or more, got -1.0"),
        (["check", "--ops", "--sample", "0"], "--sample must be at least 1 element, got 0"),
        (["check", "samples/mlp.grad", "--sample", "5", "--every-element"], "give either --sample K or --every-element, not both"),
        (["check", "--op", "relu"], "--op NAME selects ops for the rule check: add --ops"),
        (["check", "--ops", "samples/mlp.grad"], "give either --ops or a FILE, not both"),
        (["check"], "nothing to check: give --ops (every op's rule) or a FILE (a program's graph)"),
        (["check", "--ops", "--op", "rleu"], "no op named 'rleu' in the registry (did you mean relu?)"),
        (["eval"], "give one program: a FILE, - for standard input, or -e EXPR"),
        (["eval", "samples/mlp.grad", "-e", "x = 1"], "give one program: a FILE, - for standard input, or -e EXPR, not both"),
        (["eval", "-e", "x = 1", "--max-elements", "0"], "--max-elements must be at least 1, got 0"),
        (["eval", "-e", "x = 1", "--at", "y"], "--at expects name=value pairs separated by commas (x=1,y=2), found 'y'"),
    ])
    func usageErrorsExitTwoAndSayWhatWouldBeRight(arguments: [String], message: String) throws {
        let run = try CLIRun(arguments)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains(message))
    }

    @Test func checkPassesTheCircuit() throws {
        let run = try CLIRun(["check", "samples/cs231n-circuit.grad"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("PASSED"))
    }

    @Test func checkFailsTheWrongCustomRuleNamingOpNodeLineAndElement() throws {
        let run = try CLIRun(["check", "samples/custom-op-wrong.grad"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("FAIL  badsigmoid#1 (badsigmoid)"))
        #expect(run.stdout.contains("samples/custom-op-wrong.grad:11:9"))
        #expect(run.stdout.contains("element [2]"))
        #expect(run.stdout.contains("backward rule 0.88079708, finite difference 0.10499359"))
        #expect(run.stdout.contains("the backward rule of op badsigmoid for x is written at samples/custom-op-wrong.grad:7:3"))
    }

    @Test func checkPointsAtTheWrongBackwardClauseOfATwoInputOp() throws {
        let program = """
            op mymul(a, b) {
              forward: a * b
              backward a: grad * b
              backward b: grad * b
            }
            x = 3
            w = -2
            y = mymul(x, w)
            """
        let run = try CLIRun(["check", "-"], stdin: program)
        #expect(run.status == 1)
        #expect(run.stdout.contains("the backward rule of op mymul for b is written at <stdin>:4:3"))
        #expect(run.stdout.contains("input 1 \"w\""))
    }

    @Test func checkWritesTheOverlayFigureWithFigure() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-check-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try CLIRun(["check", "samples/custom-op-wrong.grad", "--figure", path])
        #expect(run.status == 1)
        let png = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let badExtension = try CLIRun(["check", "samples/cs231n-circuit.grad", "--figure", "x.gif"])
        #expect(badExtension.status == 2)
        #expect(badExtension.stdout.isEmpty)
        let withOps = try CLIRun(["check", "--ops", "--figure", "x.png"])
        #expect(withOps.status == 2)
    }

    @Test func checkSamplesLargeTensorsAndSaysSo() throws {
        let run = try CLIRun(["check", "samples/linear-classifier.grad"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("checking 200 random elements"))
        #expect(run.stdout.contains("200 of 30720 elements"))
    }

    @Test func checkOpsPassesTheWholeRegistry() throws {
        let run = try CLIRun(["check", "--ops"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("PASSED"))
        #expect(!run.stdout.contains("FAIL"))
    }

    @Test func renderRefusesAnUnknownExtensionWithoutWritingAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-cli-\(getpid()).gif").path
        let run = try CLIRun(["render", "samples/cs231n-circuit.grad", "-o", path])
        #expect(run.status == 2)
        #expect(!run.stderr.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func stepsWriteOnePDFPagePerBackwardStep() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-steps-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pdf = folder.appendingPathComponent("steps.pdf").path
        let run = try CLIRun(["render", "samples/cs231n-circuit.grad", "--steps", "-o", pdf])
        #expect(run.status == 0)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: pdf)), as: UTF8.self)
        // the forward page, then the * gate, then the + gate
        #expect(text.contains("/Count 3"))
    }

    @Test func stepsAsFramesFillAFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-frames-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLIRun(["render", "samples/sigmoid-neuron.grad", "--steps", "-o", folder.path + "/"])
        #expect(run.status == 0)
        let frames = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(frames == (0...8).map { "step-0\($0).png" })
    }

    @Test func stepsRefuseAPNGFileAndTheForwardOnlyFlag() throws {
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-steps-\(getpid()).png").path
        let wrongExtension = try CLIRun(["render", "samples/cs231n-circuit.grad", "--steps", "-o", png])
        #expect(wrongExtension.status == 2)
        #expect(!FileManager.default.fileExists(atPath: png))
        let forwardOnly = try CLIRun(["render", "samples/cs231n-circuit.grad", "--steps", "--no-grad", "-o", "x.pdf"])
        #expect(forwardOnly.status == 2)
        #expect(forwardOnly.stderr.contains("--no-grad"))
    }
}
