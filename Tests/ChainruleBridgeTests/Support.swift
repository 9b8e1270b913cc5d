import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// The repository's top folder, for samples/python and the test scripts.
let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A sample's or a test script's path: `sample("affine")`, `script("hangs")`.
func sample(_ name: String) -> String { repository.appendingPathComponent("samples/python/\(name).py").path }
func script(_ name: String) -> String {
    repository.appendingPathComponent("Tests/ChainruleBridgeTests/Scripts/\(name).py").path
}

/// Starts a layer file with python3.
func start(_ path: String, interpreter: String = "python3", deadline: Double = 60) throws(ExternalError) -> ExternalOperation {
    try ExternalOperation.start(script: path, interpreter: interpreter, deadline: deadline)
}

/// Starts and checks a layer file: the error it ends with (nil when it checks), and the
/// pid of its Python child, if it got as far as `serve`, with whether `Temporaries` tracked it then.
func run(_ path: String, deadline: Double = 60) -> (failure: ExternalError?, child: (pid: Int32, tracked: Bool)?) {
    var child: (pid: Int32, tracked: Bool)?
    do {
        let op = try start(path, deadline: deadline)
        defer { op.close() }
        child = op.processID.map { ($0, Temporaries.children.contains($0)) }
        _ = try op.check()
        return (nil, child)
    } catch {
        return (error, child)
    }
}

/// The error starting or checking a layer file ends with (nil when it checks).
func failure(_ path: String, deadline: Double = 60) -> ExternalError? { run(path, deadline: deadline).failure }

/// Whether the child `pid` has been reaped: `Temporaries` no longer tracks it, and no process
/// (not even a zombie) has its pid.
func isReaped(_ pid: Int32) -> Bool { !Temporaries.children.contains(pid) && kill(pid, 0) != 0 }

/// What is missing for the bridge's tests, if anything: they need python3 with NumPy.
let pythonProblem: String? = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
        process.waitUntilExit()
    } catch {
        return "cannot run python3 (\(error))"
    }
    return process.terminationStatus == 0 ? nil : "python3 cannot import numpy"
}()

/// A Python that imports torch and NumPy: `$CHAINRULE_TORCH_PYTHON`, else python3; nil when neither does.
let torchPython: String? = {
    let candidates = [ProcessInfo.processInfo.environment["CHAINRULE_TORCH_PYTHON"], "python3"].compactMap { $0 }
    for python in candidates {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", "import torch, numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { continue }
        process.waitUntilExit()
        if process.terminationStatus == 0 { return python }
    }
    return nil
}()

let torchSkipReason: Comment = "torch is not importable (by $CHAINRULE_TORCH_PYTHON or python3): the torch adapter's tests are SKIPPED; set CHAINRULE_TORCH_PYTHON=/path/to/python with torch and NumPy to run them"
