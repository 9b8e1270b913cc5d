import ArgumentParser
import ChainruleCore
import ChainruleLanguage
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", _superCommandName: Chainrule.toolName,
        abstract: "Evaluate a .grad program: its output value and the gradient of every leaf.",
        discussion: """
            Examples:
              chainrule eval samples/cs231n-circuit.grad
              chainrule eval -e "(x + y) * z" --at x=-2,y=5,z=-4
              echo "y = exp(2)" | chainrule eval -
            Errors go to standard error with exit code 2.
            """)

    @OptionGroup var program: ProgramInput

    @OptionGroup var modelInputs: ModelInputOptions

    @Flag(help: "Print JSON: {\"output\", \"value\", \"gradients\", \"notes\"}.")
    var json = false

    @Flag(help: "Print every element of every tensor instead of a summary.")
    var full = false

    func run() throws {
        let compiled = try program.compile(modelInputs: modelInputs.input)
        let evaluation: Evaluation
        do {
            evaluation = try compiled.evaluate()
        } catch {
            throw ProgramError(description: error.rendered(source: compiled.source).trimmingCharacters(in: .newlines))
        }
        if json {
            print(evaluation.json(), terminator: "")
        } else {
            for note in evaluation.notes { StandardStreams.error("note: \(note)\n") }
            print(evaluation.text(full: full), terminator: "")
        }
    }

    func validate() throws {
        if !program.isGiven { throw ValidationError("give one program: a FILE, - for standard input, or -e EXPR") }
    }
}
