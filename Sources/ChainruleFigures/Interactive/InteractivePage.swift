import ChainruleCheck
import ChainruleCore
import Foundation

/// Facts the interactive page shows that the graph does not hold.
public struct PageSource: Sendable {
    /// The program's text and file, for the source line of each node (a node
    /// made in another file, through `load`, is read from that file).
    public var text: String?
    public var file: String?
    /// For each op written in the program (an `op` block), where the backward
    /// clause of each input is written: what a failed check points at.
    public var ruleLocations: [String: [SourceLocation]]

    public init(text: String? = nil, file: String? = nil, ruleLocations: [String: [SourceLocation]] = [:]) {
        self.text = text
        self.file = file
        self.ruleLocations = ruleLocations
    }
}

/// The state of training at the end of one epoch, as `train --html` records
/// it: the page's epoch slider replays these values and gradients on the
/// graph beside the loss curve.
public struct TrainingSnapshot: Sendable {
    public var epoch: Int
    public var loss: Double
    /// Values (weights, activations) and gradients of the nodes recorded; a
    /// node not recorded shows the graph's own.
    public var values: [NodeID: Tensor]
    public var gradients: [NodeID: Tensor]

    public init(epoch: Int, loss: Double, values: [NodeID: Tensor], gradients: [NodeID: Tensor] = [:]) {
        self.epoch = epoch
        self.loss = loss
        self.values = values
        self.gradients = gradients
    }
}

/// `chainrule render FILE -o graph.html`: one self-contained page (no network
/// access, its script and styles inline) with the static figure's SVG drawing
/// and layout, made interactive: hover, tensor panels, expanding layers,
/// stepping through the backward pass, the check overlay, search, zoom.
public enum InteractivePage {
    /// A graph with up to this many layers gets one view per layer with that
    /// layer expanded, and views with several expanded (each laid out by
    /// Graphviz here, none in the browser); beyond, its layers view and its ops view only.
    public static let maxExpandedViews = 12
    /// The most views with two or more (not all) layers expanded, and the
    /// most bytes their drawings may add together (estimated before laying them out).
    public static let maxCombinedViews = 30
    public static let combinedViewBytes = 500_000
    /// The most cells a side of a drawn heatmap shows on the page (see `FigureOptions.heatmapSide`).
    public static let heatmapSide = 8
    /// The most backward steps the page walks; a longer sequence is left out with a note.
    public static let maxSteps = 2000

    /// The most training snapshots a page is meant to hold (`train --html` spaces them out beyond).
    public static let maxSnapshots = 50
    /// The most bytes the snapshots are meant to add to a page together: 1.5 MB.
    public static let snapshotBudget = 1_500_000

    /// The bytes `snapshot` adds to a page: the length of its JSON.
    public static func pageBytes(of snapshot: TrainingSnapshot) -> Int {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = NonFiniteJSON.encoding
        return (try? encoder.encode(PageSnapshot(snapshot)).count) ?? 0
    }

    /// The page as one HTML document, and notes for the user (a view left out).
    /// The graph holds its forward pass and, for gradients, its backward.
    public static func html(graph: Graph, output: NodeID, options: FigureOptions, source: PageSource = PageSource(),
                            snapshots: [TrainingSnapshot] = []) throws(FigureError) -> (html: String, notes: [String]) {
        var builder = PageBuilder(graph: graph, output: output, options: options, source: source)
        let data = try builder.build(snapshots: snapshots)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = NonFiniteJSON.encoding
        let json: String
        do { json = String(decoding: try encoder.encode(data), as: UTF8.self) } catch {
            throw .encodingFailed("\(error)")
        }
        return (document(title: data.title, json: json), builder.notes)
    }

    /// Writes the page to `path` whole or not at all. Returns notes for the user.
    @discardableResult
    public static func write(graph: Graph, output: NodeID, options: FigureOptions, source: PageSource = PageSource(),
                             snapshots: [TrainingSnapshot] = [], to path: String) throws(FigureError) -> [String] {
        var notes: [String] = []
        try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
            let page = try html(graph: graph, output: output, options: options, source: source, snapshots: snapshots)
            notes = page.notes
            try SafeWrite.data(Data(page.html.utf8), to: temporary)
        }
        return notes
    }

    /// The page skeleton with its styles, data and script inline. The JSON
    /// cannot close its `<script>` early: the encoder writes `/` as `\/`.
    static func document(title: String, json: String) -> String {
        let template = String(decoding: PackageResources.viewer_html, as: UTF8.self)
        let fills = ["{{title}}": xmlEscaped(title), "{{style}}": String(decoding: PackageResources.viewer_css, as: UTF8.self),
                     "{{data}}": json, "{{script}}": String(decoding: PackageResources.viewer_js, as: UTF8.self)]
        var out = "", rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            let marker = String(rest[open.lowerBound..<close.upperBound])
            out += rest[..<open.lowerBound]
            out += fills[marker] ?? marker
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
