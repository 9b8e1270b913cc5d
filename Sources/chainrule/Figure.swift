import ArgumentParser
import ChainruleFigures
import Foundation

/// `chainrule figure`: the lecture figures by name (the default), and the
/// figures of training, which take options of their own.
struct Figure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: LectureFigureCommand.configuration.abstract,
        subcommands: [LectureFigureCommand.self, OptimizersFigure.self, LearningRateSchedulesFigure.self, FeatureMapsFigure.self],
        defaultSubcommand: LectureFigureCommand.self)
}

struct LectureFigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lecture",
        abstract: "Draw a lecture figure: activation functions, finite-difference error, optimizer paths, loss curves, classic graphs.",
        discussion: """
            Figures: \(LectureFigures.names.joined(separator: ", ")).
            `chainrule figure --list` says what each one shows.
            Examples:
              chainrule figure error-vs-h -o error-vs-h.png
              chainrule figure activations --palette colorblind -o activations.pdf
              chainrule figure --list
            An unknown name, or an output that is not .png, .svg or .pdf, exits 2.
            """)

    @Argument(help: "The figure to draw (see --list).")
    var name: String?

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf).")
    var output: String?

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(parsing: .unconditional, help: "PNG pixels per point (2 = 144 DPI).")
    var scale: Double = 2

    @Flag(help: "List the figures, one line each.")
    var list = false

    func validate() throws {
        if list { return }
        guard let name else { throw ValidationError("name a figure, or use --list to see them: \(LectureFigures.names.joined(separator: ", "))") }
        if LectureFigures.named(name) == nil {
            let hint = LectureFigures.suggestion(for: name).map { "did you mean '\($0)'? " } ?? ""
            throw ValidationError("unknown figure '\(name)': \(hint)the figures are \(LectureFigures.names.joined(separator: ", "))")
        }
        guard let output else { throw ValidationError("give the output file with -o OUT.png (or .svg, .pdf)") }
        do { try LectureDrawing.checkFormat(of: output) } catch { throw ValidationError(error.description) }
        if let problem = FigureOptions.scaleProblem(scale) { throw ValidationError(problem) }
    }

    func run() throws {
        if list {
            let width = LectureFigures.names.map(\.count).max() ?? 0
            for figure in LectureFigures.all {
                print(figure.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + figure.summary)
            }
            return
        }
        guard let name, let output, let figure = LectureFigures.named(name) else { return }
        try FigureFailure.wording { try figure.make(palette).write(to: output, scale: scale) }
    }
}
