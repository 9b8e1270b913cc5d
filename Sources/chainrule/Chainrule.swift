import ArgumentParser
import ChainruleCore
import ChainruleFigures
import Foundation

@main
struct Chainrule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: toolName,
        abstract: "Computation graphs: run them forward and backward, draw them, and prove every backward rule with finite differences.",
        discussion: """
            Exit codes: 0 success (all checks pass), 1 a gradient check failed, 2 bad input or usage, \
            130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP); an interrupted run removes its temporary files.
            Limits and how to raise them: docs/limits.md.
            """,
        version: Chainrule.version,
        subcommands: [Eval.self, Check.self, Render.self, Train.self, Figure.self, Ops.self, Demo.self, PythonModuleCommand.self, LayoutWorkerCommand.self]
    )

    /// The version `chainrule --version` prints: the one place it is written.
    static let version = "0.1.0"

    /// The tool's name. Every top-level subcommand also names it as its
    /// `_superCommandName`, which ArgumentParser reads only from the root of a
    /// parse: it says whose subcommand the command is when `command(for:)`
    /// parses it as the root, and spares that parse the completion-script check.
    static let toolName = "chainrule"

    /// ArgumentParser exits 64 on usage errors and 1 on other thrown errors;
    /// Chainrule's contract is 1 only for a failed check and 2 for any bad
    /// input or usage, with the message on standard error.
    static func main() {
        StandardStreams.ignoreBrokenPipes()
        Temporaries.removeOnTerminationSignals()
        do {
            try checkHelpTopic(Array(CommandLine.arguments.dropFirst()))
            var command = try Self.command(for: Array(CommandLine.arguments.dropFirst()))
            // Every command runs on the worker pool: a malformed CHAINRULE_THREADS is refused, never ignored.
            do { _ = try WorkerPool.environmentThreadCount() } catch { throw ProgramError(description: "error: \(error)") }
            try command.run()
            finish(0)
        } catch let code as ExitCode {
            finish(code.rawValue)
        } catch let error as ProgramError {
            StandardStreams.error(error.description + "\n")
            finish(2)
        } catch {
            let message = lowercasedPrefix(fullMessage(for: error))
            if exitCode(for: error) == .success {
                // Help and --version: ArgumentParser's own exit would skip the check of standard output.
                if !message.isEmpty { print(message) }
                finish(0)
            }
            StandardStreams.error(message + "\n")
            finish(2)
        }
    }

    /// ArgumentParser's message with its `Error: ` spelled `error: `, as
    /// every message of Chainrule's own and of the compilers it sits beside:
    /// one prefix for a script to look for, whoever found the problem.
    static func lowercasedPrefix(_ message: String) -> String {
        message.hasPrefix("Error: ") ? "error: " + message.dropFirst("Error: ".count) : message
    }

    /// Exits with `status` once standard output is flushed. Output that could
    /// not be written (a full disk, a closed descriptor) is a failure the
    /// user must hear of: exit 2 naming standard output. A reader that went
    /// away (`chainrule ops | head -1`) is not: it had what it wanted, and
    /// the status still says how the run went.
    static func finish(_ status: Int32) -> Never {
        switch StandardStreams.outputOutcome() {
        case .written, .readerGone:
            Foundation.exit(status)
        case .failed(let reason):
            StandardStreams.error("error: cannot write standard output: \(reason)\n")
            Foundation.exit(2)
        }
    }

    /// The command `arguments` ask for. A first argument that names a
    /// subcommand is parsed with that subcommand as the root: ArgumentParser
    /// then builds its argument set twice instead of three times and skips
    /// the completion-script check, which first parses two commands of its
    /// own (8.4 million instructions, callgrind).
    /// Anything but one of the subcommand's own commands (an error, help,
    /// `--version`, a completion request) is parsed again from the root, so
    /// every message, usage line and exit code is ArgumentParser's as before.
    static func command(for arguments: [String]) throws -> any ParsableCommand {
        if let name = arguments.first,
           let subcommand = configuration.subcommands.first(where: { $0._commandName == name }),
           let command = try? subcommand.parseAsRoot(Array(arguments.dropFirst())),
           commandTypes(under: subcommand).contains(ObjectIdentifier(type(of: command))) {
            return command
        }
        return try parseAsRoot(arguments)
    }

    /// `command` and every command below it (not ArgumentParser's `help`).
    static func commandTypes(under command: any ParsableCommand.Type) -> Set<ObjectIdentifier> {
        command.configuration.subcommands.reduce(into: [ObjectIdentifier(command)]) { $0.formUnion(commandTypes(under: $1)) }
    }

    /// `chainrule help NAME…` must name commands: ArgumentParser would print
    /// the top-level help and exit 0 for `help frob`.
    static func checkHelpTopic(_ arguments: [String]) throws {
        guard arguments.first == "help" else { return }
        var command: any ParsableCommand.Type = Chainrule.self
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            if let next = subcommands.first(where: { $0._commandName == name }) {
                command = next
                continue
            }
            let names = subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
            let hint = Suggestions.closest(to: name, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw ProgramError(description: "error: no command named '\(name)': \(hint)the commands are \(names.joined(separator: ", "))")
        }
    }
}
