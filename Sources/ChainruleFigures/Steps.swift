import ChainruleCore
import Foundation

/// One page of a step-by-step backward pass (`chainrule render --steps`).
///
/// The steps are the op nodes the output depends on, in reverse topological
/// order (the order `Graph.backward` visits them), output first. An op whose
/// inputs get no gradient (all constants) has nothing to send and is no step.
/// Page 0 is the forward pass with only the output's seed gradient known;
/// page k has run the backward of the first k steps.
public struct BackwardStep: Sendable, Equatable {
    /// 0 for the page before any backward step.
    public var number: Int
    /// The node whose backward runs at this step; `nil` on page 0.
    public var active: NodeID?
    /// The nodes whose backward has run, the active one included.
    public var done: Set<NodeID>
    /// The nodes whose gradient is complete: the output (its seed), and every
    /// node all of whose gradient senders are done. A node used twice is known
    /// only once both uses have sent their share.
    public var known: Set<NodeID>
}

/// What the active node sends back to one input: `upstream × local = downstream`.
///
/// Scalars are numbers written so that the equation holds as shown (more
/// decimals where the figure's precision would break it, else `≈`). Tensors:
/// upstream and downstream are their ranges, local the Jacobian's diagonal
/// range for inputs the op treats elementwise (`diag [0.00, 1.00]`, the
/// product then elementwise: `⊙`), else its size `J 20×12` (output elements ×
/// input elements); figures draw them as heatmaps.
public struct StepTerm: Sendable, Equatable {
    /// The input receiving the gradient, and its position among the node's inputs.
    public var input: NodeID
    public var position: Int
    /// The active node's gradient.
    public var upstream: String
    /// ∂out/∂input at the current values.
    public var local: String
    /// The share of the input's gradient sent along this wire.
    public var downstream: String
    /// False when the shown numbers only approximate the equation (`≈`).
    public var exact: Bool
    /// `×` for scalars and Jacobians, `⊙` for an elementwise product of tensors.
    public var product: String
    /// The tensors behind the text, for heatmaps; nil for scalars.
    public var tensors: StepTensors?

    /// `1.00 × -4.00 = -4.00`.
    public var text: String { "\(upstream) \(product) \(local) \(exact ? "=" : "≈") \(downstream)" }
}

/// A tensor step's upstream gradient, local derivative (the diagonal of an
/// elementwise op, or the whole Jacobian when it is small) and downstream gradient.
public struct StepTensors: Sendable, Equatable {
    public var upstream: Tensor
    /// Shaped like the input (a diagonal) or output elements × input elements
    /// (a Jacobian); nil for a Jacobian too large to draw.
    public var local: Tensor?
    public var downstream: Tensor
}

/// Where `--steps` writes.
public enum StepsDestination: Sendable, Equatable {
    /// One multi-page PDF.
    case pdf(path: String)
    /// PNG frames `step-00.png`, `step-01.png`, … in a folder.
    case frames(folder: String)
}

/// The backward pass drawn step by step: one page per step, all pages on one layout.
public enum BackwardSteps {
    /// The most pages written: a figure per op stops teaching long before this.
    public static let maxPages = 200

    /// Page 0 (forward only) and one page per backward step.
    /// The graph must hold its backward pass (`Graph.backward(from:)`).
    public static func steps(graph: Graph, output: NodeID) throws(FigureError) -> [BackwardStep] {
        guard graph.count > 0 else { throw .emptyGraph }
        guard graph[output].gradient != nil else {
            throw .invalidOption("a step-by-step figure shows the backward pass: run backward from \(graph[output].displayName) first (and drop --no-grad)")
        }
        // For each node, the steps that send it a gradient.
        var senders = [[NodeID]](repeating: [], count: graph.count)
        var order: [NodeID] = []
        for i in stride(from: output.index, through: 0, by: -1) {
            let node = graph.nodes[i]
            guard let op = node.op, node.gradient != nil else { continue }
            let receivers = node.inputs.indices.filter { op.isDifferentiable(input: $0) && graph[node.inputs[$0]].role != .constant }
            guard !receivers.isEmpty else { continue }
            order.append(node.id)
            for k in receivers { senders[node.inputs[k].index].append(node.id) }
        }
        var pages = [BackwardStep(number: 0, active: nil, done: [], known: [output])]
        var done: Set<NodeID> = [], known: Set<NodeID> = [output]
        for (k, id) in order.enumerated() {
            done.insert(id)
            for input in graph[id].inputs where !senders[input.index].isEmpty && senders[input.index].allSatisfy(done.contains) {
                known.insert(input)
            }
            pages.append(BackwardStep(number: k + 1, active: id, done: done, known: known))
        }
        return pages
    }

    /// `base` with the step's known gradients, highlight and written-out step.
    public static func options(for step: BackwardStep, base: FigureOptions) -> FigureOptions {
        var options = base
        options.knownGradients = step.known
        options.gradientsSent = step.done
        options.highlighted = step.active
        options.writtenStep = step.active
        return options
    }

    /// What `node`'s backward sends to each input that gets a gradient.
    public static func terms(graph: Graph, output: NodeID, at node: NodeID, options: FigureOptions = FigureOptions()) -> [StepTerm] {
        SceneBuilder(graph: graph, output: output, options: options).stepTerms(node)
    }

    /// Every page laid out on one layout: Graphviz runs once, on a scene whose
    /// every node has its largest size over all pages, and each page draws its
    /// own content there. Nothing moves from page to page: every node keeps
    /// that frame on every page, a box's content starts at its top, and the
    /// heading (title, caption and, in the record style, the written-out
    /// step) has the room of the tallest page's. The record style wraps into
    /// rows to fill `options.fit` as a single figure does; the page is widened
    /// or heightened to the fit's page shape (`FitTarget.pageAspect`, 16:9 for
    /// a slide), the figure centred.
    public static func pages(graph: Graph, output: NodeID, options: FigureOptions) throws(FigureError) -> [LaidOutScene] {
        guard options.style != .model else {
            throw .invalidOption("--steps draws every op of the backward pass; the model style groups them into layers: use --style circuit or --style record")
        }
        guard options.showGradients else {
            throw .invalidOption("--steps draws the backward pass: drop --no-grad")
        }
        let fitted = try GraphFigure.fittedOptions(graph: graph, options: options)
        guard fitted.notes.isEmpty else {
            throw .invalidOption("--steps draws every op, and this graph has \(graph.count) nodes, too many for one figure: draw a smaller graph")
        }
        let steps = try steps(graph: graph, output: output)
        guard steps.count <= maxPages else {
            throw .invalidOption("--steps would write \(steps.count) pages (one per backward step), more than \(maxPages): draw a smaller graph")
        }
        var untitled = options
        untitled.title = nil
        let measurer = TextMeasurer(theme: options.theme)
        let headingWidth = options.fit.width - 2 * options.theme.margin
        var scenes: [Scene] = []
        for step in steps {
            let pageOptions = Self.options(for: step, base: untitled)
            var scene = try GraphFigure.scene(graph: graph, output: output, options: pageOptions)
            scene.title = options.title
            let builder = SceneBuilder(graph: graph, output: output, options: pageOptions)
            var heading = [caption(step, of: steps.count - 1, graph: graph, output: output, options: options, width: headingWidth, m: measurer)]
            // The record style writes the step under the caption: inside the active box it would leave every other page's box an empty frame.
            if options.style == .record, let active = step.active, let rows = builder.stepRows(active) { heading.append(rows) }
            if let title = options.title { heading.insert(builder.titleBlock(title), at: 0) }
            scene.titleBlock = FigureTitle.leftAligned(heading, measurer: measurer)
            scenes.append(scene)
        }
        var common = scenes[0]
        var contentHeight = common.nodes.map(\.content.size.height)
        for i in common.nodes.indices {
            for scene in scenes.dropFirst() {
                assert(scene.nodes[i].key == common.nodes[i].key && scene.nodes[i].shape == common.nodes[i].shape)
                common.nodes[i].size.width = max(common.nodes[i].size.width, scene.nodes[i].size.width)
                common.nodes[i].size.height = max(common.nodes[i].size.height, scene.nodes[i].size.height)
                contentHeight[i] = max(contentHeight[i], scene.nodes[i].content.size.height)
            }
        }
        let headings = scenes.compactMap(\.titleBlock)
        common.titleBlock = measurer.spacer(headings.map(\.size.width).max() ?? 0, headings.map(\.size.height).max() ?? 0)
        var laidOut = try SceneLayout.layout(common, limits: options.layout, advice: [.smallerGraph])
        if options.style == .record { laidOut = RowWrap.wrap(laidOut, into: options.fit) }
        let page = pageSize(laidOut.size, aspect: options.fit.pageAspect)
        let shift = Point((page.width - laidOut.size.width) / 2, (page.height - laidOut.size.height) / 2)
        let margin = options.theme.margin
        return scenes.map { scene in
            var nodes: [PlacedNode] = []
            for (i, placed) in laidOut.nodes.enumerated() {
                var node = scene.nodes[i]
                node.size = common.nodes[i].size
                if node.shape == .box {
                    // The content keeps its rows at the top of the room kept for the tallest page's.
                    node.content = Block(kind: .column(dividers: false), children: [node.content],
                                         size: Size(node.content.size.width, contentHeight[i]))
                }
                nodes.append(PlacedNode(node: node, frame: placed.frame.moved(by: shift)))
            }
            let edges = laidOut.edges.map { placed in
                var edge = placed
                edge.points = edge.points.map { $0 + shift }
                edge.arrowTip = edge.arrowTip.map { $0 + shift }
                return edge
            }
            let clusters = laidOut.clusters.map { PlacedCluster(cluster: $0.cluster, frame: $0.frame.moved(by: shift)) }
            return LaidOutScene(
                scene: scene, size: page, nodes: nodes, edges: edges, clusters: clusters,
                titleFrame: scene.titleBlock.map { Rect(x: margin + shift.x, y: margin + shift.y, width: $0.size.width, height: $0.size.height) })
        }
    }

    /// The smallest page of width / height `aspect` that holds a figure of `size`.
    static func pageSize(_ size: Size, aspect: Double) -> Size {
        Size(max(size.width, size.height * aspect), max(size.height, size.width / aspect))
    }

    /// The caption of a page: which step, which op, and the rule in colour,
    /// flowed into lines at most `width` wide.
    static func caption(_ step: BackwardStep, of count: Int, graph: Graph, output: NodeID, options: FigureOptions, width: Double, m: TextMeasurer) -> Block {
        let theme = options.theme
        let header = m.text("Step \(step.number) of \(count):", color: theme.text, bold: true)
        guard let active = step.active else {
            let seed = graph[output].gradient.map { $0.count == 1 ? formatFixed($0.data[0], precision: options.precision) : "ones" } ?? "—"
            return flowed([header, m.text("forward pass done; backward starts at \(graph[output].displayName) with gradient", color: theme.text),
                           m.text(seed, color: theme.gradient, bold: true)], width: width, m: m)
        }
        let node = graph[active]
        let builder = SceneBuilder(graph: graph, output: output, options: options)
        let circuit = options.style == .circuit
        // Only names the figure draws: in a circuit, intermediates are written out as the expression that made them.
        let made = builder.label(active, drawnNamesOnly: circuit)
        let what = "the \(circuit ? builder.gateSymbol(node) : node.op?.symbol ?? "?") \(circuit ? "gate" : "op") making \(made) sends"
        var pieces = [header, m.text(what, color: theme.text), m.text("upstream", color: theme.gradient, bold: true),
                      m.text("×", color: theme.text), m.text("local", color: theme.local, bold: true),
                      m.text("=", color: theme.text), m.text("downstream", color: theme.gradient, bold: true),
                      m.text("to each input", color: theme.text)]
        let tensors = ([active] + node.inputs).contains { (graph[$0].value?.count ?? 1) > 1 }
        if tensors { pieces.append(m.text("(⊙: elementwise product; J: Jacobian)", color: theme.muted, small: true)) }
        return flowed(pieces, width: width, m: m)
    }

    /// `pieces` side by side in lines at most `width` wide (a piece wider than that has a line of its own), left-aligned.
    static func flowed(_ pieces: [Block], width: Double, m: TextMeasurer) -> Block {
        var lines: [[Block]] = [[]]
        var used = 0.0
        for piece in pieces {
            let extra = (lines[lines.count - 1].isEmpty ? 0 : m.theme.gap) + piece.size.width
            if !lines[lines.count - 1].isEmpty && used + extra > width {
                lines.append([piece])
                used = piece.size.width
            } else {
                lines[lines.count - 1].append(piece)
                used += extra
            }
        }
        let rows = lines.map { m.row($0) }
        return rows.count == 1 ? rows[0] : FigureTitle.leftAligned(rows, measurer: m)
    }

    // MARK: Writing

    /// Where `path` sends the pages: a path ending in `/`, or an existing
    /// folder, gets PNG frames; a `.pdf` path one PDF. The folder that will
    /// hold the output must exist and be writable (a frames folder itself may
    /// be new: it is made).
    public static func destination(_ path: String) throws(FigureError) -> StepsDestination {
        let manager = FileManager.default
        var folder = path
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        var isFolder: ObjCBool = false
        let exists = manager.fileExists(atPath: folder, isDirectory: &isFolder)
        if path.hasSuffix("/") || (exists && isFolder.boolValue) {
            do { try OutputFiles.checkFolder(folder) } catch { throw .unwritable(path: path, reason: error.reason) }
            return .frames(folder: folder)
        }
        guard (path as NSString).pathExtension.lowercased() == "pdf" else {
            throw .invalidOption("--steps writes a multi-page PDF (-o steps.pdf) or PNG frames into a folder (-o frames/); '\(path)' is neither")
        }
        try SafeWrite.checkFolder(of: path)
        return .pdf(path: path)
    }

    /// The name of frame `k` of `count`: `step-03.png`, zero-padded so names sort.
    public static func frameName(_ k: Int, of count: Int) -> String {
        let digits = max(2, String(max(count - 1, 0)).count)
        let number = String(k)
        return "step-" + String(repeating: "0", count: max(digits - number.count, 0)) + number + ".png"
    }

    /// Draws every page and writes them to `path` (see `destination`). All
    /// pages are drawn into a temporary file or folder first and renamed into
    /// place: on any error nothing is left behind. Frames from an earlier run
    /// in the folder (`step-*.png`) are replaced. Returns the files written.
    @discardableResult
    public static func write(graph: Graph, output: NodeID, options: FigureOptions, to path: String) throws(FigureError) -> [String] {
        let destination = try destination(path)
        let pages = try pages(graph: graph, output: output, options: options)
        switch destination {
        case .pdf(let path):
            try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
                try GraphFigure.pdf(pages: pages, to: temporary)
            }
            return [path]
        case .frames(let folder):
            let names = pages.indices.map { frameName($0, of: pages.count) }
            return try SafeWrite.files(names, into: folder, asked: path, replacing: isFrameName) { (k, file) throws(FigureError) in
                try GraphFigure.png(pages[k], scale: options.scale, to: file)
            }
        }
    }

    /// `step-` digits `.png`: a frame this command wrote.
    static func isFrameName(_ name: String) -> Bool {
        guard name.hasPrefix("step-"), name.hasSuffix(".png") else { return false }
        let digits = name.dropFirst(5).dropLast(4)
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }
}

private extension Point {
    static func + (a: Point, b: Point) -> Point { Point(a.x + b.x, a.y + b.y) }
}

private extension Rect {
    func moved(by shift: Point) -> Rect { Rect(x: x + shift.x, y: y + shift.y, width: width, height: height) }
}

// MARK: - Drawing the written-out step

extension SceneBuilder {
    /// What `id`'s backward sends to each input that gets a gradient: the
    /// node's gradient (upstream), the local derivative, and their product.
    func stepTerms(_ id: NodeID) -> [StepTerm] {
        let node = graph[id]
        guard let op = node.op, let upstream = node.gradient, let output = node.value else { return [] }
        let inputs = node.inputs.compactMap { graph[$0].value }
        guard inputs.count == node.inputs.count else { return [] }
        let downstream = op.backward(inputs, output: output, gradient: upstream)
        let locals = localGradients(consumer: id)
        return node.inputs.enumerated().compactMap { k, input in
            guard receivesGradient(input), let sent = downstream[k], let local = locals[k] else { return nil }
            switch local {
            case .scalar(let value) where upstream.count == 1 && sent.count == 1:
                let shown = displayedEquation([upstream.data[0], value], result: sent.data[0]) { $0[0] * $0[1] }
                return StepTerm(input: input, position: k, upstream: shown.terms[0], local: shown.terms[1], downstream: shown.result,
                                exact: shown.exact, product: "×", tensors: nil)
            case .scalar(let value):
                return StepTerm(input: input, position: k, upstream: summary(upstream), local: number(value), downstream: summary(sent),
                                exact: true, product: "×", tensors: StepTensors(upstream: upstream, local: Tensor(value), downstream: sent))
            case .diagonal(let diagonal):
                return StepTerm(input: input, position: k, upstream: summary(upstream), local: "diag " + summary(diagonal),
                                downstream: summary(sent), exact: true, product: "⊙",
                                tensors: StepTensors(upstream: upstream, local: diagonal, downstream: sent))
            case .jacobian(let outputShape, let inputShape):
                let size = "J \(Tensor.elementCount(outputShape))×\(Tensor.elementCount(inputShape))"
                return StepTerm(input: input, position: k, upstream: summary(upstream), local: size, downstream: summary(sent),
                                exact: true, product: "×", tensors: StepTensors(upstream: upstream, local: jacobian(consumer: id, input: k), downstream: sent))
            }
        }
    }

    /// `1.00 × -4.00 = -4.00` in the figure's colours: gradients red, local
    /// blue; `stacked` over two lines, the product and then `= downstream`, so
    /// a wire keeps its width. A tensor step draws heatmaps: upstream ⊙ local = downstream.
    func equationBlock(_ term: StepTerm, stacked: Bool = true) -> Block {
        let relation = term.exact ? "=" : "≈"
        guard let tensors = term.tensors else {
            let product = [m.text(term.upstream, color: theme.gradient), m.text(term.product, color: theme.text), m.text(term.local, color: theme.local)]
            let result = [m.text(relation, color: theme.text), m.text(term.downstream, color: theme.gradient, bold: true)]
            return stacked ? m.column([m.row(product), m.row(result)]) : m.row(product + result)
        }
        func map(_ tensor: Tensor, _ caption: String, _ color: RGB) -> Block {
            m.column([thumbnail(tensor, diverging: true, side: 36), m.text(caption, color: color, small: true)])
        }
        let local = tensors.local.map { map($0, term.local, theme.local) } ?? m.text(term.local, color: theme.local, small: true)
        return m.row([map(tensors.upstream, "upstream", theme.gradient), m.text(term.product, color: theme.text), local,
                      m.text(relation, color: theme.text), map(tensors.downstream, "downstream", theme.gradient)])
    }

    /// The written-out step of a record-style page, under its caption: one line per input, `x: 1.00 × -4.00 = -4.00`.
    func stepRows(_ id: NodeID) -> Block? {
        let terms = stepTerms(id)
        guard !terms.isEmpty else { return nil }
        return FigureTitle.leftAligned(terms.map { term in
            m.row([m.text(label(term.input) + ":", color: theme.text, small: true, bold: true), equationBlock(term, stacked: false)])
        }, measurer: m)
    }
}
