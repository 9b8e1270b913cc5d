import ChainruleCore
import Foundation

/// A fully connected network read from a program: the width of every layer of
/// neurons and what each linear layer is followed by.
public struct NetworkLayers: Sendable, Equatable {
    /// Units per layer, input first: [2, 16, 16, 1].
    public var widths: [Int]
    /// The name of each linear layer (`h1`), one fewer than `widths`.
    public var names: [String]
    /// The elementwise op applied to each linear layer's output (`relu`), nil for none.
    public var activations: [String?]
    /// Weights and biases of each linear layer.
    public var parameters: [Int]

    /// The most linear layers drawn: nine labelled columns still read on a slide.
    public static let maxLayers = 8

    /// The linear ops of the program in order, each W [out, in] giving one layer of `out` neurons.
    public init(_ program: FigureProgram) throws(FigureError) {
        let graph = program.graph
        let linears = graph.nodes.filter { $0.op?.name == "linear" }
        guard let first = linears.first else {
            throw .invalidOption("\(program.name) has no linear layers: network draws the Linear(x, out) layers of a fully connected network")
        }
        guard linears.count <= Self.maxLayers else {
            throw .invalidOption("\(program.name) has \(linears.count) linear layers; network draws at most \(Self.maxLayers), past which its columns' labels no longer read on a slide")
        }
        widths = [graph[first.inputs[1]].shape[1]]
        names = []
        activations = []
        parameters = []
        for (k, linear) in linears.enumerated() {
            let w = graph[linear.inputs[1]].shape
            // Drawn as columns joined in order, the layers must be a chain: each reads the one before.
            if k > 0, !Self.reads(linear.inputs[0], linears[k - 1].id, in: graph) || w[1] != widths.last! {
                let name = { (node: Node) in node.layer.map { graph.layers[$0].name } ?? node.displayName }
                throw .invalidOption("\(program.name): the linear layer \(name(linear)) (\(w[1]) inputs) does not read the layer before it, \(name(linears[k - 1])) (\(widths.last!) outputs); network draws a chain of linear layers, each reading the one before")
            }
            widths.append(w[0])
            names.append(linear.layer.map { graph.layers[$0].name } ?? linear.displayName)
            let next = graph.nodes.first { $0.inputs == [linear.id] && $0.op.map { (try? $0.outputShape([linear.shape])) == linear.shape } == true }
            activations.append(next?.op?.name)
            parameters.append(w[0] * w[1] + (linear.inputs.count > 2 ? graph[linear.inputs[2]].shape.reduce(1, *) : 0))
        }
    }

    /// Whether node `start` is `target` or is computed from it.
    static func reads(_ start: NodeID, _ target: NodeID, in graph: Graph) -> Bool {
        var stack = [start], seen: Set<NodeID> = []
        while let id = stack.popLast() {
            if id == target { return true }
            guard seen.insert(id).inserted else { continue }
            stack += graph[id].inputs
        }
        return false
    }
}

extension Diagrams {
    /// The most neurons drawn in a layer; a wider one shows its first and last few around "⋮".
    static let maxDrawnUnits = 10

    /// Layers as columns of neurons (NN-SVG's view) with every connection between
    /// neighbouring columns; a layer over `maxDrawnUnits` drawn elided, its size written
    /// as "500 units"; under each column its role, width and activation, above each set of
    /// connections its parameter count.
    public static func network(_ program: FigureProgram, palette: Palette = .default) throws(FigureError) -> Diagram {
        let net = try NetworkLayers(program)
        let pen = DiagramPen(palette: palette)
        let theme = pen.theme, u = pen.unit
        let columns = net.widths.count
        let body = pen.style(16), bold = pen.style(17, bold: true), small = pen.style(14, color: theme.muted)
        let roles = (0..<columns).map { layer in
            layer == 0 ? "input" : layer == columns - 1 ? "output (\(net.names[layer - 1]))" : "hidden \(layer) (\(net.names[layer - 1]))"
        }
        let units = net.widths.map { $0 == 1 ? "1 unit" : "\($0.formatted(.number.grouping(.automatic))) units" }
        let counts = net.parameters.map { "\($0.formatted(.number.grouping(.automatic))) parameters" }
        // Columns 690 pt apart in all, or further when their labels (or the counts between them) would touch.
        let widest = max((0..<columns).map { max(pen.width(roles[$0], bold), pen.width(units[$0], body)) }.max() ?? 0,
                         counts.map { pen.width($0, small) }.max() ?? 0)
        let width = 690 * u, height = 250 * u
        let step = columns > 1 ? max(width / Double(columns - 1), widest + 16 * u) : 0
        let drawn = net.widths.map { min($0, maxDrawnUnits) }
        let spacing = height / Double(max((drawn.max() ?? 1) - 1, 1))
        let radius = min(15 * u, spacing * 0.36, step * 0.12)
        /// The y of each drawn unit (nil for the gap of an elided layer).
        func positions(_ layer: Int) -> [Double?] {
            let n = net.widths[layer], shown = drawn[layer]
            let top = (height - Double(shown - 1) * spacing) / 2
            let ys = (0..<shown).map { top + Double($0) * spacing }
            guard n > maxDrawnUnits else { return ys }
            // First four, a gap, the last: "⋮" stands in the gap.
            return ys.enumerated().map { $0.offset == 4 ? nil : $0.element }
        }
        for layer in 0..<(columns - 1) {
            let a = positions(layer).compactMap { $0 }, b = positions(layer + 1).compactMap { $0 }
            let x0 = Double(layer) * step, x1 = Double(layer + 1) * step
            for ya in a { for yb in b { pen.line([Point(x0 + radius, ya), Point(x1 - radius, yb)], color: theme.clusterStroke, width: 0.7) } }
            pen.text(counts[layer], x: (x0 + x1) / 2, y: -30 * u, small)
        }
        for layer in 0..<columns {
            let x = Double(layer) * step
            let fill = layer == 0 ? theme.leafFill : layer == columns - 1 ? theme.value.mixed(with: .white, 0.75) : theme.valueFill
            for y in positions(layer) {
                guard let y else {
                    pen.text("⋮", x: x, y: (positions(layer)[3]! + positions(layer)[5]!) / 2, bold)
                    continue
                }
                pen.circle(Point(x, y), radius: radius, fill: fill, stroke: theme.stroke, width: 1.4)
            }
            pen.text(roles[layer], x: x, y: height + 36 * u, bold)
            pen.text(units[layer], x: x, y: height + 62 * u, body)
            if layer > 0, let activation = net.activations[layer - 1] { pen.text(activation, x: x, y: height + 86 * u, small) }
        }
        let total = net.parameters.reduce(0, +)
        let shape = net.widths.map(String.init).joined(separator: " → ")
        return pen.diagram(title: "\(shape): \(total.formatted(.number.grouping(.automatic))) parameters (\((program.name as NSString).lastPathComponent))", palette: palette)
    }
}
