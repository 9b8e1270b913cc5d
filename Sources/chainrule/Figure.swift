import ArgumentParser
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation

/// `chainrule figure`: the lecture figures by name (the default), and the
/// figures of training, which take options of their own.
struct Figure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure", _superCommandName: Chainrule.toolName,
        abstract: LectureFigureCommand.configuration.abstract,
        subcommands: [LectureFigureCommand.self, OptimizersFigure.self, LearningRateSchedulesFigure.self, FeatureMapsFigure.self],
        defaultSubcommand: LectureFigureCommand.self)
}

/// `chainrule figure NAME`: the figures of the library's catalogue.
struct LectureFigureCommand: ParsableCommand {
    /// Every figure the command draws: the library's lecture figures and diagrams.
    static let catalogue: [LectureFigure] = LectureFigures.all

    static var names: [String] { catalogue.map(\.name) }

    static let configuration = CommandConfiguration(
        commandName: "lecture",
        abstract: "Draw a lecture figure or diagram: activations, losses, softmax, a neuron, a network, conv arithmetic, pooling, loss curves, classic graphs.",
        discussion: """
            Figures: \(names.joined(separator: ", ")).
            `chainrule figure --list` says what each one shows; docs/diagrams.md shows them all.
            Examples:
              chainrule figure error-vs-h -o error-vs-h.png
              chainrule figure softmax --logits 3.2,5.1,-1.7 --label 0 -o softmax.png
              chainrule figure neuron --inputs 1,2 --weights 0.5,-1 --bias 0.1 --activation sigmoid -o neuron.png
              chainrule figure conv-arithmetic --input 7 --kernel 3 --stride 2 --pad 1 -o conv.svg
              chainrule figure network samples/mlp.grad -o mlp-network.png
              chainrule figure loss-curve --log train.csv --fit 4:3 -o loss.pdf
            An unknown name, an option the figure does not read, bad numbers, or an output that is not .png, .svg or .pdf, exits 2.
            """)

    @Argument(help: "The figure to draw (see --list).")
    var name: String?

    @OptionGroup var program: ProgramInput

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf).")
    var output: String?

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(parsing: .unconditional, help: "PNG pixels per point (default 2 = 144 DPI); a PNG's only.", transform: OptionNumber.read)
    var scale: Double?

    @Option(help: "The figure's title instead of its own (\"\" for none).")
    var title: String?

    @OptionGroup var page: PageOption

    @Option(help: "loss-curve: a training log, a CSV whose header names its columns (epoch,iteration,lr,loss,accuracy,val_loss,…).")
    var log: String?

    @Option(parsing: .unconditional, help: "neuron: the inputs, as 1,2.")
    var inputs: String?

    @Option(parsing: .unconditional, help: "neuron: one weight per input, as 0.5,-1.")
    var weights: String?

    @Option(parsing: .unconditional, help: "neuron: the bias.", transform: OptionNumber.read)
    var bias: Double?

    @Option(help: "neuron: an elementwise op of the registry (sigmoid, tanh, relu, …).")
    var activation: String?

    @Option(parsing: .unconditional, help: "softmax: the class scores, as 3.2,5.1,-1.7.")
    var logits: String?

    @Option(parsing: .unconditional, help: "softmax: the true class, an index into the scores.")
    var label: Int?

    @Option(name: .customLong("input"), parsing: .unconditional, help: "conv-arithmetic: the input size N (N×N).")
    var convolutionInput: Int?

    @Option(parsing: .unconditional, help: "conv-arithmetic: the kernel size F.")
    var kernel: Int?

    @Option(parsing: .unconditional, help: "conv-arithmetic: the stride S.")
    var stride: Int?

    @Option(parsing: .unconditional, help: "conv-arithmetic: the zero padding P on each side.")
    var pad: Int?

    @Flag(help: "List the figures, one line each.")
    var list = false

    static func named(_ name: String) -> LectureFigure? { catalogue.first { $0.name == name } }

    /// The flag that gives a parameter (`program` is the FILE or -e).
    static func flag(_ parameter: FigureParameter) -> String {
        switch parameter {
        case .program: "a program (FILE or -e)"
        case .log: "--log"
        case .inputs: "--inputs"
        case .weights: "--weights"
        case .bias: "--bias"
        case .activation: "--activation"
        case .logits: "--logits"
        case .label: "--label"
        case .convolutionInput: "--input"
        case .kernel: "--kernel"
        case .stride: "--stride"
        case .pad: "--pad"
        }
    }

    /// A comma-separated list of numbers, as `--inputs 1,2` gives it.
    static func numbers(_ text: String?, flag: String) throws -> [Double]? {
        guard let text else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var values: [Double] = []
        for part in parts {
            guard case .success(let value) = WrittenNumber.read(part), value.isFinite else {
                throw ValidationError("\(flag) takes finite numbers separated by commas, as 1,2.5,-3; '\(part)' is not one")
            }
            values.append(value)
        }
        return values
    }

    /// What the options ask of the figure, the program and the log not yet read.
    func request() throws -> FigureRequest {
        var request = FigureRequest(palette: palette)
        request.inputs = try Self.numbers(inputs, flag: "--inputs")
        request.weights = try Self.numbers(weights, flag: "--weights")
        request.bias = bias
        request.activation = activation
        request.logits = try Self.numbers(logits, flag: "--logits")
        request.label = label
        (request.convolutionInput, request.kernel, request.stride, request.pad) = (convolutionInput, kernel, stride, pad)
        return request
    }

    /// The parameters given on the command line, the program and the log included.
    func givenParameters() throws -> Set<FigureParameter> {
        var given = try request().given
        if program.isGiven { given.insert(.program) }
        if log != nil { given.insert(.log) }
        return given
    }

    /// Every argument given besides --list, as its flag (the defaults of --palette and --scale not counted).
    func argumentsBesidesList() throws -> [String] {
        let named: [(Bool, String)] = [
            (name != nil, "a figure's name"), (output != nil, "-o"), (title != nil, "--title"), (page.fit != nil, "--fit"),
            (palette != .default, "--palette"), (scale != nil, "--scale"),
        ]
        let parameters = FigureParameter.allCases.filter(try givenParameters().contains).map(Self.flag)
        return named.filter(\.0).map(\.1) + parameters + program.optionsGiven
    }

    func validate() throws {
        if list {
            let extra = try argumentsBesidesList()
            if !extra.isEmpty { throw ValidationError("--list prints the figures and draws none: give it alone, without \(extra.joined(separator: ", "))") }
            return
        }
        guard let name else { throw ValidationError("name a figure, or use --list to see them: \(Self.names.joined(separator: ", "))") }
        guard let figure = Self.named(name) else {
            let hint = Suggestions.closest(to: name, among: Self.names).map { "did you mean '\($0)'? " } ?? ""
            throw ValidationError("unknown figure '\(name)': \(hint)the figures are \(Self.names.joined(separator: ", "))")
        }
        let extra = try givenParameters().subtracting(figure.parameters)
        if !extra.isEmpty {
            let reads = figure.parameters.isEmpty ? "it takes no arguments"
                : "it reads " + FigureParameter.allCases.filter(figure.parameters.contains).map(Self.flag).joined(separator: ", ")
            throw ValidationError("the figure \(name) does not read \(FigureParameter.allCases.filter(extra.contains).map(Self.flag).joined(separator: ", ")): \(reads)")
        }
        if figure.needsProgram && !program.isGiven {
            throw ValidationError("the figure \(name) is drawn from a program: chainrule figure \(name) FILE.grad -o OUT.png")
        }
        if !program.isGiven, let option = program.optionsGiven.first {
            let reads = figure.parameters.contains(.program) ? "the figure \(name) is drawn from its numbers here" : "the figure \(name) reads no program"
            throw ValidationError("\(option) applies to a program (FILE or -e EXPR); \(reads)")
        }
        guard let output else { throw ValidationError("give the output file with -o OUT.png (or .svg, .pdf)") }
        do { try LectureDrawing.checkFormat(of: output) } catch { throw ValidationError(error.description) }
        try RasterScale.check(scale, drawsPNG: RasterScale.isPNG(output), outputs: "'\(output)'")
    }

    func run() throws {
        if list {
            let width = Self.names.map(\.count).max() ?? 0
            for figure in Self.catalogue {
                print(figure.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + figure.summary)
            }
            return
        }
        guard let name, let output, let figure = Self.named(name) else { return }
        var request = try request()
        if program.isGiven {
            let compiled = try program.compile()
            request.program = FigureProgram(graph: compiled.graph, output: compiled.output, name: compiled.file ?? compiled.outputName)
        }
        if let log {
            do { request.log = try CSVLog.read(log) } catch { throw ProgramError(description: "error: \(error.description)") }
        }
        let page = try page.requested
        try FigureFailure.wording {
            let drawing = try figure.make(request)
            if case .graph = drawing, page != nil {
                throw ProgramError(description: "error: the figure \(name) is a graph, whose page follows from its layout: --fit draws charts and diagrams")
            }
            try drawing.with(title: title, fit: page).write(to: output, scale: scale ?? RasterScale.standard)
        }
    }
}

extension ProgramInput {
    /// The options of a program given with other values than their defaults, as flags:
    /// what a command that draws no program would drop in silence.
    var optionsGiven: [String] {
        let defaults = CompileOptions()
        let given: [(Bool, String)] = [
            (!at.isEmpty, "--at"), (data != nil, "--data"), (givenBatch != nil, "--batch"), (initFrom != nil, "--init-from"),
            (maxElements != defaults.maxElements, "--max-elements"), (maxMemory != nil, "--max-memory"),
            (maxOpNodes != defaults.maxOpNodes, "--max-op-nodes"),
        ]
        return given.filter(\.0).map(\.1)
    }
}
