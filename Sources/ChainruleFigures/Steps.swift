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
/// Scalars are numbers at the figure's precision. Tensors: upstream and
/// downstream are gradient norms `‖1.41‖`; local is the Jacobian's diagonal
/// range for elementwise ops (`diag [0.00, 1.00]`), else its size `J[20, 12]`
/// (output elements × input elements).
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

    /// `1.00 × -4.00 = -4.00`.
    public var text: String { "\(upstream) × \(local) = \(downstream)" }
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
    /// own content there. Nothing moves from page to page. A box drawn smaller
    /// than the room kept for it (a record box without its written-out step)
    /// keeps its centre, and the ends of its edges move onto its outline.
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
        var scenes: [Scene] = []
        for step in steps {
            var scene = try GraphFigure.scene(graph: graph, output: output, options: Self.options(for: step, base: untitled))
            scene.title = options.title
            let caption = caption(step, of: steps.count - 1, graph: graph, output: output, options: options, m: measurer)
            scene.titleBlock = options.title.map {
                measurer.column([measurer.text($0, TextStyle(color: options.theme.text, size: options.theme.titleFontSize, bold: true)), caption])
            } ?? caption
            scenes.append(scene)
        }
        var common = scenes[0]
        for i in common.nodes.indices {
            for scene in scenes.dropFirst() {
                assert(scene.nodes[i].key == common.nodes[i].key && scene.nodes[i].shape == common.nodes[i].shape)
                common.nodes[i].size.width = max(common.nodes[i].size.width, scene.nodes[i].size.width)
                common.nodes[i].size.height = max(common.nodes[i].size.height, scene.nodes[i].size.height)
            }
        }
        common.titleBlock = scenes.compactMap(\.titleBlock).max { $0.size.width < $1.size.width }
        let laidOut = try GraphvizLayout.layout(common, limits: options.layout, advice: [.smallerGraph])
        let margin = options.theme.margin
        let position = Dictionary(uniqueKeysWithValues: common.nodes.enumerated().map { ($1.key, $0) })
        return scenes.map { scene in
            var scene = scene
            var nodes: [PlacedNode] = []
            for (i, placed) in laidOut.nodes.enumerated() {
                // Boxes keep their own size; everything else fills its frame (a wire's line spans it).
                if scene.nodes[i].shape != .box { scene.nodes[i].size = common.nodes[i].size }
                nodes.append(PlacedNode(node: scene.nodes[i], frame: Rect(center: placed.frame.center, size: scene.nodes[i].size)))
            }
            let edges = laidOut.edges.map { placed in
                var edge = placed
                if let tail = position[edge.edge.from], nodes[tail].frame != laidOut.nodes[tail].frame, edge.points.count > 1 {
                    let shift = offsetOnto(nodes[tail].frame, edge.points[0])
                    edge.points[0] = edge.points[0] + shift
                    edge.points[1] = edge.points[1] + shift
                }
                if let head = position[edge.edge.to], nodes[head].frame != laidOut.nodes[head].frame, edge.points.count > 1 {
                    let last = edge.points.count - 1
                    let shift = offsetOnto(nodes[head].frame, edge.arrowTip ?? edge.points[last])
                    edge.arrowTip = edge.arrowTip.map { $0 + shift }
                    edge.points[last] = edge.points[last] + shift
                    edge.points[last - 1] = edge.points[last - 1] + shift
                }
                return edge
            }
            return LaidOutScene(
                scene: scene, size: laidOut.size, nodes: nodes, edges: edges, clusters: laidOut.clusters,
                titleFrame: scene.titleBlock.map { Rect(x: margin, y: margin, width: $0.size.width, height: $0.size.height) })
        }
    }

    /// How far `point` (on the outline of the room kept for a box) moves to reach
    /// the nearest point of the box drawn inside that room.
    private static func offsetOnto(_ frame: Rect, _ point: Point) -> Point {
        Point(min(max(point.x, frame.x), frame.maxX) - point.x, min(max(point.y, frame.y), frame.maxY) - point.y)
    }

    /// The caption of a page: which step, which op, and the rule in colour.
    static func caption(_ step: BackwardStep, of count: Int, graph: Graph, output: NodeID, options: FigureOptions, m: TextMeasurer) -> Block {
        let theme = options.theme
        let header = m.text("Step \(step.number) of \(count):", color: theme.text, bold: true)
        guard let active = step.active else {
            let seed = graph[output].gradient.map { $0.count == 1 ? formatFixed($0.data[0], precision: options.precision) : "ones" } ?? "—"
            return m.row([header, m.text("forward pass done; backward starts at \(graph[output].displayName) with gradient", color: theme.text),
                          m.text(seed, color: theme.gradient, bold: true)])
        }
        let node = graph[active]
        let what = "the \(node.op?.symbol ?? "?") \(options.style == .circuit ? "gate" : "op")" + (node.name.map { " making \($0)" } ?? "") + " sends"
        var pieces = [header, m.text(what, color: theme.text), m.text("upstream", color: theme.gradient, bold: true),
                      m.text("×", color: theme.text), m.text("local", color: theme.local, bold: true),
                      m.text("=", color: theme.text), m.text("downstream", color: theme.gradient, bold: true),
                      m.text("to each input", color: theme.text)]
        let tensors = ([active] + node.inputs).contains { (graph[$0].value?.count ?? 1) > 1 }
        if tensors { pieces.append(m.text("(‖·‖: gradient norm; J: Jacobian)", color: theme.muted, small: true)) }
        return m.row(pieces)
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
            if exists {
                guard isFolder.boolValue else { throw .unwritable(path: path, reason: "'\(folder)' is a file, not a folder for PNG frames") }
                guard manager.isWritableFile(atPath: folder) else { throw .unwritable(path: path, reason: "the folder '\(folder)' is not writable") }
            } else {
                try SafeWrite.checkFolder(of: folder, asked: path)
            }
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
        let manager = FileManager.default
        switch destination {
        case .pdf(let path):
            try SafeWrite.replacing(path) { (temporary) throws(FigureError) in
                try GraphFigure.pdf(pages: pages, to: temporary)
            }
            return [path]
        case .frames(let folder):
            var isFolder: ObjCBool = false
            let exists = manager.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue
            let names = pages.indices.map { frameName($0, of: pages.count) }
            // Inside an existing folder (so the frames rename within it), else beside the new one.
            try SafeWrite.staging(beside: exists ? folder + "/steps" : folder, naming: path) { (staging) throws(FigureError) in
                for (page, name) in zip(pages, names) {
                    try GraphFigure.png(page, scale: options.scale, to: staging + "/" + name)
                }
                if exists {
                    let old = (try? manager.contentsOfDirectory(atPath: folder)) ?? []
                    for name in old where isFrameName(name) { try? manager.removeItem(atPath: folder + "/" + name) }
                    for name in names { try SafeWrite.move(staging + "/" + name, to: folder + "/" + name) }
                } else {
                    try SafeWrite.move(staging, to: folder)
                }
            }
            return names.map { folder + "/" + $0 }
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
            let localText = switch local {
            case .scalar(let value): number(value)
            case .diagonal(let diagonal): "diag " + summary(diagonal)
            case .jacobian(let output, let input): "J[\(output.reduce(1, *)), \(input.reduce(1, *))]"
            }
            return StepTerm(input: input, position: k, upstream: gradientText(upstream), local: localText, downstream: gradientText(sent))
        }
    }

    /// A scalar gradient as its number; a tensor's as its norm, `‖1.41‖`.
    func gradientText(_ gradient: Tensor) -> String {
        if gradient.count == 1 { return number(gradient.data[0]) }
        return "‖" + number(gradient.data.reduce(0) { $0 + $1 * $1 }.squareRoot()) + "‖"
    }

    /// `1.00 × -4.00 = -4.00` in the figure's colours: gradients red, local blue.
    func equationBlock(_ term: StepTerm) -> Block {
        m.row([m.text(term.upstream, color: theme.gradient), m.text("×", color: theme.text),
               m.text(term.local, color: theme.local), m.text("=", color: theme.text),
               m.text(term.downstream, color: theme.gradient, bold: true)])
    }

    /// The written-out step inside a record box: one line per input, `x: 1.00 × -4.00 = -4.00`.
    func stepRows(_ id: NodeID) -> Block? {
        let terms = stepTerms(id)
        guard !terms.isEmpty else { return nil }
        return m.column(terms.map { term in
            m.row([m.text(graph[term.input].displayName + ":", color: theme.text, small: true, bold: true), equationBlock(term)])
        })
    }
}
