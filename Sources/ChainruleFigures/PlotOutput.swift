import CCairo
import Foundation

extension PlotFigure {
    /// The chart as an SVG document, text kept as `<text>`.
    public func svg() -> String {
        let canvas = SVGCanvas(size: size, fontFamily: theme.fontFamily)
        PlotPainter(figure: self).paint(on: canvas)
        return canvas.document(background: theme.background)
    }

    /// The chart drawn into an image in memory at `scale` pixels per point.
    public func raster(scale: Double) throws(FigureError) -> FigureImage {
        let width = Int((size.width * scale).rounded(.up)), height = Int((size.height * scale).rounded(.up))
        guard width <= 32767, height <= 32767 else { throw .imageTooLarge(width: width, height: height) }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            throw .drawingFailed("no image surface")
        }
        let image = FigureImage(surface: surface, width: width, height: height)
        try draw(on: surface, scale: scale)
        return image
    }

    /// Writes a one-page PDF at the chart's natural size (points).
    public func pdf(to path: String) throws(FigureError) {
        let surface = try pdfSurface(path, width: size.width, height: size.height)
        defer { cairo_surface_destroy(surface) }
        try draw(on: surface, scale: 1)
        cairo_surface_show_page(surface)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw .unwritable(path: path, reason: String(cString: cairo_status_to_string(status))) }
    }

    /// Writes the chart as PNG (at `scale` pixels per point), SVG or PDF, as
    /// the extension of `path` says. Writes a temporary file beside it and
    /// renames it, so an error leaves no partial file.
    public func write(to path: String, scale: Double = 2) throws(FigureError) {
        let format = try FigureFormat(path: path)
        try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
            switch format {
            case .png: try raster(scale: scale).writePNG(to: temporary)
            case .svg: try SafeWrite.data(Data(svg().utf8), to: temporary)
            case .pdf: try pdf(to: temporary)
            case .dot, .json:
                throw FigureError.invalidOption("a chart is drawn as .png, .svg or .pdf, not .\(format.rawValue): '\(path)'")
            }
        }
    }

    private func draw(on surface: OpaquePointer, scale: Double) throws(FigureError) {
        guard let cairo = cairo_create(surface) else { throw .drawingFailed("no Cairo context") }
        defer { cairo_destroy(cairo) }
        cairo_scale(cairo, scale, scale)
        let background = theme.background
        cairo_set_source_rgb(cairo, background.red, background.green, background.blue)
        cairo_paint(cairo)
        cairo_set_line_join(cairo, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cairo, CAIRO_LINE_CAP_ROUND)
        PlotPainter(figure: self).paint(on: CairoCanvas(cairo: cairo, fontFamily: theme.fontFamily))
        let status = cairo_status(cairo)
        guard status == CAIRO_STATUS_SUCCESS else { throw .drawingFailed(String(cString: cairo_status_to_string(status))) }
    }
}
