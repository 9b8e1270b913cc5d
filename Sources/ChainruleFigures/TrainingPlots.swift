import ChainruleCore
import ChainruleTraining
import Foundation

/// The plots of a training run (`chainrule train --plots DIR`, `--compare`),
/// drawn with the plot layer from the run's records.
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
    public static func loss(_ iterations: [IterationRecord], checkpoints: [Int] = [], palette: Palette = .default) -> PlotFigure {
        let theme = Theme(palette: palette)
        var plot = Plot(x: Axis("iteration"), y: Axis("loss"))
        let raw = iterations.map { Point(Double($0.iteration), $0.loss) }
        plot.lines.append(LineSeries("loss of each batch", points: raw, color: theme.series[0].mixed(with: .white, 0.6), width: 1))
        let smooth = smoothed(iterations.map(\.loss))
        plot.lines.append(LineSeries("smoothed (moving average, β = 0.9)", points: zip(raw, smooth).map { Point($0.x, $1) }, color: theme.series[0], width: 2.4))
        plot.guides = checkpoints.map { GuideLine(x: Double($0), label: "checkpoint") }
        return PlotFigure(title: "Training loss per iteration", panels: [plot], palette: palette)
    }

    /// Per epoch: the loss (training and validation) and, with a
    /// classification loss, the accuracy.
    public static func epochs(_ epochs: [EpochRecord], palette: Palette = .default) -> PlotFigure {
        let theme = Theme(palette: palette)
        func series(_ name: String, _ value: (EpochRecord) -> Double?, _ color: RGB) -> LineSeries? {
            let points = epochs.compactMap { record in value(record).map { Point(Double(record.epoch), $0) } }
            return points.isEmpty ? nil : LineSeries(name, points: points, color: color, markerRadius: epochs.count <= 30 ? 3 : 0)
        }
        var loss = Plot(title: "loss", x: Axis("epoch"), y: Axis("mean loss"))
        loss.lines = [series("training", \.loss, theme.series[0]), series("validation", \.validationLoss, theme.series[1])].compactMap { $0 }
        var panels = [loss]
        if epochs.contains(where: { $0.accuracy != nil }) {
            var accuracy = Plot(title: "accuracy", x: Axis("epoch"), y: Axis("accuracy (%)", range: 0...100))
            accuracy.lines = [series("training", { $0.accuracy.map { 100 * $0 } }, theme.series[0]),
                              series("validation", { $0.validationAccuracy.map { 100 * $0 } }, theme.series[1])].compactMap { $0 }
            panels.append(accuracy)
        }
        return PlotFigure(title: "Per epoch: training and validation", panels: panels, size: Size(panels.count == 1 ? 800 : 960, 500), palette: palette)
    }

    /// The learning rate of every iteration (a schedule steps once per epoch).
    public static func learningRate(_ iterations: [IterationRecord], palette: Palette = .default) -> PlotFigure {
        var plot = Plot(x: Axis("iteration"), y: Axis("learning rate"))
        plot.lines = [LineSeries("learning rate", points: iterations.map { Point(Double($0.iteration), $0.learningRate) }, inLegend: false)]
        return PlotFigure(title: "Learning rate over the run", panels: [plot], palette: palette)
    }

    /// Per ReLU node, the fraction of its units that are dead (0 for every
    /// example looked at) after each epoch; nil without ReLUs.
    public static func deadUnits(_ epochs: [EpochRecord], palette: Palette = .default) -> PlotFigure? {
        guard let names = epochs.first?.deadUnits.map(\.name), !names.isEmpty else { return nil }
        var plot = Plot(x: Axis("epoch"), y: Axis("dead units (%)", range: 0...100))
        for (k, name) in names.enumerated() {
            plot.lines.append(LineSeries(name, points: epochs.map { Point(Double($0.epoch), 100 * $0.deadUnits[k].fraction) },
                                         markerRadius: epochs.count <= 30 ? 3 : 0))
        }
        return PlotFigure(title: "Dying ReLUs: units that output 0 for every training example", panels: [plot], palette: palette)
    }

    /// The predicted class over the plane (shaded, its boundaries drawn) with
    /// the training points coloured by their class. `predict` maps a batch
    /// of points `[N, 2]` to classes.
    public static func decisionBoundary(_ dataset: Dataset, palette: Palette = .default,
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
            plot.lines.append(LineSeries("class \(label)", points: mine, color: theme.series[label % theme.series.count], drawsLine: false, markerRadius: 3.2))
        }
        let title = "Decision boundary on \(dataset.name): \(String(format: "%.1f", 100 * Double(accuracy) / Double(dataset.count)))% of the training points right"
        return PlotFigure(title: title, panels: [plot], size: Size(720, 600), palette: palette)
    }

    /// The smoothed loss per iteration of several runs (one per optimizer), and their accuracy per epoch.
    public static func comparison(_ runs: [(name: String, iterations: [IterationRecord], epochs: [EpochRecord])], palette: Palette = .default) -> PlotFigure {
        let theme = Theme(palette: palette)
        var loss = Plot(title: "loss (smoothed)", x: Axis("iteration"), y: Axis("loss"))
        var accuracy = Plot(title: "training accuracy", x: Axis("epoch"), y: Axis("accuracy (%)", range: 0...100))
        for (k, run) in runs.enumerated() {
            let color = theme.series[k % theme.series.count]
            let smooth = smoothed(run.iterations.map(\.loss))
            let final = formatNumber(run.epochs.last?.loss ?? .nan, significant: 3)
            loss.lines.append(LineSeries("\(run.name): \(final)", points: zip(run.iterations, smooth).map { Point(Double($0.iteration), $1) }, color: color))
            let points = run.epochs.compactMap { record in record.accuracy.map { Point(Double(record.epoch), 100 * $0) } }
            if !points.isEmpty { accuracy.lines.append(LineSeries(run.name, points: points, color: color, inLegend: false)) }
        }
        let panels = accuracy.lines.isEmpty ? [loss] : [loss, accuracy]
        return PlotFigure(title: "The same network, data and seed under each optimizer", panels: panels, size: Size(panels.count == 1 ? 800 : 1000, 520), palette: palette)
    }
}
