import ChainruleCore

/// micrograd's figure: one box per value, `name | data | grad`, with the op
/// that made it in a small circle just before it. A value copied beside its
/// readers (`drawnAsCopies`) ends its own row, and each copy starts a wire.
extension SceneBuilder {
    mutating func buildRecord() {
        let alone = options.fitChoice.panels == .stackedWhereAlone ? boxesAloneInRank() : []
        for node in graph.nodes {
            if node.op == nil && drawnAsCopies(node.id) {
                for (consumer, k) in consumers[node.id.index] { addValueCopy(node, consumer: consumer, k: k, alone: alone) }
                continue
            }
            addValueBox(node, key: "n\(node.id.index)", alone: alone.contains("n\(node.id.index)"))
            guard let op = node.op else { continue }
            let opKey = "o\(node.id.index)"
            let (stroke, width) = outline(node.id, base: theme.lineWidth)
            add(opKey, .op, node: node.id, shape: .circle,
                content: m.text(op.symbol, TextStyle(color: theme.text, size: Self.opLabelSize(op.symbol, theme: theme), bold: true)),
                padding: 4, fill: fill(node.id, base: theme.opFill), stroke: stroke, strokeWidth: width)
            for (k, input) in node.inputs.enumerated() {
                connect(sourceKey(input, consumer: node.id, k: k), opKey)
            }
            connect(opKey, "n\(node.id.index)")
            if drawnAsCopies(node.id) {
                for (consumer, k) in consumers[node.id.index] { addValueCopy(node, consumer: consumer, k: k, alone: alone) }
            }
        }
    }

    /// The keys of the value boxes that have their rank of a left-to-right
    /// layout to themselves (`PanelArrangement.stackedWhereAlone`). Ranks as
    /// a layered layout gives them: an op's circle one past the latest of
    /// its inputs' boxes (two past the op that made an input, a leaf's box
    /// at 0), its value's box one past the circle, and a leaf's box (or a
    /// copy's) just before the first op that reads it, where the shortest wires put it.
    /// With side inputs spread (`FitChoice.spreadsInputs`), an op's first
    /// input one rank further back where its other inputs are boxes nothing
    /// leads into (`SideInputs`, as `LayoutRequest.spreadEdges` reads them on the scene's wires).
    func boxesAloneInRank() -> Set<String> {
        func isSource(_ id: NodeID) -> Bool { graph[id].op == nil || drawnAsCopies(id) }
        // How many ranks back input `k` of `node` stands (1, or 2 for a spread operand).
        func back(_ node: Node, _ k: Int) -> Int {
            options.fitChoice.spreadsInputs && k == 0 && SideInputs.readsOperandBesideSides(node.inputs.map { !isSource($0) }) ? 2 : 1
        }
        var opRank = [Int](repeating: 0, count: graph.count)
        for node in graph.nodes where node.op != nil {
            opRank[node.id.index] = node.inputs.enumerated().map { k, input in
                (graph[input].op == nil ? 0 : opRank[input.index] + 1) + back(node, k)
            }.max() ?? 1
        }
        var boxes: [(key: String, rank: Int)] = graph.nodes.filter { $0.op != nil }.map { ("o\($0.id.index)", opRank[$0.id.index]) }
        for node in graph.nodes {
            let readers = consumers[node.id.index]
            if drawnAsCopies(node.id) {
                boxes += readers.map { (sourceKey(node.id, consumer: $0.node, k: $0.input), opRank[$0.node.index] - back(graph[$0.node], $0.input)) }
            }
            if node.op != nil {
                boxes.append(("n\(node.id.index)", opRank[node.id.index] + 1))
            } else if !drawnAsCopies(node.id) {
                boxes.append(("n\(node.id.index)", max(readers.map { opRank[$0.node.index] - back(graph[$0.node], $0.input) }.min() ?? 0, 0)))
            }
        }
        var perRank: [Int: Int] = [:]
        for box in boxes { perRank[box.rank, default: 0] += 1 }
        return Set(boxes.filter { perRank[$0.rank] == 1 }.map(\.key))
    }

    /// An op node's label size: a one-character symbol (`+`, `*`, `Σ`) at the
    /// symbol size, so it reads as a glyph; a name (`exp`, `mysigmoid`) at the
    /// body size, as micrograd sets its op labels, not larger than the values.
    static func opLabelSize(_ symbol: String, theme: Theme) -> Double {
        symbol.count == 1 ? theme.symbolFontSize : theme.fontSize
    }

    /// The copy of `node` beside input `k` of `consumer`.
    mutating func addValueCopy(_ node: Node, consumer: NodeID, k: Int, alone: Set<String> = []) {
        let key = sourceKey(node.id, consumer: consumer, k: k)
        copies.insert(key)
        addValueBox(node, key: key, alone: alone.contains(key))
    }

    /// `alone`: the box has its rank to itself (`boxesAloneInRank`, for
    /// `PanelArrangement.stackedWhereAlone`): its value stands over its gradient.
    mutating func addValueBox(_ node: Node, key: String, alone: Bool = false) {
        var rows: [Block]
        let name = m.text(label(node.id), color: theme.text, bold: true)
        let showsGradient = options.showGradients && receivesGradient(node.id)
        if let labels = classLabels(node.id) {
            // Class labels are indices, not a heatmap: `labels [0, 2, 1, 1]`.
            rows = [m.row([name, m.text(labelsText(labels), color: theme.value)], dividers: true)]
        } else if node.shape.isEmpty {
            var cells = [name, m.text("data " + summary(node.value), color: theme.value)]
            if showsGradient { cells.append(m.text("grad " + summary(shownGradient(node.id)), color: theme.gradient)) }
            // A box with its rank to itself stacks its data over its grad (`PanelArrangement.stackedWhereAlone`).
            rows = alone && cells.count > 2 ? [name, FigureTitle.leftAligned(Array(cells.dropFirst()), measurer: m)] : [m.row(cells, dividers: true)]
        } else {
            rows = [m.row([name, m.text(describeShape(node.shape), color: theme.muted, small: true)]), tensorPanels(node.id, alone: alone)]
        }
        if let row = checkRow(node.id) { rows.append(row) }
        let content = rows.count == 1 ? rows[0] : m.column(rows, dividers: true)
        let (stroke, width) = outline(node.id, base: node.id == output ? 2 : theme.lineWidth)
        let base = node.role.isLeaf ? theme.leafFill : theme.valueFill
        add(key, node.op == nil ? .leaf : .value, node: node.id, shape: .box, content: content,
            padding: node.shape.isEmpty ? 5 : theme.padding, fill: fill(node.id, base: base), stroke: stroke, strokeWidth: width)
    }
}
