import ArgumentParser
import ChainruleLanguage
import Foundation

/// The program a command works on: a FILE, `-` for standard input, or
/// `-e EXPR`; `--at` overrides scalar leaves; `--max-elements` caps tensors.
/// Shared by `eval`, `check` and `render`.
struct ProgramInput: ParsableArguments {
    @Argument(help: "The .grad program file, or - to read it from standard input.")
    var file: String?

    @Option(name: .customShort("e"), help: "The program text itself, instead of a file.")
    var expression: String?

    @Option(help: "Set or override scalar leaves: x=1,y=2.")
    var at: String?

    @Option(help: "Refuse tensors with more elements than this (checked before allocating).")
    var maxElements = 50_000_000

    /// Whether a program was given at all (render also takes --example).
    var isGiven: Bool { file != nil || expression != nil }

    func validate() throws {
        if file != nil && expression != nil {
            throw ValidationError("give one program: a FILE, - for standard input, or -e EXPR, not both")
        }
        if maxElements < 1 { throw ValidationError("--max-elements must be at least 1, got \(maxElements)") }
    }

    /// Reads and compiles the program. Failures are `ProgramError`s carrying
    /// the rendered diagnostics (file:line:column, the line, a caret).
    func compile() throws -> Program {
        var options = CompileOptions(maxElements: maxElements)
        if let at {
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
            (source, name) = (String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self), "<stdin>")
        } else if let path = file {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ProgramError(description: "error: cannot read '\(path)': no such file")
            }
            guard !isDirectory.boolValue else {
                let programs = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                    .filter { $0.hasSuffix(".grad") }.sorted()
                let hint = programs.isEmpty ? "give a .grad file" : "give one of its programs, e.g. " + programs.prefix(3)
                    .map { URL(fileURLWithPath: path).appendingPathComponent($0).relativePath }.joined(separator: ", ")
                throw ProgramError(description: "error: '\(path)' is a folder: \(hint)")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProgramError(description: "error: cannot read '\(path)': permission denied or unreadable")
            }
            (source, name) = (String(decoding: data, as: UTF8.self), path)
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
