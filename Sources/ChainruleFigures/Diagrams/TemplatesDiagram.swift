import ChainruleCore
import Foundation

/// A linear classifier's weights read as images: W [classes, C·H·W], each row a picture.
public struct ClassifierTemplates: Sendable {
    /// `rows[k]` is class k's row of W.
    public var rows: [[Double]]
    /// Channels (1 or 3), height and width of one picture; a row is read channel by channel (CHW, as `flatten` of NCHW lays it out).
    public var channels: Int, height: Int, width: Int
    /// The binding the weights came from.
    public var name: String

    /// The W of the program's first linear op. The picture's shape is the input's
    /// before `flatten` when the linear reads a flattened image, else the square that
    /// the row length is: s×s (64 = 8×8) or 3×s×s (3072 = 3×32×32).
    public init(_ program: FigureProgram) throws(FigureError) {
        let graph = program.graph
        guard let linear = graph.nodes.first(where: { $0.op?.name == "linear" }) else {
            throw .invalidOption("\(program.name) has no linear layer: templates draws the rows of W of linear(x, W, b) or Linear(x, classes)")
        }
        let weight = graph[linear.inputs[1]]
        guard let w = weight.value else { throw .invalidOption("\(program.name): \(weight.displayName) has no value (run the program forward first)") }
        let (classes, features) = (w.shape[0], w.shape[1])
        guard classes <= 20 else { throw .invalidOption("\(weight.displayName) has \(classes) rows; templates draws at most 20 classes") }
        let input = graph[linear.inputs[0]]
        if input.op?.name == "flatten", let image = input.inputs.first.map({ graph[$0].shape }), image.count == 4, [1, 3].contains(image[1]) {
            (channels, height, width) = (image[1], image[2], image[3])
        } else if let side = Self.side(features / 3), features % 3 == 0 {
            (channels, height, width) = (3, side, side)
        } else if let side = Self.side(features) {
            (channels, height, width) = (1, side, side)
        } else {
            throw .invalidOption("\(weight.displayName) is \(describeShape(w.shape)): its rows of \(features) numbers are not images; templates reads s×s (64 = 8×8) or 3×s×s (3072 = 3×32×32)")
        }
        guard height <= Self.maxSide && width <= Self.maxSide else {
            throw .invalidOption("\(weight.displayName)'s rows are \(height)×\(width) pictures; templates draws pictures of at most \(Self.maxSide)×\(Self.maxSide) (a cell each per weight)")
        }
        if let bad = w.data.firstIndex(where: { !$0.isFinite }) {
            throw .invalidOption("\(weight.displayName) holds \(formatNumber(w.data[bad])) (row \(bad / features)): templates draws finite weights")
        }
        rows = (0..<classes).map { Array(w.data[($0 * features)..<(($0 + 1) * features)]) }
        name = weight.displayName
    }

    /// The largest side drawn (STL-10's 96×96 images): each weight is a cell, and past it they are too many to draw.
    public static let maxSide = 96

    /// The whole number s with s² = n, if there is one.
    static func side(_ n: Int) -> Int? {
        let s = Int(Double(n).squareRoot().rounded())
        return s > 0 && s * s == n ? s : nil
    }
}

extension Diagrams {
    /// CS231n's template view: every row of W as a picture in a grid, class k under
    /// picture k. Colour rows (3 channels) are each stretched to the full 0…255 range,
    /// as CS231n draws them; one-channel rows share one diverging scale (blue negative,
    /// red positive), so the sign of a weight stays readable and pictures compare.
    public static func templates(_ program: FigureProgram, palette: Palette = .default) throws(FigureError) -> Diagram {
        let t = try ClassifierTemplates(program)
        let pen = DiagramPen(palette: palette)
        let theme = pen.theme, u = pen.unit
        let count = t.rows.count
        let perRow = count <= 5 ? count : Int((Double(count) / 2).rounded(.up))
        let lines = Int((Double(count) / Double(perRow)).rounded(.up))
        let side = min(150 * u, 860 * u / Double(perRow) - 16 * u, (380 * u - Double(lines) * 30 * u) / Double(lines))
        let cell = side / Double(max(t.height, t.width))
        let label = pen.style(16)
        let largest = t.rows.joined().map(Swift.abs).max() ?? 1
        for (k, row) in t.rows.enumerated() {
            let x = Double(k % perRow) * (side + 16 * u), y = Double(k / perRow) * (side + 34 * u)
            let plane = t.height * t.width
            let (lo, hi) = (row.min() ?? 0, row.max() ?? 1)
            for r in 0..<t.height {
                for c in 0..<t.width {
                    let colour: RGB
                    if t.channels == 3 {
                        let scaled = (0..<3).map { hi > lo ? (row[$0 * plane + r * t.width + c] - lo) / (hi - lo) : 0.5 }
                        colour = RGB(scaled[0], scaled[1], scaled[2])
                    } else {
                        colour = theme.diverging(largest > 0 ? row[r * t.width + c] / largest : 0)
                    }
                    // A quarter point of overlap hides the seams between cells in SVG viewers.
                    pen.rect(Rect(x: x + Double(c) * cell, y: y + Double(r) * cell, width: cell + 0.25, height: cell + 0.25), fill: colour)
                }
            }
            pen.rect(Rect(x: x, y: y, width: Double(t.width) * cell, height: Double(t.height) * cell), stroke: theme.clusterStroke, width: 0.8)
            pen.text("class \(k)", x: x + side / 2, y: y + side + 15 * u, label)
        }
        let shape = t.channels == 3 ? "3×\(t.height)×\(t.width)" : "\(t.height)×\(t.width)"
        let key = t.channels == 3 ? "each stretched to its full range" : "blue negative, red positive"
        return pen.diagram(title: "Templates: the \(count) rows of \(t.name) as \(shape) pictures (\(key))", palette: palette)
    }
}
