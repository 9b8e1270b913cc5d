import ArgumentParser
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import ChainruleONNX
import ChainruleTraining
import Foundation

/// The program a command works on: a FILE (a `.grad` program or an `.onnx`
/// model), `-` for standard input, or `-e EXPR`; `--at` overrides scalar
/// leaves; `--input` gives an ONNX model's inputs; `--data` binds a program's
/// `data(…)` and `labels()`; `--max-elements` caps tensors. Shared by `eval`,
/// `check` and `render`.
///
/// Values are parsed `.unconditional`ly: the word after the option is its
/// value even when it starts with `-`, so `-e "-x^2"` is a program and
/// `--max-elements -1` reaches validation ("must be at least 1").
struct ProgramInput: ParsableArguments {
    @Argument(help: "The .grad program file (or an .onnx model), or - to read a program from standard input.")
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

    /// Whether the file is an ONNX model (by its extension).
    var isONNX: Bool { file.map { $0.lowercased().hasSuffix(".onnx") } ?? false }

    @Option(help: "Examples for data(…) and labels(): moons, spirals, circles, blobs, xor (as moons:500), digits, digits-images, FILE.csv or X.npy,Y.npy (eval, check and render take the first batch).")
    var data: String?

    /// The examples per batch when `--batch` is not given.
    static let defaultBatch = 100

    @Option(name: .customLong("batch"), parsing: .unconditional, help: "Examples per batch of --data (default: \(ProgramInput.defaultBatch)).")
    var givenBatch: Int?

    /// Examples per batch: `--batch`, or `defaultBatch` when it is not given
    /// (whether it was given is `givenBatch != nil`, so `--batch 100` counts).
    var batch: Int { givenBatch ?? Self.defaultBatch }

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
        if let givenBatch, givenBatch < 1 { throw ValidationError("--batch must be at least 1, got \(givenBatch)") }
        if !at.isEmpty && isONNX { throw ValidationError("--at sets a .grad program's scalars; give an .onnx model's inputs with --input FILE.npy") }
        if let maxMemory {
            guard let bytes = ByteCount.parse(maxMemory) else {
                throw ValidationError("--max-memory takes a size as 8G, 512M, 2GiB or a byte count below 2^63, got '\(maxMemory)'")
            }
            if bytes < 1 { throw ValidationError("--max-memory must be at least 1 byte, got '\(maxMemory)'") }
        }
    }

    /// Reads and compiles the program with `data(…)` and `labels()` bound to
    /// the first batch of `--data` (or a seeded random batch) and the
    /// parameters of `--init-from`, saying both on standard error; or
    /// imports the ONNX model (with `loss` on its output, if given).
    func compile(loss: ONNXLoss? = nil, modelInputs: [String] = []) throws -> Program {
        if !modelInputs.isEmpty && !isONNX {
            throw ProgramError(description: "error: --input gives an .onnx model's inputs; a .grad program binds its own leaves (use --at or load(\"x.npy\"))")
        }
        if isONNX, let path = file {
            if data != nil { throw ProgramError(description: "error: --data binds a .grad program's data(…) and labels(); give an .onnx model's inputs with --input FILE.npy (train takes --data for a model)") }
            var options = CompileOptions(maxElements: maxElements, maxOpNodes: maxOpNodes)
            if let maxMemory, let bytes = ByteCount.parse(maxMemory) { options.maxMemory = bytes }
            let model = try importModel(path, options: options, inputs: modelInputs, loss: loss)
            try applyInitFrom(to: model)
            return model
        }
        if loss != nil { throw ProgramError(description: "error: --loss applies to an .onnx model; a .grad program writes its loss itself") }
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
            (source, name) = (try ProgramFile.decode(try ProgramFile.readToEnd(STDIN_FILENO, name: "standard input"), file: "<stdin>"), "<stdin>")
        } else if let path = file {
            (source, name) = (try ProgramFile.text(path), path)
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

extension ProgramInput {
    /// Imports an ONNX model under the program budgets, its inputs from `--input`.
    func importModel(_ path: String, options: CompileOptions, inputs given: [String], loss: ONNXLoss?) throws -> Program {
        var inputs: [String: Tensor] = [:]
        for argument in given {
            let (name, npy) = argument.hasSuffix(".npy") && argument.contains("=")
                ? (String(argument[..<argument.firstIndex(of: "=")!]), String(argument[argument.index(after: argument.firstIndex(of: "=")!)...]))
                : ("", argument)
            guard inputs[name] == nil else {
                throw ValidationError(name.isEmpty ? "--input FILE.npy is for a model's only input; give several as --input NAME=FILE.npy" : "--input gives \(name) twice")
            }
            do {
                inputs[name] = try Npy.load(path: npy, maxElements: options.maxElements)
            } catch {
                throw ProgramError(description: "error: --input: \(error.description)")
            }
        }
        let limits = ONNXLimits(maxElements: options.maxElements, maxMemory: options.maxMemory)
        do {
            let model = try ONNXImporter.read(path: path, options: ONNXImportOptions(limits: limits, inputs: inputs, loss: loss))
            return Program(graph: model.graph, output: model.output, outputName: model.outputName, notes: model.notes, file: path)
        } catch {
            throw ProgramError(description: "error: \(error.message)")
        }
    }
}

extension ONNXLossKind: ExpressibleByArgument {}

/// `check`'s loss for an ONNX model: `--loss cross_entropy --labels 3,1`.
struct ONNXLossOptions: ParsableArguments {
    @Option(help: "For an .onnx model: check this loss of its output (cross_entropy and hinge take it as N×C scores, binary_cross_entropy_with_logits as one logit per row) instead of the output's sum.")
    var loss: ONNXLossKind?

    @Option(parsing: .unconditional, help: ArgumentHelp("With --loss: the class label of each row of the output, as 3 or 3,1.", valueName: "labels"))
    var labels: String?

    func validate() throws {
        if let loss, labels == nil { throw ValidationError("--loss \(loss.rawValue) needs --labels, one class index per row of the output (e.g. --labels 3)") }
        if loss == nil && labels != nil { throw ValidationError("--labels go with --loss (\(ONNXLossKind.allCases.map(\.rawValue).joined(separator: ", ")))") }
        if let labels, parsedLabels == nil { throw ValidationError("--labels takes class indices separated by commas, as 3 or 3,1; got '\(labels)'") }
    }

    private var parsedLabels: [Int]? {
        guard let labels else { return nil }
        let values = labels.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty || values.contains(nil) ? nil : values.map { $0! }
    }

    /// The loss to put on the model's output, if any.
    var value: ONNXLoss? {
        guard let loss, let parsedLabels else { return nil }
        return ONNXLoss(loss, labels: parsedLabels)
    }
}

/// `--input` of the commands that take an ONNX model (eval, check, render):
/// apart from `ProgramInput`, because `figure conv-arithmetic` reads a program
/// too and has an `--input` of its own (the input size N).
struct ModelInputOptions: ParsableArguments {
    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "For an .onnx model: the value of its input, from a .npy file (NAME=FILE.npy for a model with several inputs; repeatable). Inputs not given are random normal, seeded, of the declared shape (dynamic axes 1).",
        valueName: "FILE.npy|NAME=FILE.npy"))
    var input: [String] = []
}

/// A program that could not be read, compiled or run: its diagnostics,
/// printed as they are (`Chainrule.main` exits 2).
struct ProgramError: Error, CustomStringConvertible {
    var description: String
}

extension Diagnostic {
    /// This diagnostic as the program error that prints it, with its line of `source` and a caret.
    func error(_ source: String) -> ProgramError {
        ProgramError(description: DiagnosticList([self]).rendered(source: source).trimmingCharacters(in: .newlines))
    }
}

/// Reading a program file, with the system's reason when it cannot be read
/// (no such file, permission denied, too many levels of symbolic links, …).
enum ProgramFile {
    /// The text of the file at `path`, which must be UTF-8 (else an error at
    /// the first byte that is not, with its line and column). A folder gets the programs in it as a hint; a device, socket or other
    /// non-file is refused before reading (`/dev/null` is not an empty
    /// program, `/dev/zero` would never end). Pipes (`<(…)`, named FIFOs)
    /// are read to their end; the open does not wait for a writer, so a named
    /// pipe nobody writes to is refused at once. A regular file is read with
    /// one read(2) straight into the string's own storage: a generated
    /// program of megabytes is then in memory once, not three times (a
    /// buffer, a `Data`, the string), which on a virtual machine saves a page
    /// fault per 4 KiB.
    static func text(_ path: String) throws(ProgramError) -> String {
        func refuse(_ reason: String) -> ProgramError { ProgramError(description: "error: cannot read '\(path)': \(reason)") }
        let file: OpenedFile
        do { file = try InputFiles.opened(path) } catch { throw refuse(error.reason) }
        if file.kind == .folder {
            let programs = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".grad") }.sorted()
            let hint = programs.isEmpty ? "give a .grad file" : "give one of its programs, e.g. " + programs.prefix(3)
                .map { URL(fileURLWithPath: path).appendingPathComponent($0).relativePath }.joined(separator: ", ")
            throw ProgramError(description: "error: '\(path)' is a folder: \(hint)")
        }
        guard [.regular, .pipe].contains(file.kind) else { throw refuse(file.kind.refusal(expected: "a program file")) }
        if file.kind == .regular, let text = try readRegular(file.descriptor, size: file.size, name: path) {
            return text
        }
        let data = try readToEnd(file.descriptor, name: "'\(path)'")
        if data.isEmpty && file.kind == .pipe { throw refuse("it is a named pipe with no writer") }
        return try decode(data, file: path)
    }

    /// The program in `data`, which must be UTF-8 text: else the error at the first byte that
    /// is not, with its line and column (`file` names the program there).
    static func decode(_ data: Data, file: String) throws(ProgramError) -> String {
        let text = String(decoding: data, as: UTF8.self)
        let problem = data.withUnsafeBytes { utf8Problem($0.bindMemory(to: UInt8.self), file: file) }
        if let problem { throw problem.error(text) }
        return text
    }

    /// Where the bytes stop being UTF-8, as a diagnostic; nil when they are all UTF-8.
    private static func utf8Problem(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> Diagnostic? {
        guard let offset = SourceText.firstInvalidUTF8(bytes) else { return nil }
        let (line, column) = SourceText.position(ofByte: offset, in: bytes)
        let byte = String(bytes[offset], radix: 16, uppercase: true)
        return Diagnostic("the program is not UTF-8 text: byte 0x\(byte) here is no character; save the file as UTF-8",
                          at: SourceLocation(file: file, line: line, column: column))
    }

    /// A regular file of `size` bytes (its size at `fstat`) read into a
    /// string of that capacity; nil when the file turns out longer than that
    /// (it grew since), so the caller reads it to its end instead.
    private static func readRegular(_ fd: Int32, size: Int, name path: String) throws(ProgramError) -> String? {
        let name = "'\(path)'"
        guard size <= maximumBytes else {
            throw ProgramError(description: "error: cannot read \(name): a program is at most \(maximumBytes >> 20) MiB, and this one is longer")
        }
        var failure: ProgramError?
        var problem: Diagnostic?
        var complete = true
        let text = String(unsafeUninitializedCapacity: size + 1) { buffer in
            var filled = 0
            while filled < buffer.count {
                let count = Foundation.read(fd, buffer.baseAddress! + filled, buffer.count - filled)
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = ProgramError(description: "error: cannot read \(name): \(POSIXError.current.reason)")
                    return 0
                }
                filled += count
            }
            // One byte more than fstat said was read: the file grew.
            complete = filled <= size
            // Checked here, before the string repairs what is not UTF-8.
            if complete { problem = utf8Problem(UnsafeBufferPointer(rebasing: buffer[..<filled]), file: path) }
            return complete ? filled : 0
        }
        if let failure { throw failure }
        guard complete else {
            guard lseek(fd, 0, SEEK_SET) == 0 else {
                throw ProgramError(description: "error: cannot read \(name): \(POSIXError.current.reason)")
            }
            return nil
        }
        if let problem { throw problem.error(text) }
        return text
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
