/// Why a figure could not be made. Every message says what went wrong and what would work.
public enum FigureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output path's extension is not a format we write.
    case unknownExtension(path: String)
    /// The output could not be written there.
    case unwritable(path: String, reason: String)
    /// There is nothing to draw.
    case emptyGraph
    /// The graph is too big for Graphviz to lay out in reasonable time.
    case tooLarge(nodes: Int, limit: Int, advice: String)
    /// Graphviz refused or failed.
    case layoutFailed(String)
    /// A PNG would exceed Cairo's 32,767-pixel side.
    case imageTooLarge(width: Int, height: Int)
    /// Cairo reported an error while drawing.
    case drawingFailed(String)
    /// The JSON export could not be encoded.
    case encodingFailed(String)
    /// A `--labels` entry or another option value we do not know.
    case invalidOption(String)

    public var description: String {
        switch self {
        case .unknownExtension(let path):
            return "cannot tell the figure format from '\(path)': use one of .png, .svg, .pdf, .dot, .json"
        case .unwritable(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        case .emptyGraph:
            return "the graph has no nodes: there is nothing to draw"
        case .tooLarge(let nodes, let limit, let advice):
            return "the figure would have \(nodes) boxes; Graphviz's layout is only safe up to \(limit) (it slows super-linearly and can hang on long edges). \(advice)"
        case .layoutFailed(let message):
            return "Graphviz could not lay out the figure: \(message)"
        case .imageTooLarge(let width, let height):
            return "a PNG of \(width)×\(height) pixels exceeds Cairo's limit of 32767 per side: use a smaller --scale, or write .svg or .pdf"
        case .drawingFailed(let message):
            return "Cairo could not draw the figure: \(message)"
        case .encodingFailed(let message):
            return "could not encode the figure as JSON: \(message)"
        case .invalidOption(let message):
            return message
        }
    }
}
