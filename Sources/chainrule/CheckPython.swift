import ArgumentParser
import ChainruleCheck
import ChainruleCore
import ChainruleFigures
import Foundation

/// `chainrule check --python FILE`: the settings of the bridge to a layer written in Python.
struct PythonBridgeOptions: ParsableArguments {
    @Option(
        name: .customLong("python"),
        help: ArgumentHelp(
            "Check a layer written in Python (NumPy or a torch.autograd.Function): run FILE with python3, which calls chainrule.serve(forward, backward, inputs=...), and check its backward rule over a pipe.",
            valueName: "FILE"))
    var file: String?

    @Option(
        name: .customLong("python-timeout"),
        help: ArgumentHelp(
            "With --python: the longest one call of the file's functions may take, in seconds (its start, up to serve, gets at least 60 s); past it Python is stopped and chainrule exits 2 (default: 60).",
            valueName: "SECONDS"), transform: OptionNumber.read)
    var timeout: Double = 60

    @Option(
        name: .customLong("python-interpreter"),
        help: ArgumentHelp("With --python: the Python that runs FILE (a name on PATH or a path).", valueName: "PYTHON"))
    var interpreter = "python3"

    var isGiven: Bool { file != nil }

    func validate() throws {
        guard timeout > 0, timeout.isFinite else {
            throw ValidationError("--python-timeout must be a positive number of seconds, got \(timeout)")
        }
    }
}

extension Check {
    /// `--sweep out` sweeps the layer at its largest `uᵀJ` entry (nil: every input competes);
    /// `--sweep NAME` at the largest entry of the input Python calls NAME, which must get a gradient.
    func sweptInput(_ name: String, of op: ExternalOperation) throws -> Int? {
        if name == ExternalOperation.outputName { return nil }
        guard let i = op.inputNames.firstIndex(of: name) else {
            let names = [ExternalOperation.outputName] + op.inputNames
            let hint = Suggestions.closest(to: name, among: names).map { " (did you mean \($0)?)" } ?? ""
            throw ProgramError(description: "error: --sweep: the layer has no node or input named '\(name)'\(hint); give \(names.joined(separator: ", "))")
        }
        guard op.isDifferentiable(input: i) else {
            throw ProgramError(description: "error: --sweep: input \(name) gets no gradient (backward returns None for it): sweep another input or out")
        }
        return i
    }

    /// Starts the Python file, checks its layer node-locally, prints the report (and the
    /// figure); a failure of the pipe exits 2 with what went wrong, never with a verdict.
    func checkPython(_ bridge: PythonBridgeOptions) throws {
        guard let file = bridge.file else { return }
        func failed(_ error: ExternalError) -> ProgramError {
            let hint = switch error {
            case .timedOut: "\n(--python-timeout SECONDS allows each call longer)"
            case .cannotStart: "\n(--python-interpreter PYTHON names another Python)"
            default: ""
            }
            if case .badFile = error { return ProgramError(description: "error: \(error)") }
            return ProgramError(description: "error: \(file): \(error)\(hint)")
        }
        let op: ExternalOperation
        do {
            op = try ExternalOperation.start(script: file, interpreter: bridge.interpreter, deadline: bridge.timeout)
        } catch {
            throw failed(error)
        }
        defer { op.close() }
        let (graph, output) = op.graph()
        if let sweep, let path = self.output {
            try drawSweep(graph: graph, node: output, input: try sweptInput(sweep, of: op), to: path)
            if let error = op.failure {
                try? FileManager.default.removeItem(atPath: path)
                throw failed(error)
            }
            return
        }
        let (options, notes) = optionsPrintingNotes(for: graph, notes: [])
        // As for a program: a NaN at the check point or a step that resolves no input element is
        // bad input (exit 2), read off the inputs and the output Python already sent.
        try refuseBadInput(graph, output: output, options: options, known: op.inputs + [op.output])
        var report: CheckReport
        do {
            report = try op.check(options: options)
        } catch {
            throw failed(error)
        }
        report.notes = notes + report.notes
        if json {
            print(String(decoding: try report.jsonData(), as: UTF8.self))
        } else {
            let inputs = zip(op.inputNames, op.inputs).map { "\($0) \(describeShape($1.shape))" }.joined(separator: ", ")
            print("\(file): \(op.name)(\(inputs)) → \(ExternalOperation.outputName) \(describeShape(op.output.shape)) · \(op.runtime)")
            print(renderer.render(report))
            for note in report.notes where !notes.contains(note) { print("note: \(note)") }
            let (evaluations, roundTrips) = op.statistics
            print("note: \(evaluations) forward evaluations in \(roundTrips) round trips to Python")
        }
        if let figure {
            try drawFigure(graph: graph, output: output, report: report, source: PageSource(), to: figure)
            if let error = op.failure {
                try? FileManager.default.removeItem(atPath: figure)
                throw failed(error)
            }
        }
        if !report.passed { throw ExitCode(1) }
    }
}
