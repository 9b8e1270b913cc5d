import ArgumentParser
import ChainruleCheck
import ChainruleCore
import ChainruleFigures
import Foundation

extension FigureStyle: ExpressibleByArgument {}
extension ModelView: ExpressibleByArgument {}
extension Direction: ExpressibleByArgument {}
extension Palette: ExpressibleByArgument {}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a graph with its values and gradients: PNG, SVG, PDF, DOT or JSON.",
        discussion: """
            Styles: circuit (CS231n: gates, values in green above each wire, gradients in red below),
            record (micrograd: name | data | grad per value), model (one box per layer, shapes on edges).
            Examples:
              chainrule render --example cs231n -o circuit.png
              chainrule render --example convnet --style model --view ops -o net.svg
            """)

    @Argument(help: "The program to draw (.grad).")
    var file: String?

    @Option(name: .long, help: "Draw a built-in example instead of a file: \(FigureExamples.names.joined(separator: ", ")).")
    var example: String?

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf, .dot, .json).")
    var output: String

    @Option(help: "circuit, record or model (default: model for graphs with layers, circuit for scalar graphs, record otherwise).")
    var style: FigureStyle?

    @Option(help: "Model style: layers (one box per layer) or ops (one box per op, layers framed).")
    var view: ModelView = .layers

    @Option(help: "LR (left to right) or TB (top to bottom).")
    var direction: Direction = .LR

    @Option(help: "What wires carry in the circuit style: any of value,local,grad.")
    var labels: String = "value,grad"

    @Option(help: "Decimals of every number shown.")
    var precision: Int = 2

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(help: "A title drawn above the figure.")
    var title: String?

    @Flag(name: .customLong("no-grad"), help: "Draw the forward pass only.")
    var noGrad = false

    @Option(help: "PNG pixels per point (2 = 144 DPI).")
    var scale: Double = 2

    @Flag(help: "Run the node-local gradient check and colour each node by its result.")
    var check = false

    func validate() throws {
        if (file == nil) == (example == nil) { throw ValidationError("give a FILE or --example NAME (one of them)") }
        if let example, !FigureExamples.names.contains(example) {
            throw ValidationError("unknown example '\(example)': use one of \(FigureExamples.names.joined(separator: ", "))")
        }
        if precision < 0 || precision > 12 { throw ValidationError("--precision must be between 0 and 12, got \(precision)") }
        if !(scale > 0 && scale <= 16) { throw ValidationError("--scale must be above 0 and at most 16, got \(scale)") }
    }

    func run() throws {
        guard let example, let (graph, outputNode) = FigureExamples.named(example) else {
            throw ValidationError("reading '\(file ?? "")' needs the language's compiler, which this build does not have yet: use --example NAME")
        }
        var options = FigureOptions()
        options.style = style ?? (graph.layers.isEmpty ? (graph.nodes.allSatisfy { $0.shape.isEmpty } ? .circuit : .record) : .model)
        options.view = view
        options.direction = direction
        options.labels = try WireLabel.parseList(labels)
        options.precision = precision
        options.palette = palette
        options.title = title
        options.showGradients = !noGrad
        options.scale = scale
        if check { options.check = try GradientCheck.graph(graph, output: outputNode) }
        let notes = try GraphFigure.write(graph: graph, output: outputNode, options: options, to: output)
        for note in notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
    }
}
