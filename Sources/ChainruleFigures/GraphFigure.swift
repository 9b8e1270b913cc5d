import CCairo
import ChainruleCore
import Foundation

/// The file formats a figure can be written as, told by the output's extension.
public enum FigureFormat: String, Sendable, CaseIterable {
    case png, svg, pdf, dot, json

    public init(path: String) throws(FigureError) {
        guard let format = FigureFormat(rawValue: (path as NSString).pathExtension.lowercased()) else {
            throw .unknownExtension(path: path)
        }
        self = format
    }
}

/// A drawn figure in memory (a Cairo image surface), ready to be written as PNG.
/// Keep it on one thread.
public final class FigureImage {
    let surface: OpaquePointer
    public let width: Int
    public let height: Int

    init(surface: OpaquePointer, width: Int, height: Int) {
        self.surface = surface
        self.width = width
        self.height = height
    }

    deinit { cairo_surface_destroy(surface) }

    /// Encodes the image as PNG at `path`.
    public func writePNG(to path: String) throws(FigureError) {
        let status = cairo_surface_write_to_png(surface, path)
        guard status == CAIRO_STATUS_SUCCESS else { throw .unwritable(path: path, reason: String(cString: cairo_status_to_string(status))) }
    }
}

/// Figures of computation graphs: graph → scene → Graphviz layout → drawing.
public enum GraphFigure {
    /// The options actually used for `graph`: a graph too big for its style is
    /// collapsed to one box per layer when it has layers; otherwise refused.
    /// Runs in time linear in the graph, before anything is measured or laid out.
    public static func fittedOptions(graph: Graph, options: FigureOptions) throws(FigureError) -> (options: FigureOptions, notes: [String]) {
        guard graph.count > 0 else { throw .emptyGraph }
        let boxes = estimatedBoxes(graph: graph, options: options)
        if boxes <= options.maxBoxes { return (options, []) }
        var collapsed = options
        collapsed.style = .model
        collapsed.view = .layers
        let collapsedBoxes = estimatedBoxes(graph: graph, options: collapsed)
        if !graph.layers.isEmpty && collapsedBoxes <= options.maxBoxes && !(options.style == .model && options.view == .layers) {
            return (collapsed, ["the graph has \(graph.count) nodes, too many to draw one by one: drawn as one box per layer (--style model --view layers)"])
        }
        var record = options
        record.style = .record
        let advice: String
        if options.style == .circuit && estimatedBoxes(graph: graph, options: record) <= options.maxBoxes {
            advice = "The record style needs fewer boxes: try --style record."
        } else if graph.layers.isEmpty {
            advice = "Draw a smaller graph (one sample instead of a batch, fewer steps), or write the graph with layers so it can be drawn one box per layer (--style model --view layers)."
        } else {
            advice = "Even one box per layer is too many; draw a smaller part of the model."
        }
        throw .tooLarge(nodes: min(boxes, collapsedBoxes), limit: options.maxBoxes, advice: advice)
    }

    /// How many boxes (Graphviz nodes) the scene will have, without building it:
    /// value and op boxes, copies of shared leaves, wire labels.
    static func estimatedBoxes(graph: Graph, options: FigureOptions) -> Int {
        var uses = [Int](repeating: 0, count: graph.count)
        for node in graph.nodes { for input in node.inputs { uses[input.index] += 1 } }
        let edges = uses.reduce(0, +)
        let ops = graph.nodes.reduce(0) { $0 + ($1.op == nil ? 0 : 1) }
        // Shared parameters and constants are drawn once per use.
        let copies = graph.nodes.reduce(0) { total, node in
            total + ((node.role == .param || node.role == .constant) && uses[node.id.index] > 1 ? uses[node.id.index] - 1 : 0)
        }
        switch options.style {
        case .circuit: return graph.count + copies + edges + 2
        case .record: return graph.count + copies + ops
        case .model:
            if options.view == .ops { return graph.count + edges }
            let grouped = graph.nodes.reduce(0) { $0 + ($1.layer == nil ? 1 : 0) } + graph.layers.count
            return grouped * 2
        }
    }

    /// The scene of `graph` in `options.style`, with every box measured.
    /// Pass the options from `fittedOptions` for graphs of unknown size.
    public static func scene(graph: Graph, output: NodeID, options: FigureOptions) throws(FigureError) -> Scene {
        guard graph.count > 0 else { throw .emptyGraph }
        var builder = SceneBuilder(graph: graph, output: output, options: options)
        switch options.style {
        case .circuit: builder.buildCircuit()
        case .record: builder.buildRecord()
        case .model: builder.buildModel()
        }
        return builder.finish()
    }

    /// Scene and layout together, after fitting the options to the graph's size.
    public static func layout(graph: Graph, output: NodeID, options: FigureOptions) throws(FigureError) -> LaidOutScene {
        let fitted = try fittedOptions(graph: graph, options: options)
        return try GraphvizLayout.layout(scene(graph: graph, output: output, options: fitted.options))
    }

    /// Writes the figure to `path` in the format its extension names. Writes a
    /// temporary file beside it and renames it: on any error no partial file
    /// is left. Returns notes for the user (a collapsed view).
    @discardableResult
    public static func write(graph: Graph, output: NodeID, options: FigureOptions, to path: String) throws(FigureError) -> [String] {
        let format = try FigureFormat(path: path)
        var notes: [String] = []
        try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
            let fitted = try fittedOptions(graph: graph, options: options)
            notes = fitted.notes
            let scene = try scene(graph: graph, output: output, options: fitted.options)
            switch format {
            case .dot:
                try SafeWrite.data(Data(Export.dot(scene).utf8), to: temporary)
            case .json:
                let laidOut = try GraphvizLayout.layout(scene)
                let data: Data
                do { data = try Export.json(graph: graph, output: output, options: fitted.options, laidOut: laidOut) } catch {
                    throw FigureError.encodingFailed("\(error)")
                }
                try SafeWrite.data(data, to: temporary)
            case .png, .svg, .pdf:
                let drawn = DrawnFormat(rawValue: format.rawValue)!  // the three cases share their names
                try CairoOutput.write(drawing(try GraphvizLayout.layout(scene)), as: drawn, scale: fitted.options.scale, to: temporary)
            }
        }
        return notes
    }


    // MARK: Backends

    static func drawing(_ laidOut: LaidOutScene) -> Drawing {
        Drawing(size: laidOut.size, theme: laidOut.scene.theme) { Painter(laidOut: laidOut).paint(on: $0) }
    }

    /// The figure as an SVG document with text kept as `<text>`.
    public static func svg(_ laidOut: LaidOutScene) -> String {
        CairoOutput.svg(drawing(laidOut))
    }

    /// Writes a PNG at `scale` pixels per point.
    public static func png(_ laidOut: LaidOutScene, scale: Double, to path: String) throws(FigureError) {
        try raster(laidOut, scale: scale).writePNG(to: path)
    }

    /// Draws the figure into an image in memory at `scale` pixels per point.
    public static func raster(_ laidOut: LaidOutScene, scale: Double) throws(FigureError) -> FigureImage {
        try CairoOutput.raster(drawing(laidOut), scale: scale)
    }

    /// Writes a PDF with one page per figure, each page at its figure's
    /// natural size (a step-by-step backward pass, one step per page).
    public static func pdf(pages: [LaidOutScene], to path: String) throws(FigureError) {
        try CairoOutput.pdf(pages: pages.map(drawing), to: path)
    }
}
