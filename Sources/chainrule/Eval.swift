import ArgumentParser
import ChainruleCore
import ChainruleLanguage
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a .grad program: its output value and the gradient of every leaf.",
        discussion: """
            Examples:
              chainrule eval samples/cs231n-circuit.grad
              chainrule eval -e "(x + y) * z" --at x=-2,y=5,z=-4
              echo "y = exp(2)" | chainrule eval -
            Errors go to standard error with exit code 2.
            """)

    @Argument(help: "The program file, or - to read it from standard input.")
    var file: String?

    @Option(name: .customShort("e"), help: "The program text itself, instead of a file.")
    var expression: String?

    @Option(help: "Set or override scalar leaves: x=1,y=2.")
    var at: String?

    @Flag(help: "Print JSON: {\"output\", \"value\", \"gradients\", \"notes\"}.")
    var json = false

    @Flag(help: "Print every element of every tensor instead of a summary.")
    var full = false

    @Option(help: "Refuse tensors with more elements than this.")
    var maxElements = 50_000_000

    func run() throws {
        let standardError = FileHandle.standardError
        func fail(_ message: String) -> ExitCode {
            standardError.write(Data(message.utf8))
            return ExitCode(2)
        }
        // Usage problems exit with 2 like every other bad input.
        if (file == nil) == (expression == nil) {
            throw fail("error: give one program: a FILE, - for standard input, or -e EXPR\n")
        }
        if maxElements < 1 { throw fail("error: --max-elements must be at least 1\n") }
        var options = CompileOptions(maxElements: maxElements)
        if let at {
            do {
                options.at = try CompileOptions.parseAt(at)
            } catch {
                throw fail("error: \(error.description)\n")
            }
        }
        let source: String, name: String?
        if let expression {
            source = expression
            name = "<expression>"
        } else if file == "-" {
            source = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            name = "<stdin>"
        } else {
            let path = file!
            guard let data = FileManager.default.contents(atPath: path) else {
                throw fail("error: cannot read \(path): no such file\n")
            }
            source = String(decoding: data, as: UTF8.self)
            name = path
            options.baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
        let evaluation: Evaluation
        do {
            evaluation = try Compiler.compile(source: source, file: name, options: options).evaluate()
        } catch {
            throw fail(error.rendered(source: source))
        }
        if json {
            print(evaluation.json(), terminator: "")
        } else {
            for note in evaluation.notes { standardError.write(Data("note: \(note)\n".utf8)) }
            print(evaluation.text(full: full), terminator: "")
        }
    }
}
