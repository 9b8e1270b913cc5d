import ChainruleCheck
import ChainruleCore

/// Builds the scene of a graph: what to draw in the chosen style, with every
/// box measured by Cairo's font metrics. Reads the graph, never changes it.
struct SceneBuilder {
    let graph: Graph
    let output: NodeID
    let options: FigureOptions
    let theme: Theme
    let m: TextMeasurer
    /// For each node, the (consumer, input position) pairs that read it.
    let consumers: [[(node: NodeID, input: Int)]]

    var nodes: [SceneNode] = []
    var edges: [SceneEdge] = []
    var clusters: [SceneCluster] = []
    /// Position of each node key in `nodes`.
    var index: [String: Int] = [:]
    /// Keys of the copies of shared values (`drawnAsCopies`).
    var copies: Set<String> = []
    /// The model style's frame (index into `clusters`) of each layer, if it has one (`layerFrames`).
    var layerFrame: [Int?] = []

    init(graph: Graph, output: NodeID, options: FigureOptions) {
        self.graph = graph
        self.output = output
        self.options = options
        self.theme = options.theme
        self.m = TextMeasurer(theme: options.theme)
        var consumers = [[(node: NodeID, input: Int)]](repeating: [], count: graph.count)
        for node in graph.nodes {
            for (k, input) in node.inputs.enumerated() { consumers[input.index].append((node.id, k)) }
        }
        self.consumers = consumers
    }

    // MARK: Values and gradients as text

    func number(_ v: Double) -> String { formatFixed(v, precision: options.precision) }

    /// The gradient to show for `id`: nil before backward, for unknown steps, or with `--no-grad`.
    func shownGradient(_ id: NodeID) -> Tensor? {
        guard options.showGradients else { return nil }
        if let known = options.knownGradients, !known.contains(id) { return nil }
        return graph[id].gradient
    }

    /// A scalar as a number; a tensor as its range, ±inf included, and how
    /// many of its elements are NaN: `[0.00, inf]`, `[1.00, 2.00], 1 NaN`.
    func summary(_ tensor: Tensor?) -> String {
        guard let tensor else { return "—" }
        if tensor.count == 1 { return number(tensor.data[0]) }
        if tensor.count == 0 { return "empty" }
        let statistics = statistics(tensor)
        guard statistics.nans < statistics.count else { return "all NaN" }
        return "[\(number(statistics.low)), \(number(statistics.high))]" + (statistics.nans > 0 ? ", \(statistics.nans) NaN" : "")
    }

    /// `tensor`'s statistics, read once for every scene drawn with these options (`TensorStatisticsCache`).
    func statistics(_ tensor: Tensor) -> TensorStatistics {
        options.tensorStatistics.statistics(of: tensor, in: graph)
    }

    /// A leaf whose gradient is never computed (a constant) shows no gradient at all.
    func receivesGradient(_ id: NodeID) -> Bool {
        graph[id].role != .constant
    }

    // MARK: Names from the expression

    /// What a figure calls node `id`: its name; else the expression that made
    /// it, written with its op's notation from its inputs' labels (`w0*x0 +
    /// w1*x1`, `exp(−z)`, `badsigmoid(x)`), parts deeper than fit in
    /// `maxLabelLength` characters elided as `…`; an unnamed constant its value.
    /// With `drawnNamesOnly`, names that the circuit style does not draw
    /// (intermediates other than the output) are expanded into their expression.
    func label(_ id: NodeID, drawnNamesOnly: Bool = false) -> String {
        var depth = 6
        var text = expression(id, depth: depth, drawnNamesOnly: drawnNamesOnly).text
        while text.count > Self.maxLabelLength && depth > 1 {
            depth -= 1
            text = expression(id, depth: depth, drawnNamesOnly: drawnNamesOnly).text
        }
        return text
    }

    /// Labels longer than this are shortened by eliding their deepest parts.
    static let maxLabelLength = 28

    /// Whether the circuit style draws `id`'s name: leaves, the output, and gates whose value is copied.
    func drawsName(_ id: NodeID) -> Bool {
        graph[id].op == nil || id == output || drawnAsCopies(id)
    }

    /// `id` written as an expression with `depth` levels of ops, and how tightly it binds
    /// (atoms and calls 100, postfix 30, prefix 25, infix 10 × the op's precedence).
    private func expression(_ id: NodeID, depth: Int, drawnNamesOnly: Bool) -> (text: String, precedence: Int) {
        let node = graph[id]
        if let name = node.name, !drawnNamesOnly || drawsName(id) { return (name, 100) }
        guard let op = node.op else {
            guard node.role == .constant, let value = node.value else { return (node.displayName, 100) }
            if value.count == 1 { return (displayNumber(value.data[0]), value.data[0] < 0 ? 25 : 100) }
            if value.count <= 4 && !value.shape.isEmpty { return ("[" + value.data.map(displayNumber).joined(separator: ", ") + "]", 100) }
            return (describeShape(value.shape) + " constant", 100)
        }
        guard depth > 0 else { return ("…", 100) }
        let parts = node.inputs.map { expression($0, depth: depth - 1, drawnNamesOnly: drawnNamesOnly) }
        func wrapped(_ part: (text: String, precedence: Int), below: Int) -> String {
            part.precedence < below ? "(" + part.text + ")" : part.text
        }
        switch op.notation {
        case .infix(let symbol, let precedence) where parts.count == 2:
            let p = 10 * precedence
            let space = precedence == 1 ? " " : ""
            return (wrapped(parts[0], below: p) + space + symbol + space + wrapped(parts[1], below: p + 1), p)
        case .prefix(let symbol) where parts.count == 1:
            return (symbol + wrapped(parts[0], below: 25), 25)
        case .postfix(let symbol) where parts.count == 1:
            return (wrapped(parts[0], below: 31) + symbol, 30)
        case .infix(let symbol, _), .prefix(let symbol), .postfix(let symbol), .call(let symbol):
            return (symbol + "(" + parts.map(\.text).joined(separator: ", ") + ")", 100)
        }
    }

    /// A number as figures write a constant: shortest form, a true minus sign (`−1`, `0.5`).
    func displayNumber(_ v: Double) -> String {
        let text = formatNumber(v)
        return text.hasPrefix("-") ? "−" + text.dropFirst() : text
    }

    // MARK: Equations true as displayed

    /// Numbers written so that the equation `result = combine(terms)` holds
    /// for the numbers as shown: at the figure's precision when it does, else
    /// with up to `extraDigits` more decimals, else at the figure's precision
    /// with `≈` for `=` (`0.20 × 2.00 = 0.39` is false as displayed; `0.196 ×
    /// 2.00 = 0.393` is true).
    func displayedEquation(_ terms: [Double], result: Double, combine: ([Double]) -> Double) -> (terms: [String], result: String, exact: Bool) {
        for extra in 0...Self.extraDigits {
            let precision = options.precision + extra
            let shown = terms.map { Double(formatFixed($0, precision: precision)) }
            guard shown.allSatisfy({ $0 != nil }) else { break }
            let recomputed = combine(shown.map { $0! })
            if formatFixed(recomputed, precision: precision) == formatFixed(result, precision: precision) {
                return (terms.map { formatFixed($0, precision: precision) }, formatFixed(result, precision: precision), true)
            }
        }
        return (terms.map(number), number(result), false)
    }

    /// The most decimals an equation gains to hold as shown.
    static let extraDigits = 3

    // MARK: Check overlay and highlight

    /// The overlay of a checked node: colour, text with its glyph, and outline,
    /// three cues so that the result reads without colour too:
    /// `✓` one line (pass), `⚠` two lines (kink), `✗` a heavy line (fail).
    func checkMark(_ id: NodeID) -> (color: RGB, text: String, outline: OutlineStyle)? {
        guard let check = options.check?.node(id) else { return nil }
        let error = check.maxRelativeError.isFinite ? String(format: "%.1e", check.maxRelativeError) : formatNumber(check.maxRelativeError)
        switch check.status {
        case .fail: return (theme.checkFailed, "✗ rel err \(error)", .heavy)
        case .kink: return (theme.checkKink, "⚠ kink, rel err \(error)", .double)
        case .inconclusive: return (theme.checkWarning, "? inconclusive", .double)
        case .pass: return (check.band == .good ? theme.checkGood : theme.checkWarning, "✓ rel err \(error)", .single)
        case .skipped: return nil
        }
    }

    /// The check mark as a row of a node's content.
    func checkRow(_ id: NodeID) -> Block? {
        checkMark(id).map { m.text($0.text, color: $0.color, small: true, bold: true) }
    }

    /// The node of `ids` whose check is worst: failed, then kink, then passing
    /// above 1e-7, then good; nil if none was checked.
    func worstChecked(_ ids: [NodeID]) -> NodeID? {
        func severity(_ id: NodeID) -> Int? {
            guard let check = options.check?.node(id) else { return nil }
            switch check.status {
            case .fail: return 3
            case .kink, .inconclusive: return 2
            case .pass: return check.band == .good ? 0 : 1
            case .skipped: return nil
            }
        }
        return ids.compactMap { id in severity(id).map { (id, $0) } }.max { $0.1 < $1.1 }?.0
    }

    /// Stroke colour and width of the outline of a box drawing `ids`: the
    /// highlight if one is active, else the worst check's colour, else plain.
    func outline(_ ids: [NodeID], base: Double) -> (RGB, Double) {
        if ids.contains(where: { $0 == options.highlighted }) { return (theme.highlight, 3.5) }
        if let worst = worstChecked(ids), let mark = checkMark(worst) { return (mark.color, mark.outline == .heavy ? OutlineStyle.heavyWidth : 1.8) }
        return (theme.stroke, base)
    }

    func outline(_ id: NodeID?, base: Double) -> (RGB, Double) { outline(id.map { [$0] } ?? [], base: base) }

    /// The outline style of a box drawing `ids`: its worst check's, else single.
    func outlineStyle(_ ids: [NodeID]) -> OutlineStyle {
        worstChecked(ids).flatMap { checkMark($0)?.outline } ?? .single
    }

    /// A light tint of the highlight or of the worst check's colour for the fill of a box drawing `ids`.
    func fill(_ ids: [NodeID], base: RGB) -> RGB {
        if ids.contains(where: { $0 == options.highlighted }) { return theme.highlight.mixed(with: .white, 0.7) }
        if let worst = worstChecked(ids), let mark = checkMark(worst) { return mark.color.mixed(with: .white, theme.tint) }
        return base
    }

    func fill(_ id: NodeID?, base: RGB) -> RGB { fill(id.map { [$0] } ?? [], base: base) }

    // MARK: Scene pieces

    mutating func add(
        _ key: String, _ kind: SceneNodeKind, node: NodeID?, shape: NodeShape, content: Block,
        padding: Double? = nil, fill: RGB? = nil, stroke: RGB? = nil, strokeWidth: Double? = nil, cluster: Int? = nil
    ) {
        let pad = padding ?? theme.padding
        var size = Size(content.size.width + 2 * pad, content.size.height + 2 * pad)
        var shape = shape
        if shape == .wireLabel {
            // Whole even points: Graphviz rounds a node's half-width to whole points, and a wire must meet its label's line.
            size = Size((size.width / 2).rounded(.up) * 2, (size.height / 2).rounded(.up) * 2)
        }
        if shape == .circle {
            let diameter = max(size.width, size.height, 30)
            // A long op name (a custom op) reads better in a pill than in a huge circle.
            if diameter > 48 { shape = .box } else { size = Size(diameter, diameter) }
        }
        index[key] = nodes.count
        nodes.append(SceneNode(
            key: key, kind: kind, node: node, shape: shape, content: content, size: size, fill: fill,
            stroke: stroke ?? theme.stroke, strokeWidth: strokeWidth ?? theme.lineWidth, cluster: cluster,
            outline: node.map { options.highlighted == $0 ? .single : outlineStyle([$0]) } ?? .single))
    }

    mutating func connect(_ from: String, _ to: String, arrow: Bool = true) {
        edges.append(SceneEdge(from: from, to: to, color: theme.stroke, width: theme.lineWidth, arrow: arrow))
    }

    /// A wire label between `from` and `to`: `above` over the wire, `below`
    /// under it (left and right of it when the flow is top to bottom). A
    /// `port` (the name of the gate's input the wire enters) stands at its end, over the wire.
    mutating func labelledWire(_ key: String, from: String, to: String, above: [Block], below: [Block], port: String? = nil, arrow: Bool = true) {
        var top = m.column(above), bottom = m.column(below)
        if let port {
            let name = m.text(port, color: theme.muted, small: true, bold: true)
            if options.direction == .LR { top = m.row([top, name]) } else { bottom = m.column([bottom, name]) }
        }
        let content: Block
        if options.direction == .LR {
            let half = max(top.size.height, bottom.size.height)
            content = m.column([
                m.column([m.spacer(0, half - top.size.height), top]),
                m.spacer(0, 4),
                m.column([bottom, m.spacer(0, half - bottom.size.height)]),
            ])
        } else {
            let half = max(top.size.width, bottom.size.width)
            content = m.row([m.row([m.spacer(half - top.size.width, 0), top]), m.spacer(8, 0), m.row([bottom, m.spacer(half - bottom.size.width, 0)])])
        }
        // Inside a frame when both ends are: dot keeps a cluster's ranks contiguous.
        let fromCluster = index[from].flatMap { nodes[$0].cluster }
        let toCluster = index[to].flatMap { nodes[$0].cluster }
        let cluster = fromCluster != nil && fromCluster == toCluster ? fromCluster : nil
        add(key, .wireLabel, node: nil, shape: .wireLabel, content: content, padding: options.style == .circuit ? 1 : 2, cluster: cluster)
        connect(from, key, arrow: false)
        connect(key, to, arrow: arrow)
    }

    /// Every leaf read by several ops (an input, a parameter, a constant),
    /// and every value read by more than `copiedFanOut` ops, is drawn as a
    /// small copy beside each op that reads it, instead of one node with long
    /// edges across the figure: long edges are what make `dot` slow (an input
    /// feeding 300 ops overflowed its stack; a value feeding 120 ops took
    /// longer than 20 s).
    func drawnAsCopies(_ id: NodeID) -> Bool {
        consumers[id.index].count > (graph[id].op == nil ? 1 : Self.copiedFanOut)
    }

    /// A value computed by an op keeps its place when it feeds at most this
    /// many ops (the wires stay short enough); beyond, it is copied too.
    static let copiedFanOut = 4

    /// The scene key of the drawing of `input` as read by `consumer`'s input `k`.
    func sourceKey(_ input: NodeID, consumer: NodeID, k: Int) -> String {
        drawnAsCopies(input) ? "n\(input.index)_for\(consumer.index)_\(k)" : "n\(input.index)"
    }

    // Thumbnails and tensor panels: TensorPicture.swift.

    // MARK: Finish

    /// With copies beside their readers, the wires from values computed by ops
    /// weigh `mainWireWeight` and pull straight, so a chain stays on one line
    /// instead of stepping aside at every copy (a 40-step RNN drifted 3,800 px
    /// down its 15,000); wires from leaves and copies keep weight 1.
    static let mainWireWeight = 4

    /// The edges of wires that start at a leaf or a copy: from it, and on from its wire label.
    func sideWires() -> Set<Int> {
        let starts = edges.indices.filter { i in
            copies.contains(edges[i].from) || index[edges[i].from].map { nodes[$0].kind == .leaf } ?? false
        }
        let labels = Set(starts.map { edges[$0].to }.filter { index[$0].map { nodes[$0].shape == .wireLabel } ?? false })
        return Set(starts + edges.indices.filter { labels.contains(edges[$0].from) })
    }

    /// `title` in the one title style of every figure (`FigureTitle`): bold,
    /// a third larger than the body text, left-aligned at the margin, broken
    /// into lines no wider than the fit target.
    func titleBlock(_ title: String) -> Block {
        FigureTitle.block(title, style: FigureTitle.style(theme: theme, bodySize: theme.fontSize),
                          width: headingWidth, measurer: m)
    }

    /// The width a heading is broken at before layout: the fit target's, less the margins
    /// (after layout, `LaidOutScene.fittingTitle` breaks it again to the figure's own).
    var headingWidth: Double { options.fit.width - 2 * theme.margin }

    func finish() -> Scene {
        var edges = edges
        if !copies.isEmpty {
            let light = sideWires()
            for i in edges.indices where !light.contains(i) { edges[i].weight = max(edges[i].weight, Self.mainWireWeight) }
        }
        let gaps = options.fitChoice.gapScale
        let (rank, node): (Double, Double) = switch options.style {
        case .circuit: (8, 14)
        case .record: (22, 12)
        case .model: (20, 14)
        }
        let note = options.style == .model ? parameterSummary().map { m.text($0, color: theme.muted) } : nil
        return Scene(nodes: nodes, edges: edges, clusters: clusters, direction: options.direction, title: options.title,
                     titleBlock: FigureTitle.heading(options.title, note: note, width: headingWidth, measurer: m), titleNote: note,
                     theme: theme, rankSeparation: rank * gaps, nodeSeparation: node * gaps,
                     rowSeparation: RowWrap.rowGap * gaps)
    }
}
