import ChainruleCheck
import ChainruleCore
import ChainruleTraining
import Foundation

/// What a lecture figure draws: a chart, a diagram, or a computation graph in one of the graph styles.
public enum LectureDrawing {
    case chart(PlotFigure)
    case diagram(Diagram)
    case graph(Graph, output: NodeID, options: FigureOptions)

    /// Writes the drawing as PNG (`scale` pixels per point), SVG or PDF, as the extension of `path` says.
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        let format = try DrawnFormat(path: path, what: "a lecture figure")
        switch self {
        case .chart(let chart): try chart.checkedDrawing().write(to: path, as: format, scale: scale)
        case .diagram(let diagram): try diagram.drawing.write(to: path, as: format, scale: scale)
        case .graph(let graph, let output, var options):
            options.scale = scale
            try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        }
    }

    /// Refuses an output that is not .png, .svg or .pdf, saying which endings work.
    public static func checkFormat(of path: String) throws(FigureError) {
        _ = try DrawnFormat(path: path, what: "a lecture figure")
    }

    /// The drawing as an SVG document.
    public func svg() throws(FigureError) -> String {
        switch self {
        case .chart(let chart): return chart.svg()
        case .diagram(let diagram): return diagram.svg()
        case .graph(let graph, let output, let options): return GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        }
    }

    /// The same drawing with another title (`""` removes it) and, for charts and diagrams, another page.
    /// A graph's page follows from its layout, so `fit` leaves graphs as they are.
    public func with(title: String?, fit: ChartPage?) -> LectureDrawing {
        let title = title.map { $0.isEmpty ? nil : $0 }
        switch self {
        case .chart(var chart):
            if let title { chart.title = title }
            if let fit { chart.fit = fit }
            return .chart(chart)
        case .diagram(var diagram):
            if let title { diagram.title = title }
            if let fit { diagram.fit = fit }
            return .diagram(diagram)
        case .graph(let graph, let output, var options):
            if let title { options.title = title }
            return .graph(graph, output: output, options: options)
        }
    }
}

/// The arguments a lecture figure may read besides the palette, title and page
/// (the command line words each as its flag: `program` is the FILE, `convolutionInput` is `--input`).
public enum FigureParameter: String, Sendable, CaseIterable {
    case program, log, inputs, weights, bias, activation, logits, label, convolutionInput, kernel, stride, pad
}

/// A compiled program handed to a figure: its graph with values, its output, and the name to show for it.
public struct FigureProgram {
    public var graph: Graph
    public var output: NodeID
    public var name: String

    public init(graph: Graph, output: NodeID, name: String) {
        self.graph = graph
        self.output = output
        self.name = name
    }
}

/// Everything `chainrule figure NAME …` passes to a figure, typed; nil is "not given, use the figure's default".
public struct FigureRequest {
    public var palette: Palette = .default
    public var program: FigureProgram?
    public var log: CSVLog?
    public var inputs: [Double]?
    public var weights: [Double]?
    public var bias: Double?
    /// A registry op applied elementwise (sigmoid, tanh, relu, …).
    public var activation: String?
    public var logits: [Double]?
    /// A class index into `logits`.
    public var label: Int?
    public var convolutionInput: Int?
    public var kernel: Int?
    public var stride: Int?
    public var pad: Int?

    public init(palette: Palette = .default) { self.palette = palette }

    /// The parameters that were given.
    public var given: Set<FigureParameter> {
        let present: [(FigureParameter, Bool)] = [
            (.program, program != nil), (.log, log != nil), (.inputs, inputs != nil), (.weights, weights != nil), (.bias, bias != nil),
            (.activation, activation != nil), (.logits, logits != nil), (.label, label != nil),
            (.convolutionInput, convolutionInput != nil), (.kernel, kernel != nil), (.stride, stride != nil), (.pad, pad != nil),
        ]
        return Set(present.filter(\.1).map(\.0))
    }
}

/// One named figure for a lecture: `chainrule figure NAME -o OUT.png`.
public struct LectureFigure: Sendable {
    public var name: String
    /// One line for `chainrule figure --list`.
    public var summary: String
    /// The parameters it reads (the command line refuses any other before drawing; `make` ignores them).
    public var parameters: Set<FigureParameter>
    /// Whether it cannot be drawn without a program.
    public var needsProgram: Bool
    private var draw: @Sendable (FigureRequest) throws(FigureError) -> LectureDrawing

    public init(name: String, summary: String, parameters: Set<FigureParameter> = [], needsProgram: Bool = false,
                draw: @escaping @Sendable (FigureRequest) throws(FigureError) -> LectureDrawing) {
        self.name = name
        self.summary = summary
        self.parameters = parameters.union(needsProgram ? [.program] : [])
        self.needsProgram = needsProgram
        self.draw = draw
    }

    /// A figure that reads nothing but the palette.
    public init(name: String, summary: String, make: @escaping @Sendable (Palette) -> LectureDrawing) {
        self.init(name: name, summary: summary) { (request) throws(FigureError) in make(request.palette) }
    }

    /// The figure for `request`; a figure that needs a program and has none is refused.
    public func make(_ request: FigureRequest) throws(FigureError) -> LectureDrawing {
        if needsProgram && request.program == nil { throw .invalidOption("the figure \(name) is drawn from a program: give its .grad file") }
        return try draw(request)
    }

    /// The figure drawn with its defaults in `palette`.
    public func make(_ palette: Palette) throws(FigureError) -> LectureDrawing { try make(FigureRequest(palette: palette)) }
}

/// The lecture figures: charts drawn by the plotting layer from Chainrule's own
/// forward and backward passes, the classic graphs in the graph styles, and the diagrams of an intro lecture.
public enum LectureFigures {
    public static let all: [LectureFigure] = [
        LectureFigure(name: "activations", summary: "relu, leaky_relu, sigmoid, tanh, softplus, elu and their derivatives, from the registry's forward and backward rules",
                      make: { .chart(activations(palette: $0)) }),
        LectureFigure(name: "relu", summary: "ReLU and its derivative, the kink at 0 marked: positive passes, negative gives 0",
                      make: { .chart(relu(palette: $0)) }),
        LectureFigure(name: "error-vs-h", summary: "finite-difference error against the step h, log–log: truncation falls as h², rounding grows as ε/h",
                      make: { .chart(errorVersusStep(palette: $0)) }),
        LectureFigure(name: "loss-surface", summary: "Rosenbrock's valley with the paths of gradient descent and momentum, gradients by backward",
                      make: { .chart(lossSurface(palette: $0)) }),
        LectureFigure(name: "loss-curve", summary: "the loss of the two-moons MLP over 100 steps of gradient descent, or every curve of a training log (--log FILE.csv)",
                      parameters: [.log], draw: { (request) throws(FigureError) in
                          if let log = request.log { return .chart(try lossCurves(log, palette: request.palette)) }
                          return .chart(lossCurve(palette: request.palette))
                      }),
        LectureFigure(name: "losses", summary: "cross-entropy, hinge and squared error against the margin, and cross-entropy against the true class's probability",
                      make: { .chart(losses(palette: $0)) }),
        LectureFigure(name: "softmax", summary: "softmax in three steps: scores, exp (widen the gaps), normalise; the cross-entropy of the label (--logits, --label)",
                      parameters: [.logits, .label], draw: { (request) throws(FigureError) in
                          .chart(try softmax(logits: request.logits ?? defaultLogits, label: request.label ?? 0, palette: request.palette))
                      }),
        LectureFigure(name: "neuron", summary: "the classic neuron: inputs, weighted edges, Σ + b, activation, output (--inputs, --weights, --bias, --activation, or a program)",
                      parameters: [.program, .inputs, .weights, .bias, .activation], draw: { (request) throws(FigureError) in
                          .diagram(try Diagrams.neuron(NeuronNumbers(request), palette: request.palette))
                      }),
        LectureFigure(name: "network", summary: "a fully connected network as layers of neurons with their connections, from a program's Linear layers (FILE)",
                      needsProgram: true, draw: { (request) throws(FigureError) in
                          .diagram(try Diagrams.network(request.program!, palette: request.palette))
                      }),
        LectureFigure(name: "templates", summary: "a linear classifier's rows of W as images, one per class (FILE: a program with a linear layer)",
                      needsProgram: true, draw: { (request) throws(FigureError) in
                          .diagram(try Diagrams.templates(request.program!, palette: request.palette))
                      }),
        LectureFigure(name: "conv-arithmetic", summary: "a convolution's padded input, kernel positions and output size (N − F + 2P)/S + 1 (--input, --kernel, --stride, --pad)",
                      parameters: [.convolutionInput, .kernel, .stride, .pad], draw: { (request) throws(FigureError) in
                          .diagram(try Diagrams.convolutionArithmetic(ConvolutionArithmetic(request), palette: request.palette))
                      }),
        LectureFigure(name: "pooling", summary: "a numbered 4×4 grid under 2×2 max and average pooling, and where each routes the gradient back",
                      make: { .diagram(Diagrams.pooling(palette: $0)) }),
        LectureFigure(name: "circuit", summary: "CS231n's circuit f = (x + y)·z with values and gradients on the wires",
                      make: { graph(Examples.cs231nCircuit(), style: .circuit, title: "f = (x + y)·z", palette: $0) }),
        LectureFigure(name: "neuron-gates", summary: "CS231n's sigmoid neuron built from primitive gates, forward and backward",
                      make: { graph(Examples.sigmoidNeuron(), style: .circuit, title: "A sigmoid neuron, gate by gate", palette: $0) }),
        LectureFigure(name: "micrograd", summary: "micrograd's neuron o = tanh(x1·w1 + x2·w2 + b), one box per value: name | data | grad",
                      make: { graph(Examples.microgradNeuron(), style: .record, title: "micrograd's neuron", palette: $0) }),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> LectureFigure? { all.first { $0.name == name } }

    /// The known name closest to `name`, if it is close enough to be a typo.
    public static func suggestion(for name: String) -> String? {
        Suggestions.closest(to: name, among: names)
    }

    static func graph(_ built: (graph: Graph, output: Var), style: FigureStyle, title: String, palette: Palette) -> LectureDrawing {
        try! built.graph.backward(built.output)
        var options = FigureOptions()
        options.style = style
        options.title = title
        options.palette = palette
        return .graph(built.graph, output: built.output.id, options: options)
    }

    // MARK: activations

    /// The activation functions drawn, with the arguments given to their registry entries
    /// (leaky_relu's slope 0.1 instead of 0.01, so its negative side is visible).
    static let activationOps: [(label: String, name: String, arguments: [String: AttributeValue])] = [
        ("relu", "relu", [:]), ("leaky_relu (0.1)", "leaky_relu", ["slope": .double(0.1)]), ("sigmoid", "sigmoid", [:]),
        ("tanh", "tanh", [:]), ("softplus", "softplus", [:]), ("elu", "elu", [:]),
    ]

    /// f(x) and f′(x) on `xs` for a registry op: the forward rule, and the
    /// backward rule with upstream gradient 1 (for an elementwise op that is
    /// the derivative itself). Where the op's branch changes between two
    /// neighbouring points (relu's kink at 0) a NaN point breaks the line,
    /// so a jump in f′ is not drawn as a steep segment.
    public static func activationCurves(op name: String, arguments: [String: AttributeValue] = [:], xs: [Double]) -> (values: [Point], derivatives: [Point]) {
        guard let spec = Registry.spec(named: name), let op = try? spec.build(OpArguments(attributes: arguments)) else {
            preconditionFailure("activationCurves: '\(name)' is not a registry op taking these arguments")
        }
        let x = Tensor(shape: [xs.count], data: xs)
        let y = op.forward([x])
        let dy = op.backward([x], output: y, gradient: Tensor.ones([xs.count]))[0]!
        let branches = op.branches([x])
        var values: [Point] = [], derivatives: [Point] = []
        for k in xs.indices {
            if k > 0, !branches.isEmpty, branches[k] != branches[k - 1] {
                values.append(Point(xs[k], y.data[k]))
                derivatives.append(Point(xs[k], .nan))
            }
            values.append(Point(xs[k], y.data[k]))
            derivatives.append(Point(xs[k], dy.data[k]))
        }
        return (values, derivatives)
    }

    public static func activations(palette: Palette = .default) -> PlotFigure {
        let xs = (0...240).map { -4 + 8 * Double($0) / 240 }
        var values = Plot(title: "f(x): forward rule", x: Axis("x"), y: Axis("f(x)", range: -1.5...4))
        var slopes = Plot(title: "f′(x): backward rule", x: Axis("x"), y: Axis("f′(x)", range: -0.1...1.2))
        for entry in activationOps {
            let curves = activationCurves(op: entry.name, arguments: entry.arguments, xs: xs)
            values.lines.append(LineSeries(entry.label, points: curves.values))
            // relu, leaky_relu and elu share f′ = 1 for x > 0: drawn widest first, so each shows as a stripe.
            let width = ["relu": 5.6, "leaky_relu": 3.9][entry.name] ?? 2.2
            slopes.lines.append(LineSeries(entry.label, points: curves.derivatives, width: width, inLegend: false))
        }
        return PlotFigure(title: "Activation functions and their derivatives", panels: [values, slopes], palette: palette)
    }

    // MARK: error-vs-h

    /// The steps of the sweep: 10⁻¹ down to 10⁻¹², four per decade.
    public static let sweepSteps: [Double] = (4...48).map { Foundation.pow(10, -Double($0) / 4) }

    /// |numeric − analytic| of op `name`'s derivative at `x`, for each step h:
    /// the numeric derivative is the checker's (`GradientCheck.operation` with
    /// that step and stencil), the analytic one the op's backward rule.
    public static func finiteDifferenceErrors(op name: String, at x: Double, steps: [Double] = sweepSteps, stencil: Stencil = .central) -> [Point] {
        guard let op = try? Registry.spec(named: name)?.build(OpArguments()) else {
            preconditionFailure("finiteDifferenceErrors: '\(name)' is not a registry op")
        }
        return steps.map { h in
            let check = GradientCheck.operation(op, inputs: [Tensor([x])], options: CheckOptions(step: h, stencil: stencil, parallel: false))
            return Point(h, check.worst.map(\.absoluteError) ?? .nan)
        }
    }

    public static func errorVersusStep(palette: Palette = .default) -> PlotFigure {
        let x = 0.7
        var plot = Plot(title: nil, x: Axis("step h", scale: .log), y: Axis("|numeric − analytic|  at x = 0.7", scale: .log, range: 1e-16...1))
        for name in ["sigmoid", "tanh", "exp"] {
            plot.lines.append(LineSeries("\(name), central", points: finiteDifferenceErrors(op: name, at: x), markerRadius: 2.5))
        }
        plot.lines.append(LineSeries("sigmoid, five-point", points: finiteDifferenceErrors(op: "sigmoid", at: x, stencil: .fivePoint), markerRadius: 2.5))
        // The two error terms of the central difference for exp at 0.7 (f‴ = f = e^0.7):
        // truncation h²·|f‴|/6 and rounding about ε·|f|/h.
        let f = Foundation.exp(x), epsilon = Double.ulpOfOne
        let theme = Theme(palette: palette)
        plot.lines.append(LineSeries("truncation h²·f‴/6", points: sweepSteps.map { Point($0, $0 * $0 * f / 6) }, color: theme.muted, width: 1.4, dash: .dotted))
        plot.lines.append(LineSeries("rounding, at most ε·f/h", points: sweepSteps.map { Point($0, epsilon * f / $0) }, color: theme.reference, width: 1.4, dash: .dashed))
        plot.guides = [GuideLine(x: 1e-6, label: "h = 1e-6, the checker's default")]
        return PlotFigure(title: "Why h = 1e-6: the error of a finite difference", panels: [plot], palette: palette)
    }

    // MARK: loss-surface

    /// Rosenbrock's function (1 − x)² + 100·(y − x²)² as a Chainrule graph of two scalar parameters.
    public static func rosenbrock() -> (graph: Graph, x: Var, y: Var, loss: Var) {
        let g = Graph()
        let x = g.param("x", Tensor(0)), y = g.param("y", Tensor(0))
        let a = 1 - x, b = y - x * x
        return (g, x, y, (a * a + 100 * (b * b)).named("loss"))
    }

    /// Gradient descent against momentum on Rosenbrock's valley: `figure
    /// optimizers` (the same surface, paths and drawing) with these two only.
    public static func lossSurface(palette: Palette = .default) -> PlotFigure {
        TrainingPlots.optimizerPaths(.builtin(.rosenbrock), kinds: [.sgd, .momentum], palette: palette)
    }

    // MARK: loss-curve

    /// The loss of `Examples.mlp()` before each of `steps` steps of full-batch
    /// gradient descent, W ← W − lr·∂L/∂W for every parameter, the gradients
    /// from the graph's backward pass. The last entry is the loss after the last step.
    public static func trainingLosses(learningRate: Double, steps: Int) -> [Double] {
        let model = Examples.mlp()
        let g = model.graph
        let parameters = g.nodes.filter { $0.role == .param }.map(\.id)
        var losses: [Double] = []
        for step in 0...steps {
            try! g.backward(model.output)
            losses.append(g[model.output.id].value!.scalar)
            guard step < steps else { break }
            for id in parameters {
                let node = g[id]
                g.setValue(node.value!.zipMap(node.gradient!) { w, dw in w - learningRate * dw }, of: id)
            }
        }
        return losses
    }

    public static func lossCurve(palette: Palette = .default) -> PlotFigure {
        let steps = 100
        var plot = Plot(title: nil, x: Axis("step", range: 0...Double(steps)), y: Axis("loss: mean hinge + L2"))
        for lr in [0.05, 0.2, 0.5] {
            let losses = trainingLosses(learningRate: lr, steps: steps)
            plot.lines.append(LineSeries("lr \(formatNumber(lr)): \(formatNumber(losses.first!, significant: 3)) → \(formatNumber(losses.last!, significant: 3))",
                                         points: losses.enumerated().map { Point(Double($0.offset), $0.element) }))
        }
        return PlotFigure(title: "Training the two-moons MLP (2→16→16→1) by gradient descent", panels: [plot], palette: palette)
    }

    /// Every curve of a training log: losses in one panel, accuracies in a
    /// second, the rest (the learning rate, …) in a third, against the log's
    /// step column (see `CSVLog.xColumn`). A validation column takes its
    /// training column's colour, dashed with markers, so `loss` and `val_loss`
    /// read as a pair; a panel whose values are positive and span more than
    /// two decades gets a log axis.
    /// The most curves of a log drawn in one panel: a legend of more runs off a slide.
    public static let maxCurvesPerPanel = 12

    public static func lossCurves(_ log: CSVLog, palette: Palette = .default) throws(FigureError) -> PlotFigure {
        let x = log.xColumn
        let curves = log.columns.indices.filter { $0 != x.index && !(x.index != nil && log.columns[$0] == "epoch") }
        guard !curves.isEmpty else { throw .invalidOption("\(log.file): no column to draw besides \(log.xLabel)") }
        func finite(_ c: Int) -> Int { log.rows.filter { $0[c].isFinite }.count }
        guard curves.contains(where: { finite($0) > 0 }) else {
            throw .invalidOption("\(log.file): no finite number in \(curves.map { log.columns[$0] }.joined(separator: ", ")) to draw")
        }
        func group(_ name: String) -> Int {
            let lower = name.lowercased()
            if lower.contains("loss") { return 0 }
            if lower.contains("acc") { return 1 }
            return 2
        }
        let bases = curves.map { CSVLog.baseName(log.columns[$0]) }
        var colourOf: [String: Int] = [:]
        for base in bases where colourOf[base] == nil { colourOf[base] = colourOf.count }
        let theme = Theme(palette: palette)
        var panels: [Plot] = []
        for (g, title) in [(0, "loss"), (1, "accuracy"), (2, "other")] {
            let members = curves.filter { group(log.columns[$0]) == g }
            guard !members.isEmpty else { continue }
            guard members.count <= maxCurvesPerPanel else {
                throw .invalidOption("\(log.file): \(members.count) \(title) columns (\(members.prefix(4).map { log.columns[$0] }.joined(separator: ", ")), …); loss-curve draws at most \(maxCurvesPerPanel) curves in a panel, each named in its legend")
            }
            let values = members.flatMap { c in log.rows.map { $0[c] } }.filter(\.isFinite)
            let positive = values.allSatisfy { $0 >= Double.leastNormalMagnitude }
            let logScale = positive && (values.max() ?? 1) / (values.min() ?? 1) > 100
            let yLabel = g == 2 ? members.map { log.columns[$0] }.joined(separator: ", ") : title
            var plot = Plot(title: nil, x: Axis(log.xLabel), y: Axis(yLabel, scale: logScale ? .log : .linear))
            for c in members {
                let name = log.columns[c]
                // An empty cell is a value not logged: the line joins its neighbours. An infinite one
                // (a loss that diverged) cannot be drawn: the line breaks there and the legend counts it.
                let points = log.rows.enumerated().compactMap { (k, row) -> Point? in
                    let y = row[c], xv = x.index.map { row[$0] } ?? Double(k)
                    return y.isNaN || xv.isNaN ? nil : Point(xv, y.isFinite ? y : .nan)
                }
                let infinite = points.filter(\.y.isNaN).count
                let note = finite(c) == 0 ? ": no finite values" : infinite > 0 ? " (\(infinite) infinite, not drawn)" : ""
                let validation = CSVLog.isValidation(name)
                let colour = theme.series[colourOf[CSVLog.baseName(name)]! % theme.series.count]
                plot.lines.append(LineSeries(name + note, points: points, color: colour, width: validation ? 2.4 : 2.2,
                                             markerRadius: validation && points.count <= 60 ? 3.5 : 0,
                                             dash: validation ? .dashed : .solid, marker: validation ? .square : .circle))
            }
            panels.append(plot)
        }
        let file = (log.file as NSString).lastPathComponent
        return PlotFigure(title: "Training log \(file): \(log.rows.count) row\(log.rows.count == 1 ? "" : "s")", panels: panels, palette: palette)
    }

    // MARK: relu

    public static func relu(palette: Palette = .default) -> PlotFigure {
        let xs = (0...200).map { -3 + 6 * Double($0) / 200 }
        let curves = activationCurves(op: "relu", xs: xs)
        let atZero = activationCurves(op: "relu", xs: [0])
        let theme = Theme(palette: palette)
        var values = Plot(title: "relu(x) = max(0, x)", x: Axis("x"), y: Axis("relu(x)", range: -1...3))
        values.lines.append(LineSeries("relu(x)", points: curves.values, color: theme.series[0], width: 3, inLegend: false))
        values.lines.append(LineSeries("kink at x = 0: not differentiable", points: [Point(0, atZero.values[0].y)], color: theme.series[1],
                                       drawsLine: false, markerRadius: 6, marker: .diamond))
        values.notes = [PlotNote("positive: passes, y = x", at: Point(-2.8, 2.4), anchor: .left),
                        PlotNote("negative: 0", at: Point(-1.5, 0.35), anchor: .centre)]
        var slopes = Plot(title: "relu′(x), the backward rule", x: Axis("x"), y: Axis("relu′(x)", range: -0.25...1.5))
        slopes.lines.append(LineSeries("relu′(x)", points: curves.derivatives, color: theme.series[0], width: 3, inLegend: false))
        // The backward rule's own value at 0 filled, the other one-sided limit open.
        let chosen = atZero.derivatives[0].y
        slopes.lines.append(LineSeries("relu′(0) = \(formatNumber(chosen)), the rule's choice at the kink", points: [Point(0, chosen)],
                                       color: theme.series[1], drawsLine: false, markerRadius: 6, marker: .circle))
        slopes.lines.append(LineSeries("", points: [Point(0, 1 - chosen)], color: theme.series[1], drawsLine: false, markerRadius: 6,
                                       inLegend: false, marker: .ring))
        slopes.notes = [PlotNote("positive: passes × 1", at: Point(0.15, 1.22), anchor: .left),
                        PlotNote("negative: gradient 0", at: Point(-1.5, 0.15), anchor: .centre)]
        return PlotFigure(title: "ReLU: positive passes, negative gives 0", panels: [values, slopes], palette: palette)
    }

    // MARK: losses

    /// A loss of one example with two classes whose correct class leads by `margin`
    /// (scores [0, margin], label 1), by the registry op itself.
    static func lossAtMargin(_ op: any ChainruleCore.Operation, _ margin: Double) -> Double {
        op.forward([Tensor(shape: [1, 2], data: [0, margin]), Tensor([1.0])]).scalar
    }

    public static func losses(palette: Palette = .default) -> PlotFigure {
        let margins = (0...240).map { -3 + 6 * Double($0) / 240 }
        var byMargin = Plot(title: "against the margin m = s_correct − s_other", x: Axis("margin m"), y: Axis("loss", range: 0...4))
        byMargin.lines.append(LineSeries("cross-entropy log(1 + e⁻ᵐ)", points: margins.map { Point($0, lossAtMargin(CrossEntropy(), $0)) }))
        byMargin.lines.append(LineSeries("hinge max(0, 1 − m)", points: margins.map { Point($0, lossAtMargin(Hinge(), $0)) }))
        byMargin.lines.append(LineSeries("squared error (1 − m)²", points: margins.map {
            MeanSquaredError().forward([Tensor([$0]), Tensor([1.0])]).scalar
        }.enumerated().map { Point(margins[$0.offset], $0.element) }))
        // The probability of the correct class is softmax's, and cross-entropy is −log of it.
        let probabilities = (1...200).map { Double($0) / 200 }
        var byProbability = Plot(title: "against the correct class's probability p", x: Axis("p = softmax(s)_correct", range: 0...1), y: Axis("loss", range: 0...4))
        byProbability.lines.append(LineSeries("cross-entropy −log p", points: probabilities.map { p in
            Point(p, lossAtMargin(CrossEntropy(), Foundation.log(p / (1 - p))))
        }.filter(\.y.isFinite)))
        byProbability.lines.append(LineSeries("squared error (1 − p)²", points: probabilities.map {
            Point($0, MeanSquaredError().forward([Tensor([$0]), Tensor([1.0])]).scalar)
        }, color: Theme(palette: palette).series[2], dash: .dotted))
        return PlotFigure(title: "Loss functions: wrong and confident costs most", panels: [byMargin, byProbability], palette: palette)
    }

    // MARK: softmax

    /// CS231n's example scores of a cat image: cat 3.2, car 5.1, frog −1.7.
    public static let defaultLogits = [3.2, 5.1, -1.7]

    /// The steps of softmax on `logits` by the registry's ops: e^(s − shift), their sum, the probabilities,
    /// and −log p of the label. The shift is 0 unless e^s overflows (a score of 1000) or every e^s
    /// underflows (scores of −1000): then it is the largest score, as a stable softmax computes it,
    /// and the quotients, the probabilities, are the same.
    public static func softmaxSteps(logits: [Double], label: Int) -> (exponentials: [Double], shift: Double, sum: Double, probabilities: [Double], loss: Double) {
        let row = Tensor(shape: [1, logits.count], data: logits)
        var shift = 0.0
        var exponentials = Unary.exp.forward([row]).data
        if !exponentials.reduce(0, +).isNormal {
            shift = logits.max()!
            exponentials = Unary.exp.forward([Tensor(shape: [1, logits.count], data: logits.map { $0 - shift })]).data
        }
        let probabilities = Softmax().forward([row]).data
        let loss = CrossEntropy().forward([row, Tensor([Double(label)])]).scalar
        return (exponentials, shift, exponentials.reduce(0, +), probabilities, loss)
    }

    public static func softmax(logits: [Double], label: Int, palette: Palette = .default) throws(FigureError) -> PlotFigure {
        guard (1...12).contains(logits.count) else { throw .invalidOption("softmax draws 1 to 12 scores, got \(logits.count)") }
        guard logits.allSatisfy(\.isFinite) else { throw .invalidOption("softmax scores must be finite numbers, got \(logits.map { formatNumber($0) }.joined(separator: ", "))") }
        guard logits.indices.contains(label) else {
            throw .invalidOption("label \(label) is not a class: the \(logits.count) scores are classes 0 to \(logits.count - 1)")
        }
        let steps = softmaxSteps(logits: logits, label: label)
        let theme = Theme(palette: palette)
        let classes = logits.indices.map(Double.init)
        func bars(_ values: [Double], _ text: (Double) -> String) -> [BarSeries] {
            // The label's bar in the highlight colour, the others in the first series colour.
            let others = logits.indices.filter { $0 != label }
            return [BarSeries("other classes", points: others.map { Point(classes[$0], values[$0]) }, width: 0.6, color: theme.series[0],
                              labels: others.map { text(values[$0]) }),
                    BarSeries("label \(label)", points: [Point(classes[label], values[label])], width: 0.6, color: theme.series[1],
                              labels: [text(values[label])])]
        }
        var xAxis = Axis("class", range: -0.6...(Double(logits.count) - 0.4))
        xAxis.categories = logits.indices.map { $0 == label ? "\($0) (label)" : "\($0)" }
        var scores = Plot(title: "scores s", x: xAxis, y: Axis("s"))
        scores.bars = bars(logits) { formatNumber($0, significant: 3) }
        let shift = formatNumber(abs(steps.shift), significant: 4)
        let power = steps.shift == 0 ? "eˢ" : steps.shift > 0 ? "e^(s − \(shift))" : "e^(s + \(shift))"
        var exps = Plot(title: "\(power): widen the gaps", x: xAxis, y: Axis(power))
        exps.bars = bars(steps.exponentials) { formatNumber($0, significant: 3) }
        var probabilities = Plot(title: nil, x: xAxis, y: Axis("p", range: 0...1.15))
        probabilities.bars = bars(steps.probabilities) { formatFixed($0, precision: 3) }
        // One legend, under the last panel: the colours mean the same in all three.
        for k in scores.bars.indices {
            scores.bars[k].name = ""
            exps.bars[k].name = ""
        }
        probabilities.title = "÷ Σ\(power) = \(formatNumber(steps.sum, significant: 4)): normalise"
        let title = "Softmax: p sums to \(formatFixed(steps.probabilities.reduce(0, +), precision: 3)), cross-entropy −log p[\(label)] = \(formatFixed(steps.loss, precision: 3))"
        return PlotFigure(title: title, panels: [scores, exps, probabilities], palette: palette)
    }
}
