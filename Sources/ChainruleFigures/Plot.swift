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
    /// Names for the whole numbers 0, 1, 2, … of a linear axis (the classes of a bar chart),
    /// drawn as its only ticks; nil: numeric ticks.
    public var categories: [String]? = nil

    public init(_ label: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.label = label
        self.scale = scale
        self.range = range
    }
}

/// How a line is stroked: series differ by this as well as by colour, so a
/// chart printed in grey or seen with a colour-vision deficiency still tells them apart.
public enum LineDash: Int, Sendable, CaseIterable {
    case solid, dashed, dotted, dashDot, longDash, dashDotDot

    /// Alternating on and off lengths in multiples of the line width; empty for solid.
    var pattern: [Double] {
        switch self {
        case .solid: []
        case .dashed: [4, 2.5]
        case .dotted: [0.01, 2.2]
        case .dashDot: [4, 2, 0.01, 2]
        case .longDash: [8, 3]
        case .dashDotDot: [5, 1.8, 0.01, 1.8, 0.01, 1.8]
        }
    }
}

/// The shape of a series' markers: the second way, after the dash, that series differ besides colour.
public enum MarkerShape: Int, Sendable, CaseIterable {
    case circle, square, triangle, diamond, downTriangle
    /// An open circle: the limit a function approaches but does not take (a jump's other end).
    case ring
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
    /// Whether the legend lists it (a series named "" never is).
    public var inLegend: Bool
    /// nil: the dash that goes with the series' automatic colour (solid for the first,
    /// dashed for the second, …), solid for a series with a colour of its own.
    public var dash: LineDash?
    /// nil: the shape that goes with the series' place (circle, square, triangle, …).
    public var marker: MarkerShape?
    /// The marker (of `markerRadius`) only at the last point: where a path ends.
    public var markerAtEndOnly: Bool

    public init(_ name: String, points: [Point], color: RGB? = nil, width: Double = 2.2, drawsLine: Bool = true,
                markerRadius: Double = 0, inLegend: Bool = true, dash: LineDash? = nil, marker: MarkerShape? = nil,
                markerAtEndOnly: Bool = false) {
        self.name = name
        self.points = points
        self.color = color
        self.width = width
        self.drawsLine = drawsLine
        self.markerRadius = markerRadius
        self.inLegend = inLegend
        self.dash = dash
        self.marker = marker
        self.markerAtEndOnly = markerAtEndOnly
    }
}

/// Bars (the legend lists them unless named "") standing on zero (or on the bottom of a log axis), centred at each point's x, as high as its y.
public struct BarSeries: Sendable {
    public var name: String
    public var points: [Point]
    /// Bar width in data units of x.
    public var width: Double
    public var color: RGB?
    /// Written above (or, for a negative bar, below) each bar: the number a student reads off it.
    public var labels: [String]?

    public init(_ name: String, points: [Point], width: Double, color: RGB? = nil, labels: [String]? = nil) {
        self.name = name
        self.points = points
        self.width = width
        self.color = color
        self.labels = labels
    }
}

/// A grid of values painted as a smooth surface on the theme's sequential map
/// (bilinear between the grid's points), lowest value darkest, faded towards
/// white by `fade` (0…1) so lines drawn on top stay readable, with a colour bar
/// beside the panel that reads colour back as value.
public struct HeatmapLayer: Sendable {
    public var grid: Grid
    /// The colour bar's label: what the colour measures.
    public var label: String
    /// How value maps to colour: `.log` for a loss that spans decades (values
    /// at or below zero take the colour of the smallest positive one).
    public var scale: AxisScale
    public var fade: Double

    public init(_ grid: Grid, label: String = "value", scale: AxisScale = .linear, fade: Double = 0.55) {
        self.grid = grid
        self.label = label
        self.scale = scale
        self.fade = fade
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

/// A vertical line across the plot at `x`, labelled above the frame (off the data, where no curve can cross the label).
public struct GuideLine: Sendable {
    public var x: Double
    public var label: String

    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// A text placed at a point of the data (its vertical middle at `at.y`), for the words a
/// student should read beside a curve; the chart's author puts it where no curve passes.
public struct PlotNote: Sendable {
    public enum Anchor: Sendable { case left, centre, right }
    public var text: String
    public var at: Point
    public var anchor: Anchor

    public init(_ text: String, at: Point, anchor: Anchor = .centre) {
        self.text = text
        self.at = at
        self.anchor = anchor
    }
}

/// One panel: axes, a title, and layers drawn bottom to top — heatmap, contours, bars, guides, lines, notes.
public struct Plot: Sendable {
    public var title: String?
    public var x: Axis
    public var y: Axis
    public var heatmap: HeatmapLayer?
    public var contours: ContourLayer?
    public var bars: [BarSeries] = []
    public var guides: [GuideLine] = []
    public var lines: [LineSeries] = []
    public var notes: [PlotNote] = []
    /// Draw a thin line at y = 0 and x = 0 when they fall inside a linear range.
    public var zeroLines = true
    /// Each line named in the legend gets its name written beside the
    /// frame at the height where it ends, with its dash and marker, instead
    /// of a legend entry: the eye follows the line to its name, not a colour
    /// to a key. Markers alone and bars stay in the legend.
    public var directLabels = false

    public init(title: String? = nil, x: Axis, y: Axis) {
        self.title = title
        self.x = x
        self.y = y
    }
}

/// A chart: a title over one or more panels side by side, drawn for a slide.
///
/// Draw it with `svg()` or `write(to:scale:)`; the same drawing calls make
/// the PNG, the SVG (text kept as `<text>`) and the PDF. Its text is sized
/// for its page (`fit`): at least 14 pt once the page is fitted into a slide's
/// 900 × 460 pt content area.
public struct PlotFigure: Sendable {
    public var title: String?
    public var panels: [Plot]
    /// The page: a 16:9 slide unless asked otherwise.
    public var fit: ChartPage
    public var palette: Palette

    public init(title: String? = nil, panels: [Plot], fit: ChartPage = .slide, palette: Palette = .default) {
        self.title = title
        self.panels = panels
        self.fit = fit
        self.palette = palette
    }

    /// A chart on a page of `size` points.
    public init(title: String? = nil, panels: [Plot], size: Size, palette: Palette = .default) {
        self.init(title: title, panels: panels, fit: .points(size), palette: palette)
    }

    /// The page in points.
    public var size: Size { fit.size }

    public var theme: Theme { Theme(palette: palette) }

    /// Every text the figure draws (titles, axis labels, tick labels, legend
    /// entries), in drawing order, with the box it fills (points, origin
    /// top-left) and its font size: for checking that no two texts overlap and none leaves the page.
    public var textFrames: [(text: String, frame: Rect, size: Double)] { drawing.textFrames }
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
