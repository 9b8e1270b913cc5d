import ArgumentParser
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import ChainruleTraining
import Foundation

/// The program a command works on: a FILE, `-` for standard input, or
/// `-e EXPR`; `--at` overrides scalar leaves; `--max-elements` caps tensors.
/// Shared by `eval`, `check` and `render`.
///
/// Values are parsed `.unconditional`ly: the word after the option is its
/// value even when it starts with `-`, so `-e "-x^2"` is a program and
/// `--max-elements -1` reaches validation ("must be at least 1").
struct ProgramInput: ParsableArguments {
    @Argument(help: "The .grad program file, or - to read it from standard input.")
    var file: String?

    @Option(name: .customShort("e"), parsing: .unconditional,
            help: "The program text itself, instead of a file (it may start with -, as -e \"-x^2\").")
    var expression: String?

    @Option(parsing: .unconditionalSingleValue,
            help: "Set or override scalar leaves: x=1,y=2 (repeatable; each name at most once).")
    var at: [String] = []

    @Option(parsing: .unconditional, help: "Refuse tensors with more elements than this (checked before allocating).")
    var maxElements = CompileOptions().maxElements

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Refuse a program whose tensors together need more memory than this (8G, 512M, 2GiB or bytes; checked before allocating).",
        valueName: "bytes"))
    var maxMemory: String?

    @Option(parsing: .unconditional, help: "Refuse an op block whose expansion would build more nodes than this.")
    var maxOpNodes = CompileOptions().maxOpNodes

    @Option(help: "Examples for data(…) and labels(): moons, spirals, circles, blobs, xor (as moons:500), digits, digits-images, FILE.csv or X.npy,Y.npy (eval, check and render take the first batch).")
    var data: String?

    @Option(parsing: .unconditional, help: "Examples per batch of --data.")
    var batch = 100

    @Option(help: "Start from the parameters of a checkpoint (.safetensors), matched by name.")
    var initFrom: String?

    /// Whether a program was given at all (render also takes --example).
    var isGiven: Bool { file != nil || expression != nil }

    func validate() throws {
        if file != nil && expression != nil {
            throw ValidationError("give one program: a FILE, - for standard input, or -e EXPR, not both")
        }
        if maxElements < 1 { throw ValidationError("--max-elements must be at least 1, got \(maxElements)") }
        if maxOpNodes < 1 { throw ValidationError("--max-op-nodes must be at least 1, got \(maxOpNodes)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let maxMemory {
            guard let bytes = ByteCount.parse(maxMemory) else {
                throw ValidationError("--max-memory takes a size as 8G, 512M, 2GiB or a byte count below 2^63, got '\(maxMemory)'")
            }
            if bytes < 1 { throw ValidationError("--max-memory must be at least 1 byte, got '\(maxMemory)'") }
        }
    }

    /// Reads and compiles the program with `data(…)` and `labels()` bound to
    /// the first batch of `--data` (or a seeded random batch) and the
    /// parameters of `--init-from`, saying both on standard error.
    func compile() throws -> Program {
        let first = try data.map { text in try DataLoading.dataset(text, seed: 0).firstBatch(batch) }
        let compiled = try compile(batch: first)
        if let note = compiled.dataInputs.bindingNote { StandardStreams.error("note: \(note)\n") }
        if data != nil && compiled.dataInputs.isEmpty {
            throw ProgramError(description: "error: --data is given but the program declares no data(…) input; bind the batch with x = data(…) and y = labels()")
        }
        try applyInitFrom(to: compiled)
        return compiled
    }

    /// Sets the leaves `--init-from` holds, saying which, and runs the forward pass again.
    func applyInitFrom(to compiled: Program) throws {
        guard let initFrom else { return }
        do {
            let notes = try TrainingCheckpoint.initialise(compiled.graph, from: try SafeTensors.read(path: initFrom), path: initFrom)
            for note in notes { StandardStreams.error("note: \(note)\n") }
            try compiled.graph.forward()
        } catch {
            throw ProgramError(description: "error: \(error)")
        }
    }

    /// Reads and compiles the program with `data(…)` and `labels()` bound to
    /// `batch`. Failures are `ProgramError`s carrying the rendered
    /// diagnostics (file:line:column, the line, a caret).
    func compile(batch: DataBatch?) throws -> Program {
        var options = CompileOptions(maxElements: maxElements, maxOpNodes: maxOpNodes)
        options.batch = batch
        if let maxMemory, let bytes = ByteCount.parse(maxMemory) { options.maxMemory = bytes }
        if !at.isEmpty {
            do {
                options.at = try CompileOptions.parseAt(at)
            } catch {
                throw ProgramError(description: "error: \(error.description)")
            }
        }
        let source: String, name: String
        if let expression {
            (source, name) = (expression, "<expression>")
        } else if file == "-" {
            (source, name) = (String(decoding: try ProgramFile.readToEnd(STDIN_FILENO, name: "standard input"), as: UTF8.self), "<stdin>")
        } else if let path = file {
            (source, name) = (String(decoding: try ProgramFile.read(path), as: UTF8.self), path)
            options.baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        } else {
            throw ValidationError("give a program: a FILE, - for standard input, or -e EXPR")
        }
        do {
            return try Compiler.compile(source: source, file: name, options: options)
        } catch {
            throw ProgramError(description: error.rendered(source: source).trimmingCharacters(in: .newlines))
        }
    }
}

/// A program that could not be read, compiled or run: its diagnostics,
/// printed as they are (`Chainrule.main` exits 2).
struct ProgramError: Error, CustomStringConvertible {
    var description: String
}

/// Reading a program file, with the system's reason when it cannot be read
/// (no such file, permission denied, too many levels of symbolic links, …).
enum ProgramFile {
    /// The bytes of the file at `path`. A folder gets the programs in it as a
    /// hint; a device, socket or other non-file is refused before reading
    /// (`/dev/null` is not an empty program, `/dev/zero` would never end).
    /// Pipes (`<(…)`, named FIFOs) are read to their end; the open does not
    /// wait for a writer, so a named pipe nobody writes to is refused at once.
    static func read(_ path: String) throws(ProgramError) -> Data {
        func refuse(_ reason: String) -> ProgramError { ProgramError(description: "error: cannot read '\(path)': \(reason)") }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw refuse(POSIXError.current.reason) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw refuse(POSIXError.current.reason) }
        switch status.st_mode & S_IFMT {
        case S_IFREG, S_IFIFO:
            break
        case S_IFDIR:
            let programs = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".grad") }.sorted()
            let hint = programs.isEmpty ? "give a .grad file" : "give one of its programs, e.g. " + programs.prefix(3)
                .map { URL(fileURLWithPath: path).appendingPathComponent($0).relativePath }.joined(separator: ", ")
            throw ProgramError(description: "error: '\(path)' is a folder: \(hint)")
        case S_IFCHR, S_IFBLK:
            throw refuse("it is a device, not a program file")
        default:
            throw refuse("it is not a regular file")
        }
        let data = try readToEnd(fd, name: "'\(path)'")
        if data.isEmpty && status.st_mode & S_IFMT == S_IFIFO { throw refuse("it is a named pipe with no writer") }
        return data
    }

    /// The most bytes a program may have: 64 MiB, far beyond any written or
    /// generated by hand, so that `yes | chainrule eval -` or a huge sparse
    /// file ends with a refusal, not with all the memory.
    static let maximumBytes = 64 << 20

    /// The bytes of `fd` up to its end, refused past `maximumBytes`; `name` is
    /// the file as the user gave it. A non-blocking `fd` is waited on when it
    /// has no data yet (a pipe whose writer is still working).
    static func readToEnd(_ fd: Int32, name: String) throws(ProgramError) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return data }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&entry, 1, -1)
                    continue
                }
                throw ProgramError(description: "error: cannot read \(name): \(POSIXError.current.reason)")
            }
            guard data.count + count <= maximumBytes else {
                throw ProgramError(description: "error: cannot read \(name): a program is at most \(maximumBytes >> 20) MiB, and this one is longer")
            }
            data.append(contentsOf: buffer[..<count])
        }
    }
}
