@testable import ChainruleFigures
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Plot ticks")
struct PlotTickTests {
    @Test("a nice step is 1, 2 or 5 times a power of ten, the smallest giving at most the target count")
    func niceSteps() {
        #expect(Ticks.niceStep(span: 7, target: 5) == 2)
        #expect(Ticks.niceStep(span: 1, target: 5) == 0.2)
        #expect(abs(Ticks.niceStep(span: 0.3, target: 5) - 0.1) < 1e-15)
        #expect(Ticks.niceStep(span: 100, target: 5) == 20)
        #expect(Ticks.niceStep(span: 2.4, target: 5) == 0.5)
    }

    @Test("a linear range widens to whole steps and its ticks come out clean")
    func linearTicks() {
        let unit = Ticks.linear(0.13, 0.92)
        #expect(unit.range == 0...1)
        #expect(unit.ticks == [0, 0.2, 0.4, 0.6, 0.8, 1])
        let wide = Ticks.linear(-3.7, 12.2)
        #expect(wide.range == -5...15)
        #expect(wide.ticks == [-5, 0, 5, 10, 15])
        let flat = Ticks.linear(3, 3)
        #expect(flat.range.lowerBound < 3 && flat.range.upperBound > 3)
    }

    @Test("ticks inside a fixed range keep its ends")
    func fixedRangeTicks() {
        let ticks = Ticks.linear(inside: -1.5...4, target: 6)
        #expect(ticks.step == 1)
        #expect(ticks.ticks == [-1, 0, 1, 2, 3, 4])
    }

    @Test("labels use the step's decimals and a true minus sign, never -0")
    func labels() {
        #expect(Ticks.label(0.5, step: 0.5) == "0.5")
        #expect(Ticks.label(0.4, step: 0.2) == "0.4")
        #expect(Ticks.label(-2, step: 1) == "−2")
        #expect(Ticks.label(-0.0000001, step: 0.5) == "0")
        #expect(Ticks.label(2000, step: 500) == "2000")
    }

    @Test("a log axis labels decades; with many decades only the multiples of 2 or 3")
    func logTicks() {
        let sweep = Ticks.log(1e-12, 0.1)
        #expect(sweep.range.lowerBound == 1e-12 && sweep.range.upperBound == 1e-1)
        #expect(sweep.major.map { Int(log10($0).rounded()) } == [-12, -10, -8, -6, -4, -2])
        #expect(sweep.minor.map { Int(log10($0).rounded()) } == [-11, -9, -7, -5, -3, -1])

        let few = Ticks.log(0.03, 20)
        #expect(few.major.map { Int(log10($0).rounded()) } == [-2, -1, 0, 1, 2])
        #expect(few.minor.count == 4 * 8)
        #expect(few.minor.contains { abs($0 - 0.05) < 1e-15 })
    }

    @Test("log labels are powers of ten in superscript")
    func logLabels() {
        #expect(Ticks.logLabel(1e-6) == "10⁻⁶")
        #expect(Ticks.logLabel(1) == "1")
        #expect(Ticks.logLabel(10) == "10")
        #expect(Ticks.logLabel(1000) == "10³")
        #expect(Ticks.logLabel(1e-12) == "10⁻¹²")
    }
}

@Suite("Plot contours")
struct PlotContourTests {
    let bowl = Grid(x: -2...2, y: -2...2, columns: 81, rows: 81) { x, y in x * x + y * y }

    @Test("the level set x² + y² = 1 is the unit circle: every point on it, total length 2π")
    func circle() {
        let segments = Contours.segments(bowl, level: 1)
        #expect(!segments.isEmpty)
        for (a, b) in segments {
            for p in [a, b] { #expect(abs((p.x * p.x + p.y * p.y).squareRoot() - 1) < 0.005) }
        }
        let length = segments.reduce(0) { $0 + hypot($1.1.x - $1.0.x, $1.1.y - $1.0.y) }
        #expect(abs(length - 2 * Double.pi) < 0.01 * 2 * Double.pi)
    }

    @Test("joined, the circle is one closed line")
    func circleLine() {
        let lines = Contours.lines(bowl, level: 1)
        #expect(lines.count == 1)
        let line = lines[0]
        #expect(line.count == Contours.segments(bowl, level: 1).count + 1)
        #expect(line.first!.x == line.last!.x && line.first!.y == line.last!.y)
    }

    @Test("a level outside the values has no contour")
    func noContour() {
        #expect(Contours.segments(bowl, level: 100).isEmpty)
        #expect(Contours.segments(bowl, level: -1).isEmpty)
    }

    @Test("a saddle cell gives two segments that do not cross")
    func saddle() {
        // a = c = 1 on one diagonal, b = d = 0 on the other, mean 0.5 → below 0.6.
        let grid = Grid(xs: [0, 1], ys: [0, 1], values: [[1, 0], [0, 1]])
        let segments = Contours.segments(grid, level: 0.6)
        #expect(segments.count == 2)
        // Centre below the level: the corners above (0,0) and (1,1) are cut off on their own.
        for (a, b) in segments {
            let nearOrigin = a.x + a.y + b.x + b.y < 2
            #expect(nearOrigin ? max(a.x, a.y, b.x, b.y) < 0.5 : min(a.x, a.y, b.x, b.y) > 0.5)
        }
    }
}

@Suite("Plot drawing")
struct PlotDrawingTests {
    /// A chart with every layer: log axis, lines with markers, bars, a heatmap panel with contours, a guide.
    static func sampleChart(palette: Palette = .default) -> PlotFigure {
        var decay = Plot(title: "Decay", x: Axis("epoch"), y: Axis("error", scale: .log))
        decay.lines.append(LineSeries("train", points: (0...20).map { Point(Double($0), exp(-Double($0) / 3)) }, markerRadius: 3))
        decay.bars.append(BarSeries("count", points: (1...5).map { Point(Double($0) * 4, Double($0) * 0.01) }, width: 2))
        decay.guides = [GuideLine(x: 10, label: "switch")]
        let grid = Grid(x: -1...1, y: -1...1, columns: 30, rows: 30) { x, y in x * x + 2 * y * y }
        var bowl = Plot(title: "Bowl", x: Axis("w₁"), y: Axis("w₂"))
        bowl.heatmap = HeatmapLayer(grid)
        bowl.contours = ContourLayer(grid, levels: [0.1, 0.4, 1])
        bowl.lines.append(LineSeries("path", points: [Point(-0.9, 0.8), Point(-0.3, 0.2), Point(0, 0)]))
        return PlotFigure(title: "A test chart", panels: [decay, bowl], palette: palette)
    }

    @Test("one drawing makes a PNG, a PDF and an SVG with its labels as text")
    func formats() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let chart = Self.sampleChart()
        let png = folder.appendingPathComponent("chart.png").path
        try chart.write(to: png, scale: 2)
        let size = try #require(pngSize(try Data(contentsOf: URL(fileURLWithPath: png))))
        #expect(size.width == 1920 && size.height == 1080)
        let pdf = folder.appendingPathComponent("chart.pdf").path
        try chart.write(to: pdf)
        #expect(try Data(contentsOf: URL(fileURLWithPath: pdf)).prefix(5) == Data("%PDF-".utf8))
        let svgPath = folder.appendingPathComponent("chart.svg").path
        try chart.write(to: svgPath)
        let svg = try Data(contentsOf: URL(fileURLWithPath: svgPath))
        #expect(XMLParser(data: svg).parse())
        let text = String(decoding: svg, as: UTF8.self)
        for label in ["A test chart", "epoch", "error", "w₁", "w₂", "train", "count", "switch", "10⁻²"] {
            #expect(text.contains(">\(label)</text>"), "the SVG lacks the text \(label)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["chart.pdf", "chart.png", "chart.svg"])
    }

    @Test("the PNG shows the series colours of the palette it was drawn with")
    func paletteColours() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for palette in Palette.allCases {
            let path = folder.appendingPathComponent("\(palette).png").path
            try Self.sampleChart(palette: palette).write(to: path, scale: 1)
            let image = try #require(RasterImage(pngFile: path))
            let theme = Theme(palette: palette)
            #expect(image.count(near: theme.series[0], tolerance: 0.03) > 100, "\(palette): first series colour missing")
            #expect(image.count(near: theme.series[1], tolerance: 0.03) > 100, "\(palette): bar colour missing")
        }
    }

    @Test("no two texts overlap, none leaves the page, and none is below 11 pt")
    func textLayout() {
        let chart = Self.sampleChart()
        assertTextsApart(chart)
    }

    @Test("series differ by dash and marker as well as colour")
    func seriesStyles() {
        var plot = Plot(x: Axis("x"), y: Axis("y"))
        for k in 0..<6 { plot.lines.append(LineSeries("s\(k)", points: [Point(0, Double(k)), Point(1, Double(k))], markerRadius: 3)) }
        let styled = PlotPainter(figure: PlotFigure(panels: [plot])).styledSeries(plot, panelWidth: 800).lines
        #expect(Set(styled.map(\.dash)).count == 6)
        #expect(Set(styled.map(\.marker)).count == 6)
        #expect(Set(styled.map(\.color.hexString)).count == 6)
    }

    @Test("direct labels: each line's name beside the frame where it ends, apart even when the lines end together, and out of the legend")
    func directLabels() {
        var plot = Plot(x: Axis("epoch"), y: Axis("loss"))
        plot.directLabels = true
        for k in 0..<4 { plot.lines.append(LineSeries("run \(k)", points: [Point(0, 2), Point(10, 1 + 0.001 * Double(k))])) }
        plot.lines.append(LineSeries("start", points: [Point(0, 2)], drawsLine: false, markerRadius: 4))
        let chart = PlotFigure(panels: [plot])
        let painter = PlotPainter(figure: chart)
        let styled = painter.styledSeries(plot, panelWidth: 900)
        #expect(styled.labelled.map(\.series.name) == ["run 0", "run 1", "run 2", "run 3"])
        #expect(styled.legend.map(\.name) == ["start"], "a marker alone keeps its legend entry")
        assertTextsApart(chart)
        let names = chart.textFrames.filter { $0.text.hasPrefix("run ") }
        let ticks = chart.textFrames.filter { $0.text == "10" }
        #expect(names.count == 4 && names.allSatisfy { $0.frame.x > (ticks.first?.frame.maxX ?? .infinity) }, "right of the frame")
        // Labels too wide for the panel go back into the legend.
        #expect(painter.styledSeries(plot, panelWidth: 200).labelled.isEmpty)
    }

    @Test("training figures are 16:9 slides; the six optimizers' paths differ by dash and marker, not colour alone")
    func trainingFigures() {
        let schedules = TrainingPlots.learningRateSchedules()
        #expect(abs(schedules.size.width / schedules.size.height - 16.0 / 9.0) < 1e-9)
        assertTextsApart(schedules)
        let paths = TrainingPlots.optimizerPaths(OptimizerSurface.builtin(.bowl))
        #expect(abs(paths.size.width / paths.size.height - 16.0 / 9.0) < 1e-9)
        let plot = paths.panels[0]
        let styled = PlotPainter(figure: paths).styledSeries(plot, panelWidth: paths.size.width).lines.filter(\.series.drawsLine)
        #expect(styled.count == 6)
        #expect(Set(styled.map(\.dash)).count == 6)
        #expect(Set(styled.map(\.marker)).count == 6)
        assertTextsApart(paths)
    }

    /// The rectangles an SVG strokes unfilled in `color`, in drawing order.
    func outlines(_ svg: String, color: RGB) -> [Rect] {
        svg.components(separatedBy: "\n").filter { $0.hasPrefix("<rect") && $0.contains("fill=\"none\"") && $0.contains(color.hexString) }.map { tag in
            func number(_ name: String) -> Double { Double(tag.components(separatedBy: " \(name)=\"")[1].prefix { $0 != "\"" })! }
            return Rect(x: number("x"), y: number("y"), width: number("width"), height: number("height"))
        }
    }

    @Test("panels side by side line their frames up under the tallest title: the cosine schedule's wraps into two lines")
    func panelsAligned() throws {
        let schedules = TrainingPlots.learningRateSchedules()
        let frames = outlines(schedules.svg(), color: schedules.theme.stroke)
        #expect(frames.count == 3)
        #expect(Set(frames.map(\.y)).count == 1 && Set(frames.map(\.height)).count == 1, "\(frames)")
        let cosine = try #require(schedules.panels.last?.title)
        let painter = PlotPainter(figure: schedules)
        #expect(FigureTitle.lines(cosine, width: frames[2].width, style: painter.panelTitleStyle, measurer: painter.measurer).count > 1)
        let labels = schedules.textFrames.filter { $0.text == "learning rate" }
        #expect(labels.count == 3 && Set(labels.map(\.frame.y)).count == 1, "the y labels stand in one row, right above the frames")
    }

    @Test("a legend beside a surface stands a gap from the colour bar's labels, not the width of half its title more")
    func legendBesideColourBar() throws {
        let paths = TrainingPlots.optimizerPaths(OptimizerSurface.builtin(.rosenbrock))
        let svg = paths.svg()
        let frame = try #require(outlines(svg, color: paths.theme.stroke).first)
        let legend = try #require(outlines(svg, color: paths.theme.legendStroke).first)
        #expect(legend.x > frame.maxX, "the legend stands right of the frame")
        let bar = paths.textFrames.filter { $0.frame.x > frame.maxX && $0.frame.maxX < legend.x }.map(\.frame.maxX).max() ?? frame.maxX
        let unit = paths.fit.textScale
        // 6 pt after the bar's texts, then 12 pt before the legend (in points of the content area).
        #expect(legend.x - bar <= 18 * unit + 0.5, "\(legend.x - bar) pt between the colour bar's texts and the legend")
    }

    @Test("a dash pattern cuts a line into dashes of its lengths, measured along the line")
    func dashes() {
        let pieces = PlotPainter.dashed([Point(0, 0), Point(10, 0), Point(10, 10)], pattern: [4, 2])
        // 20 points of line: dashes at 0–4, 6–10 (turning no corner), 12–16, 18–20.
        #expect(pieces.count == 4)
        let lengths = pieces.map { piece in zip(piece, piece.dropFirst()).reduce(0) { $0 + hypot($1.1.x - $1.0.x, $1.1.y - $1.0.y) } }
        #expect(lengths.map { ($0 * 1e9).rounded() / 1e9 } == [4, 4, 4, 2])
        #expect(PlotPainter.dashed([Point(0, 0), Point(5, 0)], pattern: []).count == 1)
    }

    @Test("the legend and guide labels stay off the data: outside the plot frame")
    func offTheData() throws {
        let chart = LectureFigures.errorVersusStep()
        let svg = chart.svg()
        // The frame is the first unfilled rectangle in the stroke colour.
        let frameTag = try #require(svg.components(separatedBy: "\n").first { $0.hasPrefix("<rect") && $0.contains("fill=\"none\"") && $0.contains(chart.theme.stroke.hexString) })
        func number(_ name: String) -> Double { Double(frameTag.components(separatedBy: "\(name)=\"")[1].prefix { $0 != "\"" })! }
        let frame = Rect(x: number("x"), y: number("y"), width: number("width"), height: number("height"))
        let outside = ["h = 1e-6, the checker's default", "sigmoid, central", "rounding, at most ε·f/h"]
        for (text, box, _) in chart.textFrames where outside.contains(text) {
            #expect(!box.overlaps(frame), "'\(text)' is drawn on the data")
        }
    }

    @Test("a surface has a colour bar labelled with its values; a log surface labels decades")
    func colourBar() {
        let svg = LectureFigures.lossSurface().svg()
        #expect(svg.contains(">1 + loss − min</text>"))
        #expect(svg.contains(">10²</text>"))
    }

    @Test("text is sized for the page: 14 pt once fitted into the slide's content area, whatever the page")
    func slideText() {
        for fit in [ChartPage.slide, .fourThree, .points(Size(1800, 1000))] {
            let chart = PlotFigure(title: "t", panels: Self.sampleChart().panels, fit: fit)
            let smallest = chart.textFrames.map(\.size).min()!
            // Rounded up to the hundredth of a point the SVG writes: at least 14, by less than 0.01.
            let fitted = smallest * ChartPage.fittedScale(of: fit.size)
            #expect(fitted >= 14 && fitted < 14.01, "\(fit): \(fitted)")
        }
    }

    @Test("a title wider than the page breaks into lines instead of leaving it")
    func longTitle() {
        let chart = PlotFigure(title: String(repeating: "a long title ", count: 12), panels: Self.sampleChart().panels)
        assertTextsApart(chart)
    }

    @Test("a chart refuses .dot and leaves no file behind")
    func refusesDot() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("chart.dot").path
        #expect(throws: FigureError.self) { try Self.sampleChart().write(to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("a missing folder is reported by name")
    func missingFolder() {
        #expect(throws: FigureError.unwritable(path: "/nonexistent-folder/chart.png", reason: "the folder '/nonexistent-folder' does not exist")) {
            try Self.sampleChart().write(to: "/nonexistent-folder/chart.png")
        }
    }
}

/// Checks a chart's text boxes pairwise: apart, inside the page.
func assertTextsApart(_ chart: PlotFigure, sourceLocation: SourceLocation = #_sourceLocation) {
    let frames = chart.textFrames
    #expect(!frames.isEmpty, sourceLocation: sourceLocation)
    for (text, frame, size) in frames {
        #expect(size >= 11, "'\(text)' is set in \(size) pt", sourceLocation: sourceLocation)
        #expect(frame.x >= 0 && frame.y >= 0 && frame.maxX <= chart.size.width && frame.maxY <= chart.size.height,
                "'\(text)' leaves the page: \(frame)", sourceLocation: sourceLocation)
    }
    for i in frames.indices {
        for j in frames.indices where j > i {
            #expect(!frames[i].frame.overlaps(frames[j].frame), "'\(frames[i].text)' overlaps '\(frames[j].text)'", sourceLocation: sourceLocation)
        }
    }
}
