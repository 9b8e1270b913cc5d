import Foundation
import Testing

/// What a hostile input may leave in its folder before the run: files, symlinks, folders.
enum HostileEntry: Sendable {
    case file(Data)
    case symlink(to: String)
    case folder
    /// A named pipe (FIFO) that nobody writes to.
    case fifo
    /// A sparse file of this many bytes (all zero) that takes no room on disk.
    case sparse(bytes: Int)

    static func text(_ text: String) -> HostileEntry { .file(Data(text.utf8)) }
}

/// Where the run's standard output and error go: files the test reads, or a hostile place.
enum HostileStreams: Sendable {
    /// Both to files (the stdout and stderr the expectation reads).
    case files
    /// Standard output to `/dev/full`: every write fails with ENOSPC.
    case stdoutFull
    /// Standard error to `/dev/full` (a refusal has nowhere to go, but must not become a signal).
    case stderrFull
    /// Standard output to a pipe whose reader has already closed it (`chainrule … | head -c 0`).
    case stdoutReaderGone
}

/// What a run of `chainrule` on a hostile input must do. Whatever it is,
/// the exit status is 0, 1 or 2 (never a signal) within the time bound, and
/// the folder holds afterwards exactly what it held before plus `writes`
/// (nothing at all added when the run refused).
struct HostileExpectation: Sendable {
    /// The statuses allowed, a subset of {0, 1, 2}.
    var exits: Set<Int32>
    /// With status 2, standard error contains this (nil: any message, when the wording is not settled).
    var refusal: String?
    /// With status 0 or 1, standard output contains this.
    var prints: String?
    /// With status 0 or 1, these files (relative to the folder) exist and nothing else is new.
    var writes: [String] = []
    /// Standard error (any status) never contains this: the misleading message the issue reports.
    var never: String?
    /// Whether a refusal must say something on standard error (not when standard error is `/dev/full`).
    var speaks = true
    /// A further rule on the run; returns what is wrong, or nil.
    var rule: (@Sendable (HostileRun) -> String?)?

    static func succeeds(writes: [String] = [], prints: String? = nil, never: String? = nil) -> HostileExpectation {
        HostileExpectation(exits: [0], prints: prints, writes: writes, never: never)
    }

    static func refuses(_ message: String?, never: String? = nil) -> HostileExpectation {
        HostileExpectation(exits: [2], refusal: message, never: never)
    }

    /// A refusal whose message has nowhere to go (standard error is full): exit 2 all the same.
    static let refusesSilently = HostileExpectation(exits: [2], speaks: false)

    /// Either outcome is right (the issue allows both: "render or refuse"), but not a crash, a hang or a leftover.
    static func succeedsOrRefuses(writes: [String] = [], prints: String? = nil, refusal: String?) -> HostileExpectation {
        HostileExpectation(exits: [0, 2], refusal: refusal, prints: prints, writes: writes)
    }

    /// A gradient check that passes or fails (0 or 1), writing `writes`.
    static func checks(writes: [String] = []) -> HostileExpectation {
        HostileExpectation(exits: [0, 1], writes: writes)
    }

    func with(rule: @escaping @Sendable (HostileRun) -> String?) -> HostileExpectation {
        var copy = self
        copy.rule = rule
        return copy
    }
}

/// One row of the hostile-input table: the command, the files it finds in its folder, what it must do.
struct HostileCase: Sendable, CustomStringConvertible {
    var description: String
    var arguments: [String]
    var inputs: [String: HostileEntry] = [:]
    var expect: HostileExpectation
    var streams: HostileStreams = .files
    /// Generous for a slow CI machine running a debug build; the run is killed past it.
    var seconds: Double = 30
}

extension HostileCase {
    /// Runs the case in a folder of its own and records what is wrong against its expectation
    /// (the one check every red-team suite shares), with how long it ran and both streams' start.
    func expectHandled(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try HostileRun(arguments, inputs: inputs, seconds: seconds, streams: streams)
        let problems = run.problems(against: expect, bound: seconds)
        #expect(problems.isEmpty, "\(problems.joined(separator: "; ")) — after \(String(format: "%.1f", run.seconds)) s; stdout: \(run.stdout.prefix(600)); stderr: \(run.stderr.prefix(600))",
                sourceLocation: sourceLocation)
    }
}

/// The result of running `chainrule` in a folder of its own.
struct HostileRun: Sendable {
    var status: Int32
    /// Ended by a signal (status is then the signal's number).
    var signalled: Bool
    var timedOut: Bool
    var seconds: Double
    var stdout: String
    var stderr: String
    /// Paths in the folder after the run that were not among the inputs.
    var added: [String]
    /// Whether a temporary (`.chainrule-…`) was seen before a signal was sent.
    var sawTemporary: Bool
    /// Processes still working in the run's folder after it ended (a layout
    /// worker left running); they are killed once counted. Linux only (/proc).
    var survivors: [Int32]

    /// Runs `arguments` in a new folder holding `inputs`. With `signal`, waits
    /// until the run's temporary appears in the folder (or a frames folder
    /// inside it), then `delay` seconds more, then sends `signal`.
    init(_ arguments: [String], inputs: [String: HostileEntry], seconds: Double, streams: HostileStreams = .files,
         signal: Int32? = nil, delay: Double = 0) throws {
        let manager = FileManager.default
        let folder = manager.temporaryDirectory.appendingPathComponent("chainrule-hostile-\(UUID().uuidString)")
        let logs = manager.temporaryDirectory.appendingPathComponent("chainrule-hostile-logs-\(UUID().uuidString)")
        try manager.createDirectory(at: folder, withIntermediateDirectories: false)
        try manager.createDirectory(at: logs, withIntermediateDirectories: false)
        defer {
            try? manager.removeItem(at: folder)
            try? manager.removeItem(at: logs)
        }
        for (name, entry) in inputs.sorted(by: { $0.key < $1.key }) {
            let path = folder.appendingPathComponent(name).path
            switch entry {
            case .file(let data): try data.write(to: URL(fileURLWithPath: path))
            case .symlink(let target): try manager.createSymbolicLink(atPath: path, withDestinationPath: target)
            case .folder: try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            case .fifo:
                guard mkfifo(path, 0o644) == 0 else { throw CocoaError(.fileWriteUnknown) }
            case .sparse(let bytes):
                guard manager.createFile(atPath: path, contents: nil), truncate(path, off_t(bytes)) == 0 else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
        }
        let before = Set(HostileRun.listing(folder.path))
        let outURL = logs.appendingPathComponent("stdout"), errURL = logs.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = CLIRun.executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full")), closedPipe = Pipe()
        defer { try? full.close() }
        switch streams {
        case .files: break
        case .stdoutFull: process.standardOutput = full
        case .stderrFull: process.standardError = full
        case .stdoutReaderGone:
            process.standardOutput = closedPipe
            try closedPipe.fileHandleForReading.close()
        }
        let start = Date()
        try process.run()
        var sawTemporary = false
        if let signal {
            while process.isRunning && Date().timeIntervalSince(start) < seconds {
                if HostileRun.listing(folder.path).contains(where: { $0.split(separator: "/").contains { $0.hasPrefix(".chainrule-") } }) {
                    sawTemporary = true
                    usleep(UInt32(delay * 1_000_000))
                    kill(process.processIdentifier, signal)
                    break
                }
                usleep(1000)
            }
        }
        while process.isRunning && Date().timeIntervalSince(start) < seconds { usleep(5000) }
        timedOut = process.isRunning
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.seconds = Date().timeIntervalSince(start)
        self.sawTemporary = sawTemporary
        status = process.terminationStatus
        signalled = process.terminationReason == .uncaughtSignal
        stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        added = HostileRun.listing(folder.path).filter { !before.contains($0) }.sorted()
        survivors = HostileRun.processes(workingIn: folder.path)
        for pid in survivors { kill(pid, SIGKILL) }
    }

    /// The processes whose working folder is `folder` (read from /proc; none elsewhere).
    static func processes(workingIn folder: String) -> [Int32] {
        let resolved = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) == resolved
        }
    }

    /// Every path under `folder`, hidden ones included, relative to it.
    static func listing(_ folder: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        return enumerator.compactMap { $0 as? String }
    }

    /// What is wrong with this run against `expect`, or nil when it is right.
    func problems(against expect: HostileExpectation, bound: Double) -> [String] {
        var problems: [String] = []
        if timedOut { problems.append("still running after \(bound) s: killed") }
        if signalled && !timedOut { problems.append("ended by signal \(status)") }
        guard !timedOut && !signalled else { return problems }
        if !expect.exits.contains(status) { problems.append("exit \(status), expected one of \(expect.exits.sorted())") }
        if status == 2 {
            if let refusal = expect.refusal, !stderr.contains(refusal) { problems.append("stderr lacks \"\(refusal)\"") }
            if expect.refusal == nil && expect.speaks && stderr.isEmpty { problems.append("refused with no message") }
            if !added.isEmpty { problems.append("refused but left \(added)") }
        } else if expect.exits.contains(status) {
            if let prints = expect.prints, !stdout.contains(prints) { problems.append("stdout lacks \"\(prints)\"") }
            if added != expect.writes.sorted() { problems.append("left \(added), expected \(expect.writes.sorted())") }
        }
        if let never = expect.never, stderr.contains(never) { problems.append("stderr still says \"\(never)\"") }
        if !survivors.isEmpty { problems.append("processes \(survivors) still ran in the folder") }
        if stderr.contains("Unknown option") { problems.append("an option of the case is unknown") }
        if let rule = expect.rule, let problem = rule(self) { problems.append(problem) }
        return problems
    }
}

/// Generators of hostile inputs: the issue's samples, at sizes that still
/// reproduce their class but keep the suite fast.
enum Hostile {
    /// One input feeding every op: `x0 = 0.5`, then `x{i} = x{i-1} * x0` (Graphviz's long edges).
    static func star(_ lines: Int) -> String {
        (["x0 = 0.5"] + (1..<lines).map { "x\($0) = x\($0 - 1) * x0" }).joined(separator: "\n") + "\n"
    }

    /// `x = 1`, then one left-associative chain `y = x OP x OP …` of `terms` terms.
    static func chain(_ terms: Int, _ op: String = "+", term: String = "x") -> String {
        "x = 1\ny = " + Array(repeating: term, count: terms).joined(separator: " \(op) ") + "\n"
    }

    /// `count` op blocks, each calling the previous one `calls` times.
    static func opChain(_ count: Int, calls: Int = 1) -> String {
        var lines = ["op f0(x) {", "  forward: x * 1", "  backward: grad", "}"]
        for k in 1..<count {
            let body = Array(repeating: "f\(k - 1)(x)", count: calls).joined(separator: " + ")
            lines += ["op f\(k)(x) {", "  forward: \(body)", "  backward: grad * \(calls)", "}"]
        }
        return (lines + ["y = f\(count - 1)(2)"]).joined(separator: "\n") + "\n"
    }

    /// An RNN unrolled `steps` times with shared scalar weights `w`, `u`.
    static func rnn(_ steps: Int) -> String {
        var lines = ["w = 0.5", "u = 0.25", "h0 = 0.1"]
        for t in 1...steps { lines += ["x\(t) = \(Double(t) / Double(steps))", "h\(t) = tanh(w * h\(t - 1) + u * x\(t))"] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A `.npy` file (version 1) with this header dictionary and data.
    static func npy(header dictionary: String, data: Data = Data()) -> Data {
        var header = dictionary
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)) + data
    }

    /// A float64 `.npy` of `shape`, all zeros (only small ones get their data).
    static func npy(shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let data = count <= 1 << 16 ? Data(count: count * 8) : Data()
        return npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }", data: data)
    }
}
