import Foundation
import Testing

/// A transcript in the docs: a fenced block whose first line starts with `$ `.
/// The convention (docs/README.md, "Transcripts") in short:
///
/// - each `$ ` line is a command, run by `/bin/sh` in the document's working
///   folder; it goes on to the next line after a trailing `\` or an open quote;
/// - the lines after it, up to the next command, are exactly what it prints,
///   standard output and error together as a user sees them;
/// - a line of only `…` (indented or not) stands for any lines, none included;
/// - times (`12 ms`, `1.30 s`, `3 s left`), the working folder's absolute
///   path (shown as `$PWD`) and the versions of the interpreters a Python
///   check names (`Python 3.11.7 · NumPy 2.4.6 · torch 2.15.0`) are
///   normalised, trailing spaces ignored;
/// - `<!-- transcript: not run: WHY -->` right before the block skips it,
///   `<!-- transcript: needs PATH -->` skips it when PATH is not on this
///   machine, and `<!-- transcript: needs a release build: WHY -->` skips it
///   unless `CHAINRULE` names a release build to run; every skip is printed
///   with its reason; `<!-- transcript: digits vary: WHY -->` runs the block
///   but does not compare the digits of numbers in scientific notation.
struct TranscriptBlock: Equatable {
    enum Directive: Equatable {
        case run
        case notRun(reason: String)
        case needs(path: String)
        /// Too slow for a debug build (the reason says how slow): run only with `CHAINRULE`.
        case needsReleaseBuild(reason: String)
        /// Run, with the digits of numbers in scientific notation not compared: they come from
        /// a library of the machine's (NumPy's BLAS), whose last bits differ between processors.
        case digitsVary(reason: String)
    }

    struct Command: Equatable {
        /// The 1-based line of the `$ ` in the document.
        var line: Int
        /// The command without its `$ `, its continuation lines joined by newlines.
        var text: String
        /// The lines the docs show for it.
        var expected: [String]
    }

    /// The 1-based line of the opening fence.
    var line: Int
    var directive: Directive
    var commands: [Command]
}

/// A mistake in the markup of a document's transcripts, at its line.
struct TranscriptMarkupError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

enum Transcripts {
    /// A line of only this (and spaces) stands for any lines of output, none included.
    static let anyLines = "…"
    static let directivePrefix = "<!-- transcript:"

    /// The transcript blocks of a Markdown document, in order.
    static func blocks(in markdown: String) throws -> [TranscriptBlock] {
        let lines = markdown.components(separatedBy: "\n")
        var blocks: [TranscriptBlock] = []
        var pending: (line: Int, directive: TranscriptBlock.Directive)?
        var index = 0
        while index < lines.count {
            let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(directivePrefix) {
                if let pending { throw TranscriptMarkupError(line: pending.line, message: "a transcript directive with no block after it") }
                pending = (index + 1, try directive(trimmed, line: index + 1))
                index += 1
                continue
            }
            guard trimmed.hasPrefix("```") else {
                if !trimmed.isEmpty, let pending {
                    throw TranscriptMarkupError(line: pending.line, message: "a transcript directive must come right before its block")
                }
                index += 1
                continue
            }
            let indent = lines[index].prefix { $0 == " " }.count
            let opening = index
            var body: [String] = []
            index += 1
            while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                body.append(String(lines[index].dropFirst(min(indent, lines[index].prefix { $0 == " " }.count))))
                index += 1
            }
            index += 1
            if body.first?.hasPrefix("$ ") == true {
                blocks.append(TranscriptBlock(line: opening + 1, directive: pending?.directive ?? .run,
                                              commands: commands(body, firstLine: opening + 2)))
            } else if let pending {
                throw TranscriptMarkupError(line: pending.line, message: "a transcript directive before a block that is not a transcript (its first line does not start with `$ `)")
            }
            pending = nil
        }
        if let pending { throw TranscriptMarkupError(line: pending.line, message: "a transcript directive with no block after it") }
        return blocks
    }

    private static func directive(_ comment: String, line: Int) throws -> TranscriptBlock.Directive {
        guard comment.hasSuffix("-->") else {
            throw TranscriptMarkupError(line: line, message: "a transcript directive is one line ending in -->")
        }
        let body = comment.dropFirst(directivePrefix.count).dropLast(3).trimmingCharacters(in: .whitespaces)
        if body.hasPrefix("not run:") {
            let reason = body.dropFirst("not run:".count).trimmingCharacters(in: .whitespaces)
            if !reason.isEmpty { return .notRun(reason: reason) }
        } else if body.hasPrefix("needs a release build:") {
            let reason = body.dropFirst("needs a release build:".count).trimmingCharacters(in: .whitespaces)
            if !reason.isEmpty { return .needsReleaseBuild(reason: reason) }
        } else if body.hasPrefix("digits vary:") {
            let reason = body.dropFirst("digits vary:".count).trimmingCharacters(in: .whitespaces)
            if !reason.isEmpty { return .digitsVary(reason: reason) }
        } else if body.hasPrefix("needs ") {
            let path = body.dropFirst("needs ".count).prefix { !$0.isWhitespace }
            if path.hasPrefix("/") { return .needs(path: String(path)) }
        }
        throw TranscriptMarkupError(line: line, message: "unknown transcript directive '\(body)': write `not run: WHY`, `needs /ABSOLUTE/PATH`, `needs a release build: WHY` or `digits vary: WHY`")
    }

    private static func commands(_ body: [String], firstLine: Int) -> [TranscriptBlock.Command] {
        var commands: [TranscriptBlock.Command] = []
        var index = 0
        while index < body.count {
            if body[index].hasPrefix("$ ") {
                let start = index
                var text = String(body[index].dropFirst(2))
                while continues(text), index + 1 < body.count {
                    index += 1
                    text += "\n" + body[index]
                }
                commands.append(TranscriptBlock.Command(line: firstLine + start, text: text, expected: []))
            } else {
                commands[commands.count - 1].expected.append(body[index])
            }
            index += 1
        }
        return commands
    }

    /// Whether a shell reading `text` waits for another line: a trailing
    /// backslash, or a quote still open (a `#` comment ends the command).
    static func continues(_ text: String) -> Bool {
        var quote: Character?
        var escaped = false
        var wordStart = true
        var characters = text.makeIterator()
        while let c = characters.next() {
            defer { wordStart = quote == nil && (c == " " || c == "\t" || c == "\n" || c == ";") }
            if escaped { escaped = false; continue }
            switch (quote, c) {
            case (nil, "\\"), ("\"", "\\"): escaped = true
            case (nil, "'"), (nil, "\""): quote = c
            case ("'", "'"), ("\"", "\""): quote = nil
            case (nil, "#") where wordStart:
                while let rest = characters.next(), rest != "\n" {}
            default: break
            }
        }
        return escaped || quote != nil
    }

    /// Whether `actual` is what `expected` shows: line for line, a line `…`
    /// matching any run of lines.
    static func matches(_ expected: [String], _ actual: [String]) -> Bool {
        var reachable = [Bool](repeating: false, count: actual.count + 1)
        reachable[0] = true
        for line in expected {
            var next = [Bool](repeating: false, count: actual.count + 1)
            if line.trimmingCharacters(in: .whitespaces) == anyLines {
                var seen = false
                for i in 0...actual.count { seen = seen || reachable[i]; next[i] = seen }
            } else {
                for i in 0..<actual.count where reachable[i] && actual[i] == line { next[i + 1] = true }
            }
            reachable = next
        }
        return reachable[actual.count]
    }

    /// `line` with its times written `<time>`, each of `folders` written
    /// `$PWD`, the interpreter versions a Python check prints written
    /// `<version>` (they are the machine's, not the tool's), and its trailing
    /// spaces removed.
    static func normalised(_ line: String, folders: [String] = []) -> String {
        var line = line
        for folder in folders.sorted(by: { $0.count > $1.count }) {
            line = line.replacingOccurrences(of: folder, with: "$PWD")
        }
        line = line.replacing(/\b\d+(\.\d+)? ?(µs|ms|s)\b/, with: "<time>")
        line = line.replacing(/\b(Python|NumPy|torch) \d+(\.\d+)*\S*/) { "\($0.output.1) <version>" }
        while line.last == " " { line.removeLast() }
        return line
    }

    /// `line` with every number in scientific notation (`5.3e-13`) written `<e>`: for blocks
    /// marked `digits vary`, whose small numbers are rounding of the machine's libraries.
    static func withoutScientificDigits(_ line: String) -> String {
        line.replacing(/-?\d+(\.\d+)?e[-+]?\d+/, with: "<e>")
    }

    /// The lines of `expected` or of a command's output, ready to compare:
    /// normalised, without trailing empty lines.
    static func comparable(_ lines: [String], folders: [String] = []) -> [String] {
        var lines = lines.map { normalised($0, folders: folders) }
        while lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// A document's working folder: `samples/`, `scripts/` and `Tests/` of the
/// repository linked in, `chainrule` first on `PATH`, and the last command's
/// exit status as `$?` of the next.
final class TranscriptShell {
    /// The `chainrule` the commands run: `$CHAINRULE` when set (a release
    /// build, `make doccheck`), else the debug build beside these tests.
    static let chainrule: URL = {
        guard let given = ProcessInfo.processInfo.environment["CHAINRULE"], !given.isEmpty else { return CLIRun.executable }
        return URL(fileURLWithPath: given, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
    }()
    static var isReleaseBuildGiven: Bool { chainrule != CLIRun.executable }

    static let linked = ["samples", "scripts", "Tests"]
    /// coreutils' `stdbuf`: run with `-oL`, every program of the command
    /// writes its standard output line by line, as on a terminal, so its lines
    /// and those of standard error come in the order a user sees them.
    static let lineBuffered = "/usr/bin/stdbuf"
    /// coreutils' `env`, which gives its command signals' default actions back (`--default-signal`).
    static let defaultSignals = "/usr/bin/env"
    /// Longer than any command of the docs takes in a debug build.
    static let deadline: TimeInterval = 120

    let folder: URL
    private var lastStatus: Int32 = 0

    init(name: String) throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("chainrule-transcript-\(getpid())-\(name.replacingOccurrences(of: "/", with: "-"))")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in Self.linked {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name),
                                                       withDestinationURL: CLIRun.repository.appendingPathComponent(name))
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// The absolute paths that a user's `$PWD` stands for: this folder and the repository, as given and resolved.
    var folders: [String] {
        [folder.path, folder.resolvingSymlinksInPath().path, CLIRun.repository.path, CLIRun.repository.resolvingSymlinksInPath().path]
    }

    /// Runs one command; its output lines (standard output and error in one pipe), or nil past the deadline.
    func run(_ command: String) throws -> [String]? {
        let process = Process()
        // A user's shell starts its commands with SIGPIPE's default action, so `grep … | head -2` ends
        // quietly. This test process may ignore SIGPIPE (the Python bridge sets that for the whole
        // process), and an ignored signal stays ignored across exec, where `sh` cannot reset it: grep
        // would print "write error: Broken pipe" whenever head closes first. `env` restores it.
        process.executableURL = URL(fileURLWithPath: Self.defaultSignals)
        process.arguments = ["--default-signal=PIPE", Self.lineBuffered, "-oL", "/bin/sh", "-c", "(exit \(lastStatus))\n" + command]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = Self.chainrule.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0), read = DispatchGroup()
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        nonisolated(unsafe) var data = Data()
        DispatchQueue.global().async(group: read) { data = output.fileHandleForReading.readDataToEndOfFile() }
        guard exited.wait(timeout: .now() + Self.deadline) == .success else {
            process.terminate()
            return nil
        }
        read.wait()
        lastStatus = process.terminationStatus
        let text = String(decoding: data, as: UTF8.self)
        return text.isEmpty ? [] : text.components(separatedBy: "\n")
    }
}

@Suite struct DocTranscriptTests {
    /// README.md and every page of docs/.
    static let documents: [String] = {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: CLIRun.repository.appendingPathComponent("docs").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }()

    @Test(arguments: documents)
    func everyTranscriptShowsWhatTheToolPrintsToday(document: String) throws {
        let markdown = try String(contentsOf: CLIRun.repository.appendingPathComponent(document), encoding: .utf8)
        let blocks: [TranscriptBlock]
        do { blocks = try Transcripts.blocks(in: markdown) } catch {
            Issue.record("\(document): \(error)")
            return
        }
        try #require(TranscriptShell.chainrule.lastPathComponent == "chainrule" && FileManager.default.isExecutableFile(atPath: TranscriptShell.chainrule.path),
                     "CHAINRULE must name a chainrule executable, not \(TranscriptShell.chainrule.path)")
        let shell = try TranscriptShell(name: document)
        var checked = 0
        for block in blocks {
            let at = "\(document):\(block.line)"
            switch block.directive {
            case .notRun(let reason):
                print("⚠️  SKIPPED \(at) `$ \(block.commands[0].text)`: not run: \(reason)")
                continue
            case .needs(let path) where !FileManager.default.fileExists(atPath: path):
                print("⚠️  SKIPPED \(at) `$ \(block.commands[0].text)`: needs \(path), which this machine does not have")
                continue
            case .needsReleaseBuild(let reason) where !TranscriptShell.isReleaseBuildGiven:
                print("⚠️  SKIPPED \(at) `$ \(block.commands[0].text)`: needs a release build (\(reason)); make doccheck runs it")
                continue
            case .run, .needs, .needsReleaseBuild, .digitsVary: break
            }
            for command in block.commands {
                let location = SourceLocation(fileID: "Chainrule/\(document)", filePath: CLIRun.repository.appendingPathComponent(document).path,
                                              line: command.line, column: 1)
                guard let output = try shell.run(command.text) else {
                    Issue.record("\(document):\(command.line): `$ \(command.text)` did not finish within \(Int(TranscriptShell.deadline)) s",
                                 sourceLocation: location)
                    continue
                }
                checked += 1
                var expected = Transcripts.comparable(command.expected)
                var actual = Transcripts.comparable(output, folders: shell.folders)
                if case .digitsVary = block.directive {
                    expected = expected.map(Transcripts.withoutScientificDigits)
                    actual = actual.map(Transcripts.withoutScientificDigits)
                }
                if !Transcripts.matches(expected, actual) {
                    Issue.record("""
                        \(document):\(command.line): `$ \(command.text)` prints something else than the docs show.
                        The docs show:
                        \(expected.joined(separator: "\n"))
                        The tool printed:
                        \(actual.joined(separator: "\n"))
                        """, sourceLocation: location)
                }
            }
        }
        print("\(document): \(checked) commands run in \(blocks.count) transcript blocks, with \(TranscriptShell.chainrule.path)")
    }

    @Test func anEllipsisLineStandsForAnyLinesNoneIncluded() {
        #expect(Transcripts.matches(["a", "…", "d"], ["a", "b", "c", "d"]))
        #expect(Transcripts.matches(["a", "…", "b"], ["a", "b"]))
        #expect(Transcripts.matches(["…"], []))
        #expect(Transcripts.matches(["{", "  …", "}"], ["{", "  \"a\" : 1", "}"]))
        #expect(!Transcripts.matches(["a", "…"], ["b", "a"]))
        #expect(!Transcripts.matches(["a"], ["a", "b"]))
        #expect(!Transcripts.matches(["a, …"], ["a, b"]))
    }

    @Test func timesTheWorkingFolderAndTrailingSpacesAreNormalised() {
        #expect(Transcripts.normalised("PASSED: 2 nodes · 16 forward evaluations · 1 ms") == "PASSED: 2 nodes · 16 forward evaluations · <time>")
        #expect(Transcripts.normalised("· 2.07 s  ") == "· <time>")
        #expect(Transcripts.normalised("plot: /tmp/x/out/a.png", folders: ["/tmp/x"]) == "plot: $PWD/out/a.png")
        #expect(Transcripts.normalised("  s.W   2×16 min -1.4") == "  s.W   2×16 min -1.4")
        #expect(Transcripts.normalised("→ out 4×2 · Python 3.11.7 · NumPy 2.4.6 · torch 2.15.0+cu132")
                == "→ out 4×2 · Python <version> · NumPy <version> · torch <version>")
        #expect(Transcripts.comparable(["a", "", ""]) == ["a"])
        #expect(Transcripts.withoutScientificDigits("max rel 3.7e-08 good, h = 1e-6, 0.35") == "max rel <e> good, h = <e>, 0.35")
    }

    @Test func aBlockIsATranscriptWhenItsFirstLineIsACommand() throws {
        let markdown = """
            ```
            $ chainrule eval -e "x = 1
            y = x" \\
              --json
            {
            …
            $ echo $?   # the status
            0
            ```

            ```
            not a transcript
            $ ls
            ```
            <!-- transcript: needs /work/venv-torch/bin/python -->
            ```
            $ python3 -c 'import torch'
            ```
            """
        let blocks = try Transcripts.blocks(in: markdown)
        #expect(blocks == [
            TranscriptBlock(line: 1, directive: .run, commands: [
                .init(line: 2, text: "chainrule eval -e \"x = 1\ny = x\" \\\n  --json", expected: ["{", "…"]),
                .init(line: 7, text: "echo $?   # the status", expected: ["0"]),
            ]),
            TranscriptBlock(line: 16, directive: .needs(path: "/work/venv-torch/bin/python"), commands: [
                .init(line: 17, text: "python3 -c 'import torch'", expected: []),
            ]),
        ])
    }

    @Test(arguments: [
        "<!-- transcript: skip -->\n```\n$ ls\n```",
        "<!-- transcript: not run: slow -->\n\nsome text\n```\n$ ls\n```",
        "<!-- transcript: not run: slow -->\n```\nplain\n```",
        "<!-- transcript: needs torch -->\n```\n$ ls\n```",
        "<!-- transcript: needs a release build -->\n```\n$ ls\n```",
    ])
    func aDirectiveThatSaysNothingClearIsAnError(markdown: String) {
        #expect(throws: TranscriptMarkupError.self) { try Transcripts.blocks(in: markdown) }
    }

    @Test func theNextCommandSeesTheLastExitStatus() throws {
        let shell = try TranscriptShell(name: "status-test")
        #expect(try shell.run("chainrule eval -e 'y = sigmoyd(2)' > /dev/null 2>&1") == [])
        #expect(try shell.run("echo $?") == ["2", ""])
    }

    /// CI once failed on `grep … | head -2` printing "grep: write error: Broken pipe": this process
    /// ignored SIGPIPE (the Python bridge sets that) and the docs' commands inherited it. `yes`
    /// writes until its reader closes, so with SIGPIPE ignored it always reports the broken pipe.
    @Test func aPipelineClosedEarlyEndsQuietlyAsInAUsersShell() throws {
        signal(SIGPIPE, SIG_IGN)
        let shell = try TranscriptShell(name: "sigpipe-test")
        #expect(try shell.run("yes | head -2") == ["y", "y", ""])
    }
}
