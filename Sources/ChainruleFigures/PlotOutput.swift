extension PlotFigure {
    var drawing: Drawing {
        Drawing(size: size, theme: theme) { PlotPainter(figure: self).paint(on: $0) }
    }

    /// The chart as an SVG document, text kept as `<text>`.
    public func svg() -> String { drawing.svg() }

    /// Writes the chart as PNG (at `scale` pixels per point), SVG or PDF, as
    /// the extension of `path` says; all or nothing (`Drawing.write`).
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        try drawing.write(to: path, what: "a chart", scale: scale)
    }
}
