import Foundation

/// Lays a `PlotFigure` out and draws it on a canvas: the title at the top
/// left, panels side by side, each with its title and y label above the
/// frame, guide labels in a band above the frame, tick labels and the x label
/// below, a colour bar right of a surface, and the legend off the data —
/// right of the frame when it is narrow, in rows under the x label otherwise.
struct PlotPainter {
    let figure: PlotFigure
    let theme: Theme
    let measurer: TextMeasurer

    let tickStyle: TextStyle
    let labelStyle: TextStyle
    let panelTitleStyle: TextStyle
    let titleStyle: TextStyle
    let legendStyle: TextStyle
    let guideStyle: TextStyle
    let barLabelStyle: TextStyle
    /// Points of the page per point of a 900 × 460 content area's worth of
    /// spacing: every gap, tick and line grows with the text.
    let unit: Double

    var margin: Double { 14 * unit }
    var panelGap: Double { 26 * unit }
    var tickLength: Double { 5 * unit }

    init(figure: PlotFigure) {
        self.figure = figure
        theme = figure.theme
        measurer = TextMeasurer(theme: theme)
        let fit = figure.fit
        unit = fit.textScale
        // The smallest text, ticks and legend, reads 14 pt on the slide.
        tickStyle = TextStyle(color: theme.text, size: fit.textSize(ChartPage.legibleTextSize))
        labelStyle = TextStyle(color: theme.text, size: fit.textSize(15))
        panelTitleStyle = TextStyle(color: theme.text, size: fit.textSize(15), bold: true)
        titleStyle = FigureTitle.style(theme: theme, bodySize: fit.textSize(15))
        legendStyle = TextStyle(color: theme.text, size: fit.textSize(ChartPage.legibleTextSize))
        guideStyle = TextStyle(color: theme.muted, size: fit.textSize(ChartPage.legibleTextSize))
        barLabelStyle = TextStyle(color: theme.text, size: fit.textSize(ChartPage.legibleTextSize), bold: true)
    }

    func paint(on canvas: Canvas) {
        let m = margin
        var top = m
        if let title = figure.title {
            top = FigureTitle.paint(title, style: titleStyle, measurer: measurer, pageWidth: figure.size.width, margin: m, top: top, on: canvas) + 8 * unit
        }
        let count = Double(max(figure.panels.count, 1))
        let panelWidth = (figure.size.width - 2 * m - panelGap * (count - 1)) / count
        let styled = figure.panels.map { styledSeries($0, panelWidth: panelWidth) }
        // Panels side by side share the legend band's height, so their frames line up.
        let legendBand = styled.map { legendBelowHeight($0.legend, panelWidth: panelWidth, besideAllowed: $0.labelled.isEmpty) }.max() ?? 0
        let areas = figure.panels.indices.map { index in
            Rect(x: m + Double(index) * (panelWidth + panelGap), y: top, width: panelWidth, height: figure.size.height - top - m)
        }
        let layouts = figure.panels.indices.map { layout(figure.panels[$0], styled: styled[$0], legendBand: legendBand, in: areas[$0]) }
        // Their frames start under the tallest header (a title that wraps, a second row of guide labels).
        let header = layouts.map(\.header).max() ?? 0
        for (index, panel) in figure.panels.enumerated() {
            paint(panel, styled: styled[index], layout: layouts[index], header: header, in: areas[index], on: canvas)
        }
    }

    // MARK: Series styles

    /// A legend entry: the name and how its series looks.
    struct LegendEntry {
        var name: String
        var color: RGB
        var dash: LineDash?
        var marker: MarkerShape?
        /// A bar series: a filled swatch.
        var bar: Bool
    }

    /// A line series with its colour, dash and marker settled.
    struct StyledLine {
        var series: LineSeries
        var color: RGB
        var dash: LineDash
        var marker: MarkerShape
    }

    /// Colours in the theme's order for the series without one, each with the
    /// dash and marker of the same place, so the n-th series differs from the
    /// others in three ways; bars take their colours from the same sequence.
    /// Direct labels that would take more than `directLabelShare` of a panel's width go into the legend instead.
    func styledSeries(_ panel: Plot, panelWidth: Double) -> (bars: [RGB], lines: [StyledLine], legend: [LegendEntry], labelled: [StyledLine]) {
        var next = 0
        var legend: [LegendEntry] = []
        var bars: [RGB] = []
        for series in panel.bars {
            let c = series.color ?? theme.series[next % theme.series.count]
            if series.color == nil { next += 1 }
            bars.append(c)
            if !series.name.isEmpty { legend.append(LegendEntry(name: series.name, color: c, dash: nil, marker: nil, bar: true)) }
        }
        var lines: [StyledLine] = [], labelled: [StyledLine] = []
        for series in panel.lines {
            let place: Int?
            if series.color == nil {
                place = next
                next += 1
            } else {
                place = nil
            }
            let c = series.color ?? theme.series[place! % theme.series.count]
            let dash = series.dash ?? place.map { LineDash.allCases[$0 % LineDash.allCases.count] } ?? .solid
            let marker = series.marker ?? place.map { MarkerShape.allCases[$0 % MarkerShape.allCases.count] } ?? .circle
            let styled = StyledLine(series: series, color: c, dash: dash, marker: marker)
            lines.append(styled)
            if panel.directLabels && series.drawsLine && series.inLegend && !series.name.isEmpty {
                labelled.append(styled)
            } else if series.inLegend && !series.name.isEmpty {
                legend.append(LegendEntry(name: series.name, color: c, dash: series.drawsLine ? dash : nil,
                                          marker: series.markerRadius > 0 ? marker : nil, bar: false))
            }
        }
        if !labelled.isEmpty && directLabelWidth(labelled) > Self.directLabelShare * panelWidth {
            legend += labelled.map { line in
                LegendEntry(name: line.series.name, color: line.color, dash: line.dash, marker: line.series.markerRadius > 0 ? line.marker : nil, bar: false)
            }
            labelled = []
        }
        return (bars, lines, legend, labelled)
    }

    /// The most of a panel's width that direct labels may take.
    static let directLabelShare = 0.4

    // MARK: Ranges

    /// The data's extent along one axis, and the ticks to draw.
    struct AxisLayout {
        var scale: AxisScale
        var range: ClosedRange<Double>
        var major: [Double]
        var minor: [Double]
        var labels: [String]

        /// Position in 0…1 along the axis, nil for values a log axis cannot show.
        func fraction(_ v: Double) -> Double? {
            guard v.isFinite else { return nil }
            switch scale {
            case .linear:
                return (v - range.lowerBound) / (range.upperBound - range.lowerBound)
            case .log:
                guard v > 0 else { return nil }
                let lo = Foundation.log10(range.lowerBound), hi = Foundation.log10(range.upperBound)
                return (Foundation.log10(v) - lo) / (hi - lo)
            }
        }
    }

    /// `padded` leaves 2 % of room past the data (for y, so a curve at its extreme does not run
    /// along the frame; x ends where the data does, on its nice ticks).
    func layoutAxis(_ axis: Axis, values: [Double], exact: ClosedRange<Double>?, target: Int, padded: Bool = false) -> AxisLayout {
        if let categories = axis.categories {
            let ticks = categories.indices.map(Double.init)
            let range = axis.range ?? (-0.5...(Double(categories.count) - 0.5))
            return AxisLayout(scale: .linear, range: range, major: ticks, minor: [], labels: categories)
        }
        switch axis.scale {
        case .linear:
            if let range = axis.range ?? exact {
                let (ticks, step) = Ticks.linear(inside: range, target: target)
                return AxisLayout(scale: .linear, range: range, major: ticks, minor: [], labels: ticks.map { Ticks.label($0, step: step) })
            }
            let finite = values.filter(\.isFinite)
            // Never below zero for data that does not go there: bars stand on it.
            let (lo, hi) = (finite.min() ?? 0, finite.max() ?? 1)
            let room = padded ? (hi - lo) * 0.02 : 0
            let (range, ticks, step) = Ticks.linear(lo >= 0 ? max(0, lo - room) : lo - room, hi + room, target: target)
            return AxisLayout(scale: .linear, range: range, major: ticks, minor: [], labels: ticks.map { Ticks.label($0, step: step) })
        case .log:
            let positive = values.filter { $0 > 0 && $0.isFinite }
            let lo = axis.range?.lowerBound ?? positive.min() ?? 1, hi = axis.range?.upperBound ?? positive.max() ?? 10
            let (range, major, minor) = Ticks.log(lo, hi)
            return AxisLayout(scale: .log, range: range, major: major, minor: minor, labels: major.map(Ticks.logLabel))
        }
    }

    /// Every x (or y) the panel's layers put on the plot.
    func dataValues(_ panel: Plot, x: Bool) -> [Double] {
        var values: [Double] = []
        for line in panel.lines { values += line.points.map { x ? $0.x : $0.y } }
        for bars in panel.bars {
            if x {
                values += bars.points.flatMap { [$0.x - bars.width / 2, $0.x + bars.width / 2] }
            } else {
                values += bars.points.map(\.y)
                if panel.y.scale == .linear { values.append(0) }
            }
        }
        if x { values += panel.guides.map(\.x) }
        return values
    }

    func gridExtent(_ panel: Plot, x: Bool) -> ClosedRange<Double>? {
        guard let grid = panel.heatmap?.grid ?? panel.contours?.grid else { return nil }
        let values = x ? grid.xs : grid.ys
        guard let lo = values.min(), let hi = values.max(), lo < hi else { return nil }
        return lo...hi
    }

    // MARK: One panel

    var swatchWidth: Double { 30 * unit }

    /// The width and height of a legend laid out in one column.
    func legendColumnSize(_ entries: [LegendEntry]) -> Size {
        let metrics = measurer.lineMetrics(legendStyle)
        let pad = 7 * unit
        let width = swatchWidth + 6 * unit + (entries.map { measurer.width($0.name, legendStyle) }.max() ?? 0) + 2 * pad
        return Size(width, Double(entries.count) * (metrics.height + 3 * unit) + 2 * pad - 3 * unit)
    }

    /// Whether the legend stands right of the frame: when one column of it takes at most a third of the panel.
    func legendBeside(_ entries: [LegendEntry], panelWidth: Double) -> Bool {
        !entries.isEmpty && legendColumnSize(entries).width <= panelWidth / 3
    }

    /// Entries flowed into rows under the x label: each row's entries and their x offsets.
    func legendRows(_ entries: [LegendEntry], width: Double) -> [[(entry: LegendEntry, x: Double)]] {
        var rows: [[(entry: LegendEntry, x: Double)]] = [[]]
        var x = 0.0
        for entry in entries {
            let w = swatchWidth + 6 * unit + measurer.width(entry.name, legendStyle)
            if x > 0, x + w > width {
                rows.append([])
                x = 0
            }
            rows[rows.count - 1].append((entry, x))
            x += w + 22 * unit
        }
        return rows
    }

    /// The height the legend takes under the x label, 0 when it stands beside the frame or there is none.
    /// Direct labels take the room beside the frame (`besideAllowed` false): a legend goes under it.
    func legendBelowHeight(_ entries: [LegendEntry], panelWidth: Double, besideAllowed: Bool = true) -> Double {
        guard !entries.isEmpty, !(besideAllowed && legendBeside(entries, panelWidth: panelWidth)) else { return 0 }
        let rows = legendRows(entries, width: panelWidth).count
        return Double(rows) * (measurer.lineMetrics(legendStyle).height + 4 * unit) + 6 * unit
    }

    typealias StyledPanel = (bars: [RGB], lines: [StyledLine], legend: [LegendEntry], labelled: [StyledLine])

    /// Where one panel's parts go, worked out before anything is drawn: its
    /// axes, the frame's sides, the title's lines and the guide labels' rows,
    /// and the height above the frame they need (`header`), which the panels
    /// side by side share so their frames line up under the tallest title.
    struct PanelLayout {
        var xAxis: AxisLayout
        var yAxis: AxisLayout
        var left: Double
        var right: Double
        var bottom: Double
        /// The legend stands right of the frame.
        var beside: Bool
        var colourBar: ColourBar?
        /// The title's lines (broken at spaces to the panel's width) with their widths, and the x they centre on.
        var titleLines: [(text: String, width: Double)]
        var titleCentre: Double
        /// A one-line title clear of the y label shares its row.
        var titleSharesRow: Bool
        var guideRows: [(guide: GuideLine, x: Double, row: Int)]
        /// The title's lines, when not sharing the y label's row, plus the gap below them.
        var titleBand: Double
        /// The y label's row and the gap below it, then the guide labels' rows.
        var labelBand: Double
        var guideBand: Double

        /// From the panel's top to its frame's.
        var header: Double { titleBand + labelBand + guideBand }
    }

    func layout(_ panel: Plot, styled: StyledPanel, legendBand: Double, in area: Rect) -> PanelLayout {
        let xAxis = layoutAxis(panel.x, values: dataValues(panel, x: true), exact: gridExtent(panel, x: true), target: 6)
        let yAxis = layoutAxis(panel.y, values: dataValues(panel, x: false), exact: gridExtent(panel, x: false), target: 6, padded: true)
        let tick = measurer.lineMetrics(tickStyle), label = measurer.lineMetrics(labelStyle), panelTitle = measurer.lineMetrics(panelTitleStyle)
        let guide = measurer.lineMetrics(guideStyle)
        let beside = styled.labelled.isEmpty && legendBeside(styled.legend, panelWidth: area.width)
        let colourBar = panel.heatmap.map { colourBarLayout($0) }

        // Left: the widest y tick label. Right: the legend or colour bar. Bottom: ticks, x label, legend rows.
        let yTickWidth = yAxis.labels.map { measurer.width($0, tickStyle) }.max() ?? 0
        let left = area.x + yTickWidth + tickLength + 6 * unit
        let lastXLabelHalf = (xAxis.labels.last.map { measurer.width($0, tickStyle) } ?? 0) / 2
        var right = area.maxX - max(6 * unit, lastXLabelHalf)
        if beside { right = area.maxX - legendColumnSize(styled.legend).width - 12 * unit }
        if !styled.labelled.isEmpty { right = area.maxX - directLabelWidth(styled.labelled) }
        if let colourBar { right -= beside || !styled.labelled.isEmpty ? colourBar.width : colourBar.reach }
        let bottom = area.maxY - tick.height - label.height - tickLength - 10 * unit - legendBand

        // A title wider than the panel breaks into lines at spaces (each centred over the frame), as a figure's title does.
        var lines: [(text: String, width: Double)] = []
        var centre = (left + right) / 2, shareRow = false, titleBand = 0.0
        if let title = panel.title {
            lines = FigureTitle.lines(title, width: area.width, style: panelTitleStyle, measurer: measurer).map { ($0, measurer.width($0, panelTitleStyle)) }
            let widest = lines.map(\.width).max() ?? 0
            centre = min(max(centre, area.x + widest / 2), area.maxX - widest / 2)
            shareRow = lines.count == 1 && area.x + measurer.width(panel.y.label, labelStyle) + 16 * unit < centre - lines[0].width / 2
            if !shareRow { titleBand = Double(lines.count) * panelTitle.height + 4 * unit }
        }
        let labelBand = max(label.height, panel.title == nil ? 0 : panelTitle.height) + 8 * unit
        // Guide labels in rows above the frame: a second row when two would touch.
        let guideRows = guideLabelRows(panel.guides, xAxis: xAxis, left: left, right: right)
        let guideBand = guideRows.isEmpty ? 0 : Double((guideRows.map(\.row).max() ?? 0) + 1) * (guide.height + 3 * unit) + 2 * unit
        return PanelLayout(xAxis: xAxis, yAxis: yAxis, left: left, right: right, bottom: bottom, beside: beside, colourBar: colourBar,
                           titleLines: lines, titleCentre: centre, titleSharesRow: shareRow, guideRows: guideRows,
                           titleBand: titleBand, labelBand: labelBand, guideBand: guideBand)
    }

    /// Draws a panel laid out by `layout`, its frame `header` below the area's
    /// top (at least the layout's own): the title stays at the top, the y
    /// label's row and the guide labels sit right above the frame.
    func paint(_ panel: Plot, styled: StyledPanel, layout: PanelLayout, header: Double, in area: Rect, on canvas: Canvas) {
        let (xAxis, yAxis, beside, colourBar) = (layout.xAxis, layout.yAxis, layout.beside, layout.colourBar)
        let tick = measurer.lineMetrics(tickStyle), label = measurer.lineMetrics(labelStyle), panelTitle = measurer.lineMetrics(panelTitleStyle)
        let guide = measurer.lineMetrics(guideStyle)
        let xLabelWidth = measurer.width(panel.x.label, labelStyle)
        let labelTop = area.y + max(header, layout.header) - layout.labelBand - layout.guideBand
        let titleTop = layout.titleSharesRow ? labelTop : area.y
        for (k, line) in layout.titleLines.enumerated() {
            canvas.text(line.text, at: Point(layout.titleCentre - line.width / 2, titleTop + Double(k) * panelTitle.height + panelTitle.ascent), style: panelTitleStyle)
        }
        canvas.text(panel.y.label, at: Point(area.x, labelTop + max(label.ascent, panel.title == nil ? 0 : panelTitle.ascent)), style: labelStyle)
        let guideRows = layout.guideRows
        let guideTop = labelTop + layout.labelBand
        let top = guideTop + layout.guideBand
        let frame = Rect(x: layout.left, y: top, width: max(layout.right - layout.left, 10), height: max(layout.bottom - top, 10))

        func px(_ v: Double) -> Double? { xAxis.fraction(v).map { frame.x + $0 * frame.width } }
        func py(_ v: Double) -> Double? { yAxis.fraction(v).map { frame.maxY - $0 * frame.height } }
        func map(_ p: Point) -> Point? {
            guard let x = px(p.x), let y = py(p.y) else { return nil }
            return Point(x, y)
        }

        // Grid lines under everything.
        if panel.heatmap == nil {
            for v in xAxis.major { if let x = px(v) { canvas.line(from: Point(x, frame.y), to: Point(x, frame.maxY), color: theme.plotGrid, width: 0.8 * unit) } }
            for v in yAxis.major { if let y = py(v) { canvas.line(from: Point(frame.x, y), to: Point(frame.maxX, y), color: theme.plotGrid, width: 0.8 * unit) } }
        }
        if let heatmap = panel.heatmap, let colourBar { paintHeatmap(heatmap, colours: colourBar, frame: frame, px: px, py: py, on: canvas) }
        if panel.zeroLines {
            if xAxis.scale == .linear, panel.x.categories == nil, xAxis.range.lowerBound < 0, xAxis.range.upperBound > 0, let x = px(0) {
                canvas.line(from: Point(x, frame.y), to: Point(x, frame.maxY), color: theme.plotZeroLine, width: unit)
            }
            if yAxis.scale == .linear, yAxis.range.lowerBound < 0, yAxis.range.upperBound > 0, let y = py(0) {
                canvas.line(from: Point(frame.x, y), to: Point(frame.maxX, y), color: theme.plotZeroLine, width: unit)
            }
        }
        if let contours = panel.contours {
            let color = contours.color ?? theme.contour
            for level in contours.levels {
                for line in Contours.lines(contours.grid, level: level) {
                    for piece in clippedPolylines(line.map(map), frame: frame) {
                        canvas.curve(Self.bezier(through: piece), color: color, width: contours.width * unit)
                    }
                }
            }
        }

        // Bar labels are written only when each fits over its own place: side by side they would overprint
        // (twelve classes of 0.000), and the y axis still reads the heights.
        let centres = panel.bars.flatMap { $0.points.compactMap { px($0.x) } }.sorted()
        let slot = zip(centres, centres.dropFirst()).map { $1 - $0 }.filter { $0 > 0.5 }.min() ?? frame.width
        let labelsFit = panel.bars.allSatisfy { ($0.labels ?? []).allSatisfy { measurer.width($0, barLabelStyle) + 4 * unit <= slot } }
        for (bars, c) in zip(panel.bars, styled.bars) {
            let base = yAxis.scale == .log ? frame.maxY : (py(0) ?? frame.maxY)
            for (k, point) in bars.points.enumerated() {
                guard let x0 = px(point.x - bars.width / 2), let x1 = px(point.x + bars.width / 2), let y = py(point.y) else { continue }
                let rect = Rect(x: max(min(x0, x1), frame.x), y: max(min(y, base), frame.y),
                                width: min(abs(x1 - x0), frame.maxX - min(x0, x1)), height: min(abs(base - y), frame.height))
                guard rect.width > 0, rect.height >= 0 else { continue }
                canvas.fillRect(rect, radius: 0, color: c)
                if labelsFit, let labels = bars.labels, k < labels.count {
                    let width = measurer.width(labels[k], barLabelStyle)
                    let metrics = measurer.lineMetrics(barLabelStyle)
                    // Above the bar's top; a bar hanging below zero has it above the zero line; a bar
                    // that reaches the frame's top has it inside, in the background colour.
                    var style = barLabelStyle
                    var baseline = y <= base ? rect.y - 4 * unit : base - 4 * unit
                    if baseline - metrics.ascent < frame.y {
                        baseline = rect.y + 4 * unit + metrics.ascent
                        style.color = theme.background
                    }
                    canvas.text(labels[k], at: Point(rect.x + (rect.width - width) / 2, baseline), style: style)
                }
            }
        }

        for placed in guideRows {
            guard let x = px(placed.guide.x) else { continue }
            canvas.line(from: Point(x, frame.y), to: Point(x, frame.maxY), color: theme.muted, width: 1.2 * unit)
            let baseline = guideTop + Double(placed.row) * (guide.height + 3 * unit) + guide.ascent
            canvas.line(from: Point(x, baseline + guide.height - guide.ascent), to: Point(x, frame.y), color: theme.muted, width: 0.8 * unit)
            canvas.text(placed.guide.label, at: Point(placed.x, baseline), style: guideStyle)
        }

        for line in styled.lines {
            let series = line.series
            let mapped = series.points.map(map)
            let width = series.width * unit
            if series.drawsLine {
                for piece in clippedPolylines(mapped, frame: frame) {
                    for dash in Self.dashed(piece, pattern: line.dash.pattern.map { $0 * width }) {
                        canvas.curve(Self.bezier(through: dash), color: line.color, width: width)
                    }
                }
                // A point with no neighbour to join (a log of one row, a value between two gaps) is a dot, not nothing.
                if series.markerRadius == 0 {
                    for (k, point) in mapped.enumerated() {
                        guard let point, frame.containsPoint(point), k == 0 || mapped[k - 1] == nil, k == mapped.count - 1 || mapped[k + 1] == nil else { continue }
                        canvas.circle(center: point, radius: max(1.6 * width, 3.5 * unit), fill: line.color, stroke: nil, width: 0)
                    }
                }
            }
            if series.markerRadius > 0 {
                let inside = mapped.compactMap({ $0 }).filter(frame.containsPoint)
                for p in series.markerAtEndOnly ? Array(inside.suffix(1)) : inside {
                    paintMarker(line.marker, at: p, radius: series.markerRadius * unit, color: line.color, on: canvas)
                }
            }
        }
        paintDirectLabels(styled.labelled, frame: frame, after: colourBar?.width ?? 0, map: map, on: canvas)

        for note in panel.notes {
            guard let p = map(note.at) else { continue }
            let width = measurer.width(note.text, labelStyle)
            let wanted = note.anchor == .left ? p.x : note.anchor == .centre ? p.x - width / 2 : p.x - width
            // Kept inside the frame, whatever the anchor asked.
            let x = min(max(wanted, frame.x + 4 * unit), frame.maxX - 4 * unit - width)
            canvas.text(note.text, at: Point(x, p.y + labelStyle.size * 0.36), style: labelStyle)
        }

        canvas.strokeRect(frame, radius: 0, color: theme.stroke, width: unit)
        paintTicks(xAxis: xAxis, yAxis: yAxis, frame: frame, px: px, py: py, on: canvas)
        let xLabelBaseline = frame.maxY + tickLength + 4 * unit + tick.height + 6 * unit + label.ascent
        canvas.text(panel.x.label, at: Point(frame.x + (frame.width - xLabelWidth) / 2, xLabelBaseline), style: labelStyle)
        if let heatmap = panel.heatmap, let colourBar { paintColourBar(heatmap, colourBar, frame: frame, on: canvas) }

        if styled.legend.isEmpty { return }
        if beside {
            let x = (colourBar.map { frame.maxX + $0.width } ?? frame.maxX) + 12 * unit
            paintLegendColumn(styled.legend, at: Point(x, frame.y), on: canvas)
        } else {
            paintLegendRows(styled.legend, x: area.x, width: area.width, top: xLabelBaseline + label.height - label.ascent + 8 * unit, on: canvas)
        }
    }

    // MARK: Direct labels

    /// The band right of the frame that direct labels take: a gap, the swatch, the widest name.
    func directLabelWidth(_ lines: [StyledLine]) -> Double {
        14 * unit + swatchWidth + 6 * unit + (lines.map { measurer.width($0.series.name, legendStyle) }.max() ?? 0) + 4 * unit
    }

    /// Each line's name right of the frame, at the height of its last point
    /// inside the frame, pushed apart so that no two overlap (and kept within
    /// the frame's height), with its dash and marker as a swatch and a thin
    /// leader from the line's end.
    func paintDirectLabels(_ lines: [StyledLine], frame: Rect, after colourBar: Double, map: (Point) -> Point?, on canvas: Canvas) {
        let metrics = measurer.lineMetrics(legendStyle)
        let spacing = metrics.height + 2 * unit
        var ends: [(line: StyledLine, end: Point, y: Double)] = lines.compactMap { line in
            guard let end = clippedPolylines(line.series.points.map(map), frame: frame).last?.last else { return nil }
            return (line, end, end.y)
        }
        ends.sort { $0.y < $1.y }
        for k in ends.indices {
            let low = k == 0 ? frame.y + spacing / 2 : ends[k - 1].y + spacing
            ends[k].y = max(ends[k].y, low)
        }
        for k in ends.indices.reversed() {
            let high = k == ends.count - 1 ? frame.maxY - spacing / 2 : ends[k + 1].y - spacing
            ends[k].y = min(ends[k].y, high)
        }
        let x = frame.maxX + colourBar + 14 * unit
        for (line, end, y) in ends {
            canvas.line(from: end, to: Point(x - 2 * unit, y), color: line.color, width: 0.8 * unit)
            let entry = LegendEntry(name: line.series.name, color: line.color, dash: line.dash,
                                    marker: line.series.markerRadius > 0 ? line.marker : nil, bar: false)
            paintSwatch(entry, x: x, midY: y, on: canvas)
            canvas.text(line.series.name, at: Point(x + swatchWidth + 6 * unit, y + legendStyle.size * 0.36), style: legendStyle)
        }
    }

    /// Guide labels placed right of their line (left of it near the frame's right end), each in the
    /// first row above the frame where it touches no label already there.
    func guideLabelRows(_ guides: [GuideLine], xAxis: AxisLayout, left: Double, right: Double) -> [(guide: GuideLine, x: Double, row: Int)] {
        var placed: [(guide: GuideLine, x: Double, row: Int)] = []
        var taken: [[ClosedRange<Double>]] = []
        for guide in guides.sorted(by: { $0.x < $1.x }) {
            guard let fraction = xAxis.fraction(guide.x) else { continue }
            let x = left + fraction * (right - left)
            let width = measurer.width(guide.label, guideStyle)
            let start = x + 4 * unit + width <= right ? x + 4 * unit : max(left, x - 4 * unit - width)
            let span = (start - 6 * unit)...(start + width + 6 * unit)
            var row = 0
            while row < taken.count, taken[row].contains(where: { $0.overlaps(span) }) { row += 1 }
            if row == taken.count { taken.append([]) }
            taken[row].append(span)
            placed.append((guide, start, row))
        }
        return placed
    }

    func paintMarker(_ shape: MarkerShape, at p: Point, radius r: Double, color: RGB, on canvas: Canvas) {
        let outline = theme.background, width = 0.8 * unit
        func polygon(_ corners: [Point]) {
            canvas.fillPolygon(corners, color: outline)
            let inset = corners.map { Point(p.x + ($0.x - p.x) * 0.78, p.y + ($0.y - p.y) * 0.78) }
            canvas.fillPolygon(inset, color: color)
        }
        switch shape {
        case .circle: canvas.circle(center: p, radius: r, fill: color, stroke: outline, width: width)
        case .square: polygon([Point(p.x - r, p.y - r), Point(p.x + r, p.y - r), Point(p.x + r, p.y + r), Point(p.x - r, p.y + r)])
        case .triangle: polygon([Point(p.x, p.y - 1.3 * r), Point(p.x + 1.2 * r, p.y + 0.9 * r), Point(p.x - 1.2 * r, p.y + 0.9 * r)])
        case .downTriangle: polygon([Point(p.x, p.y + 1.3 * r), Point(p.x + 1.2 * r, p.y - 0.9 * r), Point(p.x - 1.2 * r, p.y - 0.9 * r)])
        case .diamond: polygon([Point(p.x, p.y - 1.35 * r), Point(p.x + 1.35 * r, p.y), Point(p.x, p.y + 1.35 * r), Point(p.x - 1.35 * r, p.y)])
        case .ring: canvas.circle(center: p, radius: r, fill: theme.background, stroke: color, width: 2 * unit)
        }
    }

    // MARK: Surfaces

    /// The colour scale of a heatmap: the range of its (possibly logarithmic) values, the ticks of the bar, and the room it takes.
    struct ColourBar {
        var axis: AxisLayout
        /// The room it takes right of the frame, beside it: the bar and its tick labels.
        var width: Double
        /// How far right of the frame it reaches, its title above the frame included: what
        /// the page must hold when nothing stands beside the frame (a legend there starts below the title).
        var reach: Double
    }

    func colourBarLayout(_ heatmap: HeatmapLayer) -> ColourBar {
        let values = heatmap.grid.values.joined().filter(\.isFinite)
        let axis: AxisLayout
        switch heatmap.scale {
        case .linear:
            let lo = values.min() ?? 0, hi = values.max() ?? 1
            let (ticks, step) = Ticks.linear(inside: lo...max(hi, lo + 1e-12), target: 5)
            axis = AxisLayout(scale: .linear, range: lo...max(hi, lo + 1e-12), major: ticks, minor: [], labels: ticks.map { Ticks.label($0, step: step) })
        case .log:
            let positive = values.filter { $0 > 0 }
            let lo = positive.min() ?? 1, hi = max(positive.max() ?? 10, lo * 10)
            let ticks = Ticks.log(lo, hi, maxLabels: 5).major.filter { $0 >= lo && $0 <= hi }
            axis = AxisLayout(scale: .log, range: lo...hi, major: ticks, minor: [], labels: ticks.map(Ticks.logLabel))
        }
        let labels = axis.labels.map { measurer.width($0, tickStyle) }.max() ?? 0
        let title = measurer.width(heatmap.label, tickStyle)
        // What it takes right of the frame (as `paintColourBar` draws it): the gap and the bar with its
        // tick labels, then a gap; the title centred over the bar, above the frame, may reach further.
        let labelsEnd = colourBarGap + colourBarWidth + tickLength + 4 * unit + labels
        let titleEnd = colourBarGap + colourBarWidth / 2 + title / 2
        return ColourBar(axis: axis, width: labelsEnd + 6 * unit, reach: max(labelsEnd, titleEnd) + 6 * unit)
    }

    /// Where value `v` falls on the colour bar, 0…1; the smallest positive value's place for a non-positive one on a log bar.
    func colourFraction(_ v: Double, _ bar: ColourBar) -> Double {
        let clamped = bar.axis.scale == .log && v <= 0 ? bar.axis.range.lowerBound : v
        return min(max(bar.axis.fraction(clamped) ?? 0, 0), 1)
    }

    /// Paints the surface as cells of about 3 points, each coloured at its
    /// centre by bilinear interpolation between the four grid values around it, so no grid cell shows as a block.
    func paintHeatmap(_ heatmap: HeatmapLayer, colours bar: ColourBar, frame: Rect, px: (Double) -> Double?, py: (Double) -> Double?, on canvas: Canvas) {
        let grid = heatmap.grid
        guard grid.xs.count > 1, grid.ys.count > 1, let x0 = px(grid.xs[0]), let x1 = px(grid.xs[grid.xs.count - 1]),
              let y0 = py(grid.ys[0]), let y1 = py(grid.ys[grid.ys.count - 1]) else { return }
        let area = Rect(x: min(x0, x1), y: min(y0, y1), width: abs(x1 - x0), height: abs(y1 - y0))
        let cell = 3 * unit
        let columns = max(2, Int((area.width / cell).rounded(.up))), rows = max(2, Int((area.height / cell).rounded(.up)))
        let (cw, ch) = (area.width / Double(columns), area.height / Double(rows))
        /// The grid's value at fractional index (i, j) between its points.
        func value(_ u: Double, _ v: Double) -> Double {
            let fi = u * Double(grid.xs.count - 1), fj = v * Double(grid.ys.count - 1)
            let i = min(Int(fi), grid.xs.count - 2), j = min(Int(fj), grid.ys.count - 2)
            let (a, b) = (fi - Double(i), fj - Double(j))
            let row0 = grid.values[j][i] * (1 - a) + grid.values[j][i + 1] * a
            let row1 = grid.values[j + 1][i] * (1 - a) + grid.values[j + 1][i + 1] * a
            return row0 * (1 - b) + row1 * b
        }
        let xsUp = x1 >= x0, ysUp = y1 <= y0
        for r in 0..<rows {
            // Neighbours of the same 8-bit colour are one rectangle: a flat stretch costs one SVG element.
            var start = 0
            var run: RGB?
            func finish(at end: Int) {
                guard let colour = run else { return }
                // A quarter point of overlap hides the seams antialiasing leaves between cells.
                canvas.fillRect(Rect(x: area.x + Double(start) * cw, y: area.y + Double(r) * ch, width: Double(end - start) * cw + 0.25, height: ch + 0.25),
                                radius: 0, color: colour)
            }
            for c in 0..<columns {
                let u = (Double(c) + 0.5) / Double(columns), v = (Double(r) + 0.5) / Double(rows)
                let f = value(xsUp ? u : 1 - u, ysUp ? 1 - v : v)
                let colour = (f.isFinite ? theme.sequential(colourFraction(f, bar)) : theme.notANumber).mixed(with: .white, heatmap.fade)
                if let current = run, current.hexString == colour.hexString { continue }
                finish(at: c)
                (start, run) = (c, colour)
            }
            finish(at: columns)
        }
    }

    /// The colour bar right of the frame: the map from low (bottom) to high, its ticks, and the heatmap's label above it.
    /// The space between the frame and the colour bar, and the bar's width.
    var colourBarGap: Double { 16 * unit }
    var colourBarWidth: Double { 14 * unit }

    func paintColourBar(_ heatmap: HeatmapLayer, _ bar: ColourBar, frame: Rect, on canvas: Canvas) {
        let x = frame.maxX + colourBarGap, width = colourBarWidth
        let steps = 64
        for k in 0..<steps {
            let t = Double(k) / Double(steps)
            let y = frame.maxY - frame.height * (t + 1 / Double(steps))
            canvas.fillRect(Rect(x: x, y: y, width: width, height: frame.height / Double(steps) + 0.25), radius: 0,
                            color: theme.sequential(t + 0.5 / Double(steps)).mixed(with: .white, heatmap.fade))
        }
        canvas.strokeRect(Rect(x: x, y: frame.y, width: width, height: frame.height), radius: 0, color: theme.stroke, width: 0.8 * unit)
        let tick = measurer.lineMetrics(tickStyle)
        var lastY = Double.infinity
        for (value, label) in zip(bar.axis.major, bar.axis.labels) {
            let y = frame.maxY - colourFraction(value, bar) * frame.height
            canvas.line(from: Point(x + width, y), to: Point(x + width + tickLength, y), color: theme.stroke, width: unit)
            guard lastY - y >= tick.height + 2 * unit, y - tick.ascent / 2 >= frame.y - 2 else { continue }
            canvas.text(label, at: Point(x + width + tickLength + 4 * unit, y + tick.ascent * 0.4), style: tickStyle)
            lastY = y
        }
        let titleWidth = measurer.width(heatmap.label, tickStyle)
        canvas.text(heatmap.label, at: Point(x + width / 2 - titleWidth / 2, frame.y - 6 * unit), style: tickStyle)
    }

    func paintTicks(xAxis: AxisLayout, yAxis: AxisLayout, frame: Rect, px: (Double) -> Double?, py: (Double) -> Double?, on canvas: Canvas) {
        let tick = measurer.lineMetrics(tickStyle)
        let l = tickLength
        for v in xAxis.minor { if let x = px(v), x >= frame.x - 0.5, x <= frame.maxX + 0.5 { canvas.line(from: Point(x, frame.maxY), to: Point(x, frame.maxY + l * 0.6), color: theme.stroke, width: 0.8 * unit) } }
        for v in yAxis.minor { if let y = py(v), y >= frame.y - 0.5, y <= frame.maxY + 0.5 { canvas.line(from: Point(frame.x, y), to: Point(frame.x - l * 0.6, y), color: theme.stroke, width: 0.8 * unit) } }

        // X labels: keep every k-th so neighbours are at least 8 pt apart.
        let xs = xAxis.major.map(px)
        let widths = xAxis.labels.map { measurer.width($0, tickStyle) }
        var every = 1
        while every < xs.count {
            var fits = true
            var k = every
            while k < xs.count {
                if let a = xs[k - every], let b = xs[k], abs(b - a) < (widths[k] + widths[k - every]) / 2 + 8 * unit { fits = false }
                k += every
            }
            if fits { break }
            every += 1
        }
        for (k, x) in xs.enumerated() {
            guard let x else { continue }
            canvas.line(from: Point(x, frame.maxY), to: Point(x, frame.maxY + l), color: theme.stroke, width: unit)
            if k % every == 0 {
                canvas.text(xAxis.labels[k], at: Point(x - widths[k] / 2, frame.maxY + l + 4 * unit + tick.ascent), style: tickStyle)
            }
        }
        let ys = yAxis.major.map(py)
        var yEvery = 1
        if ys.count > 1, let a = ys[0], let b = ys[1] {
            while yEvery < ys.count, abs(a - b) * Double(yEvery) < tick.height + 4 * unit { yEvery += 1 }
        }
        for (k, y) in ys.enumerated() {
            guard let y else { continue }
            canvas.line(from: Point(frame.x, y), to: Point(frame.x - l, y), color: theme.stroke, width: unit)
            if k % yEvery == 0 {
                let width = measurer.width(yAxis.labels[k], tickStyle)
                canvas.text(yAxis.labels[k], at: Point(frame.x - l - 4 * unit - width, y + tickStyle.size * 0.36), style: tickStyle)
            }
        }
    }

    /// One entry's swatch: its dash (or a bar's filled square), with its marker over the middle.
    func paintSwatch(_ entry: LegendEntry, x: Double, midY: Double, on canvas: Canvas) {
        let width = 2.5 * unit
        if let dash = entry.dash {
            for piece in Self.dashed([Point(x, midY), Point(x + swatchWidth, midY)], pattern: dash.pattern.map { $0 * width }) {
                canvas.curve(Self.bezier(through: piece), color: entry.color, width: width)
            }
        } else if entry.bar {
            canvas.fillRect(Rect(x: x + 6 * unit, y: midY - 7 * unit, width: swatchWidth - 12 * unit, height: 14 * unit), radius: 0, color: entry.color)
        }
        if let marker = entry.marker { paintMarker(marker, at: Point(x + swatchWidth / 2, midY), radius: 4.5 * unit, color: entry.color, on: canvas) }
    }

    func paintLegendColumn(_ entries: [LegendEntry], at origin: Point, on canvas: Canvas) {
        let metrics = measurer.lineMetrics(legendStyle)
        let size = legendColumnSize(entries), pad = 7 * unit
        let rect = Rect(x: origin.x, y: origin.y, width: size.width, height: size.height)
        canvas.strokeRect(rect, radius: 4 * unit, color: theme.legendStroke, width: 0.8 * unit)
        for (k, entry) in entries.enumerated() {
            let baseline = rect.y + pad + Double(k) * (metrics.height + 3 * unit) + metrics.ascent
            let midY = baseline - legendStyle.size * 0.36
            paintSwatch(entry, x: rect.x + pad, midY: midY, on: canvas)
            canvas.text(entry.name, at: Point(rect.x + pad + swatchWidth + 6 * unit, baseline), style: legendStyle)
        }
    }

    func paintLegendRows(_ entries: [LegendEntry], x: Double, width: Double, top: Double, on canvas: Canvas) {
        let metrics = measurer.lineMetrics(legendStyle)
        for (r, row) in legendRows(entries, width: width).enumerated() {
            let baseline = top + Double(r) * (metrics.height + 4 * unit) + metrics.ascent
            let midY = baseline - legendStyle.size * 0.36
            for (entry, dx) in row {
                paintSwatch(entry, x: x + dx, midY: midY, on: canvas)
                canvas.text(entry.name, at: Point(x + dx + swatchWidth + 6 * unit, baseline), style: legendStyle)
            }
        }
    }

    // MARK: Geometry

    /// The pieces of a polyline inside `frame`: broken at points that cannot
    /// be drawn (nil) and clipped where it leaves the frame.
    func clippedPolylines(_ points: [Point?], frame: Rect) -> [[Point]] {
        var pieces: [[Point]] = []
        var current: [Point] = []
        func finish() {
            if current.count > 1 { pieces.append(current) }
            current = []
        }
        for k in 1..<max(points.count, 1) {
            guard let a = points[k - 1], let b = points[k], let (p, q) = clip(a, b, to: frame) else {
                finish()
                continue
            }
            if let last = current.last, abs(last.x - p.x) < 1e-9, abs(last.y - p.y) < 1e-9 {
                current.append(q)
            } else {
                finish()
                current = [p, q]
            }
        }
        finish()
        return pieces
    }

    /// Liang–Barsky: the part of segment a→b inside `frame`, nil if none.
    func clip(_ a: Point, _ b: Point, to frame: Rect) -> (Point, Point)? {
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        for (p, q) in [(-dx, a.x - frame.x), (dx, frame.maxX - a.x), (-dy, a.y - frame.y), (dy, frame.maxY - a.y)] {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let r = q / p
                if p < 0 { t0 = max(t0, r) } else { t1 = min(t1, r) }
                if t0 > t1 { return nil }
            }
        }
        return (Point(a.x + t0 * dx, a.y + t0 * dy), Point(a.x + t1 * dx, a.y + t1 * dy))
    }

    /// The dashes of a polyline: pieces of it `pattern[0]` long, gaps of
    /// `pattern[1]`, and so on around the pattern, measured along the line
    /// (so a dash turns corners). An empty pattern is the whole line.
    static func dashed(_ points: [Point], pattern: [Double]) -> [[Point]] {
        guard !pattern.isEmpty, pattern.allSatisfy({ $0 > 0 }), points.count > 1 else { return points.count > 1 ? [points] : [] }
        var pieces: [[Point]] = []
        var current: [Point] = [points[0]]
        var index = 0, left = pattern[0]
        var on = true
        for k in 1..<points.count {
            var a = points[k - 1]
            let b = points[k]
            var length = hypot(b.x - a.x, b.y - a.y)
            while length > left {
                let t = left / length
                let p = Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
                if on {
                    current.append(p)
                    pieces.append(current)
                } else {
                    current = [p]
                }
                on.toggle()
                length -= left
                a = p
                index = (index + 1) % pattern.count
                left = pattern[index]
            }
            left -= length
            if on { current.append(b) }
        }
        if on, current.count > 1 { pieces.append(current) }
        return pieces
    }

    /// A polyline as the Canvas's cubic Bézier path: each segment a→b with
    /// control points at its thirds, which draws the straight segment itself.
    static func bezier(through points: [Point]) -> [Point] {
        guard let first = points.first else { return [] }
        var out = [first]
        for k in 1..<points.count {
            let a = points[k - 1], b = points[k]
            out += [Point(a.x + (b.x - a.x) / 3, a.y + (b.y - a.y) / 3), Point(a.x + 2 * (b.x - a.x) / 3, a.y + 2 * (b.y - a.y) / 3), b]
        }
        return out
    }
}

extension Rect {
    func containsPoint(_ p: Point) -> Bool { p.x >= x && p.x <= maxX && p.y >= y && p.y <= maxY }
}
