import ChainruleCore
import ChainruleTraining
import Foundation

/// The plots of a training run (`chainrule train --plots DIR`, `--compare`),
/// drawn with the plot layer from the run's records, each on a page of
/// `fit` (a 16:9 slide unless asked otherwise). Series differ by dash and
/// marker as well as colour, and curves over time carry their names at their
/// ends (`Plot.directLabels`).
public enum TrainingPlots {
    /// An exponential moving average with bias correction (as TensorBoard's
    /// smoothing): s_t = (β·m_{t−1} + (1 − β)·x_t) / (1 − β^t), β = `weight`.
    public static func smoothed(_ values: [Double], weight: Double = 0.9) -> [Double] {
        var average = 0.0
        return values.enumerated().map { t, value in
            average = weight * average + (1 - weight) * value
            return average / (1 - Foundation.pow(weight, Double(t + 1)))
        }
    }

    /// The loss per iteration, raw (thin) and smoothed, with a guide at each checkpoint.
    /// The raw loss is thin and light, the smoothed one thick and dark.
    public static func loss(_ iterations: [IterationRecord], checkpoints: [Int] = [], palette: Palette = .default, fit: ChartPage = .slide) -> PlotFigure {
        let theme = Theme(palette: palette)
        var plot = Plot(x: Axis("iteration"), y: Axis("loss"))
        plot.directLabels = true
        let raw = iterations.map { Point(Double($0.iteration), $0.loss) }
        plot.lines.append(LineSeries("each batch", points: raw, color: theme.series[0].mixed(with: .white, 0.6), width: 1, dash: .solid))
        let smooth = smoothed(iterations.map(\.loss))
        plot.lines.append(LineSeries("smoothed (β = 0.9)", points: zip(raw, smooth).map { Point($0.x, $1) }, color: theme.series[0], width: 2.6,
                                     dash: .solid))
        plot.guides = checkpoints.map { GuideLine(x: Double($0), label: "checkpoint") }
        return PlotFigure(title: "Training loss per iteration", panels: [plot], fit: fit, palette: palette)
    }

    /// Per epoch: the loss (training and validation) and, with a
    /// classification loss, the accuracy.
    /// Training solid with circles, validation dashed with squares.
    public static func epochs(_ epochs: [EpochRecord], palette: Palette = .default, fit: ChartPage = .slide) -> PlotFigure {
        let theme = Theme(palette: palette)
        func series(_ name: String, _ value: (EpochRecord) -> Double?, _ place: Int) -> LineSeries? {
            let points = epochs.compactMap { record in value(record).map { Point(Double(record.epoch), $0) } }
            return points.isEmpty ? nil : LineSeries(name, points: points, color: theme.series[place], markerRadius: epochs.count <= 30 ? 3 : 0,
                                                     dash: LineDash.allCases[place], marker: MarkerShape.allCases[place])
        }
        var loss = Plot(title: "loss", x: Axis("epoch"), y: Axis("mean loss"))
        loss.directLabels = true
        loss.lines = [series("training", \.loss, 0), series("validation", \.validationLoss, 1)].compactMap { $0 }
        var panels = [loss]
        if epochs.contains(where: { $0.accuracy != nil }) {
            var accuracy = Plot(title: "accuracy", x: Axis("epoch"), y: Axis("accuracy (%)", range: 0...100))
            accuracy.directLabels = true
            accuracy.lines = [series("training", { $0.accuracy.map { 100 * $0 } }, 0),
                              series("validation", { $0.validationAccuracy.map { 100 * $0 } }, 1)].compactMap { $0 }
            panels.append(accuracy)
        }
        return PlotFigure(title: "Per epoch: training and validation", panels: panels, fit: fit, palette: palette)
    }

    /// The learning rate of every iteration (a schedule steps once per epoch).
    public static func learningRate(_ iterations: [IterationRecord], palette: Palette = .default, fit: ChartPage = .slide) -> PlotFigure {
        var plot = Plot(x: Axis("iteration"), y: Axis("learning rate"))
        plot.lines = [LineSeries("learning rate", points: iterations.map { Point(Double($0.iteration), $0.learningRate) }, inLegend: false)]
        return PlotFigure(title: "Learning rate over the run", panels: [plot], fit: fit, palette: palette)
    }

    /// Per ReLU node, the fraction of its units that are dead (0 for every
    /// example looked at) after each epoch; nil without ReLUs.
    public static func deadUnits(_ epochs: [EpochRecord], palette: Palette = .default, fit: ChartPage = .slide) -> PlotFigure? {
        guard let names = epochs.first?.deadUnits.map(\.name), !names.isEmpty else { return nil }
        var plot = Plot(x: Axis("epoch"), y: Axis("dead units (%)", range: 0...100))
        plot.directLabels = true
        for (k, name) in names.enumerated() {
            plot.lines.append(LineSeries(name, points: epochs.map { Point(Double($0.epoch), 100 * $0.deadUnits[k].fraction) },
                                         markerRadius: epochs.count <= 30 ? 3 : 0))
        }
        return PlotFigure(title: "Dying ReLUs: units at 0 for all of the first \(Training.deadUnitSample) training examples", panels: [plot], fit: fit, palette: palette)
    }

    /// The predicted class over the plane (shaded, its boundaries drawn) with
    /// the training points coloured by their class. `predict` maps a batch
    /// of points `[N, 2]` to classes.
    /// Each class has its own marker shape as well as its colour.
    public static func decisionBoundary(_ dataset: Dataset, palette: Palette = .default, fit: ChartPage = .slide,
                                        predict: (Tensor) throws -> [Int]) rethrows -> PlotFigure {
        let theme = Theme(palette: palette)
        let xs = stride(from: 0, to: dataset.features.count, by: 2).map { dataset.features.data[$0] }
        let ys = stride(from: 1, to: dataset.features.count, by: 2).map { dataset.features.data[$0] }
        func padded(_ values: [Double]) -> ClosedRange<Double> {
            let low = values.min()!, high = values.max()!, margin = Swift.max(0.1 * (high - low), 0.1)
            return (low - margin)...(high + margin)
        }
        let xRange = padded(xs), yRange = padded(ys)
        let columns = 120, rows = 120
        let gridXs = (0..<columns).map { xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double($0) / Double(columns - 1) }
        let gridYs = (0..<rows).map { yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double($0) / Double(rows - 1) }
        let points = gridYs.flatMap { y in gridXs.flatMap { x in [x, y] } }
        let classes = try predict(Tensor(shape: [columns * rows, 2], data: points))
        let values = (0..<rows).map { row in (0..<columns).map { Double(classes[row * columns + $0]) } }
        let grid = Grid(xs: gridXs, ys: gridYs, values: values)
        var plot = Plot(x: Axis("x₁", range: xRange), y: Axis("x₂", range: yRange))
        plot.zeroLines = false
        plot.heatmap = HeatmapLayer(grid, fade: 0.7)
        plot.contours = ContourLayer(grid, levels: (0..<(dataset.classes - 1)).map { Double($0) + 0.5 }, color: theme.text, width: 1.6)
        let accuracy = try zip(predict(dataset.features), dataset.labels).filter { $0 == $1 }.count
        for label in 0..<dataset.classes {
            let mine = dataset.labels.indices.filter { dataset.labels[$0] == label }.map { Point(xs[$0], ys[$0]) }
            plot.lines.append(LineSeries("class \(label)", points: mine, color: theme.series[label % theme.series.count], drawsLine: false, markerRadius: 3.2,
                                         marker: MarkerShape.allCases[label % MarkerShape.allCases.count]))
        }
        let title = "Decision boundary on \(dataset.name): \(String(format: "%.1f", 100 * Double(accuracy) / Double(dataset.count)))% of the training points right"
        return PlotFigure(title: title, panels: [plot], fit: fit, palette: palette)
    }

    /// The smoothed loss per iteration of several runs (one per optimizer), and
    /// their accuracy per epoch: run k has the k-th colour, dash and marker in both panels.
    public static func comparison(_ runs: [(name: String, iterations: [IterationRecord], epochs: [EpochRecord])], palette: Palette = .default,
                                  fit: ChartPage = .slide) -> PlotFigure {
        let theme = Theme(palette: palette)
        var loss = Plot(title: "loss (smoothed)", x: Axis("iteration"), y: Axis("loss"))
        var accuracy = Plot(title: "training accuracy", x: Axis("epoch"), y: Axis("accuracy (%)", range: 0...100))
        loss.directLabels = true
        accuracy.directLabels = true
        for (k, run) in runs.enumerated() {
            let color = theme.series[k % theme.series.count]
            let dash = LineDash.allCases[k % LineDash.allCases.count], marker = MarkerShape.allCases[k % MarkerShape.allCases.count]
            let smooth = smoothed(run.iterations.map(\.loss))
            let final = formatNumber(run.epochs.last?.loss ?? .nan, significant: 3)
            loss.lines.append(LineSeries("\(run.name): \(final)", points: zip(run.iterations, smooth).map { Point(Double($0.iteration), $1) }, color: color,
                                         markerRadius: 4, dash: dash, marker: marker, markerAtEndOnly: true))
            let points = run.epochs.compactMap { record in record.accuracy.map { Point(Double(record.epoch), 100 * $0) } }
            if !points.isEmpty {
                accuracy.lines.append(LineSeries(run.name, points: points, color: color, markerRadius: points.count <= 30 ? 3 : 4, dash: dash, marker: marker,
                                                 markerAtEndOnly: points.count > 30))
            }
        }
        let panels = accuracy.lines.isEmpty ? [loss] : [loss, accuracy]
        return PlotFigure(title: "The same network, data and seed under each optimizer", panels: panels, fit: fit, palette: palette)
    }
}

/// A loss of two scalar parameters for `chainrule figure optimizers`: a
/// graph whose leaves `x` and `y` the optimizers move, the start, the view,
/// and a learning rate per optimizer that suits it.
public struct OptimizerSurface {
    public var name: String
    public var graph: Graph
    public var x: NodeID
    public var y: NodeID
    public var loss: NodeID
    public var start: Point
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>
    public var minimum: Point?
    public var steps: Int
    public var learningRates: [OptimizerKind: Double]

    public init(name: String, graph: Graph, x: NodeID, y: NodeID, loss: NodeID, start: Point, xRange: ClosedRange<Double>,
                yRange: ClosedRange<Double>, minimum: Point? = nil, steps: Int = 300, learningRates: [OptimizerKind: Double] = [:]) {
        self.name = name
        self.graph = graph
        self.x = x
        self.y = y
        self.loss = loss
        self.start = start
        self.xRange = xRange
        self.yRange = yRange
        self.minimum = minimum
        self.steps = steps
        self.learningRates = learningRates
    }

    /// The built-in surfaces of the figure.
    public enum Builtin: String, CaseIterable, Sendable {
        /// (1 − x)² + 100·(y − x²)²: a curved narrow valley, minimum (1, 1).
        case rosenbrock
        /// (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: flat plateaus, minimum (3, 0.5).
        case beale
        /// x² − y²: a saddle at the origin; the start sits almost on its ridge.
        case saddle
        /// x² + 10·y²: an elongated bowl, minimum (0, 0).
        case bowl
    }

    public static func builtin(_ surface: Builtin) -> OptimizerSurface {
        let g = Graph()
        let x = g.param("x", Tensor(0)), y = g.param("y", Tensor(0))
        switch surface {
        case .rosenbrock:
            let a = 1 - x, b = y - x * x
            return OptimizerSurface(name: "Rosenbrock's valley", graph: g, x: x.id, y: y.id, loss: (a * a + 100 * (b * b)).id,
                                    start: Point(-1.5, 2.5), xRange: -2...2, yRange: -1...3, minimum: Point(1, 1), steps: 500,
                                    learningRates: [.sgd: 0.0008, .momentum: 0.0008, .nesterov: 0.0008, .adagrad: 0.2, .rmsprop: 0.02, .adam: 0.05])
        case .beale:
            let t1 = 1.5 - x + x * y, t2 = 2.25 - x + x * y * y, t3 = 2.625 - x + x * y * y * y
            return OptimizerSurface(name: "Beale's function", graph: g, x: x.id, y: y.id, loss: (t1 * t1 + t2 * t2 + t3 * t3).id,
                                    start: Point(1, 1.5), xRange: -1...4, yRange: -1.5...2, minimum: Point(3, 0.5), steps: 500,
                                    learningRates: [.sgd: 0.005, .momentum: 0.002, .nesterov: 0.002, .adagrad: 0.3, .rmsprop: 0.01, .adam: 0.05])
        case .saddle:
            return OptimizerSurface(name: "the saddle x² − y²", graph: g, x: x.id, y: y.id, loss: (x * x - y * y).id,
                                    start: Point(-1.8, 0.001), xRange: -2...2, yRange: -2...2, steps: 120,
                                    learningRates: [.sgd: 0.05, .momentum: 0.02, .nesterov: 0.02, .adagrad: 0.3, .rmsprop: 0.02, .adam: 0.05])
        case .bowl:
            return OptimizerSurface(name: "the bowl x² + 10·y²", graph: g, x: x.id, y: y.id, loss: (x * x + 10 * (y * y)).id,
                                    start: Point(-4, 1.5), xRange: -5...5, yRange: -2.5...2.5, minimum: Point(0, 0), steps: 100,
                                    learningRates: [.sgd: 0.09, .momentum: 0.02, .nesterov: 0.02, .adagrad: 1, .rmsprop: 0.05, .adam: 0.2])
        }
    }

    /// The loss at a point, by a forward pass of the graph.
    public func value(at point: Point) -> Double {
        graph.setValue(Tensor(point.x), of: x)
        graph.setValue(Tensor(point.y), of: y)
        do { try graph.forward() } catch { return .nan }
        return graph[loss].value!.scalar
    }

    /// The path of `kind` from the start: each step runs the graph's
    /// backward pass and takes the optimizer's step (ChainruleTraining's,
    /// torch's equations). Stops early where the loss stops being finite.
    public func path(_ kind: OptimizerKind, learningRate: Double? = nil) -> [(point: Point, loss: Double)] {
        let lr = learningRate ?? learningRates[kind] ?? kind.defaultLearningRate
        var optimizer = Optimizer(OptimizerSettings(kind, learningRate: lr), parameterSizes: [2])
        var p = [start.x, start.y]
        var path: [(Point, Double)] = []
        for step in 0...steps {
            graph.setValue(Tensor(p[0]), of: x)
            graph.setValue(Tensor(p[1]), of: y)
            do { try graph.backward(from: loss) } catch { break }
            let value = graph[loss].value!.scalar
            guard value.isFinite, p.allSatisfy({ abs($0) < 1e6 }) else { break }
            path.append((Point(p[0], p[1]), value))
            guard step < steps else { break }
            optimizer.beginStep()
            let gradient = [graph[x].gradient?.scalar ?? 0, graph[y].gradient?.scalar ?? 0]
            optimizer.update(0, parameter: &p, gradient: gradient, learningRate: lr)
        }
        return path
    }
}

extension TrainingPlots {
    /// Contours of the surface with the paths of the six optimizers from
    /// one start; the legend gives each one's learning rate and final loss.
    public static func optimizerPaths(_ surface: OptimizerSurface, kinds: [OptimizerKind] = OptimizerKind.allCases,
                                      palette: Palette = .default, fit: ChartPage = .slide) -> PlotFigure {
        optimizerFrames(surface, kinds: kinds, frames: 1, palette: palette, fit: fit)[0]
    }

    /// The same figure as `frames` pictures of the paths growing, the last
    /// one whole: step k·steps/frames in the k-th (one Graphviz-free plot
    /// each, from paths computed once). Optimizer k's path has the k-th
    /// colour, dash and marker (at the point it has reached); paths that
    /// end together at the minimum keep the legend, not direct labels.
    public static func optimizerFrames(_ surface: OptimizerSurface, kinds: [OptimizerKind] = OptimizerKind.allCases,
                                       frames: Int, palette: Palette = .default, fit: ChartPage = .slide) -> [PlotFigure] {
        let theme = Theme(palette: palette)
        let grid = Grid(x: surface.xRange, y: surface.yRange, columns: 160, rows: 160) { surface.value(at: Point($0, $1)) }
        let all = grid.values.joined().filter(\.isFinite)
        let low = all.min() ?? 0, high = all.max() ?? 1
        // On a log scale, 1 + (f − min) spreads the colours of a loss that spans decades.
        let shifted = Grid(xs: grid.xs, ys: grid.ys, values: grid.values.map { row in row.map { 1 + $0 - low } })
        let heatmap = HeatmapLayer(shifted, label: "1 + loss − min", scale: .log, fade: 0.6)
        let levels = (1...9).map { low + (Foundation.pow(10, Double($0) / 9 * Foundation.log10(1 + high - low)) - 1) }
        let contours = ContourLayer(grid, levels: levels, color: theme.muted, width: 0.8)
        let paths = kinds.map { surface.path($0) }
        return (1...Swift.max(frames, 1)).map { frame in
            let shown = surface.steps * frame / Swift.max(frames, 1)
            var plot = Plot(x: Axis("x", range: surface.xRange), y: Axis("y", range: surface.yRange))
            plot.zeroLines = false
            plot.heatmap = heatmap
            plot.contours = contours
            for (k, kind) in kinds.enumerated() {
                let path = Array(paths[k].prefix(shown + 1))
                let color = theme.series[k % theme.series.count]
                let lr = formatNumber(surface.learningRates[kind] ?? kind.defaultLearningRate)
                let clipped = path.map(\.point).filter { surface.xRange.contains($0.x) && surface.yRange.contains($0.y) }
                let loss = path.last.map { formatNumber($0.loss, significant: 3) } ?? "—"
                let left = paths[k].count <= shown ? " (stopped: not finite)" : ""
                plot.lines.append(LineSeries("\(kind.displayName), lr \(lr): \(loss)\(left)", points: clipped, color: color, width: 2, markerRadius: 4.5,
                                             dash: LineDash.allCases[k % LineDash.allCases.count], marker: MarkerShape.allCases[k % MarkerShape.allCases.count],
                                             markerAtEndOnly: true))
            }
            plot.lines.append(LineSeries("start", points: [surface.start], color: theme.text, drawsLine: false, markerRadius: 5))
            if let minimum = surface.minimum {
                plot.lines.append(LineSeries("minimum", points: [minimum], color: theme.highlight, drawsLine: false, markerRadius: 6))
            }
            let steps = frames == 1 ? "\(surface.steps) steps" : "step \(shown) of \(surface.steps)"
            let who = kinds.count == OptimizerKind.allCases.count ? "Six optimizers" : kinds.map(\.displayName).joined(separator: " against ")
            return PlotFigure(title: "\(who) on \(surface.name), \(steps)", panels: [plot], fit: fit, palette: palette)
        }
    }

    /// Writes frames as one PDF page each (`path` ends in .pdf) or as
    /// `frame-000.png`, `frame-001.png`, … in the folder `path`.
    public static func writeFrames(_ figures: [PlotFigure], to path: String, scale: Double = 2) throws(FigureError) {
        if path.lowercased().hasSuffix(".pdf") {
            var pages: [Drawing] = []
            for figure in figures { pages.append(try figure.checkedDrawing()) }
            try SafeWrite.replacing(path) { (temporary) throws(FigureError) in try CairoOutput.pdf(pages: pages, to: temporary) }
            return
        }
        let names = figures.indices.map { k in "frame-" + String(repeating: "0", count: Swift.max(0, 3 - String(k).count)) + String(k) + ".png" }
        try SafeWrite.files(names, into: path) { (k, file) throws(FigureError) in try figures[k].write(to: file, scale: scale) }
    }

    /// The three schedules beside the constant rate (dashed, under the frame's top, which stands at 0.11), over `epochs` epochs from lr₀ = 0.1.
    public static func learningRateSchedules(epochs: Int = 60, palette: Palette = .default, fit: ChartPage = .slide) -> PlotFigure {
        let schedules: [(LearningRateSchedule, String)] = [
            (.step(every: 15, factor: 0.5), "step:15:0.5 — lr₀·0.5^⌊e/15⌋"),
            (.exponential(factor: 0.95), "exp:0.95 — lr₀·0.95^e"),
            (.cosine, "cosine — lr₀·(1 + cos(πe/T))/2"),
        ]
        let theme = Theme(palette: palette)
        let panels = schedules.enumerated().map { k, entry -> Plot in
            var plot = Plot(title: entry.1, x: Axis("epoch", range: 0...Double(epochs)), y: Axis("learning rate", range: 0...0.11))
            plot.lines = [
                LineSeries("constant", points: [Point(0, 0.1), Point(Double(epochs), 0.1)], color: theme.muted, width: 1.2, inLegend: false, dash: .dashed),
                LineSeries(entry.0.description, points: (0..<epochs).flatMap { e in
                    // A schedule holds its rate through the epoch: draw each as a step.
                    let lr = entry.0.learningRate(0.1, epoch: e, of: epochs)
                    return [Point(Double(e), lr), Point(Double(e + 1), lr)]
                }, color: theme.series[k], inLegend: false),
            ]
            return plot
        }
        return PlotFigure(title: "Learning-rate schedules (--decay), lr₀ = 0.1 over \(epochs) epochs", panels: panels, fit: fit, palette: palette)
    }
}

/// `chainrule figure feature-maps`: every channel of a layer's output for
/// one image, in a labelled grid, each channel on its own colour range.
public struct FeatureMapFigure {
    /// `[1, C, H, W]`.
    public var maps: Tensor
    public var title: String
    public var palette: Palette

    public init(maps: Tensor, title: String, palette: Palette = .default) {
        precondition(maps.rank == 4 && maps.shape[0] == 1, "FeatureMapFigure: maps must be [1, C, H, W], got \(maps.shape)")
        self.maps = maps
        self.title = title
        self.palette = palette
    }

    /// A PNG read with Cairo as the `[1, 3, H, W]` tensor `ToTensor()` makes
    /// (channels R, G, B scaled to 0…1), or its grey mean `[1, 1, H, W]` with `grey`.
    public static func image(pngFile path: String, grey: Bool = false) throws(FigureError) -> Tensor {
        try checkImageFile(path)
        guard let image = RasterImage(pngFile: path) else {
            throw .invalidOption("cannot read \(path) as a PNG image")
        }
        let plane = image.width * image.height
        if grey {
            return Tensor(shape: [1, 1, image.height, image.width], data: image.pixels.map { ($0.red + $0.green + $0.blue) / 3 })
        }
        var data = [Double](repeating: 0, count: 3 * plane)
        for (i, pixel) in image.pixels.enumerated() {
            data[i] = pixel.red
            data[plane + i] = pixel.green
            data[2 * plane + i] = pixel.blue
        }
        return Tensor(shape: [1, 3, image.height, image.width], data: data)
    }

    /// The most pixels an image may have (4096 × 4096), and the most bytes its file may take.
    public static let maxImagePixels = 4096 * 4096
    public static let maxImageBytes = 64 << 20

    /// Refuses, before Cairo opens it, what it would wait on or decode without bound: a path that is
    /// no regular file (a FIFO blocks the read), a file over `maxImageBytes`, or a PNG whose header
    /// gives more than `maxImagePixels`.
    static func checkImageFile(_ path: String) throws(FigureError) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { throw .invalidOption("cannot read \(path): no such file") }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { throw .invalidOption("cannot read \(path) as a PNG image: it is not a regular file") }
        let bytes = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard bytes <= maxImageBytes else { throw .invalidOption("\(path) is \(bytes) bytes; an image may be at most \(maxImageBytes >> 20) MiB") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .invalidOption("cannot read \(path)") }
        defer { try? handle.close() }
        // The signature (8 bytes), IHDR's length and type (8), then its width and height, big-endian.
        let header = [UInt8]((try? handle.read(upToCount: 24)) ?? Data())
        guard header.count == 24, header.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw .invalidOption("cannot read \(path) as a PNG image")
        }
        let side = { (k: Int) in header[k..<(k + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let (width, height) = (side(16), side(20))
        guard width * height <= maxImagePixels else {
            throw .invalidOption("\(path) is \(width)×\(height) pixels; an image may have at most \(maxImagePixels.formatted(.number.grouping(.automatic))) (4096×4096)")
        }
    }

    var drawing: Drawing {
        let theme = Theme(palette: palette)
        let channels = maps.shape[1], height = maps.shape[2], width = maps.shape[3]
        let columns = Int(Double(channels).squareRoot().rounded(.up))
        let rows = (channels + columns - 1) / columns
        let cell = Swift.min(200, Swift.max(60, 760 / Double(columns) - 16))
        let aspect = Double(height) / Double(width)
        let tileWidth = cell, tileHeight = cell * aspect
        let size = Size(Double(columns) * (tileWidth + 16) + 32, Double(rows) * (tileHeight + 34) + 70)
        return Drawing(size: size, theme: theme) { canvas in
            canvas.text(title, at: Point(16, 34), style: TextStyle(color: theme.text, size: 18, bold: true))
            let plane = height * width
            for c in 0..<channels {
                let values = Array(maps.data[(c * plane)..<((c + 1) * plane)])
                let low = values.min() ?? 0, high = values.max() ?? 1
                let origin = Point(24 + Double(c % columns) * (tileWidth + 16), 64 + Double(c / columns) * (tileHeight + 34))
                let pw = tileWidth / Double(width), ph = tileHeight / Double(height)
                for y in 0..<height {
                    for x in 0..<width {
                        let t = high > low ? (values[y * width + x] - low) / (high - low) : 0
                        canvas.fillRect(Rect(x: origin.x + Double(x) * pw, y: origin.y + Double(y) * ph, width: pw + 0.3, height: ph + 0.3),
                                        radius: 0, color: theme.sequential(t))
                    }
                }
                canvas.strokeRect(Rect(x: origin.x, y: origin.y, width: tileWidth, height: tileHeight), radius: 0, color: theme.stroke, width: 0.8)
                canvas.text("channel \(c)  \(formatNumber(low, significant: 2))…\(formatNumber(high, significant: 2))",
                            at: Point(origin.x, origin.y + tileHeight + 16), style: TextStyle(color: theme.muted, size: 11))
            }
        }
    }

    /// Writes the grid as PNG, SVG or PDF, as the extension of `path` says.
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        try drawing.write(to: path, what: "the feature maps", scale: scale)
    }
}
