import ArgumentParser
import ChainruleCheck
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation

/// `chainrule check`: proves backward rules with finite differences.
///
/// Exit codes: 0 everything passed, 1 a check failed (`ExitCode(1)`), 2 bad input
/// or usage: `validate()` throws `ValidationError`s and `Chainrule.main` turns every
/// usage error (ArgumentParser's 64) into 2 with the message on stderr.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", _superCommandName: Chainrule.toolName,
        abstract: "Prove backward rules with finite differences: every registry op (--ops), or a program's graph.",
        discussion: """
            An element passes when |a − n| ≤ atol + rtol·|n| (a: the backward rule, n: the finite difference). \
            The report also grades the relative error |a − n| / max(|a|, |n|): ≤1e-7 good, ≤1e-4 acceptable \
            (rounding in long sums, or at kinks), ≤1e-2 suspicious, above wrong. Where x ± h crosses a kink \
            (relu at 0, a max tie) the step is shrunk until one kink is isolated and the one-sided \
            derivatives have converged; the report gives both, and the rule's value passes when it lies \
            between them (a subgradient, within atol + rtol·max(|left|, |right|)); where that cannot be \
            reached the element is inconclusive, never failed.
            A program's check samples large tensors: when some leaf or op input has more than \
            \(CheckOptions.autoSampleThreshold) elements, \(CheckOptions.autoSampleSize) random elements of \
            every leaf and op input with more than \(CheckOptions.autoSampleSize) are checked (all elements of \
            the smaller ones); --sample K chooses K, --every-element checks everything.
            --stencil richardson extrapolates central differences at h, h/2, … h/32 (12 evaluations an \
            element) and gives each number an error estimate: a mismatch beyond the tolerance is reported \
            with it, and where the estimate itself exceeds the tolerance the element is inconclusive. \
            --eps auto chooses each element's step from 4 pilot evaluations at x ± H, x ± 2H: for central \
            differences h = (3ε·|f| / |f‴|)^(1/3), within 2H = 2e-2·max(1, |x|); the summary gives the range of h.
            Each op's rule is also probed with a seeded random cotangent u: uᵀJ, backward(2.5·u) = \
            2.5·backward(u), backward(0) = 0, gradient shapes, determinism, unchanged inputs.
            --sweep NODE -o OUT draws |rule − numeric| against h for that node instead of checking; with \
            --python FILE, NODE is out (the layer's one node, at its largest uᵀJ entry) or an input's name \
            (at that input's largest entry).
            Exit status: 0 all passed (inconclusive elements included), 1 a check failed, 2 bad input or usage \
            (or a --figure that cannot be written).
            """)

    @OptionGroup var program: ProgramInput

    @OptionGroup var modelInputs: ModelInputOptions

    @OptionGroup(title: "A loss for an ONNX model") var loss: ONNXLossOptions

    @Flag(help: "Check the backward rule of every op in the registry on each of its samples (full Jacobians).")
    var ops = false

    @Option(help: "With --ops: check only this op (repeat for several).")
    var op: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Finite-difference step h (default 1e-6 for central, 1e-3 for five-point, 0.125·max(1, |x|) for richardson), or auto: a step per element from 4 pilot evaluations (h = (3ε·|f| / |f‴|)^(1/3) for central).",
        valueName: "H|auto"), transform: StepArgument.read)
    var eps: StepArgument?

    @Option(parsing: .unconditional, help: "Absolute tolerance atol (default: \(OptionNumber.shown(CheckOptions().absoluteTolerance))).", transform: OptionNumber.read)
    var atol: Double = CheckOptions().absoluteTolerance

    @Option(parsing: .unconditional, help: "Relative tolerance rtol (default: \(OptionNumber.shown(CheckOptions().relativeTolerance))).", transform: OptionNumber.read)
    var rtol: Double = CheckOptions().relativeTolerance

    @Option(help: "Finite-difference formula: central (error O(h²)), five-point (O(h⁴)) or richardson (adaptive, with an error estimate).")
    var stencil: Stencil = .central

    @Flag(help: "Compare uᵀJv for random u, v first; check element by element only where that disagrees.")
    var fast = false

    @Option(parsing: .unconditional, help: "Check K random elements of every leaf or input instead of all of them.")
    var sample: Int?

    @Option(parsing: .unconditional, help: "Seed of the random u, v (--fast) and of the sampled elements (--sample).")
    var seed: UInt64 = 0

    @Flag(help: "For a program: compare every element of every tensor, however large (the default samples tensors above \(CheckOptions.autoSampleThreshold) elements).")
    var everyElement = false

    @Flag(help: "For a program: run only the node-local check (every node's own rule at the values it saw).")
    var localOnly = false

    @Flag(help: "For a program: run only the end-to-end check (d output / d leaf through the whole graph).")
    var endToEndOnly = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp(
        "For a program: after the check, draw the graph coloured by its result, as `chainrule render FILE --check -o OUT` does (.png, .svg, .pdf, .dot, .json).",
        valueName: "OUT"))
    var figure: String?

    @OptionGroup(title: "A layer written in Python") var python: PythonBridgeOptions

    @OptionGroup var layout: LayoutTimeoutOption

    @Option(help: ArgumentHelp("Draw the step sweep of this node's rule to -o OUT (.png, .svg, .pdf) instead of checking; with --python, out or an input's name.", valueName: "NODE"))
    var sweep: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("With --sweep: the figure to write.", valueName: "OUT"))
    var output: String?

    func validate() throws {
        func usage(_ message: String) throws -> Never { throw ValidationError(message) }
        if case .fixed(let eps) = eps, !(eps > 0 && eps.isFinite) { try usage("--eps must be a positive step, got \(eps)") }
        // An infinite tolerance would pass every rule: it is no tolerance.
        if !(atol >= 0) || !atol.isFinite { try usage("--atol must be a finite number, 0 or more, got \(atol)") }
        if !(rtol >= 0) || !rtol.isFinite { try usage("--rtol must be a finite number, 0 or more, got \(rtol)") }
        if let sample, sample < 1 { try usage("--sample must be at least 1 element, got \(sample)") }
        if everyElement && sample != nil { try usage("give either --sample K or --every-element, not both") }
        if localOnly && endToEndOnly { try usage("give either --local-only or --end-to-end-only, not both (without either, both checks run)") }
        if (localOnly || endToEndOnly) && !program.isGiven {
            try usage("--\(localOnly ? "local-only" : "end-to-end-only") chooses a program's check: give a FILE")
        }
        if !op.isEmpty && !ops { try usage("--op NAME selects ops for the rule check: add --ops") }
        if ops && program.isGiven { try usage("give either --ops or a FILE, not both") }
        if ops && figure != nil { try usage("--figure draws a program's graph: give a FILE instead of --ops") }
        if let figure {
            do { _ = try FigureFormat(path: figure) } catch { try usage("--figure: \(error.description)") }
        }
        if python.isGiven && (ops || program.isGiven) { try usage("give one thing to check: --ops, a FILE, or --python FILE") }
        if !ops && !program.isGiven && !python.isGiven { try usage("nothing to check: give --ops (every op's rule) or a FILE (a program's graph), or --python FILE (a layer written in Python)") }
        if sweep != nil && output == nil { try usage("--sweep NODE needs -o OUT (.png, .svg or .pdf) for the figure") }
        if sweep == nil && output != nil { try usage("-o OUT writes a --sweep figure: add --sweep NODE (or use --figure OUT for the checked graph)") }
        if sweep != nil && ops { try usage("--sweep sweeps a program's node or a Python layer: give a FILE or --python FILE instead of --ops") }
        if let output, sweep != nil {
            do {
                let format = try FigureFormat(path: output)
                if ![.png, .svg, .pdf].contains(format) { try usage("-o: a sweep is drawn as .png, .svg or .pdf, not \(format)") }
            } catch let error as FigureError { try usage("-o: \(error.description)") }
        }
        for name in op where Registry.spec(named: name) == nil {
            let hint = Suggestions.closest(to: name, among: Registry.names).map { " (did you mean \($0)?)" } ?? ""
            try usage("no op named '\(name)' in the registry\(hint); `chainrule ops` lists them")
        }
    }

    var options: CheckOptions {
        CheckOptions(
            step: eps?.step, autoStep: eps == .auto, stencil: stencil, absoluteTolerance: atol, relativeTolerance: rtol, fast: fast,
            sample: sample, seed: seed, nodeLocal: !endToEndOnly, endToEnd: !localOnly, progress: isatty(STDERR_FILENO) != 0)
    }

    var renderer: TerminalReport { TerminalReport(colors: isatty(STDOUT_FILENO) != 0) }

    func run() throws {
        if python.isGiven {
            try checkPython(python)
            return
        }
        if program.isGiven {
            try checkProgram()
            return
        }
        let specs = op.isEmpty ? Registry.specs : op.compactMap(Registry.spec(named:))
        let report = GradientCheck.rules(ops: specs, options: options)
        if json {
            print(String(decoding: try report.jsonData(), as: UTF8.self))
        } else {
            print(renderer.render(report))
        }
        if !report.passed { throw ExitCode(1) }
    }

    /// The options for checking `graph` — large tensors sampled unless `--every-element` —
    /// and `notes` with the sampling's own note, each printed on standard error (the
    /// report carries them too).
    func optionsPrintingNotes(for graph: Graph, notes: [String]) -> (options: CheckOptions, notes: [String]) {
        var options = self.options, notes = notes
        if !everyElement {
            let sampled = options.samplingLargeTensors(of: graph)
            options = sampled.options
            if let note = sampled.note { notes.append(note) }
        }
        for note in notes { StandardStreams.error("note: \(note)\n") }
        return (options, notes)
    }

    /// The node-local and end-to-end checks of the program's graph, then the figure if asked for.
    func checkProgram() throws {
        let compiled = try program.compile(loss: loss.value, modelInputs: modelInputs.input)
        let graph = compiled.graph
        if let sweep, let output {
            try drawSweep(graph: graph, node: sweep, to: output)
            return
        }
        let (options, notes) = optionsPrintingNotes(for: graph, notes: compiled.notes)
        var report: CheckReport
        do {
            try refuseBadInput(graph, output: compiled.output, options: options)
            report = try GradientCheck.graph(graph, output: compiled.output, options: options)
        } catch let error as GraphError {
            throw ProgramError(description: "error: \(error.description)")
        }
        let hints = customRuleHints(report, compiled)
        report.notes = notes + hints
        if json {
            print(String(decoding: try report.jsonData(), as: UTF8.self))
        } else {
            print(renderer.render(report))
            for hint in hints { print("note: \(hint)") }
        }
        if let figure { try drawFigure(graph: graph, output: compiled.output, report: report, source: PageSource(compiled), to: figure) }
        if !report.passed { throw ExitCode(1) }
    }

    /// Bad input (a NaN or an infinity at the check point, a step that resolves nothing) is exit 2
    /// with its reason (`GradientCheck.refusal`), not a verdict on any rule.
    func refuseBadInput(_ graph: Graph, output: NodeID, options: CheckOptions, known: [Tensor]? = nil) throws {
        switch try GradientCheck.refusal(graph, output: output, options: options, known: known) {
        case .nonFinite(let bad)?: throw ProgramError(description: "error: cannot check: \(CheckRefusal.nonFinite(bad))")
        case .unresolvedStep(let step)?:
            throw ProgramError(description: "error: --eps \(shortNumber(options.effectiveStep)): \(CheckRefusal.unresolvedStep(step))")
        case nil: break
        }
    }

    /// Writes the check-overlay figure exactly as `chainrule render FILE --check -o OUT` does:
    /// its default style and direction, gradients from a backward pass, each node coloured by `report`.
    func drawFigure(graph: Graph, output: NodeID, report: CheckReport, source: PageSource, to path: String) throws {
        try graph.backward(from: output)
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: graph)
        options.direction = FigureOptions.defaultDirection(for: options.style)
        options.check = report
        options.layout = layout.limits
        let notes = try FigureFailure.wording {
            try FigureFormat(path: path) == .html
                ? InteractivePage.write(graph: graph, output: output, options: options, source: source, to: path)
                : GraphFigure.write(graph: graph, output: output, options: options, to: path)
        }
        for note in notes { StandardStreams.error("note: \(note)\n") }
    }

    /// Writes the step sweep of node `name` and says what it found; a name that is not an op
    /// node exits 2 with the closest name.
    func drawSweep(graph: Graph, node name: String, to path: String) throws {
        let id: NodeID
        do {
            id = try GradientCheck.opNode(named: name, in: graph)
        } catch {
            throw ProgramError(description: "error: --sweep: \(error.description)")
        }
        try drawSweep(graph: graph, node: id, input: nil, to: path)
    }

    /// Writes the step sweep of op node `id` (at input `input` only, when given) and says what it found.
    func drawSweep(graph: Graph, node id: NodeID, input: Int?, to path: String) throws {
        let result: StepSweep
        do {
            result = try GradientCheck.sweep(graph, node: id, input: input, options: options)
        } catch {
            throw ProgramError(description: "error: \(error.description)")
        }
        try SweepFigure.figure(result).write(to: path)
        let best = Stencil.allCases.compactMap { s in result.errors[s]?.min().map { (s, $0) } }
        let summary = best.map { "\($0.0.rawValue) \(String(format: "%.1e", $0.1))" }.joined(separator: ", ")
        print("wrote \(path): step sweep of \(result.node) (\(result.op)) at \(result.inputName) element \(result.index); smallest |rule − numeric|: \(summary); Richardson chose h = \(formatNumber(result.richardsonChosenStep, significant: 3)) (good to \(String(format: "%.0e", result.richardsonErrorEstimate)))")
    }

    /// For each failing node whose op is an `op` block of the program, where
    /// the backward clause of the worst input is written: the place to fix.
    func customRuleHints(_ report: CheckReport, _ compiled: Program) -> [String] {
        var seen = Set<String>()
        let lines = compiled.source.sourceLines()
        return report.nodes.filter { $0.status == .fail }.compactMap { node in
            guard let op = compiled.customOperations[node.op], let input = node.worst?.input,
                  input < op.backwardLocations.count, seen.insert("\(node.op) \(input)").inserted
            else { return nil }
            let at = op.backwardLocations[input]
            let text = at.line - 1 < lines.count ? String(lines[at.line - 1]) : ""
            return "the backward rule of op \(node.op) for \(op.parameters[input]) is written at \(at):\n\(text)\n\(String(repeating: " ", count: max(at.column - 1, 0)))^"
        }
    }
}

extension Stencil: ExpressibleByArgument {}

/// `--eps 1e-4` or `--eps auto`.
enum StepArgument: Equatable {
    case fixed(Double)
    case auto

    /// `auto`, or a number as a program writes one (`OptionNumber`).
    static func read(_ argument: String) throws -> StepArgument {
        argument == "auto" ? .auto : .fixed(try OptionNumber.read(argument))
    }

    /// The fixed step, if one was given.
    var step: Double? {
        if case .fixed(let h) = self { h } else { nil }
    }
}
