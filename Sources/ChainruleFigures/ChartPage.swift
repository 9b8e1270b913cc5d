import ChainruleCore
import Foundation

/// The page a chart or diagram is drawn for (`--fit`, also spelt `--size`):
/// its size in points, and the text size that stays legible when the page is
/// fitted into a slide. Graph figures are laid out for a `FitTarget` and
/// measured with `SlideFit`; charts and diagrams are drawn on a page.
public enum ChartPage: Sendable, Equatable, CustomStringConvertible {
    /// A 16:9 slide, 960 × 540 pt (the default).
    case slide
    /// A 4:3 slide, 720 × 540 pt.
    case fourThree
    /// Any page, in points.
    case points(Size)

    /// The area a page is fitted into to judge it: a 16:9 slide's content
    /// area (`FitTarget.slide`, 900 × 460 pt), the measure every figure shares.
    public static let contentArea = Size(FitTarget.slide.width, FitTarget.slide.height)

    /// The smallest text a figure should show once fitted into `contentArea`.
    public static let legibleTextSize = FitTarget.readableTextSize

    /// The page `FitTarget(validating:)` reads (`slide`, `16:9`, `4:3` or
    /// `WxH` in points, `1200x600`), refused as it refuses.
    public init(parsing text: String) throws(FigureError) {
        let target = try FitTarget(validating: text)
        self = target == .slide ? .slide : target == .fourByThree ? .fourThree : .points(Size(target.width, target.height))
    }

    /// The page in points.
    public var size: Size {
        switch self {
        case .slide: Size(960, 540)
        case .fourThree: Size(720, 540)
        case .points(let size): size
        }
    }

    public var description: String {
        switch self {
        case .slide: "slide"
        case .fourThree: "4:3"
        case .points(let size): "\(formatNumber(size.width))x\(formatNumber(size.height))"
        }
    }

    /// How much a page of `size` shrinks (or grows) to fit inside `contentArea`.
    public static func fittedScale(of size: Size) -> Double {
        min(contentArea.width / size.width, contentArea.height / size.height)
    }

    /// How much larger than on the content area everything on this page is drawn: 1.17 on the 960 × 540 slide.
    public var textScale: Double { 1 / Self.fittedScale(of: size) }

    /// The natural size of text that reads `fitted` points once this page is
    /// fitted into the content area: 14 pt on the 960 × 540 slide is 16.43 pt
    /// (rounded up to the hundredth an SVG writes, so it never reads below).
    public func textSize(_ fitted: Double) -> Double {
        (fitted * textScale * 100).rounded(.up) / 100
    }
}

/// The one title style of every chart and diagram: bold, in the theme's text
/// colour, left-aligned at the margin (as graph figures place theirs), a third
/// larger than the body text.
/// A title wider than its page breaks into lines at spaces rather than shrink.
enum FigureTitle {
    static func style(theme: Theme, bodySize: Double) -> TextStyle {
        TextStyle(color: theme.text, size: (bodySize * 4 / 3).rounded(), bold: true)
    }

    /// `title` broken greedily at spaces into lines at most `width` wide; a
    /// word wider than that alone (a path, a URL) is broken between its characters.
    /// A line's width is kept as it grows (advances add up, `FontMetrics`), so
    /// the time is linear in the title, not in its length times a line's.
    /// A line break in the title (`--title $'a\nb'`) starts a new line; other control characters
    /// (a tab), which no font draws, read as spaces.
    static func lines(_ title: String, width: Double, style: TextStyle, measurer: TextMeasurer) -> [String] {
        let paragraphs = title.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { line in
            String(line.map { $0.unicodeScalars.allSatisfy { CharacterSet.controlCharacters.contains($0) } ? " " : $0 })
        }
        guard paragraphs.count == 1 else {
            return paragraphs.flatMap { FigureTitle.lines($0, width: width, style: style, measurer: measurer) }
        }
        var lines: [String] = []
        var current = "", currentWidth = 0.0
        let space = measurer.width(" ", style)
        for word in paragraphs[0].split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            let wordWidth = measurer.width(word, style)
            let candidateWidth = current.isEmpty ? wordWidth : currentWidth + space + wordWidth
            if candidateWidth <= width || current.isEmpty && wordWidth <= width {
                current += current.isEmpty ? word : " " + word
                currentWidth = candidateWidth
                continue
            }
            if !current.isEmpty { lines.append(current) }
            current = ""
            currentWidth = 0
            for character in word {
                let characterWidth = measurer.width(String(character), style)
                if !current.isEmpty, currentWidth + characterWidth > width {
                    lines.append(current)
                    current = ""
                    currentWidth = 0
                }
                current.append(character)
                currentWidth += characterWidth
            }
        }
        lines.append(current)
        return lines
    }

    /// The title as a block for a graph figure's heading: its lines (broken
    /// at `width`) stacked and left-aligned, as `paint` draws a chart's.
    static func block(_ title: String, style: TextStyle, width: Double, measurer: TextMeasurer) -> Block {
        leftAligned(lines(title, width: width, style: style, measurer: measurer).map { measurer.text($0, style) }, measurer: measurer)
    }

    /// A graph figure's heading: the title in the one title style (a third
    /// larger than the theme's body text) broken at `width`, with `note`
    /// (the model style's parameter count) under it; nil when there is neither.
    static func heading(_ title: String?, note: Block?, width: Double, measurer: TextMeasurer) -> Block? {
        var blocks: [Block] = []
        if let title { blocks.append(block(title, style: style(theme: measurer.theme, bodySize: measurer.theme.fontSize), width: width, measurer: measurer)) }
        if let note { blocks.append(note) }
        return blocks.count > 1 ? leftAligned(blocks, measurer: measurer) : blocks.first
    }

    /// `blocks` stacked with their left edges in line (a column centres its children: each is padded on the right to the widest).
    static func leftAligned(_ blocks: [Block], measurer: TextMeasurer) -> Block {
        let widest = blocks.map(\.size.width).max() ?? 0
        let gap = measurer.theme.gap
        return measurer.column(blocks.map { block in
            let room = widest - block.size.width - gap
            return room > 0 ? measurer.row([block, measurer.spacer(room, 0)]) : block
        })
    }

    /// Draws the title's lines from `top` at the left `margin`; returns the y below them.
    static func paint(_ title: String, style: TextStyle, measurer: TextMeasurer, pageWidth: Double, margin: Double, top: Double, on canvas: Canvas) -> Double {
        let metrics = measurer.lineMetrics(style)
        var y = top
        for line in lines(title, width: pageWidth - 2 * margin, style: style, measurer: measurer) {
            canvas.text(line, at: Point(margin, y + metrics.ascent), style: style)
            y += metrics.height
        }
        return y
    }
}
