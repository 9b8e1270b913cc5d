import CCairo
import ChainruleCore
import Foundation

/// The file formats a figure can be written as, told by the output's extension.
public enum FigureFormat: String, Sendable, CaseIterable {
    case png, svg, pdf, dot, json
    /// The interactive page (`InteractivePage`).
    case html

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
    /// collapsed to one box per layer when it has layers; otherwise refused,
    /// with the styles that would fit. Runs in time linear in the graph,
    /// before anything is measured or laid out.
    public static func fittedOptions(graph: Graph, options: FigureOptions) throws(FigureError) -> (options: FigureOptions, notes: [String]) {
        guard graph.count > 0 else { throw .emptyGraph }
        let boxes = estimatedBoxes(graph: graph, options: options)
        let fits = { (options: FigureOptions) in estimatedBoxes(graph: graph, options: options) <= boxLimit(graph: graph, options: options) }
        if fits(options) { return (options, []) }
        var collapsed = options
        collapsed.style = .model
        collapsed.view = .layers
        let askedForLayers = options.style == .model && options.view == .layers
        if !graph.layers.isEmpty && !askedForLayers && fits(collapsed) {
            return (collapsed, ["the graph has \(graph.count) nodes, too many to draw one by one: drawn as one box per layer (--style model --view layers)"])
        }
        var advice: [FigureAdvice] = []
        var record = options
        record.style = .record
        if options.style == .circuit && fits(record) { advice.append(.recordStyle) }
        var model = options
        model.style = .model
        model.view = .ops
        if options.style != .model && fits(model) { advice.append(.modelStyle) }
        if advice.isEmpty { advice.append(.smallerGraph) }
        advice.append(.writeDot)
        throw .tooLarge(boxes: boxes, limit: boxLimit(graph: graph, options: options), advice: advice)
    }

    /// The most boxes `graph` may be drawn with in `options`:
    /// `options.maxBoxes`, and no more than `GraphvizLayout.maxBoxes` when
    /// the model style frames layers, which only Graphviz lays out
    /// (`RankLayout.takesOver`).
    static func boxLimit(graph: Graph, options: FigureOptions) -> Int {
        let framed = options.style == .model && !graph.layers.isEmpty && (options.view == .ops || !options.expandedLayers.isEmpty)
        return framed ? min(options.maxBoxes, GraphvizLayout.maxBoxes) : options.maxBoxes
    }

    /// How many boxes (Graphviz nodes) the scene will have, without building it:
    /// value and op boxes, copies of shared leaves, wire labels.
    static func estimatedBoxes(graph: Graph, options: FigureOptions) -> Int {
        var uses = [Int](repeating: 0, count: graph.count)
        for node in graph.nodes { for input in node.inputs { uses[input.index] += 1 } }
        let edges = uses.reduce(0, +)
        let ops = graph.nodes.reduce(0) { $0 + ($1.op == nil ? 0 : 1) }
        // A leaf read by several ops, or a value read by many, is drawn once per use
        // (a copied gate also ends in its name on a labelled wire: two boxes more).
        var copies = 0, copiedGates = 0
        for node in graph.nodes where uses[node.id.index] > (node.op == nil ? 1 : SceneBuilder.copiedFanOut) {
            copies += uses[node.id.index] - (node.op == nil ? 1 : 0)
            if node.op != nil { copiedGates += 1 }
        }
        switch options.style {
        case .circuit: return graph.count + copies + edges + 2 * copiedGates + 2
        case .record: return graph.count + copies + ops
        case .model:
            if options.view == .ops { return graph.count + copies + edges }
            let grouped = graph.nodes.reduce(0) { $0 + ($1.layer == nil ? 1 : 0) } + graph.layers.count
            return grouped * 2 + copies
        }
    }

    /// What to suggest when the layout of `graph` drawn with `options` fails
    /// or passes its deadline: a view with fewer boxes, and DOT.
    static func layoutAdvice(graph: Graph, options: FigureOptions) -> [FigureAdvice] {
        var advice: [FigureAdvice] = []
        if !graph.layers.isEmpty && !(options.style == .model && options.view == .layers) { advice.append(.layerView) }
        if graph.layers.isEmpty && options.style != .model { advice.append(.modelStyle) }
        return advice + [.writeDot]
    }

    /// Refuses, before layout, a PNG that cannot fit Cairo's 32,767-pixel side:
    /// along the flow, every chain of boxes is at least as long as its boxes
    /// and the rank gaps between them, so the longest chain bounds the width
    /// (left to right) or height (top to bottom) from below — divided by
    /// `maxRows` when the layout will be wrapped into at most that many rows,
    /// and only the longest box when into any number (nil, `RankLayout`); and
    /// the boxes' total area bounds the pixel count (spread in `fit`'s aspect
    /// when the rows are not bounded).
    static func checkImageFits(_ scene: Scene, scale: Double, graph: Graph, maxRows: Int?, fit: FitTarget) throws(FigureError) {
        let lr = scene.direction == .LR
        let position = Dictionary(scene.nodes.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        var successors = [[Int]](repeating: [], count: scene.nodes.count)
        var pending = [Int](repeating: 0, count: scene.nodes.count)
        for edge in scene.edges {
            guard let from = position[edge.from], let to = position[edge.to] else { continue }
            successors[from].append(to)
            pending[to] += 1
        }
        let extent = scene.nodes.map { lr ? $0.size.width : $0.size.height }
        var longest = extent
        var ready = scene.nodes.indices.filter { pending[$0] == 0 }
        while let node = ready.popLast() {
            for next in successors[node] {
                longest[next] = max(longest[next], longest[node] + scene.rankSeparation + extent[next])
                pending[next] -= 1
                if pending[next] == 0 { ready.append(next) }
            }
        }
        let across = scene.nodes.map { lr ? $0.size.height : $0.size.width }.max() ?? 0
        let margins = 2 * scene.theme.margin
        let title = scene.titleBlock.map { $0.size.height + scene.theme.padding * 2 } ?? 0
        let along = (maxRows.map { (longest.max() ?? 0) / Double($0) } ?? (extent.max() ?? 0)) + margins + (lr ? 0 : title)
        let side = across + margins + (lr ? title : 0)
        let pixels = { (points: Double) in points.isFinite ? Int(min(points * scale, 1e9).rounded(.up)) : Int(1e9) }
        var (width, height) = lr ? (pixels(along), pixels(side)) : (pixels(side), pixels(along))
        // Boxes never overlap, so the figure holds at least their area: however
        // the rows wrap, it bounds the pixel count from below.
        let area = scene.nodes.reduce(0) { $0 + $1.size.width * $1.size.height } * scale * scale
        if maxRows == nil {
            let aspect = fit.width / fit.height
            width = max(width, pixels((area * aspect).squareRoot() / scale))
            height = max(height, pixels((area / aspect).squareRoot() / scale))
        }
        if Double(width) * Double(height) < area { height = Int(min(area / Double(max(width, 1)), 1e9).rounded(.up)) }
        guard FigureError.imageFits(width: width, height: height) else {
            var advice = FigureError.imageAdvice(width: width, height: height, scale: scale)
            if !graph.layers.isEmpty { advice.append(.layerView) }
            throw .imageTooLarge(width: width, height: height, predicted: true, advice: advice)
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

    /// Scene and layout together, after fitting the options to the graph's
    /// size, and the figure to its target (`fittedLayout`); the layout runs
    /// as `options.layout` says. With `svg(_:)` this is the whole figure in
    /// memory, nothing written to disk.
    public static func layout(graph: Graph, output: NodeID, options: FigureOptions) throws(FigureError) -> LaidOutScene {
        let fitted = try fittedOptions(graph: graph, options: options)
        return try fittedLayout(graph: graph, output: output, options: fitted.options).laidOut
    }

    /// Graphviz's layout of `scene` (each op's operand a rank before its side
    /// inputs where `options.fitChoice.spreadsInputs` says so, as the box
    /// contents were built for), wrapped in snake order to fill
    /// `options.fit` in the model and record styles; a circuit keeps its one
    /// line unless that reads below 14 pt there (`CircuitWrap`). A scene too big for
    /// Graphviz gets `RankLayout`'s, wrapped into as many rows as fill the
    /// fit, in every style.
    static func layout(_ scene: Scene, graph: Graph, options: FigureOptions) throws(FigureError) -> LaidOutScene {
        if RankLayout.takesOver(scene) { return RankLayout.wrap(try RankLayout.layout(scene), into: options.fit).fittingTitle(to: options.fit) }
        let laidOut = try GraphvizLayout.layout(scene, limits: options.layout, advice: layoutAdvice(graph: graph, options: options),
                                                spreadsInputs: options.fitChoice.spreadsInputs)
        return (options.style == .circuit ? CircuitWrap.wrap(laidOut, into: options.fit) : RowWrap.wrap(laidOut, into: options.fit)).fittingTitle(to: options.fit)
    }

    /// How `laidOut` reads on `options.fit`, with what to do when its text is below 14 pt:
    /// one box per layer if the graph has layers and is not drawn so, else a smaller graph.
    public static func slideFit(_ laidOut: LaidOutScene, graph: Graph, options: FigureOptions) -> (fit: SlideFit, advice: [FigureAdvice]) {
        let fit = SlideFit(laidOut, target: options.fit)
        guard !fit.isReadable else { return (fit, []) }
        let layered = options.style == .model && options.view == .layers
        return (fit, [!graph.layers.isEmpty && !layered ? .layerView : .smallerGraph])
    }

    /// Writes the figure to `path` in the format its extension names. Writes a
    /// temporary file beside it and renames it: on any error no partial file
    /// is left. DOT needs no layout, so it is written even for a graph too
    /// big to lay out. Returns notes for the user (a collapsed view).
    @discardableResult
    public static func write(graph: Graph, output: NodeID, options: FigureOptions, to path: String) throws(FigureError) -> [String] {
        try writeMeasured(graph: graph, output: output, options: options, to: path).notes
    }

    /// What writing a figure found out: notes for the user (a collapsed view),
    /// and how the figure reads on its target with advice if it reads badly
    /// (nil for DOT, which has no layout).
    public struct Written: Sendable {
        public var notes: [String]
        public var slideFit: SlideFit?
        public var advice: [FigureAdvice]
    }

    /// `write`, also measuring the figure on `options.fit`.
    public static func writeMeasured(graph: Graph, output: NodeID, options: FigureOptions, to path: String) throws(FigureError) -> Written {
        let format = try FigureFormat(path: path)
        var notes: [String] = []
        var measured: (fit: SlideFit, advice: [FigureAdvice])?
        try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
            let fitted: (options: FigureOptions, notes: [String])
            do throws(FigureError) {
                fitted = try fittedOptions(graph: graph, options: options)
            } catch {
                guard format == .dot, case .tooLarge = error else { throw error }
                fitted = (options, [])
            }
            notes = fitted.notes
            let layout = { (check: (Scene) throws(FigureError) -> Void) throws(FigureError) -> (LaidOutScene, FigureOptions) in
                let (_, laidOut, used) = try fittedLayout(graph: graph, output: output, options: fitted.options, check: check)
                measured = slideFit(laidOut, graph: graph, options: used)
                return (laidOut, used)
            }
            switch format {
            case .dot:
                try SafeWrite.data(Data(Export.dot(try scene(graph: graph, output: output, options: fitted.options)).utf8), to: temporary)
            case .json:
                let (laidOut, used) = try layout { _ in }
                let data: Data
                do { data = try Export.json(graph: graph, output: output, options: used, laidOut: laidOut) } catch {
                    throw FigureError.encodingFailed("\(error)")
                }
                try SafeWrite.data(data, to: temporary)
            case .html:
                let page = try InteractivePage.html(graph: graph, output: output, options: options)
                notes = page.notes
                try SafeWrite.data(Data(page.html.utf8), to: temporary)
            case .png, .svg, .pdf:
                let (laidOut, used) = try layout { (scene) throws(FigureError) in
                    guard format == .png else { return }
                    let maxRows = RankLayout.takesOver(scene) ? nil : fitted.options.style == .circuit ? 1 : RowWrap.maxRows
                    try checkImageFits(scene, scale: fitted.options.scale, graph: graph, maxRows: maxRows, fit: fitted.options.fit)
                }
                let drawn = DrawnFormat(rawValue: format.rawValue)!  // the three cases share their names
                try CairoOutput.write(drawing(laidOut), as: drawn, scale: used.scale, to: temporary)
            }
        }
        return Written(notes: notes, slideFit: measured?.fit, advice: measured?.advice ?? [])
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
