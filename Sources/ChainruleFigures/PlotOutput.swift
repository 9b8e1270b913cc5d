import ChainruleCore
import Foundation

extension PlotFigure {
    var drawing: Drawing {
        Drawing(size: size, theme: theme) { PlotPainter(figure: self).paint(on: $0) }
    }

    /// The chart as an SVG document, text kept as `<text>`.
    public func svg() -> String { drawing.svg() }

    /// Writes the chart as PNG (at `scale` pixels per point), SVG or PDF, as
    /// the extension of `path` says; all or nothing (`Drawing.write`).
    /// A chart that cannot place its data (`unplottable`) is refused first.
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        try checkedDrawing().write(to: path, what: "a chart", scale: scale)
    }

    /// The drawing, or the reason it would misplace its data.
    func checkedDrawing() throws(FigureError) -> Drawing {
        if let problem = unplottable { throw .invalidOption(problem) }
        return drawing
    }

    /// Why an axis cannot show its data, or nil: values whose span is past the
    /// largest Double (−1e308 and 1e308 on one linear axis) have no scale to be
    /// placed on, and a log axis cannot go below 2.2e-308 (the smallest normal
    /// Double). An axis given its own range clips what falls outside on purpose.
    public var unplottable: String? {
        let painter = PlotPainter(figure: self)
        for panel in panels {
            for isX in [true, false] {
                let axis = isX ? panel.x : panel.y
                guard axis.range == nil, axis.categories == nil, painter.gridExtent(panel, x: isX) == nil else { continue }
                let values = painter.dataValues(panel, x: isX).filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
                guard let lo = values.min(), let hi = values.max() else { continue }
                let layout = painter.layoutAxis(axis, values: values, exact: nil, target: 6, padded: !isX)
                let range = layout.range
                let span = range.upperBound - range.lowerBound
                // Ticks widen the range by whole steps, to a millionth of it either way.
                let within = axis.scale == .log ? lo >= range.lowerBound * (1 - 1e-6) && hi <= range.upperBound * (1 + 1e-6)
                    : lo >= range.lowerBound - span * 1e-6 && hi <= range.upperBound + span * 1e-6
                let placed = range.lowerBound.isFinite && range.upperBound.isFinite && span.isFinite && within
                guard !placed else { continue }
                let name = axis.label.isEmpty ? (isX ? "the x axis" : "the y axis") : "the axis '\(axis.label)'"
                let why = axis.scale == .log ? "a log axis shows 2.2e-308 to 1.8e308" : "their span is past the largest Double (1.8e308)"
                return "\(name) cannot place values from \(formatNumber(lo, significant: 3)) to \(formatNumber(hi, significant: 3)): \(why)"
            }
        }
        return nil
    }
}
