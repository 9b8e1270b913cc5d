import ChainruleCore
import Foundation

/// What would make a refused figure work: typed, so the library reads the
/// same from Swift; the command line words each as its flags.
public enum FigureAdvice: Sendable, Equatable, CaseIterable {
    /// Draw one box per value (micrograd's record style): fewer boxes than the circuit.
    case recordStyle
    /// Draw one box per op without op circles or wire labels (the model style).
    case modelStyle
    /// Draw one box per layer (the model style's layer view).
    case layerView
    /// Draw a smaller graph: one sample instead of a batch, fewer steps, part of the model.
    case smallerGraph
    /// Write DOT, which needs no layout, and lay it out elsewhere.
    case writeDot
    /// Give the layout more time.
    case longerTimeout
    /// A PNG with fewer pixels per point.
    case smallerScale
    /// SVG or PDF, which have no pixel limit.
    case vectorFormat

    /// The advice in the library's own words (the API's names).
    public var description: String {
        switch self {
        case .recordStyle: "draw it in the record style"
        case .modelStyle: "draw it in the model style"
        case .layerView: "draw one box per layer (model style, layers view)"
        case .smallerGraph: "draw a smaller graph (one sample instead of a batch, fewer steps)"
        case .writeDot: "write DOT, which needs no layout"
        case .longerTimeout: "allow the layout more time (LayoutLimits.timeout)"
        case .smallerScale: "use a smaller scale"
        case .vectorFormat: "write SVG or PDF"
        }
    }
}

/// Why a figure could not be made. Every message says what went wrong and what would work.
public enum FigureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output path's extension is not a format we write.
    case unknownExtension(path: String)
    /// The output could not be written there.
    case unwritable(path: String, reason: String)
    /// There is nothing to draw.
    case emptyGraph
    /// The figure would have more boxes than are laid out and drawn in reasonable time.
    case tooLarge(boxes: Int, limit: Int, advice: [FigureAdvice])
    /// Graphviz refused or failed.
    case layoutFailed(String)
    /// The layout passed its deadline (`LayoutLimits.timeout`) and was given up.
    case layoutTimedOut(seconds: Double, boxes: Int, advice: [FigureAdvice])
    /// The layout worker died by `signal` (Graphviz overflowed its stack, or ran out of memory).
    case layoutCrashed(signal: Int32, boxes: Int, advice: [FigureAdvice])
    /// A PNG would exceed Cairo's 32,767-pixel side or `maxImagePixels`:
    /// `width`×`height` pixels, or at least that when `predicted` (refused before layout).
    case imageTooLarge(width: Int, height: Int, predicted: Bool, advice: [FigureAdvice])
    /// Cairo reported an error while drawing.
    case drawingFailed(String)
    /// The JSON export could not be encoded.
    case encodingFailed(String)
    /// A `--labels` entry or another option value we do not know.
    case invalidOption(String)

    /// The most pixels a side of a Cairo image surface can have.
    public static let maxImageSide = 32_767
    /// The most pixels a PNG may have: 64 million, a 256 MiB image in memory
    /// (a 16:9 4K slide is 8.3 million). Measured: a 26,026×7,096 PNG took
    /// 10 s and 750 MB to draw and encode, nobody's slide.
    public static let maxImagePixels = 64_000_000

    /// True when a `width`×`height` PNG is within both limits.
    public static func imageFits(width: Int, height: Int) -> Bool {
        width <= maxImageSide && height <= maxImageSide && width * height <= maxImagePixels
    }

    /// A PNG too large at `scale`: SVG or PDF, and a smaller scale only if
    /// one of at least 0.5 pixels per point (36 DPI) would fit.
    static func imageAdvice(width: Int, height: Int, scale: Double) -> [FigureAdvice] {
        let bySide = Double(maxImageSide) / Double(max(width, height, 1))
        let byArea = (Double(maxImagePixels) / max(Double(width) * Double(height), 1)).squareRoot()
        let fittingScale = scale * min(bySide, byArea)
        return fittingScale >= 0.5 ? [.vectorFormat, .smallerScale] : [.vectorFormat]
    }

    public var description: String { description(advising: \.description) }

    /// The message, with each piece of advice worded by `word` (the CLI words them as flags).
    public func description(advising word: (FigureAdvice) -> String) -> String {
        func advise(_ advice: [FigureAdvice]) -> String {
            advice.isEmpty ? "" : " Try: " + advice.map(word).joined(separator: "; ") + "."
        }
        switch self {
        case .unknownExtension(let path):
            return "cannot tell the figure format from '\(path)': use one of .png, .svg, .pdf, .dot, .json, .html"
        case .unwritable(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        case .emptyGraph:
            return "the graph has no nodes: there is nothing to draw"
        case .tooLarge(let boxes, let limit, let advice):
            return "the figure would have \(boxes) boxes, more than the \(limit) that are laid out and drawn in reasonable time." + advise(advice)
        case .layoutFailed(let message):
            return "Graphviz could not lay out the figure: \(message)"
        case .layoutTimedOut(let seconds, let boxes, let advice):
            return "Graphviz did not finish laying out the figure's \(boxes) boxes within \(formatNumber(seconds)) s and was given up." + advise(advice)
        case .layoutCrashed(let signal, let boxes, let advice):
            return "Graphviz crashed (\(signalName(signal))) laying out the figure's \(boxes) boxes; nothing was written." + advise(advice)
        case .imageTooLarge(let width, let height, let predicted, let advice):
            let limit = width > Self.maxImageSide || height > Self.maxImageSide
                ? "Cairo's limit of \(Self.maxImageSide) per side" : "the limit of \(Self.maxImagePixels / 1_000_000) million pixels"
            return "a PNG of \(predicted ? "at least " : "")\(width)×\(height) pixels exceeds \(limit)." + advise(advice)
        case .drawingFailed(let message):
            return "Cairo could not draw the figure: \(message)"
        case .encodingFailed(let message):
            return "could not encode the figure as JSON: \(message)"
        case .invalidOption(let message):
            return message
        }
    }
}

/// `SIGSEGV` for 11: the names of the signals a layout can die by.
func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGSEGV: "SIGSEGV, most likely a stack overflow"
    case SIGBUS: "SIGBUS"
    case SIGABRT: "SIGABRT, most likely out of memory"
    case SIGKILL: "SIGKILL"
    case SIGILL: "SIGILL"
    case SIGFPE: "SIGFPE"
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    default: "signal \(signal)"
    }
}
