import Foundation

/// A colour with components in 0…1.
public struct RGB: Sendable, Equatable, Hashable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(_ red: Double, _ green: Double, _ blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// `RGB(hex: 0x1B7F1B)`.
    public init(hex: Int) {
        self.init(Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255)
    }

    /// `#1b7f1b`, for SVG and DOT. A NaN component counts as 0.
    public var hexString: String {
        func byte(_ c: Double) -> Int { c.isNaN ? 0 : Int((min(max(c, 0), 1) * 255).rounded()) }
        let value = (byte(red) << 16) | (byte(green) << 8) | byte(blue)
        let digits = String(value, radix: 16)
        return "#" + String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// Linear mix: `t = 0` gives `self`, `t = 1` gives `other`.
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        RGB(red + (other.red - red) * t, green + (other.green - green) * t, blue + (other.blue - blue) * t)
    }

    public static let white = RGB(1, 1, 1)
    public static let black = RGB(0, 0, 0)

    /// WCAG 2's relative luminance: the sRGB components linearised, weighted 0.2126, 0.7152, 0.0722.
    public var relativeLuminance: Double {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// WCAG 2's contrast ratio (L1 + 0.05) / (L2 + 0.05), lighter over darker: 1 to 21.
    public func contrast(with other: RGB) -> Double {
        let a = relativeLuminance, b = other.relativeLuminance
        return (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }

    /// This colour darkened towards black, in steps of 2 %, until it has
    /// `ratio` contrast against `background` (WCAG's 4.5:1 for body text by
    /// default): the same hue, readable.
    public func readable(on background: RGB, ratio: Double = 4.5) -> RGB {
        var color = self
        var t = 0.0
        while color.contrast(with: background) < ratio && t < 1 {
            t += 0.02
            color = mixed(with: .black, t)
        }
        return color
    }
}

/// The colour sets a figure can use (`--palette`).
public enum Palette: String, Sendable, CaseIterable {
    /// Green values, red gradients, blue local gradients: CS231n's colours.
    case `default`
    /// The Okabe–Ito colours, told apart by people with any common colour-vision
    /// deficiency (red/green is the classic trap in a lecture hall).
    case colorblind
}

/// The six hues of a palette, each named once; every coloured thing in a
/// figure (values, gradients, check overlay, chart lines) is one of them,
/// text in its `readable` shade.
///
/// The default palette keeps CS231n's green values and red gradients, but an
/// emerald green and a crimson that a deuteranope still tells apart (by
/// Machado et al.'s simulation their CIELAB distance is about 38; the classic
/// 0x1B7F1B and 0xC8102E are 4 apart, the same colour).
struct Hues {
    var blue: RGB, red: RGB, green: RGB, amber: RGB, purple: RGB, cyan: RGB

    init(_ palette: Palette) {
        switch palette {
        case .default:
            blue = RGB(hex: 0x1F5FBF); red = RGB(hex: 0xC0181A); green = RGB(hex: 0x127A52)
            amber = RGB(hex: 0xD98A00); purple = RGB(hex: 0x7B3FA0); cyan = RGB(hex: 0x17A2B8)
        case .colorblind:
            // Okabe–Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue.
            blue = RGB(hex: 0x0072B2); red = RGB(hex: 0xD55E00); green = RGB(hex: 0x009E73)
            amber = RGB(hex: 0xE69F00); purple = RGB(hex: 0xCC79A7); cyan = RGB(hex: 0x56B4E9)
        }
    }
}

/// Colours, fonts and sizes for every figure, in one place.
///
/// Sizes are in points (1/72 inch) at the figure's natural size; a PNG is
/// scaled on top (`--scale`). Text is never below 11 pt, so a figure pasted
/// into a 16:9 slide reads from the back row.
public struct Theme: Sendable {
    public var palette: Palette
    /// Forward values (green), drawn above a wire (or first in a box).
    public var value: RGB
    /// Gradients (red), drawn below a wire and marked `←` (they flow back).
    public var gradient: RGB
    /// Local derivatives ∂out/∂in (blue).
    public var local: RGB
    public var text: RGB
    public var muted: RGB
    public var stroke: RGB
    public var background: RGB
    public var valueFill: RGB
    public var opFill: RGB
    public var leafFill: RGB
    public var clusterFill: RGB
    public var clusterStroke: RGB
    /// The active node of a step-by-step figure.
    public var highlight: RGB
    /// Check overlay: relative error ≤ 1e-7.
    public var checkGood: RGB
    /// Check overlay: passing with relative error above 1e-7, or inconclusive.
    public var checkWarning: RGB
    /// Check overlay: at a kink (purple; blue in the colour-blind palette, where
    /// Okabe–Ito's purple and green look alike to a deuteranope).
    public var checkKink: RGB
    /// Check overlay: a failed node.
    public var checkFailed: RGB
    /// How far a checked or highlighted box's fill is mixed towards white (0.9:
    /// a light tint its own colour's text still reads on at 4.5:1).
    public var tint: Double
    /// Diverging map for gradients: negative end, zero, positive end.
    public var divergingNegative: RGB
    public var divergingZero: RGB
    public var divergingPositive: RGB
    /// Sequential map for values, low to high.
    public var sequential: [RGB]
    /// Heatmap cells that are NaN, +inf and −inf, in both maps: a grey that
    /// neither map uses, and the diverging map's ends darkened past its range.
    public var notANumber: RGB
    public var positiveInfinity: RGB
    public var negativeInfinity: RGB
    /// Colours for the lines of a chart, told apart from each other (and, in
    /// the colorblind palette, in the Okabe–Ito order, by any common colour vision).
    public var series: [RGB]
    /// Chart grid lines at the major ticks.
    public var plotGrid: RGB
    /// Chart lines at x = 0 and y = 0.
    public var plotZeroLine: RGB
    /// Contour lines drawn without a colour of their own.
    public var contour: RGB
    /// A secondary reference curve in a chart (lighter than `muted`).
    public var reference: RGB
    /// The outline of a chart's legend.
    public var legendStroke: RGB

    public var fontFamily: String
    /// Body text (labels, numbers). At least 11 pt.
    public var fontSize: Double
    /// Secondary text (shapes, min/max). At least 11 pt.
    public var smallFontSize: Double
    /// Gate symbols in the circuit style.
    public var symbolFontSize: Double
    public var lineWidth: Double
    /// Space between a box's border and its content.
    public var padding: Double
    /// Space between rows and columns of a node's content.
    public var gap: Double
    public var cornerRadius: Double
    /// Margin around the whole figure.
    public var margin: Double
    /// Side of one heatmap cell, and the most cells a thumbnail shows per side.
    public var thumbnailCell: Double
    public var thumbnailMaxCells: Int

    public init(palette: Palette = .default) {
        self.palette = palette
        let hues = Hues(palette)
        let tint = 0.9
        self.tint = tint
        // Text colours: each hue in the shade that reads at 4.5:1 on its own tint (and so on white).
        func readableText(_ hue: RGB) -> RGB {
            var color = hue
            while color.contrast(with: color.mixed(with: .white, tint)) < 4.5 { color = color.readable(on: color.mixed(with: .white, tint)) }
            return color
        }
        value = readableText(hues.green)
        gradient = readableText(hues.red)
        local = readableText(hues.blue)
        checkGood = readableText(hues.green)
        checkWarning = readableText(hues.amber)
        checkKink = readableText(palette == .colorblind ? hues.blue : hues.purple)
        checkFailed = readableText(hues.red)
        series = [hues.blue, hues.red, hues.green, hues.amber, hues.purple, hues.cyan]
        plotGrid = RGB(hex: 0xE4E4E4)
        plotZeroLine = RGB(hex: 0xB0B0B0)
        contour = RGB(hex: 0x555555)
        reference = RGB(hex: 0x999999)
        legendStroke = RGB(hex: 0xBBBBBB)
        text = RGB(hex: 0x1A1A1A)
        muted = RGB(hex: 0x666666)
        stroke = RGB(hex: 0x333333)
        background = .white
        valueFill = RGB(hex: 0xF7F7F2)
        opFill = RGB(hex: 0xFFFFFF)
        leafFill = RGB(hex: 0xEEF3FA)
        clusterFill = RGB(hex: 0xF5F5F5)
        clusterStroke = RGB(hex: 0xAAAAAA)
        highlight = RGB(hex: 0xF0B400)
        divergingNegative = RGB(hex: 0x2166AC)
        divergingZero = .white
        divergingPositive = RGB(hex: 0xB2182B)
        sequential = [RGB(hex: 0x440154), RGB(hex: 0x3B528B), RGB(hex: 0x21918C), RGB(hex: 0x5EC962), RGB(hex: 0xFDE725)]
        notANumber = RGB(hex: 0x9A9A9A)
        positiveInfinity = RGB(hex: 0x4A0012)
        negativeInfinity = RGB(hex: 0x0B2545)
        fontFamily = "DejaVu Sans"
        fontSize = 12
        smallFontSize = 11
        symbolFontSize = 14
        lineWidth = 1.2
        padding = 6
        gap = 4
        cornerRadius = 4
        margin = 12
        thumbnailCell = 6
        thumbnailMaxCells = 12
    }

    /// The colour of a NaN or an infinity, nil for a finite number.
    public func nonFinite(_ value: Double) -> RGB? {
        if value.isNaN { return notANumber }
        if value.isInfinite { return value > 0 ? positiveInfinity : negativeInfinity }
        return nil
    }

    /// The colour of `t` in −1…1 on the diverging map (0 is white; NaN and ±inf as `nonFinite`).
    public func diverging(_ t: Double) -> RGB {
        if let special = nonFinite(t) { return special }
        let t = min(max(t, -1), 1)
        return t < 0 ? divergingZero.mixed(with: divergingNegative, -t) : divergingZero.mixed(with: divergingPositive, t)
    }

    /// The colour of `t` in 0…1 on the sequential map (NaN and ±inf as `nonFinite`).
    public func sequential(_ t: Double) -> RGB {
        if let special = nonFinite(t) { return special }
        let t = min(max(t, 0), 1) * Double(sequential.count - 1)
        let i = min(Int(t), sequential.count - 2)
        return sequential[i].mixed(with: sequential[i + 1], t - Double(i))
    }
}
