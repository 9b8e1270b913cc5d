import CCairo

/// Sets the font of a Cairo context the one way every surface uses: family,
/// weight, size, and metrics hinting off so widths agree across PNG, SVG and PDF.
func applyFont(_ cairo: OpaquePointer, family: String, size: Double, bold: Bool) {
    cairo_select_font_face(cairo, family, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cairo, size)
    let options = cairo_font_options_create()
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
    cairo_set_font_options(cairo, options)
    cairo_font_options_destroy(options)
}

/// Measures text with Cairo's font metrics (through the table `FontMetrics`
/// keeps) and builds measured blocks.
final class TextMeasurer {
    let theme: Theme

    init(theme: Theme) {
        self.theme = theme
    }

    /// Advance width of `text` in points.
    func width(_ text: String, _ style: TextStyle) -> Double {
        FontMetrics.width(text, family: theme.fontFamily, size: style.size, bold: style.bold)
    }

    /// Ascent and line height of the font at this style.
    func lineMetrics(_ style: TextStyle) -> (ascent: Double, height: Double) {
        FontMetrics.lineMetrics(family: theme.fontFamily, size: style.size, bold: style.bold)
    }

    // MARK: Blocks

    func text(_ string: String, _ style: TextStyle) -> Block {
        let metrics = lineMetrics(style)
        return Block(kind: .text(string, style, ascent: metrics.ascent), children: [],
                     size: Size(width(string, style), metrics.height))
    }

    func text(_ string: String, color: RGB, small: Bool = false, bold: Bool = false) -> Block {
        text(string, TextStyle(color: color, size: small ? theme.smallFontSize : theme.fontSize, bold: bold))
    }

    func heatmap(_ map: Heatmap) -> Block {
        Block(kind: .heatmap(map), children: [],
              size: Size(Double(map.columns) * map.cellWidth, Double(map.rows) * map.cellHeight))
    }

    func spacer(_ width: Double, _ height: Double) -> Block {
        Block(kind: .spacer, children: [], size: Size(width, height))
    }

    /// Children side by side. With dividers each cell gets the theme's padding on both sides.
    func row(_ children: [Block], dividers: Bool = false) -> Block {
        let inner = dividers ? 2 * theme.padding : 0
        let gaps = dividers ? 0 : theme.gap * Double(max(children.count - 1, 0))
        let width = children.reduce(0) { $0 + $1.size.width + inner } + gaps
        let height = children.map(\.size.height).max() ?? 0
        return Block(kind: .row(dividers: dividers), children: children, size: Size(width, height))
    }

    /// Children stacked and centred. With dividers each cell gets half a gap above and below.
    func column(_ children: [Block], dividers: Bool = false) -> Block {
        let spacing = dividers ? theme.gap * 2 : theme.gap / 2
        let height = children.reduce(0) { $0 + $1.size.height } + spacing * Double(max(children.count - 1, 0))
        let width = children.map(\.size.width).max() ?? 0
        return Block(kind: .column(dividers: dividers), children: children, size: Size(width, height))
    }
}
