import ArgumentParser
import ChainruleFigures
import Foundation

/// `chainrule layout-worker`: the child process `render` lays big figures out in
/// (hidden). It reads a layout request on standard input and writes the
/// positions and splines on standard output; a Graphviz crash or a deadline
/// then ends this process, not the one that asked.
struct LayoutWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout-worker", _superCommandName: Chainrule.toolName,
        abstract: "Lay out one figure for another chainrule process (internal).",
        shouldDisplay: false)

    func run() throws {
        let status = LayoutWorker.serve()
        if status != 0 { throw ExitCode(status) }
    }

    /// Layout in a worker that is this very executable (in this process for a
    /// small figure), given up after `timeout` seconds. The executable's path
    /// is read from /proc/self/exe's link, which tools that run the program
    /// under them (valgrind) answer with the program's own path.
    static func limits(timeout: Double) -> LayoutLimits {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return LayoutLimits(runner: .processUnlessSmall(executable: executable, arguments: ["layout-worker"]), timeout: timeout)
    }
}

/// `--layout-timeout`, for every command that lays a figure out (`render`,
/// `check --figure`): the figure is laid out in a worker process, given up
/// after this many seconds.
struct LayoutTimeoutOption: ParsableArguments {
    @Option(name: .customLong("layout-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Seconds Graphviz may take to lay the figure out before it is stopped (default: \(OptionNumber.shown(LayoutLimits.defaultTimeout))).", valueName: "seconds"), transform: OptionNumber.read)
    var layoutTimeout: Double = LayoutLimits.defaultTimeout

    func validate() throws {
        if let problem = LayoutLimits.timeoutProblem(layoutTimeout) { throw ValidationError("--layout-timeout: " + problem) }
    }

    var limits: LayoutLimits { LayoutWorkerCommand.limits(timeout: layoutTimeout) }
}
