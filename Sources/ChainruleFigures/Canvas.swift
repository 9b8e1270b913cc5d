import CCairo
import Foundation

/// The few drawing calls a figure needs. Two backends draw the same calls:
/// Cairo (PNG, PDF) and a plain SVG writer that keeps text as `<text>`.
protocol Canvas: AnyObject {
    func fillRect(_ rect: Rect, radius: Double, color: RGB)
    func strokeRect(_ rect: Rect, radius: Double, color: RGB, width: Double)
    func circle(center: Point, radius: Double, fill: RGB?, stroke: RGB?, width: Double)
    func line(from: Point, to: Point, color: RGB, width: Double)
    /// A cubic Bézier path through 3n+1 points.
    func curve(_ points: [Point], color: RGB, width: Double)
    func fillPolygon(_ points: [Point], color: RGB)
    /// Text with its baseline's left end at `origin`.
    func text(_ string: String, at origin: Point, style: TextStyle)
}

// MARK: - Cairo

/// Draws onto a Cairo context (image surface for PNG, PDF surface for PDF).
final class CairoCanvas: Canvas {
    let cairo: OpaquePointer
    let fontFamily: String

    init(cairo: OpaquePointer, fontFamily: String) {
        self.cairo = cairo
        self.fontFamily = fontFamily
    }

    private func setColor(_ c: RGB) { cairo_set_source_rgb(cairo, c.red, c.green, c.blue) }

    private func roundedRect(_ r: Rect, _ radius: Double) {
        let radius = min(radius, r.width / 2, r.height / 2)
        guard radius > 0 else {
            cairo_rectangle(cairo, r.x, r.y, r.width, r.height)
            return
        }
        cairo_new_sub_path(cairo)
        cairo_arc(cairo, r.maxX - radius, r.y + radius, radius, -Double.pi / 2, 0)
        cairo_arc(cairo, r.maxX - radius, r.maxY - radius, radius, 0, Double.pi / 2)
        cairo_arc(cairo, r.x + radius, r.maxY - radius, radius, Double.pi / 2, Double.pi)
        cairo_arc(cairo, r.x + radius, r.y + radius, radius, Double.pi, 3 * Double.pi / 2)
        cairo_close_path(cairo)
    }

    func fillRect(_ rect: Rect, radius: Double, color: RGB) {
        roundedRect(rect, radius)
        setColor(color)
        cairo_fill(cairo)
    }

    func strokeRect(_ rect: Rect, radius: Double, color: RGB, width: Double) {
        roundedRect(rect, radius)
        setColor(color)
        cairo_set_line_width(cairo, width)
        cairo_stroke(cairo)
    }

    func circle(center: Point, radius: Double, fill: RGB?, stroke: RGB?, width: Double) {
        if let fill {
            cairo_new_path(cairo)
            cairo_arc(cairo, center.x, center.y, radius, 0, 2 * Double.pi)
            setColor(fill)
            cairo_fill(cairo)
        }
        if let stroke {
            cairo_new_path(cairo)
            cairo_arc(cairo, center.x, center.y, radius, 0, 2 * Double.pi)
            setColor(stroke)
            cairo_set_line_width(cairo, width)
            cairo_stroke(cairo)
        }
    }

    func line(from: Point, to: Point, color: RGB, width: Double) {
        cairo_new_path(cairo)
        cairo_move_to(cairo, from.x, from.y)
        cairo_line_to(cairo, to.x, to.y)
        setColor(color)
        cairo_set_line_width(cairo, width)
        cairo_stroke(cairo)
    }

    func curve(_ points: [Point], color: RGB, width: Double) {
        guard let first = points.first else { return }
        cairo_new_path(cairo)
        cairo_move_to(cairo, first.x, first.y)
        var i = 1
        while i + 2 < points.count {
            cairo_curve_to(cairo, points[i].x, points[i].y, points[i + 1].x, points[i + 1].y, points[i + 2].x, points[i + 2].y)
            i += 3
        }
        setColor(color)
        cairo_set_line_width(cairo, width)
        cairo_stroke(cairo)
    }

    func fillPolygon(_ points: [Point], color: RGB) {
        guard let first = points.first else { return }
        cairo_new_path(cairo)
        cairo_move_to(cairo, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cairo, p.x, p.y) }
        cairo_close_path(cairo)
        setColor(color)
        cairo_fill(cairo)
    }

    func text(_ string: String, at origin: Point, style: TextStyle) {
        applyFont(cairo, family: fontFamily, size: style.size, bold: style.bold)
        setColor(style.color)
        cairo_move_to(cairo, origin.x, origin.y)
        cairo_show_text(cairo, string)
    }
}

// MARK: - SVG

/// `value` with `places` decimals, byte for byte as `String(format: "%.<places>f")`
/// writes it, without building a va_list: an SVG writes hundreds of numbers.
func fixedDecimals(_ value: Double, places: Int) -> String {
    let capacity = 40
    let text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer -> String? in
        let count = Int(chainrule_format_fixed(buffer.baseAddress!, Int32(capacity), Int32(places), value))
        guard count >= 0, count < capacity else { return nil }
        return buffer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }
    return text ?? String(format: "%.\(places)f", value)
}

/// Writes the drawing as plain SVG: shapes as paths, text as `<text>` elements
/// that stay selectable, searchable and editable (Cairo's SVG surface would
/// turn them into glyph outlines with per-process ids).
final class SVGCanvas: Canvas {
    private(set) var body = ""
    let size: Size
    let fontFamily: String

    init(size: Size, fontFamily: String) {
        self.size = size
        self.fontFamily = fontFamily
    }

    private func n(_ v: Double) -> String {
        var text = fixedDecimals(v, places: 2)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }


    func fillRect(_ rect: Rect, radius: Double, color: RGB) {
        body += "<rect x=\"\(n(rect.x))\" y=\"\(n(rect.y))\" width=\"\(n(rect.width))\" height=\"\(n(rect.height))\"\(radius > 0 ? " rx=\"\(n(radius))\"" : "") fill=\"\(color.hexString)\"/>\n"
    }

    func strokeRect(_ rect: Rect, radius: Double, color: RGB, width: Double) {
        body += "<rect x=\"\(n(rect.x))\" y=\"\(n(rect.y))\" width=\"\(n(rect.width))\" height=\"\(n(rect.height))\"\(radius > 0 ? " rx=\"\(n(radius))\"" : "") fill=\"none\" stroke=\"\(color.hexString)\" stroke-width=\"\(n(width))\"/>\n"
    }

    func circle(center: Point, radius: Double, fill: RGB?, stroke: RGB?, width: Double) {
        body += "<circle cx=\"\(n(center.x))\" cy=\"\(n(center.y))\" r=\"\(n(radius))\" fill=\"\(fill?.hexString ?? "none")\""
        if let stroke { body += " stroke=\"\(stroke.hexString)\" stroke-width=\"\(n(width))\"" }
        body += "/>\n"
    }

    func line(from: Point, to: Point, color: RGB, width: Double) {
        body += "<line x1=\"\(n(from.x))\" y1=\"\(n(from.y))\" x2=\"\(n(to.x))\" y2=\"\(n(to.y))\" stroke=\"\(color.hexString)\" stroke-width=\"\(n(width))\"/>\n"
    }

    func curve(_ points: [Point], color: RGB, width: Double) {
        guard let first = points.first else { return }
        var d = "M\(n(first.x)),\(n(first.y))"
        var i = 1
        while i + 2 < points.count {
            d += " C\(n(points[i].x)),\(n(points[i].y)) \(n(points[i + 1].x)),\(n(points[i + 1].y)) \(n(points[i + 2].x)),\(n(points[i + 2].y))"
            i += 3
        }
        body += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color.hexString)\" stroke-width=\"\(n(width))\"/>\n"
    }

    func fillPolygon(_ points: [Point], color: RGB) {
        let list = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
        body += "<polygon points=\"\(list)\" fill=\"\(color.hexString)\"/>\n"
    }

    func text(_ string: String, at origin: Point, style: TextStyle) {
        body += "<text x=\"\(n(origin.x))\" y=\"\(n(origin.y))\" font-size=\"\(n(style.size))\"\(style.bold ? " font-weight=\"bold\"" : "") fill=\"\(style.color.hexString)\">\(xmlEscaped(string))</text>\n"
    }

    /// The finished document. One user unit is one point.
    func document(background: RGB) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(size.width))pt" height="\(n(size.height))pt" viewBox="0 0 \(n(size.width)) \(n(size.height))" font-family="\(xmlEscaped(fontFamily)), sans-serif">
        <rect width="100%" height="100%" fill="\(background.hexString)"/>
        \(body)</svg>

        """
    }
}
