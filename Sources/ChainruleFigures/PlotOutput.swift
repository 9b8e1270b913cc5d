import Foundation

extension PlotFigure {
    var drawing: Drawing {
        Drawing(size: size, theme: theme) { PlotPainter(figure: self).paint(on: $0) }
    }

    /// The chart as an SVG document, text kept as `<text>`.
    public func svg() -> String { CairoOutput.svg(drawing) }

    /// Writes the chart as PNG (at `scale` pixels per point), SVG or PDF, as
    /// the extension of `path` says. Writes a temporary file beside it and
    /// renames it, so an error leaves no partial file.
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        try write(to: path, as: DrawnFormat(path: path, what: "a chart"), scale: scale)
    }

    func write(to path: String, as format: DrawnFormat, scale: Double) throws(FigureError) {
        try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
            try CairoOutput.write(drawing, as: format, scale: scale, to: temporary)
        }
    }
}
