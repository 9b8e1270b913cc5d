import ArgumentParser
import ChainruleCheck
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation

/// An option's values spelled by their raw values, described directly.
/// ArgumentParser's defaults reach a value's text through `"\(value)"` and
/// key paths, each a dynamic cast that scans the static binary's protocol
/// conformances the first time: about 4 million instructions of a small
/// figure's 62 million (callgrind), spent on help text at every parse.
public protocol RawValueArgument: ExpressibleByArgument, CaseIterable, RawRepresentable where RawValue == String {}

extension RawValueArgument {
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map { $0.rawValue } }
    /// None: a value's description is its raw value, which is what
    /// ArgumentParser's default leaves out too, after a generic walk of
    /// every case that costs a conformance scan (0.23 million instructions)
    /// per option type at every parse.
    public static var allValueDescriptions: [String: String] { [:] }
}

extension FigureStyle: RawValueArgument {}
extension ModelView: RawValueArgument {}
extension Direction: RawValueArgument {}
extension Palette: RawValueArgument {}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render", _superCommandName: Chainrule.toolName,
        abstract: "Draw a graph with its values and gradients: PNG, SVG, PDF, DOT, JSON or an interactive HTML page.",
        discussion: """
            Styles:
              circuit  CS231n: gates; values green above each wire, gradients red below
              record   micrograd: a box per value, name | data | grad, heatmaps for tensors
              model    one box per layer stage: window, weights, parameter count, output shape
            Examples:
              chainrule render samples/cs231n-circuit.grad -o circuit.png
              chainrule render samples/lenet.grad --view ops -o lenet.svg
              chainrule render samples/custom-op-wrong.grad --check -o wrong.png
              chainrule render --example cs231n --labels value,local,grad -o circuit.pdf
              chainrule render samples/cs231n-circuit.grad --steps -o steps.pdf
              chainrule render samples/sigmoid-neuron.grad --steps -o frames/
            Step by step (--steps, circuit or record style):
              page 0   the forward pass; only the output's seed gradient is known
              page k   the backward of k ops done, in reverse topological order;
                       the k-th op highlighted with upstream × local = downstream
                       at each input; gradients not yet known read "—"
              -o OUT.pdf writes one page per step; -o DIR/ (or an existing
              folder) writes step-00.png, step-01.png, … on one fixed layout.
            Graphviz lays the figure out in a child process, stopped after --layout-timeout seconds.
            Bad input (unknown extension, unwritable path, empty graph, a graph too big to lay out) exits 2.
            """)

    @OptionGroup var program: ProgramInput

    @OptionGroup var modelInputs: ModelInputOptions

    @Option(name: .long, help: "Draw a built-in example instead of a file: \(FigureExamples.names.joined(separator: ", ")).")
    var example: String?

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf, .dot, .json, or .html for the interactive page). With --steps: a .pdf, or a folder for PNG frames.")
    var output: String

    @Option(help: "circuit, record or model (default: model for graphs with layers, circuit for scalar graphs, record otherwise).")
    var style: FigureStyle?

    @Option(help: "Model style only: layers (one box per layer) or ops (one box per op, layers framed) (default: layers).")
    var view: ModelView?

    @Option(help: "LR (left to right) or TB (top to bottom) (default: LR; a long chain wraps into rows, or with TB into columns, to fill --fit).")
    var direction: Direction?

    @Option(help: "Circuit style only: what wires carry, any of value,local,grad (default: value,grad).")
    var labels: String?

    @Option(parsing: .unconditional, help: "Decimals of every number shown.")
    var precision: Int = 2

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(parsing: .unconditional, help: "A title drawn above the figure (it may start with -).")
    var title: String?

    @Flag(name: .customLong("no-grad"), help: "Draw the forward pass only.")
    var noGrad = false

    @Option(help: "The area to fill and be read on: slide (16:9, 900×460 pt), 4:3, or WxH in points. The model and record styles wrap long chains into rows to fill it; below 14 pt of text once fitted, a warning says what to draw instead.",
            transform: { try FitTarget(validating: $0) })
    var fit: FitTarget = .slide

    @Option(parsing: .unconditional, help: "PNG pixels per point (2 = 144 DPI; PNG and --steps frames only).", transform: OptionNumber.read)
    var scale: Double?

    @Flag(help: "Run the node-local gradient check and colour each node by its result.")
    var check = false

    @Flag(help: "Draw the backward pass step by step: one PDF page (or PNG frame) per op, circuit or record style.")
    var steps = false

    @OptionGroup var layout: LayoutTimeoutOption

    func validate() throws {
        if program.isGiven == (example != nil) {
            throw ValidationError("give one program: a FILE, - for standard input, -e EXPR, or --example NAME")
        }
        if let example, !FigureExamples.names.contains(example) {
            let hint = Suggestions.closest(to: example, among: FigureExamples.names).map { "did you mean '\($0)'? " } ?? ""
            throw ValidationError("unknown example '\(example)': \(hint)the examples are \(FigureExamples.names.joined(separator: ", "))")
        }
        if let example, let ignored = programOptionsGiven.first {
            // A built-in example is a graph made by the Swift API: no program reads these.
            throw ValidationError("\(ignored) applies to a program (a FILE, - or -e EXPR); --example \(example) draws a built-in graph that takes no options of a program")
        }
        if precision < 0 || precision > 12 { throw ValidationError("--precision must be between 0 and 12, got \(precision)") }
        // Only a PNG (or --steps' PNG frames, in a folder) has pixels; the other formats would drop --scale in silence.
        let framesOrPNG = steps ? !output.lowercased().hasSuffix(".pdf") : RasterScale.isPNG(output)
        try RasterScale.check(scale, drawsPNG: framesOrPNG, outputs: "'\(output)'")
    }

    /// The options of `ProgramInput` (`optionsGiven`) and `ModelInputOptions` given with other
    /// values than their defaults, as flags: what a program reads and `--example` would drop in silence.
    var programOptionsGiven: [String] {
        program.optionsGiven + (modelInputs.input.isEmpty ? [] : ["--input"])
    }

    func run() throws {
        try FigureFailure.wording(draw)
    }

    func draw() throws {
        if let file = FontMetrics.defaultFile { FontMetrics.useFile(file) }
        defer { FontMetrics.save() }
        let (graph, outputNode, source) = try graphToDraw()
        var options = FigureOptions()
        options.style = style ?? FigureOptions.defaultStyle(for: graph, stepByStep: steps)
        try refuseOptionsOfOtherStyles(drawnIn: options.style)
        if let view { options.view = view }
        options.direction = direction ?? FigureOptions.defaultDirection(for: options.style)
        if let labels { options.labels = try WireLabel.parseList(labels) }
        options.precision = precision
        options.palette = palette
        options.title = title
        options.showGradients = !noGrad
        options.scale = scale ?? RasterScale.standard
        options.fit = fit
        options.layout = layout.limits
        if check {
            let sampled = CheckOptions().samplingLargeTensors(of: graph)
            if let note = sampled.note { StandardStreams.error("note: \(note)\n") }
            options.check = try GradientCheck.graph(graph, output: outputNode, options: sampled.options)
        }
        if steps {
            try BackwardSteps.write(graph: graph, output: outputNode, options: options, to: output)
            return
        }
        if try FigureFormat(path: output) == .html {
            let notes = try InteractivePage.write(graph: graph, output: outputNode, options: options, source: source, to: output)
            for note in notes { StandardStreams.error("note: \(note)\n") }
            return
        }
        let written = try GraphFigure.writeMeasured(graph: graph, output: outputNode, options: options, to: output)
        for note in written.notes { StandardStreams.error("note: \(note)\n") }
        if let fit = written.slideFit, !fit.isReadable {
            let advice = written.advice.map(\.commandLine).joined(separator: ", or ")
            let size = String(format: "%.1f", fit.textSize)
            StandardStreams.error(
                "warning: the figure is too big to read on \(fit.target): fitted there, its smallest text is \(size) pt, below \(formatNumber(FitTarget.readableTextSize)) pt; try \(advice)\n")
        }
    }

    /// An option that only one style reads, given for a figure in another
    /// style, would be dropped in silence: refused instead (exit 2), naming
    /// the style the figure is drawn in and why.
    func refuseOptionsOfOtherStyles(drawnIn drawn: FigureStyle) throws {
        let why = style == nil ? ", the default for this graph" : ""
        if view != nil, drawn != .model {
            throw FigureFailure(.invalidOption("--view picks the model style's layers or ops view; this figure is drawn in the \(drawn.rawValue) style\(why): add --style model, or leave --view out"))
        }
        if labels != nil, drawn != .circuit {
            throw FigureFailure(.invalidOption("--labels sets what the circuit style's wires carry; this figure is drawn in the \(drawn.rawValue) style\(why), which shows every value and gradient in its boxes: add --style circuit, or leave --labels out"))
        }
    }

    /// The graph to draw, forward and backward done (backward only when
    /// gradients are drawn), and its program for the interactive page.
    func graphToDraw() throws -> (Graph, NodeID, PageSource) {
        if let example, let built = FigureExamples.named(example) { return (built.0, built.1, PageSource()) }
        let compiled = try program.compile(modelInputs: modelInputs.input)
        if !noGrad { try compiled.graph.backward(from: compiled.output) }
        return (compiled.graph, compiled.output, PageSource(compiled))
    }
}

extension PageSource {
    /// The program's text and where its `op` blocks' backward rules are written.
    init(_ program: Program) {
        self.init(text: program.source, file: program.file, ruleLocations: program.customOperations.mapValues(\.backwardLocations))
    }
}

/// A figure error as the command line says it: its advice worded as flags.
struct FigureFailure: Error, CustomStringConvertible {
    let error: FigureError
    init(_ error: FigureError) { self.error = error }
    var description: String { error.description(advising: \.commandLine) }

    /// Runs `body`; a figure error it throws comes out worded for the command line.
    static func wording<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FigureError { throw FigureFailure(error) }
    }
}

extension FigureAdvice {
    /// The flags that follow the advice.
    var commandLine: String {
        switch self {
        case .recordStyle: "--style record"
        case .modelStyle: "--style model"
        case .layerView: "--style model --view layers"
        case .smallerGraph: "a smaller graph (one sample instead of a batch, fewer steps)"
        case .writeDot: "-o FILE.dot (DOT needs no layout)"
        case .longerTimeout: "a longer --layout-timeout (default \(formatNumber(LayoutLimits.defaultTimeout)) s)"
        case .smallerScale: "a smaller --scale"
        case .vectorFormat: "-o FILE.svg or -o FILE.pdf"
        }
    }
}
