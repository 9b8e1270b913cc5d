import Foundation
import Testing

/// `chainrule check --python FILE` and `chainrule python-module DIR`, as a user runs them.
@Suite struct CheckPythonTests {
    static let scripts = "Tests/ChainruleBridgeTests/Scripts"

    @Test func aCorrectNumPyLayerPasses() throws {
        let run = try CLIRun(["check", "--python", "samples/python/affine.py"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("samples/python/affine.py: affine_forward(x 2×4×5, w 20×3, b 3) → out 2×3"))
        #expect(run.stdout.contains("✓ pass  out (affine_forward)"))
        #expect(run.stdout.contains("samples/python/affine.py:7:1"))
        #expect(run.stdout.contains("round trips to Python"))
    }

    @Test func aWrongNumPyLayerFailsNamedToTheInputAndElement() throws {
        let run = try CLIRun(["check", "--python", "samples/python/affine-wrong.py"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("✗ FAIL  out (affine_forward)"))
        #expect(run.stdout.contains("input 1 \"w\" element ["))
        #expect(run.stdout.contains("FAILED: 1 of 1 node"))
    }

    @Test func theReportIsJSONWithTheInputsPythonNames() throws {
        let run = try CLIRun(["check", "--python", "samples/python/affine-wrong.py", "--json"])
        #expect(run.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["passed"] as? Bool == false)
        let node = try #require((report["nodes"] as? [[String: Any]])?.first)
        #expect(node["op"] as? String == "affine_forward")
        #expect(((node["verdict"] as? [String: Any])?["worst"] as? [String: Any])?["inputName"] as? String == "w")
    }

    @Test func theFigureDrawsTheOpWithItsInputs() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("python-check-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try CLIRun(["check", "--python", "samples/python/affine-wrong.py", "--figure", out.path])
        #expect(run.status == 1)
        let png = try Data(contentsOf: out)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    @Test func theSweepOfTheLayerIsDrawnAtOutOrAtANamedInput() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("python-sweep-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: out) }
        let whole = try CLIRun(["check", "--python", "samples/python/softmax-loss.py", "--sweep", "out", "-o", out.path])
        #expect(whole.status == 0)
        #expect(whole.stdout.contains(": step sweep of out (softmax_loss) at x element ["))
        #expect(try Data(contentsOf: out).starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let atW = try CLIRun(["check", "--python", "samples/python/affine.py", "--sweep", "w", "-o", out.path])
        #expect(atW.status == 0)
        #expect(atW.stdout.contains(": step sweep of out (affine_forward) at w element ["))
        let unknown = try CLIRun(["check", "--python", "samples/python/affine.py", "--sweep", "weights", "-o", out.path])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("the layer has no node or input named 'weights'"))
        #expect(unknown.stderr.contains("give out, x, w, b"))
    }

    @Test func theUsualOptionsApply() throws {
        let run = try CLIRun(["check", "--python", "samples/python/conv.py", "--fast", "--stencil", "five-point"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("five-point stencil, h = 1e-3"))
        #expect(run.stdout.contains("uᵀJv agreed"))
    }

    @Test(arguments: [
        ("samples/python/no-such-layer.py", "error: cannot run 'samples/python/no-such-layer.py': no such file"),
        ("\(scripts)/raises-at-import.py", "RuntimeError: the layer file itself is broken"),
        ("\(scripts)/raises-at-import.py", "Python exited with status 1 before chainrule.serve answered (its error is above)"),
        ("\(scripts)/forward-raises.py", "a Python error: forward raised NameError: name 'undefined_scale' is not defined"),
        ("\(scripts)/forward-raises.py", "forward-raises.py\", line 7, in forward"),
        ("\(scripts)/writes-into-pipe.py", "a protocol error on the pipe to Python: Python sent \"hell\""),
        ("\(scripts)/wrong-gradient-shape.py", "a wrong shape: backward's gradient for 'w' has shape (2, 3); it must have the shape of w, (3, 2)"),
        ("\(scripts)/exits-mid-check.py", "Python exited with status 7 in the middle of the check, while chainrule waited for forward"),
        ("\(scripts)/never-serves.py", "the file finished without calling chainrule.serve"),
    ])
    func badInputExitsTwoWithWhatWentWrong(file: String, message: String) throws {
        let run = try CLIRun(["check", "--python", file])
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "stderr: \(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func aHangingFunctionIsStoppedAtItsDeadline() throws {
        let started = Date()
        let run = try CLIRun(["check", "--python", "\(Self.scripts)/hangs.py", "--python-timeout", "1"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("Python did not answer within 1 s (the deadline for one call) while chainrule waited for forward at "))
        #expect(run.stderr.contains("--python-timeout SECONDS"))
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func anInterruptDuringTheStartLeavesNothingBehind() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("interrupted-\(UUID().uuidString)")
        let temporary = scratch.appendingPathComponent("tmp"), pidFile = scratch.appendingPathComponent("python.pid")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = CLIRun.executable
        process.arguments = ["check", "--python", "\(Self.scripts)/slow-start.py"]
        process.currentDirectoryURL = CLIRun.repository
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = temporary.path
        environment["CHAINRULE_TEST_PID_FILE"] = pidFile.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Interrupted once Python runs (its pid is written), 1 s into its start.
        let started = Date()
        while !FileManager.default.fileExists(atPath: pidFile.path) && Date().timeIntervalSince(started) < 20 { usleep(10_000) }
        let seen = try FileManager.default.contentsOfDirectory(atPath: temporary.path)
        usleep(1_000_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130)
        #expect(seen.contains { $0.hasPrefix(".chainrule-") }, "the module's folder lies in TMPDIR while Python starts")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path) == [])
        let pid = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8)))
        // Killed, it is reaped by whoever inherited it: at once, but not by us.
        let killed = Date()
        while kill(pid, 0) == 0 && Date().timeIntervalSince(killed) < 5 { usleep(10_000) }
        #expect(kill(pid, 0) != 0, "the Python child \(pid) still runs")
    }

    @Test func pythonGoesWithSomethingElseToCheckIsAUsageError() throws {
        let run = try CLIRun(["check", "--python", "samples/python/affine.py", "--ops"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("give one thing to check: --ops, a FILE, or --python FILE"))
    }

    @Test func theModuleWrittenOutRunsAFileByHand() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("python-module-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try CLIRun(["python-module", folder.path])
        #expect(written.status == 0)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("chainrule.py").path))

        // Without chainrule on PATH, serve runs forward and backward once and says so.
        let alone = try python(["samples/python/affine.py"], modules: folder, chainruleOnPath: false)
        #expect(alone.status == 0)
        #expect(alone.stderr.contains("affine_forward: output (2, 3); gradients x (2, 4, 5), w (20, 3), b (3,)."))
        #expect(alone.stderr.contains("chainrule is not on PATH"))

        // With chainrule on PATH, running the file is running `chainrule check --python` on it.
        let handed = try python(["samples/python/affine-wrong.py", "--json"], modules: folder, chainruleOnPath: true)
        #expect(handed.status == 1)
        #expect(handed.stdout.contains("\"inputName\" : \"w\""))
    }

    /// Runs `python3 ARGUMENTS` in the repository with `modules` on PYTHONPATH, and the
    /// built chainrule first on PATH or no chainrule on it at all.
    func python(
        _ arguments: [String], modules: URL, chainruleOnPath: Bool
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
            .filter { !FileManager.default.isExecutableFile(atPath: "\($0)/chainrule") }
        let tools = CLIRun.executable.deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let path = ((chainruleOnPath ? [tools] : []) + folders).joined(separator: ":")
        process.arguments = ["PATH=\(path)", "PYTHONPATH=\(modules.path)", "python3"] + arguments
        process.currentDirectoryURL = CLIRun.repository
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
