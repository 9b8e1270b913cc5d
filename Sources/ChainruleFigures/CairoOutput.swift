import CCairo
import Foundation

/// The formats a picture is drawn as (graphs also export DOT and JSON, see
/// `FigureFormat`; charts and lecture figures are pictures only).
enum DrawnFormat: String {
    case png, svg, pdf

    /// The format `path`'s extension names; refused, naming `what` is being
    /// written, unless it is .png, .svg or .pdf.
    init(path: String, what: String) throws(FigureError) {
        guard let format = DrawnFormat(rawValue: (path as NSString).pathExtension.lowercased()) else {
            throw .invalidOption("cannot write \(what) as '\(path)': end the file name with .png, .svg or .pdf")
        }
        self = format
    }
}

/// Something drawn at a natural size (points) on a background, by a painter
/// that can paint it on any canvas: Cairo for PNG and PDF, text for SVG.
struct Drawing {
    var size: Size
    var theme: Theme
    var paint: (any Canvas) -> Void

    /// The drawing as an SVG document, text kept as `<text>`.
    func svg() -> String { CairoOutput.svg(self) }

    /// Every text drawn, in drawing order, with the box it fills (points,
    /// origin top-left) and its font size: for checking that no two overlap,
    /// none leaves the page, and none is too small for a slide.
    var textFrames: [(text: String, frame: Rect, size: Double)] {
        let recorder = TextRecorder(SVGCanvas(size: size, fontFamily: theme.fontFamily))
        paint(recorder)
        let measurer = TextMeasurer(theme: theme)
        return recorder.texts.map { text, origin, style in
            let metrics = measurer.lineMetrics(style)
            return (text, Rect(x: origin.x, y: origin.y - metrics.ascent, width: measurer.width(text, style), height: metrics.height), style.size)
        }
    }

    /// Writes the drawing as PNG (`scale` pixels per point), SVG or PDF, as
    /// the extension of `path` says (refused, naming `what` is written,
    /// otherwise). All or nothing: a temporary file beside it is renamed, so
    /// an error leaves no partial file.
    func write(to path: String, what: String, scale: Double) throws(FigureError) {
        try write(to: path, as: DrawnFormat(path: path, what: what), scale: scale)
    }

    /// `write(to:what:scale:)` in a format already read from the path.
    func write(to path: String, as format: DrawnFormat, scale: Double) throws(FigureError) {
        try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
            try CairoOutput.write(self, as: format, scale: scale, to: temporary)
        }
    }
}

/// The one place pictures become SVG text, Cairo images and PDF pages.
enum CairoOutput {
    /// An SVG document with text kept as `<text>`.
    static func svg(_ drawing: Drawing) -> String {
        let canvas = SVGCanvas(size: drawing.size, fontFamily: drawing.theme.fontFamily)
        drawing.paint(canvas)
        return canvas.document(background: drawing.theme.background)
    }

    /// An image in memory at `scale` pixels per point; refused past Cairo's 32,767-pixel side or `maxImagePixels`.
    static func raster(_ drawing: Drawing, scale: Double) throws(FigureError) -> FigureImage {
        let pixels = { (points: Double) in points.isFinite ? Int(min(max(points * scale, 0), 1e9).rounded(.up)) : Int(1e9) }
        let width = pixels(drawing.size.width), height = pixels(drawing.size.height)
        guard FigureError.imageFits(width: width, height: height) else {
            throw .imageTooLarge(width: width, height: height, predicted: false, advice: FigureError.imageAdvice(width: width, height: height, scale: scale))
        }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            throw .drawingFailed("no image surface")
        }
        let image = FigureImage(surface: surface, width: width, height: height)
        try draw(drawing, on: surface, scale: scale)
        return image
    }

    /// A PDF at `path` with one page per drawing, each at its natural size.
    static func pdf(pages: [Drawing], to path: String) throws(FigureError) {
        guard let first = pages.first else { throw .emptyGraph }
        let bytes = PDFBytes()
        try withExtendedLifetime(bytes) { () throws(FigureError) in
            let surface = try pdfSurface(bytes, width: first.size.width, height: first.size.height)
            defer { cairo_surface_destroy(surface) }
            for (index, page) in pages.enumerated() {
                if index > 0 { cairo_pdf_surface_set_size(surface, page.size.width, page.size.height) }
                try draw(page, on: surface, scale: 1)
                cairo_surface_show_page(surface)
            }
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw .unwritable(path: path, reason: String(cString: cairo_status_to_string(status))) }
        }
        try SafeWrite.data(bytes.data, to: path)
    }

    /// Writes `drawing` as `format` straight to `path` (callers go through `SafeWrite`).
    static func write(_ drawing: Drawing, as format: DrawnFormat, scale: Double, to path: String) throws(FigureError) {
        switch format {
        case .png: try raster(drawing, scale: scale).writePNG(to: path)
        case .svg: try SafeWrite.data(Data(svg(drawing).utf8), to: path)
        case .pdf: try pdf(pages: [drawing], to: path)
        }
    }

    private static func draw(_ drawing: Drawing, on surface: OpaquePointer, scale: Double) throws(FigureError) {
        guard let cairo = cairo_create(surface) else { throw .drawingFailed("no Cairo context") }
        defer { cairo_destroy(cairo) }
        cairo_scale(cairo, scale, scale)
        let background = drawing.theme.background
        cairo_set_source_rgb(cairo, background.red, background.green, background.blue)
        cairo_paint(cairo)
        cairo_set_line_join(cairo, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cairo, CAIRO_LINE_CAP_ROUND)
        drawing.paint(CairoCanvas(cairo: cairo, fontFamily: drawing.theme.fontFamily))
        let status = cairo_status(cairo)
        guard status == CAIRO_STATUS_SUCCESS else { throw .drawingFailed(String(cString: cairo_status_to_string(status))) }
    }
}
