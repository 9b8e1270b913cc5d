import ChainruleCheck
import ChainruleCore
import Foundation

/// What a lecture figure draws: a chart, or a computation graph in one of the graph styles.
public enum LectureDrawing {
    case chart(PlotFigure)
    case graph(Graph, output: NodeID, options: FigureOptions)

    /// Writes the drawing as PNG (`scale` pixels per point), SVG or PDF, as the extension of `path` says.
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        let format = try DrawnFormat(path: path, what: "a lecture figure")
        switch self {
        case .chart(let chart): try chart.write(to: path, as: format, scale: scale)
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
        case .graph(let graph, let output, let options): return GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        }
    }
}

/// One named figure for a lecture: `chainrule figure NAME -o OUT.png`.
public struct LectureFigure: Sendable {
    public var name: String
    /// One line for `chainrule figure --list`.
    public var summary: String
    public var make: @Sendable (Palette) -> LectureDrawing
}

/// The lecture figures: charts drawn by the plotting layer from Chainrule's own
/// forward and backward passes, and the classic graphs in the graph styles.
public enum LectureFigures {
    public static let all: [LectureFigure] = [
        LectureFigure(name: "activations", summary: "relu, leaky_relu, sigmoid, tanh, softplus, elu and their derivatives, from the registry's forward and backward rules",
                      make: { .chart(activations(palette: $0)) }),
        LectureFigure(name: "error-vs-h", summary: "finite-difference error against the step h, log–log: truncation falls as h², rounding grows as ε/h",
                      make: { .chart(errorVersusStep(palette: $0)) }),
        LectureFigure(name: "loss-surface", summary: "Rosenbrock's valley with the paths of gradient descent and momentum, gradients by backward",
                      make: { .chart(lossSurface(palette: $0)) }),
        LectureFigure(name: "loss-curve", summary: "the loss of the two-moons MLP over 100 steps of gradient descent",
                      make: { .chart(lossCurve(palette: $0)) }),
        LectureFigure(name: "circuit", summary: "CS231n's circuit f = (x + y)·z with values and gradients on the wires",
                      make: { graph(Examples.cs231nCircuit(), style: .circuit, title: "f = (x + y)·z", palette: $0) }),
        LectureFigure(name: "neuron", summary: "CS231n's sigmoid neuron built from primitive gates, forward and backward",
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
        return PlotFigure(title: "Activation functions and their derivatives", panels: [values, slopes], size: Size(900, 460), palette: palette)
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
        plot.lines.append(LineSeries("truncation h²·f‴/6", points: sweepSteps.map { Point($0, $0 * $0 * f / 6) }, color: theme.muted, width: 1.2))
        plot.lines.append(LineSeries("rounding, at most ε·f/h", points: sweepSteps.map { Point($0, epsilon * f / $0) }, color: theme.reference, width: 1.2))
        plot.guides = [GuideLine(x: 1e-6, label: "h = 1e-6, the checker's default")]
        return PlotFigure(title: "Why h = 1e-6: the error of a finite difference", panels: [plot], size: Size(800, 520), palette: palette)
    }

    // MARK: loss-surface

    /// Rosenbrock's function (1 − x)² + 100·(y − x²)² as a Chainrule graph of two scalar parameters.
    public static func rosenbrock() -> (graph: Graph, x: Var, y: Var, loss: Var) {
        let g = Graph()
        let x = g.param("x", Tensor(0)), y = g.param("y", Tensor(0))
        let a = 1 - x, b = y - x * x
        return (g, x, y, (a * a + 100 * (b * b)).named("loss"))
    }

    /// An optimizer of the loss-surface figure: the update of a parameter
    /// vector `p` from its gradient `g` and a velocity it keeps.
    public enum Optimizer: Sendable {
        /// p ← p − lr·g.
        case sgd(learningRate: Double)
        /// v ← β·v − lr·g; p ← p + v (heavy ball).
        case momentum(learningRate: Double, beta: Double)
    }

    /// The path of `optimizer` on Rosenbrock's function from `start`: each
    /// step sets the parameters, runs the graph's backward pass, and moves
    /// against the gradient it found. Returns the points and the loss at each.
    public static func descentPath(_ optimizer: Optimizer, from start: Point = Point(-1.5, 2.5), steps: Int) -> [(point: Point, loss: Double)] {
        let f = rosenbrock()
        var p = start
        var velocity = Point(0, 0)
        var path: [(Point, Double)] = []
        for _ in 0...steps {
            f.graph.setValue(Tensor(p.x), of: f.x.id)
            f.graph.setValue(Tensor(p.y), of: f.y.id)
            try! f.graph.backward(f.loss)
            path.append((p, f.graph[f.loss.id].value!.scalar))
            let g = Point(f.x.gradient!.scalar, f.y.gradient!.scalar)
            switch optimizer {
            case .sgd(let lr):
                p = Point(p.x - lr * g.x, p.y - lr * g.y)
            case .momentum(let lr, let beta):
                velocity = Point(beta * velocity.x - lr * g.x, beta * velocity.y - lr * g.y)
                p = Point(p.x + velocity.x, p.y + velocity.y)
            }
        }
        return path
    }

    public static func lossSurface(palette: Palette = .default) -> PlotFigure {
        let f = rosenbrock()
        func loss(_ x: Double, _ y: Double) -> Double {
            f.graph.setValue(Tensor(x), of: f.x.id)
            f.graph.setValue(Tensor(y), of: f.y.id)
            try! f.graph.forward()
            return f.graph[f.loss.id].value!.scalar
        }
        let steps = 500, lr = 0.0008
        let sgd = descentPath(.sgd(learningRate: lr), steps: steps)
        let momentum = descentPath(.momentum(learningRate: lr, beta: 0.9), steps: steps)
        let theme = Theme(palette: palette)
        var plot = Plot(title: nil, x: Axis("x"), y: Axis("y"))
        plot.heatmap = HeatmapLayer(Grid(x: -2...2, y: -1...3, columns: 60, rows: 60, loss), fade: 0.6, transform: { Foundation.log10(1 + $0) })
        // A finer grid for the contours, so the narrow valley's level sets stay smooth.
        plot.contours = ContourLayer(Grid(x: -2...2, y: -1...3, columns: 200, rows: 200, loss), levels: [0.5, 2, 8, 32, 128, 512, 2048],
                                     color: theme.muted, width: 0.8)
        plot.zeroLines = false
        let sgdColor = theme.series[1], momentumColor = theme.series[0]
        func summary(_ path: [(point: Point, loss: Double)]) -> String { "loss \(formatNumber(path.last!.loss, significant: 2)) after \(steps) steps" }
        plot.lines.append(LineSeries("momentum 0.9, lr \(formatNumber(lr)): \(summary(momentum))", points: momentum.map(\.point), color: momentumColor, width: 2.4))
        plot.lines.append(LineSeries("SGD, lr \(formatNumber(lr)): \(summary(sgd))", points: sgd.map(\.point), color: sgdColor, width: 2.4))
        plot.lines.append(LineSeries("start", points: [sgd[0].point], color: theme.text, drawsLine: false, markerRadius: 5))
        plot.lines.append(LineSeries("minimum (1, 1)", points: [Point(1, 1)], color: theme.highlight, drawsLine: false, markerRadius: 6))
        plot.lines.append(LineSeries("", points: [sgd.last!.point], color: sgdColor, drawsLine: false, markerRadius: 4.5, inLegend: false))
        plot.lines.append(LineSeries("", points: [momentum.last!.point], color: momentumColor, drawsLine: false, markerRadius: 4.5, inLegend: false))
        return PlotFigure(title: "Rosenbrock's valley: gradient descent against momentum", panels: [plot], size: Size(760, 600), palette: palette)
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
        return PlotFigure(title: "Training the two-moons MLP (2→16→16→1) by gradient descent", panels: [plot], size: Size(800, 500), palette: palette)
    }
}
