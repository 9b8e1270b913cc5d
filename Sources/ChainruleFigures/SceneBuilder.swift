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
        let numbers = tensor.data.filter { !$0.isNaN }
        guard let low = numbers.min(), let high = numbers.max() else { return "all NaN" }
        let nans = tensor.count - numbers.count
        return "[\(number(low)), \(number(high))]" + (nans > 0 ? ", \(nans) NaN" : "")
    }

    /// A leaf whose gradient is never computed (a constant) shows no gradient at all.
    func receivesGradient(_ id: NodeID) -> Bool {
        graph[id].role != .constant
    }

    // MARK: Check overlay and highlight

    /// The overlay colour and text of a checked node.
    func checkMark(_ id: NodeID) -> (color: RGB, text: String)? {
        guard let check = options.check?.node(id) else { return nil }
        let error = check.maxRelativeError.isFinite ? String(format: "%.1e", check.maxRelativeError) : formatNumber(check.maxRelativeError)
        switch check.status {
        case .fail: return (theme.checkFailed, "✗ rel err \(error)")
        case .kink: return (theme.checkWarning, "kink, rel err \(error)")
        case .inconclusive: return (theme.checkWarning, "? inconclusive")
        case .pass: return (check.band == .good ? theme.checkGood : theme.checkWarning, "✓ rel err \(error)")
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
        if let worst = worstChecked(ids), let mark = checkMark(worst) { return (mark.color, 2.5) }
        return (theme.stroke, base)
    }

    func outline(_ id: NodeID?, base: Double) -> (RGB, Double) { outline(id.map { [$0] } ?? [], base: base) }

    /// A light tint of the highlight or of the worst check's colour for the fill of a box drawing `ids`.
    func fill(_ ids: [NodeID], base: RGB) -> RGB {
        if ids.contains(where: { $0 == options.highlighted }) { return theme.highlight.mixed(with: .white, 0.7) }
        if let worst = worstChecked(ids), let mark = checkMark(worst) { return mark.color.mixed(with: .white, 0.85) }
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
        if shape == .circle {
            let diameter = max(size.width, size.height, 30)
            // A long op name (a custom op) reads better in a pill than in a huge circle.
            if diameter > 48 { shape = .box } else { size = Size(diameter, diameter) }
        }
        index[key] = nodes.count
        nodes.append(SceneNode(
            key: key, kind: kind, node: node, shape: shape, content: content, size: size, fill: fill,
            stroke: stroke ?? theme.stroke, strokeWidth: strokeWidth ?? theme.lineWidth, cluster: cluster))
    }

    mutating func connect(_ from: String, _ to: String, arrow: Bool = true) {
        edges.append(SceneEdge(from: from, to: to, color: theme.stroke, width: theme.lineWidth, arrow: arrow))
    }

    /// A wire label between `from` and `to`: `above` over the wire, `below`
    /// under it (left and right of it when the flow is top to bottom).
    mutating func labelledWire(_ key: String, from: String, to: String, above: [Block], below: [Block], arrow: Bool = true) {
        let top = m.column(above), bottom = m.column(below)
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
        add(key, .wireLabel, node: nil, shape: .wireLabel, content: content, padding: 2, cluster: cluster)
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

    func finish() -> Scene {
        var edges = edges
        if !copies.isEmpty {
            let light = sideWires()
            for i in edges.indices where !light.contains(i) { edges[i].weight = Self.mainWireWeight }
        }
        let (rank, node): (Double, Double) = switch options.style {
        case .circuit: (14, 14)
        case .record: (22, 12)
        case .model: (20, 14)
        }
        var heading: [Block] = []
        if let title = options.title { heading.append(m.text(title, TextStyle(color: theme.text, size: theme.titleFontSize, bold: true))) }
        if options.style == .model, let summary = parameterSummary() { heading.append(m.text(summary, color: theme.muted)) }
        let titleBlock = heading.count > 1 ? m.column(heading) : heading.first
        return Scene(nodes: nodes, edges: edges, clusters: clusters, direction: options.direction, title: options.title,
                     titleBlock: titleBlock, theme: theme, rankSeparation: rank, nodeSeparation: node)
    }
}
