import Foundation

/// Lays a `PlotFigure` out and draws it on a canvas: panels side by side,
/// each with its title and y label above the frame, tick labels and the x
/// label below, and the legend in whichever inside corner the data leaves emptiest.
struct PlotPainter {
    let figure: PlotFigure
    let theme: Theme
    let measurer: TextMeasurer

    // Text sizes, all at least the theme's 11 pt minimum.
    let tickStyle: TextStyle
    let labelStyle: TextStyle
    let panelTitleStyle: TextStyle
    let titleStyle: TextStyle
    let legendStyle: TextStyle
    let guideStyle: TextStyle

    static let margin = 16.0
    static let panelGap = 28.0
    static let tickLength = 5.0

    init(figure: PlotFigure) {
        self.figure = figure
        theme = figure.theme
        measurer = TextMeasurer(theme: theme)
        tickStyle = TextStyle(color: theme.text, size: max(theme.fontSize, 12))
        labelStyle = TextStyle(color: theme.text, size: 13)
        panelTitleStyle = TextStyle(color: theme.text, size: 14, bold: true)
        titleStyle = TextStyle(color: theme.text, size: max(theme.titleFontSize, 18), bold: true)
        legendStyle = TextStyle(color: theme.text, size: 12)
        guideStyle = TextStyle(color: theme.muted, size: 12)
    }

    func paint(on canvas: Canvas) {
        let m = Self.margin
        var top = m
        if let title = figure.title {
            let metrics = measurer.lineMetrics(titleStyle)
            let width = measurer.width(title, titleStyle)
            canvas.text(title, at: Point((figure.size.width - width) / 2, top + metrics.ascent), style: titleStyle)
            top += metrics.height + 10
        }
        let count = Double(max(figure.panels.count, 1))
        let panelWidth = (figure.size.width - 2 * m - Self.panelGap * (count - 1)) / count
        for (index, panel) in figure.panels.enumerated() {
            let area = Rect(x: m + Double(index) * (panelWidth + Self.panelGap), y: top, width: panelWidth, height: figure.size.height - top - m)
            paint(panel, in: area, on: canvas)
        }
    }

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

    func layoutAxis(_ axis: Axis, values: [Double], exact: ClosedRange<Double>?, target: Int) -> AxisLayout {
        switch axis.scale {
        case .linear:
            if let range = axis.range ?? exact {
                let (ticks, step) = Ticks.linear(inside: range, target: target)
                return AxisLayout(scale: .linear, range: range, major: ticks, minor: [], labels: ticks.map { Ticks.label($0, step: step) })
            }
            let finite = values.filter(\.isFinite)
            let (range, ticks, step) = Ticks.linear(finite.min() ?? 0, finite.max() ?? 1, target: target)
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

    func paint(_ panel: Plot, in area: Rect, on canvas: Canvas) {
        let xAxis = layoutAxis(panel.x, values: dataValues(panel, x: true), exact: gridExtent(panel, x: true), target: 6)
        let yAxis = layoutAxis(panel.y, values: dataValues(panel, x: false), exact: gridExtent(panel, x: false), target: 6)
        let tick = measurer.lineMetrics(tickStyle), label = measurer.lineMetrics(labelStyle), panelTitle = measurer.lineMetrics(panelTitleStyle)

        // Left: the widest y tick label. Bottom: tick labels and the x label. Top: title and y label.
        let yTickWidth = yAxis.labels.map { measurer.width($0, tickStyle) }.max() ?? 0
        let left = area.x + yTickWidth + Self.tickLength + 6
        let xLabelWidth = measurer.width(panel.x.label, labelStyle)
        let lastXLabelHalf = (xAxis.labels.last.map { measurer.width($0, tickStyle) } ?? 0) / 2
        let right = area.maxX - max(6, lastXLabelHalf)
        let bottom = area.maxY - tick.height - label.height - Self.tickLength - 10
        var top = area.y
        let yLabelWidth = measurer.width(panel.y.label, labelStyle)
        let yLabelX = area.x
        if let title = panel.title {
            let titleWidth = measurer.width(title, panelTitleStyle)
            let titleX = (left + right - titleWidth) / 2
            let shareRow = yLabelX + yLabelWidth + 16 < titleX
            canvas.text(title, at: Point(titleX, top + panelTitle.ascent), style: panelTitleStyle)
            if !shareRow { top += panelTitle.height + 4 }
        }
        canvas.text(panel.y.label, at: Point(yLabelX, top + max(label.ascent, panel.title == nil ? 0 : panelTitle.ascent)), style: labelStyle)
        top += max(label.height, panel.title == nil ? 0 : panelTitle.height) + 8
        let frame = Rect(x: left, y: top, width: max(right - left, 10), height: max(bottom - top, 10))

        func px(_ v: Double) -> Double? { xAxis.fraction(v).map { frame.x + $0 * frame.width } }
        func py(_ v: Double) -> Double? { yAxis.fraction(v).map { frame.maxY - $0 * frame.height } }
        func map(_ p: Point) -> Point? {
            guard let x = px(p.x), let y = py(p.y) else { return nil }
            return Point(x, y)
        }

        // Grid lines under everything.
        if panel.heatmap == nil {
            for v in xAxis.major { if let x = px(v) { canvas.line(from: Point(x, frame.y), to: Point(x, frame.maxY), color: theme.plotGrid, width: 0.8) } }
            for v in yAxis.major { if let y = py(v) { canvas.line(from: Point(frame.x, y), to: Point(frame.maxX, y), color: theme.plotGrid, width: 0.8) } }
        }
        if let heatmap = panel.heatmap { paintHeatmap(heatmap, frame: frame, px: px, py: py, on: canvas) }
        if panel.zeroLines {
            if xAxis.scale == .linear, xAxis.range.lowerBound < 0, xAxis.range.upperBound > 0, let x = px(0) {
                canvas.line(from: Point(x, frame.y), to: Point(x, frame.maxY), color: theme.plotZeroLine, width: 1)
            }
            if yAxis.scale == .linear, yAxis.range.lowerBound < 0, yAxis.range.upperBound > 0, let y = py(0) {
                canvas.line(from: Point(frame.x, y), to: Point(frame.maxX, y), color: theme.plotZeroLine, width: 1)
            }
        }
        if let contours = panel.contours {
            let color = contours.color ?? theme.contour
            for level in contours.levels {
                for line in Contours.lines(contours.grid, level: level) {
                    for piece in clippedPolylines(line.map(map), frame: frame) {
                        canvas.curve(Self.bezier(through: piece), color: color, width: contours.width)
                    }
                }
            }
        }

        var nextColor = 0
        func color(_ explicit: RGB?) -> RGB {
            if let explicit { return explicit }
            defer { nextColor += 1 }
            return theme.series[nextColor % theme.series.count]
        }
        var legend: [(name: String, color: RGB, line: Bool, marker: Bool)] = []
        // Points the legend should not cover, in page coordinates.
        var occupied: [Point] = []

        for bars in panel.bars {
            let c = color(bars.color)
            legend.append((bars.name, c, false, false))
            let base = yAxis.scale == .log ? frame.maxY : (py(0) ?? frame.maxY)
            for point in bars.points {
                guard let x0 = px(point.x - bars.width / 2), let x1 = px(point.x + bars.width / 2), let y = py(point.y) else { continue }
                let rect = Rect(x: max(min(x0, x1), frame.x), y: max(min(y, base), frame.y),
                                width: min(abs(x1 - x0), frame.maxX - min(x0, x1)), height: min(abs(base - y), frame.height))
                guard rect.width > 0, rect.height > 0 else { continue }
                canvas.fillRect(rect, radius: 0, color: c)
                occupied += [Point(rect.x, rect.y), Point(rect.maxX, rect.y), Point(rect.x + rect.width / 2, rect.y)]
            }
        }

        for guide in panel.guides {
            guard let x = px(guide.x) else { continue }
            canvas.line(from: Point(x, frame.y), to: Point(x, frame.maxY), color: theme.muted, width: 1.2)
            let width = measurer.width(guide.label, guideStyle)
            let metrics = measurer.lineMetrics(guideStyle)
            let labelX = x + 5 + width < frame.maxX - 4 ? x + 5 : x - 5 - width
            let baseline = frame.maxY - 6
            canvas.fillRect(Rect(x: labelX - 2, y: baseline - metrics.ascent - 1, width: width + 4, height: metrics.height + 2), radius: 2, color: theme.background)
            canvas.text(guide.label, at: Point(labelX, baseline), style: guideStyle)
            for k in 0...10 { occupied.append(Point(x, frame.y + frame.height * Double(k) / 10)) }
            occupied += [Point(labelX, baseline), Point(labelX + width, baseline), Point(labelX + width / 2, baseline - metrics.ascent)]
        }

        for series in panel.lines {
            let c = color(series.color)
            if series.inLegend { legend.append((series.name, c, series.drawsLine, series.markerRadius > 0)) }
            let mapped = series.points.map(map)
            if series.drawsLine {
                for piece in clippedPolylines(mapped, frame: frame) {
                    canvas.curve(Self.bezier(through: piece), color: c, width: series.width)
                    occupied += densified(piece)
                }
            }
            if series.markerRadius > 0 {
                for p in mapped.compactMap({ $0 }) where frame.containsPoint(p) {
                    canvas.circle(center: p, radius: series.markerRadius, fill: c, stroke: theme.background, width: 1)
                    occupied.append(p)
                }
            }
        }

        canvas.strokeRect(frame, radius: 0, color: theme.stroke, width: 1)
        paintTicks(xAxis: xAxis, yAxis: yAxis, frame: frame, px: px, py: py, on: canvas)
        let xLabelBaseline = frame.maxY + Self.tickLength + 4 + tick.height + 6 + label.ascent
        canvas.text(panel.x.label, at: Point(frame.x + (frame.width - xLabelWidth) / 2, xLabelBaseline), style: labelStyle)

        if !legend.isEmpty { paintLegend(legend, frame: frame, occupied: occupied, on: canvas) }
    }

    func paintHeatmap(_ heatmap: HeatmapLayer, frame: Rect, px: (Double) -> Double?, py: (Double) -> Double?, on canvas: Canvas) {
        let grid = heatmap.grid
        let transformed = grid.values.map { $0.map(heatmap.transform) }
        let finite = transformed.joined().filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), grid.xs.count > 1, grid.ys.count > 1 else { return }
        // Cell i spans halfway to its neighbours.
        func edges(_ c: [Double]) -> [Double] {
            var out = [c[0] - (c[1] - c[0]) / 2]
            for k in 0..<(c.count - 1) { out.append((c[k] + c[k + 1]) / 2) }
            out.append(c[c.count - 1] + (c[c.count - 1] - c[c.count - 2]) / 2)
            return out
        }
        let xe = edges(grid.xs).map { px($0).map { min(max($0, frame.x), frame.maxX) } }
        let ye = edges(grid.ys).map { py($0).map { min(max($0, frame.y), frame.maxY) } }
        for j in grid.ys.indices {
            for i in grid.xs.indices {
                guard let x0 = xe[i], let x1 = xe[i + 1], let y0 = ye[j], let y1 = ye[j + 1] else { continue }
                let v = transformed[j][i]
                let t = hi > lo ? (v - lo) / (hi - lo) : 0
                let c = (v.isFinite ? theme.sequential(t) : theme.muted).mixed(with: .white, heatmap.fade)
                // A quarter point of overlap hides the seams antialiasing leaves between cells.
                let rect = Rect(x: min(x0, x1), y: min(y0, y1), width: abs(x1 - x0) + 0.25, height: abs(y1 - y0) + 0.25)
                canvas.fillRect(rect, radius: 0, color: c)
            }
        }
    }

    func paintTicks(xAxis: AxisLayout, yAxis: AxisLayout, frame: Rect, px: (Double) -> Double?, py: (Double) -> Double?, on canvas: Canvas) {
        let tick = measurer.lineMetrics(tickStyle)
        let l = Self.tickLength
        for v in xAxis.minor { if let x = px(v), x >= frame.x - 0.5, x <= frame.maxX + 0.5 { canvas.line(from: Point(x, frame.maxY), to: Point(x, frame.maxY + l * 0.6), color: theme.stroke, width: 0.8) } }
        for v in yAxis.minor { if let y = py(v), y >= frame.y - 0.5, y <= frame.maxY + 0.5 { canvas.line(from: Point(frame.x, y), to: Point(frame.x - l * 0.6, y), color: theme.stroke, width: 0.8) } }

        // X labels: keep every k-th so neighbours are at least 8 pt apart.
        let xs = xAxis.major.map(px)
        let widths = xAxis.labels.map { measurer.width($0, tickStyle) }
        var every = 1
        while every < xs.count {
            var fits = true
            var k = every
            while k < xs.count {
                if let a = xs[k - every], let b = xs[k], abs(b - a) < (widths[k] + widths[k - every]) / 2 + 8 { fits = false }
                k += every
            }
            if fits { break }
            every += 1
        }
        for (k, x) in xs.enumerated() {
            guard let x else { continue }
            canvas.line(from: Point(x, frame.maxY), to: Point(x, frame.maxY + l), color: theme.stroke, width: 1)
            if k % every == 0 {
                canvas.text(xAxis.labels[k], at: Point(x - widths[k] / 2, frame.maxY + l + 4 + tick.ascent), style: tickStyle)
            }
        }
        let ys = yAxis.major.map(py)
        var yEvery = 1
        if ys.count > 1, let a = ys[0], let b = ys[1] {
            while abs(a - b) * Double(yEvery) < tick.height + 4 { yEvery += 1 }
        }
        for (k, y) in ys.enumerated() {
            guard let y else { continue }
            canvas.line(from: Point(frame.x, y), to: Point(frame.x - l, y), color: theme.stroke, width: 1)
            if k % yEvery == 0 {
                let width = measurer.width(yAxis.labels[k], tickStyle)
                canvas.text(yAxis.labels[k], at: Point(frame.x - l - 4 - width, y + tickStyle.size * 0.36), style: tickStyle)
            }
        }
    }

    func paintLegend(_ entries: [(name: String, color: RGB, line: Bool, marker: Bool)], frame: Rect, occupied: [Point], on canvas: Canvas) {
        let metrics = measurer.lineMetrics(legendStyle)
        let swatch = 24.0, pad = 8.0, rowHeight = metrics.height + 4
        let width = swatch + 6 + (entries.map { measurer.width($0.name, legendStyle) }.max() ?? 0) + 2 * pad
        let height = Double(entries.count) * rowHeight + 2 * pad - 4
        let inset = 8.0
        let corners = [
            Point(frame.maxX - inset - width, frame.y + inset), Point(frame.x + inset, frame.y + inset),
            Point(frame.maxX - inset - width, frame.maxY - inset - height), Point(frame.x + inset, frame.maxY - inset - height),
        ]
        // The corner covering the fewest drawn points (ties: top right first).
        let boxes = corners.map { Rect(x: $0.x - 4, y: $0.y - 4, width: width + 8, height: height + 8) }
        let covered = boxes.map { box in occupied.reduce(0) { $0 + (box.containsPoint($1) ? 1 : 0) } }
        let box = boxes.indices.min { covered[$0] < covered[$1] }.map { boxes[$0] } ?? Rect(x: frame.x, y: frame.y, width: width, height: height)
        let rect = Rect(x: box.x + 4, y: box.y + 4, width: width, height: height)
        canvas.fillRect(rect, radius: 4, color: theme.background)
        canvas.strokeRect(rect, radius: 4, color: theme.legendStroke, width: 0.8)
        for (k, entry) in entries.enumerated() {
            let baseline = rect.y + pad + Double(k) * rowHeight + metrics.ascent
            let midY = baseline - legendStyle.size * 0.36
            let x0 = rect.x + pad
            if entry.line {
                canvas.line(from: Point(x0, midY), to: Point(x0 + swatch, midY), color: entry.color, width: 2.5)
            } else if !entry.marker {
                canvas.fillRect(Rect(x: x0 + 4, y: midY - 6, width: swatch - 8, height: 12), radius: 0, color: entry.color)
            }
            if entry.marker { canvas.circle(center: Point(x0 + swatch / 2, midY), radius: 4, fill: entry.color, stroke: theme.background, width: 1) }
            canvas.text(entry.name, at: Point(x0 + swatch + 6, baseline), style: legendStyle)
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

    /// Points every few points along a polyline, for the legend to avoid.
    func densified(_ points: [Point]) -> [Point] {
        var out: [Point] = []
        for k in 1..<points.count {
            let a = points[k - 1], b = points[k]
            let steps = max(1, Int((abs(b.x - a.x) + abs(b.y - a.y)) / 6))
            for s in 0..<steps { out.append(Point(a.x + (b.x - a.x) * Double(s) / Double(steps), a.y + (b.y - a.y) * Double(s) / Double(steps))) }
        }
        if let last = points.last { out.append(last) }
        return out
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
