import ChainruleCheck
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

/// Starts a layer file with python3; the pids it starts and reaps go to `log`.
func start(_ path: String, interpreter: String = "python3", deadline: Double = 60, log: PidLog? = nil)
    throws(ExternalError) -> ExternalOperation
{
    try ExternalOperation.start(script: path, interpreter: interpreter, deadline: deadline, hook: log?.hook)
}

/// The error starting or checking a layer file ends with (nil when it checks).
func failure(_ path: String, deadline: Double = 60, log: PidLog? = nil) -> ExternalError? {
    do {
        let op = try start(path, deadline: deadline, log: log)
        defer { op.close() }
        _ = try op.check()
        return nil
    } catch {
        return error
    }
}

/// The child pids a hook heard of.
final class PidLog: @unchecked Sendable {
    private let lock = NSLock()
    private var startedPids: [Int32] = []
    private var reapedPids: [Int32] = []

    var hook: ChildProcessHook {
        ChildProcessHook(
            started: { pid in self.lock.withLock { self.startedPids.append(pid) } },
            reaped: { pid in self.lock.withLock { self.reapedPids.append(pid) } })
    }

    var started: [Int32] { lock.withLock { startedPids } }
    var reaped: [Int32] { lock.withLock { reapedPids } }

    /// Every started child has been reaped and no process with its pid is left.
    var allReaped: Bool {
        started.count == reaped.count && Set(started) == Set(reaped) && started.allSatisfy { kill($0, 0) != 0 }
    }
}

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
