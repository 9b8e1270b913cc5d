import ArgumentParser
import Foundation

@main
struct Chainrule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chainrule",
        abstract: "Computation graphs: run them forward and backward, draw them, and prove every backward rule with finite differences.",
        discussion: """
            Exit codes: 0 success (all checks pass), 1 a gradient check failed, 2 bad input or usage.
            """,
        subcommands: [Eval.self, Check.self, Render.self, Figure.self, Ops.self, Demo.self, LayoutWorkerCommand.self]
    )

    /// ArgumentParser exits 64 on usage errors and 1 on other thrown errors;
    /// Chainrule's contract is 1 only for a failed check and 2 for any bad
    /// input or usage, with the message on standard error.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error as ProgramError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            Foundation.exit(2)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
