import Foundation

/// How an axis maps data to position.
public enum AxisScale: Sendable {
    case linear
    /// Base-10 logarithmic; values ≤ 0 are not drawn.
    case log
}

/// One axis of a plot: its label, its scale, and its range (nil: fitted to the data, widened to nice ticks).
public struct Axis: Sendable {
    public var label: String
    public var scale: AxisScale
    public var range: ClosedRange<Double>?

    public init(_ label: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.label = label
        self.scale = scale
        self.range = range
    }
}

/// A named series drawn as a line, as markers, or both.
public struct LineSeries: Sendable {
    public var name: String
    public var points: [Point]
    /// nil: the next colour of the theme's series colours.
    public var color: RGB?
    public var width: Double
    public var drawsLine: Bool
    /// Radius of a marker at every point; 0 draws none.
    public var markerRadius: Double
    /// Whether the legend lists it.
    public var inLegend: Bool

    public init(_ name: String, points: [Point], color: RGB? = nil, width: Double = 2.2, drawsLine: Bool = true,
                markerRadius: Double = 0, inLegend: Bool = true) {
        self.name = name
        self.points = points
        self.color = color
        self.width = width
        self.drawsLine = drawsLine
        self.markerRadius = markerRadius
        self.inLegend = inLegend
    }
}

/// Bars standing on zero (or on the bottom of a log axis), centred at each point's x, as high as its y.
public struct BarSeries: Sendable {
    public var name: String
    public var points: [Point]
    /// Bar width in data units of x.
    public var width: Double
    public var color: RGB?

    public init(_ name: String, points: [Point], width: Double, color: RGB? = nil) {
        self.name = name
        self.points = points
        self.width = width
        self.color = color
    }
}

/// A grid of values painted as coloured cells on the theme's sequential map,
/// lowest value darkest, faded towards white by `fade` (0…1) so lines drawn on top stay readable.
public struct HeatmapLayer: Sendable {
    public var grid: Grid
    /// Maps a value before colouring (e.g. a logarithm for a loss that spans decades).
    public var transform: @Sendable (Double) -> Double
    public var fade: Double

    public init(_ grid: Grid, fade: Double = 0.55, transform: @escaping @Sendable (Double) -> Double = { $0 }) {
        self.grid = grid
        self.fade = fade
        self.transform = transform
    }
}

/// Level sets of a grid, drawn as thin lines by marching squares.
public struct ContourLayer: Sendable {
    public var grid: Grid
    public var levels: [Double]
    public var color: RGB?
    public var width: Double

    public init(_ grid: Grid, levels: [Double], color: RGB? = nil, width: Double = 1) {
        self.grid = grid
        self.levels = levels
        self.color = color
        self.width = width
    }
}

/// A vertical line across the plot at `x`, labelled at its top.
public struct GuideLine: Sendable {
    public var x: Double
    public var label: String

    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// One panel: axes, a title, and layers drawn bottom to top — heatmap, contours, bars, guides, lines.
public struct Plot: Sendable {
    public var title: String?
    public var x: Axis
    public var y: Axis
    public var heatmap: HeatmapLayer?
    public var contours: ContourLayer?
    public var bars: [BarSeries] = []
    public var guides: [GuideLine] = []
    public var lines: [LineSeries] = []
    /// Draw a thin line at y = 0 and x = 0 when they fall inside a linear range.
    public var zeroLines = true

    public init(title: String? = nil, x: Axis, y: Axis) {
        self.title = title
        self.x = x
        self.y = y
    }
}

/// A chart: a title over one or more panels side by side, at a slide-friendly size.
///
/// Draw it with `svg()`, `raster(scale:)` or `write(to:scale:)`; the same
/// drawing calls make the PNG, the SVG (text kept as `<text>`) and the PDF.
public struct PlotFigure: Sendable {
    public var title: String?
    public var panels: [Plot]
    /// Points (1/72 inch). 800 × 500 fills most of a 16:9 slide.
    public var size: Size
    public var palette: Palette

    public init(title: String? = nil, panels: [Plot], size: Size = Size(800, 500), palette: Palette = .default) {
        self.title = title
        self.panels = panels
        self.size = size
        self.palette = palette
    }

    public var theme: Theme { Theme(palette: palette) }

    /// Every text the figure draws (titles, axis labels, tick labels, legend
    /// entries), in drawing order, with the box it fills (points, origin
    /// top-left) and its font size: for checking that no two texts overlap and none leaves the page.
    public var textFrames: [(text: String, frame: Rect, size: Double)] {
        let painter = PlotPainter(figure: self)
        let recorder = TextRecorder(SVGCanvas(size: size, fontFamily: theme.fontFamily))
        painter.paint(on: recorder)
        return recorder.texts.map { text, origin, style in
            let metrics = painter.measurer.lineMetrics(style)
            return (text, Rect(x: origin.x, y: origin.y - metrics.ascent, width: painter.measurer.width(text, style), height: metrics.height), style.size)
        }
    }
}

/// A canvas that passes every call on and keeps the texts.
final class TextRecorder: Canvas {
    let inner: Canvas
    private(set) var texts: [(String, Point, TextStyle)] = []
    init(_ inner: Canvas) { self.inner = inner }
    func fillRect(_ rect: Rect, radius: Double, color: RGB) { inner.fillRect(rect, radius: radius, color: color) }
    func strokeRect(_ rect: Rect, radius: Double, color: RGB, width: Double) { inner.strokeRect(rect, radius: radius, color: color, width: width) }
    func circle(center: Point, radius: Double, fill: RGB?, stroke: RGB?, width: Double) {
        inner.circle(center: center, radius: radius, fill: fill, stroke: stroke, width: width)
    }
    func line(from: Point, to: Point, color: RGB, width: Double) { inner.line(from: from, to: to, color: color, width: width) }
    func curve(_ points: [Point], color: RGB, width: Double) { inner.curve(points, color: color, width: width) }
    func fillPolygon(_ points: [Point], color: RGB) { inner.fillPolygon(points, color: color) }
    func text(_ string: String, at origin: Point, style: TextStyle) {
        texts.append((string, origin, style))
        inner.text(string, at: origin, style: style)
    }
}
