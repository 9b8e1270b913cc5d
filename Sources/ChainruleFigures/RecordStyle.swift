import ChainruleCore

/// micrograd's figure: one box per value, `name | data | grad`, with the op
/// that made it in a small circle just before it. A value copied beside its
/// readers (`drawnAsCopies`) ends its own row, and each copy starts a wire.
extension SceneBuilder {
    mutating func buildRecord() {
        for node in graph.nodes {
            if node.op == nil && drawnAsCopies(node.id) {
                for (consumer, k) in consumers[node.id.index] { addValueCopy(node, consumer: consumer, k: k) }
                continue
            }
            addValueBox(node, key: "n\(node.id.index)")
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
                for (consumer, k) in consumers[node.id.index] { addValueCopy(node, consumer: consumer, k: k) }
            }
        }
    }

    /// An op node's label size: a one-character symbol (`+`, `*`, `Σ`) at the
    /// symbol size, so it reads as a glyph; a name (`exp`, `mysigmoid`) at the
    /// body size, as micrograd sets its op labels, not larger than the values.
    static func opLabelSize(_ symbol: String, theme: Theme) -> Double {
        symbol.count == 1 ? theme.symbolFontSize : theme.fontSize
    }

    /// The copy of `node` beside input `k` of `consumer`.
    mutating func addValueCopy(_ node: Node, consumer: NodeID, k: Int) {
        let key = sourceKey(node.id, consumer: consumer, k: k)
        copies.insert(key)
        addValueBox(node, key: key)
    }

    mutating func addValueBox(_ node: Node, key: String) {
        var rows: [Block]
        let name = m.text(label(node.id), color: theme.text, bold: true)
        let showsGradient = options.showGradients && receivesGradient(node.id)
        if let labels = classLabels(node.id) {
            // Class labels are indices, not a heatmap: `labels [0, 2, 1, 1]`.
            rows = [m.row([name, m.text(labelsText(labels), color: theme.value)], dividers: true)]
        } else if node.shape.isEmpty {
            var cells = [name, m.text("data " + summary(node.value), color: theme.value)]
            if showsGradient { cells.append(m.text("grad " + summary(shownGradient(node.id)), color: theme.gradient)) }
            rows = [m.row(cells, dividers: true)]
        } else {
            rows = [m.row([name, m.text(describeShape(node.shape), color: theme.muted, small: true)]), tensorPanels(node.id)]
        }
        if let row = checkRow(node.id) { rows.append(row) }
        let content = rows.count == 1 ? rows[0] : m.column(rows, dividers: true)
        let (stroke, width) = outline(node.id, base: node.id == output ? 2 : theme.lineWidth)
        let base = node.role.isLeaf ? theme.leafFill : theme.valueFill
        add(key, node.op == nil ? .leaf : .value, node: node.id, shape: .box, content: content,
            padding: node.shape.isEmpty ? 5 : theme.padding, fill: fill(node.id, base: base), stroke: stroke, strokeWidth: width)
    }
}
