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

    @Test func opsListsTheRegistryAsJSON() throws {
        let run = try CLIRun(["ops", "--json"])
        #expect(run.status == 0)
        let entries = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        let names = entries?.compactMap { $0["name"] as? String } ?? []
        #expect(names.contains("add"))
        #expect(names.contains("relu"))
        #expect(entries?.allSatisfy { ($0["samples"] as? [String])?.isEmpty == false } == true)
    }
}
