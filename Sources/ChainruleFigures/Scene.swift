import ChainruleCore

/// A point in figure coordinates: points (1/72 inch), origin top-left, y down.
public struct Point: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

public struct Size: Sendable, Equatable, Codable {
    public var width: Double
    public var height: Double
    public init(_ width: Double, _ height: Double) {
        self.width = width
        self.height = height
    }
}

/// A rectangle in figure coordinates (y down).
public struct Rect: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public init(center: Point, size: Size) {
        self.init(x: center.x - size.width / 2, y: center.y - size.height / 2, width: size.width, height: size.height)
    }

    public var center: Point { Point(x + width / 2, y + height / 2) }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }

    /// True when the interiors meet (touching edges do not count).
    public func overlaps(_ other: Rect) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }

    /// True when `other` lies inside (edges may touch).
    public func contains(_ other: Rect) -> Bool {
        other.x >= x - 1e-9 && other.y >= y - 1e-9 && other.maxX <= maxX + 1e-9 && other.maxY <= maxY + 1e-9
    }
}

/// How a piece of text looks.
public struct TextStyle: Sendable, Equatable {
    public var color: RGB
    public var size: Double
    public var bold: Bool
    public init(color: RGB, size: Double, bold: Bool = false) {
        self.color = color
        self.size = size
        self.bold = bold
    }
}

/// A small grid of cells coloured by value: a tensor's thumbnail.
public struct Heatmap: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    /// Row-major cell colours.
    public var colors: [RGB]
    /// A cell's width and height (points): square for a picture, as wide as
    /// its number and one line tall for numbered cells.
    public var cellWidth: Double
    public var cellHeight: Double
    /// Numbers written in the cells (a small tensor's values), row-major, or none.
    public var labels: [CellLabel] = []
    /// Side of the pooling windows outlined on the cells (0: none).
    public var windowSide: Int = 0
    /// Cells marked as their window's winner (row-major indices).
    public var marked: [Int] = []

    /// Square cells of side `cell`, or `cellWidth` × `cellHeight`.
    public init(rows: Int, columns: Int, colors: [RGB], cell: Double, cellHeight: Double? = nil) {
        self.rows = rows
        self.columns = columns
        self.colors = colors
        cellWidth = cell
        self.cellHeight = cellHeight ?? cell
    }
}

/// A number in a heatmap cell, measured, so the painter can centre it.
public struct CellLabel: Sendable, Equatable {
    public var text: String
    public var style: TextStyle
    public var width: Double
    public var ascent: Double
    public var height: Double
}

/// The content of a node: text, heatmaps, and rows or columns of them.
/// Every block knows its measured size (points) from the moment it is made.
public struct Block: Sendable {
    public enum Kind: Sendable {
        /// One line of text; `ascent` places the baseline below the top.
        case text(String, TextStyle, ascent: Double)
        case heatmap(Heatmap)
        /// Children side by side; `dividers` draws a line between cells (a record).
        case row(dividers: Bool)
        /// Children stacked, centred horizontally.
        case column(dividers: Bool)
        case spacer
    }

    public var kind: Kind
    public var children: [Block]
    public var size: Size

    /// Every text in reading order (for tests and exports).
    public var texts: [String] {
        if case .text(let s, _, _) = kind { return [s] }
        return children.flatMap(\.texts)
    }
}

/// The outline of a node.
public enum NodeShape: String, Sendable, Codable {
    /// A rounded rectangle.
    case box
    /// A circle (circuit gates, record-style op nodes).
    case circle
    /// No outline: the content alone (circuit inputs and outputs).
    case plain
    /// A wire label: no outline, and the wire runs through its middle.
    case wireLabel
}

/// How a node's outline is drawn, so a check result reads without its colour:
/// passing nodes have one line, kinks two, failures one heavy line.
public enum OutlineStyle: String, Sendable, Codable {
    case single
    /// Two thin lines, the inner one inset by `OutlineStyle.doubleGap`.
    case double
    /// One line of `OutlineStyle.heavyWidth`.
    case heavy

    public static let doubleGap = 3.0
    public static let heavyWidth = 4.0
}

/// What a scene node stands for.
public enum SceneNodeKind: String, Sendable, Codable {
    case leaf, op, value, layer, wireLabel, terminal
    /// The dot where a value's wire splits into the wires of its readers.
    case fork
}

public struct SceneNode: Sendable {
    /// Unique within the scene; also the Graphviz node name.
    public var key: String
    public var kind: SceneNodeKind
    /// The graph node it draws, if any (a layer box draws many; wire labels none).
    public var node: NodeID?
    public var shape: NodeShape
    public var content: Block
    public var size: Size
    public var fill: RGB?
    public var stroke: RGB
    public var strokeWidth: Double
    /// Index into `Scene.clusters`.
    public var cluster: Int?
    /// Diagonal hatching over the fill: weights that do not learn (frozen).
    public var hatched = false
    /// The graph layer a model-style stage box draws (its `node` is the
    /// stage's output, which may be an op after the layer, as conv → relu → pool).
    public var layer: Int?
    public var outline: OutlineStyle = .single
    /// Keep the inputs in their order along the rank (first operand on top,
    /// or leftmost top to bottom): Graphviz's `ordering=in`.
    public var ordersInputs = false
}

public struct SceneEdge: Sendable {
    public var from: String
    public var to: String
    public var color: RGB
    public var width: Double
    public var arrow: Bool
    /// How hard `dot` pulls the edge short and straight (Graphviz's `weight`, default 1).
    public var weight: Int = 1
}

/// A group of nodes drawn inside one frame with a title (a layer).
public struct SceneCluster: Sendable {
    public var key: String
    public var title: String
}

/// The flow direction: left to right or top to bottom.
public enum Direction: String, Sendable, CaseIterable {
    case LR, TB
}

/// What to draw, before layout: boxes with measured sizes, edges, clusters.
public struct Scene: Sendable {
    public var nodes: [SceneNode]
    public var edges: [SceneEdge]
    public var clusters: [SceneCluster]
    public var direction: Direction
    public var title: String?
    /// The heading drawn above the graph: the title's lines and `titleNote`.
    public var titleBlock: Block?
    /// What the heading shows under the title (the model style's parameter count).
    public var titleNote: Block? = nil
    public var theme: Theme
    /// Space between ranks and between nodes of a rank (points).
    public var rankSeparation: Double
    public var nodeSeparation: Double
    /// Space between the rows of a layout wrapped in snake order (`RowWrap`), where the wires between rows turn (points).
    public var rowSeparation: Double
}

/// A node with its place on the canvas.
public struct PlacedNode: Sendable {
    public var node: SceneNode
    public var frame: Rect
}

/// An edge as a cubic Bézier path (3n+1 points) and an optional arrow tip.
public struct PlacedEdge: Sendable {
    public var edge: SceneEdge
    public var points: [Point]
    public var arrowTip: Point?
}

public struct PlacedCluster: Sendable {
    public var cluster: SceneCluster
    public var frame: Rect
}

/// A scene after layout: everything in figure coordinates (y down).
public struct LaidOutScene: Sendable {
    public var scene: Scene
    public var size: Size
    public var nodes: [PlacedNode]
    public var edges: [PlacedEdge]
    public var clusters: [PlacedCluster]
    /// Where the title's block goes, if there is a title.
    public var titleFrame: Rect?
}
