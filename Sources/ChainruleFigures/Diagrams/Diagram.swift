import Foundation

/// One thing a diagram draws, in the diagram's own coordinates (points, y down).
enum Mark: Sendable {
    case rect(Rect, fill: RGB?, stroke: RGB?, width: Double, radius: Double)
    case circle(Point, radius: Double, fill: RGB?, stroke: RGB?, width: Double)
    /// A polyline, dashed as `dash` says.
    case line([Point], color: RGB, width: Double, dash: LineDash)
    case polygon([Point], fill: RGB)
    /// Text with its baseline's left end at the point.
    case text(String, Point, TextStyle)
}

/// A lecture diagram (a neuron, a network, a conv's arithmetic, …): marks laid
/// out for a 16:9 slide, scaled uniformly and centred to fit whatever page
/// `fit` asks for. Built by the functions of `Diagrams`; drawn by the same
/// canvases as every chart, so PNG, SVG and PDF agree.
public struct Diagram: Sendable {
    public var title: String?
    public var fit: ChartPage
    public var palette: Palette
    /// The extent of `marks` (the title not included).
    var content: Size
    var marks: [Mark]

    init(title: String?, content: Size, marks: [Mark], fit: ChartPage = .slide, palette: Palette) {
        self.title = title
        self.content = content
        self.marks = marks
        self.fit = fit
        self.palette = palette
    }

    public var theme: Theme { Theme(palette: palette) }
    public var size: Size { fit.size }

    /// Every text the diagram shows, in drawing order: what a student reads off it.
    public var texts: [String] {
        marks.compactMap { if case .text(let string, _, _) = $0 { string } else { nil } }
    }

    /// Every text with the box it fills on the page (points, origin top-left) and its size there:
    /// for checking that no two overlap, none leaves the page, and none is too small for a slide.
    public var textFrames: [(text: String, frame: Rect, size: Double)] { drawing.textFrames }

    var drawing: Drawing { Drawing(size: size, theme: theme) { paint(on: $0) } }

    /// The diagram as an SVG document, text kept as `<text>`.
    public func svg() -> String { drawing.svg() }

    /// Writes PNG (`scale` pixels per point), SVG or PDF, as `path`'s extension says; all or nothing (`Drawing.write`).
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        try drawing.write(to: path, what: "a diagram", scale: scale)
    }

    /// The title at the top left in the one title style, then the marks scaled to the room below it and centred there.
    func paint(on canvas: Canvas) {
        let theme = self.theme
        let page = size
        let unit = fit.textScale
        let margin = 14 * unit
        var top = margin
        if let title {
            let style = FigureTitle.style(theme: theme, bodySize: fit.textSize(15))
            top = FigureTitle.paint(title, style: style, measurer: TextMeasurer(theme: theme), pageWidth: page.width, margin: margin, top: top, on: canvas) + 8 * unit
        }
        let room = Size(page.width - 2 * margin, page.height - top - margin)
        let scale = min(room.width / max(content.width, 1), room.height / max(content.height, 1))
        let origin = Point(margin + (room.width - content.width * scale) / 2, top + (room.height - content.height * scale) / 2)
        func at(_ p: Point) -> Point { Point(origin.x + p.x * scale, origin.y + p.y * scale) }
        for mark in marks {
            switch mark {
            case .rect(let r, let fill, let stroke, let width, let radius):
                let placed = Rect(x: at(Point(r.x, r.y)).x, y: at(Point(r.x, r.y)).y, width: r.width * scale, height: r.height * scale)
                if let fill { canvas.fillRect(placed, radius: radius * scale, color: fill) }
                if let stroke { canvas.strokeRect(placed, radius: radius * scale, color: stroke, width: width * scale) }
            case .circle(let c, let radius, let fill, let stroke, let width):
                canvas.circle(center: at(c), radius: radius * scale, fill: fill, stroke: stroke, width: width * scale)
            case .line(let points, let color, let width, let dash):
                let placed = points.map(at)
                for piece in PlotPainter.dashed(placed, pattern: dash.pattern.map { $0 * width * scale }) {
                    canvas.curve(PlotPainter.bezier(through: piece), color: color, width: width * scale)
                }
            case .polygon(let points, let fill):
                canvas.fillPolygon(points.map(at), color: fill)
            case .text(let string, let p, var style):
                // Rounded up to the hundredth an SVG writes, so the measured size never reads below the designed one.
                style.size = (style.size * scale * 100).rounded(.up) / 100
                canvas.text(string, at: at(p), style: style)
            }
        }
    }
}

/// What the diagram builders draw with: the theme, text styles sized for a
/// 16:9 slide (the smallest reads 14 pt there), a measurer, and the marks so far.
final class DiagramPen {
    let theme: Theme
    let measurer: TextMeasurer
    private(set) var marks: [Mark] = []
    /// Points per content-area point on the 960 × 540 slide: sizes below are multiplied by it.
    let unit = ChartPage.slide.textScale

    init(palette: Palette) {
        theme = Theme(palette: palette)
        measurer = TextMeasurer(theme: theme)
    }

    /// Text `fitted` points tall on the slide (14 is the smallest any diagram uses).
    func style(_ fitted: Double = 14, color: RGB? = nil, bold: Bool = false) -> TextStyle {
        TextStyle(color: color ?? theme.text, size: ChartPage.slide.textSize(fitted), bold: bold)
    }

    func width(_ text: String, _ style: TextStyle) -> Double { measurer.width(text, style) }

    enum Anchor { case left, centre, right }

    /// Text whose vertical middle (of its capitals) is at `y`, placed by `anchor` at `x`; returns its box.
    @discardableResult
    func text(_ string: String, x: Double, y: Double, _ style: TextStyle, anchor: Anchor = .centre) -> Rect {
        let width = measurer.width(string, style)
        let metrics = measurer.lineMetrics(style)
        let left = anchor == .left ? x : anchor == .centre ? x - width / 2 : x - width
        let baseline = y + style.size * 0.36
        marks.append(.text(string, Point(left, baseline), style))
        return Rect(x: left, y: baseline - metrics.ascent, width: width, height: metrics.height)
    }

    func rect(_ r: Rect, fill: RGB? = nil, stroke: RGB? = nil, width: Double = 1.2, radius: Double = 0) {
        marks.append(.rect(r, fill: fill, stroke: stroke, width: width * unit, radius: radius * unit))
    }

    func circle(_ c: Point, radius: Double, fill: RGB? = nil, stroke: RGB? = nil, width: Double = 1.5) {
        marks.append(.circle(c, radius: radius, fill: fill, stroke: stroke, width: width * unit))
    }

    func line(_ points: [Point], color: RGB? = nil, width: Double = 1.5, dash: LineDash = .solid) {
        marks.append(.line(points, color: color ?? theme.stroke, width: width * unit, dash: dash))
    }

    func polygon(_ points: [Point], fill: RGB) { marks.append(.polygon(points, fill: fill)) }

    /// A straight arrow from `a` to `b`, its head (about 9 pt long) ending at `b`.
    func arrow(_ a: Point, _ b: Point, color: RGB? = nil, width: Double = 1.6) {
        let c = color ?? theme.stroke
        let length = hypot(b.x - a.x, b.y - a.y)
        guard length > 0 else { return }
        let (ux, uy) = ((b.x - a.x) / length, (b.y - a.y) / length)
        let head = min(9 * unit, length / 2), half = head * 0.45
        let base = Point(b.x - ux * head, b.y - uy * head)
        line([a, base], color: c, width: width)
        polygon([b, Point(base.x - uy * half, base.y + ux * half), Point(base.x + uy * half, base.y - ux * half)], fill: c)
    }

    /// The diagram of everything drawn, its extent measured from the marks (a margin of `pad` around).
    func diagram(title: String?, palette: Palette, pad: Double = 4) -> Diagram {
        var lo = Point(Double.infinity, Double.infinity), hi = Point(-Double.infinity, -Double.infinity)
        func include(_ r: Rect) {
            lo = Point(min(lo.x, r.x), min(lo.y, r.y))
            hi = Point(max(hi.x, r.maxX), max(hi.y, r.maxY))
        }
        for mark in marks {
            switch mark {
            case .rect(let r, _, _, let w, _): include(Rect(x: r.x - w / 2, y: r.y - w / 2, width: r.width + w, height: r.height + w))
            case .circle(let c, let r, _, _, let w): include(Rect(center: c, size: Size(2 * r + w, 2 * r + w)))
            case .line(let points, _, let w, _): for p in points { include(Rect(center: p, size: Size(w, w))) }
            case .polygon(let points, _): for p in points { include(Rect(center: p, size: Size(0, 0))) }
            case .text(let string, let p, let style):
                let metrics = measurer.lineMetrics(style)
                include(Rect(x: p.x, y: p.y - metrics.ascent, width: measurer.width(string, style), height: metrics.height))
            }
        }
        guard lo.x.isFinite else { return Diagram(title: title, content: Size(1, 1), marks: [], palette: palette) }
        let shift = Point(pad - lo.x, pad - lo.y)
        func moved(_ p: Point) -> Point { Point(p.x + shift.x, p.y + shift.y) }
        let placed: [Mark] = marks.map { mark in
            switch mark {
            case .rect(let r, let f, let s, let w, let radius): .rect(Rect(x: r.x + shift.x, y: r.y + shift.y, width: r.width, height: r.height), fill: f, stroke: s, width: w, radius: radius)
            case .circle(let c, let r, let f, let s, let w): .circle(moved(c), radius: r, fill: f, stroke: s, width: w)
            case .line(let points, let c, let w, let d): .line(points.map(moved), color: c, width: w, dash: d)
            case .polygon(let points, let f): .polygon(points.map(moved), fill: f)
            case .text(let string, let p, let style): .text(string, moved(p), style)
            }
        }
        return Diagram(title: title, content: Size(hi.x - lo.x + 2 * pad, hi.y - lo.y + 2 * pad), marks: placed, palette: palette)
    }
}
