import ChainruleCore

/// CS231n's circuit: data flows left to right through small gates; every wire
/// carries its forward value in green above it and the gradient flowing back
/// along it in red below it; input names stand at the start of the wires.
extension SceneBuilder {
    mutating func buildCircuit() {
        for node in graph.nodes {
            if node.op == nil {
                if drawnAsCopies(node.id) {
                    for (consumer, k) in consumers[node.id.index] { addCircuitCopy(node, consumer: consumer, k: k) }
                } else {
                    addCircuitLeaf(node, key: "n\(node.id.index)")
                }
            } else {
                addGate(node)
                if drawnAsCopies(node.id) {
                    for (consumer, k) in consumers[node.id.index] { addCircuitCopy(node, consumer: consumer, k: k) }
                }
            }
        }
        for node in graph.nodes {
            let sent = options.gradientsSent?.contains(node.id) ?? true
            let terms = node.id == options.writtenStep ? stepTerms(node.id) : []
            // One backward run per gate for its wires' gradients, one more for local derivatives only when shown.
            let drawsGradients = options.showGradients && options.labels.contains(.grad) && sent
            let gradients = drawsGradients ? wireGradients(consumer: node.id) : Array(repeating: nil, count: node.inputs.count)
            let locals = options.labels.contains(.local) ? localGradients(consumer: node.id) : Array(repeating: nil, count: node.inputs.count)
            for (k, input) in node.inputs.enumerated() {
                let wire = wireLabels(
                    value: graph[input].value,
                    gradient: receivesGradient(input) ? .some(gradients[k]) : .none,
                    local: locals[k].map(localGradientText),
                    equation: terms.first { $0.position == k }.map(equationBlock))
                labelledWire("w\(node.id.index)_\(k)", from: sourceKey(input, consumer: node.id, k: k), to: "n\(node.id.index)",
                             above: wire.above, below: wire.below)
            }
        }
        // A gate whose value is copied beside its readers ends in its name, like the output.
        for node in graph.nodes where node.op != nil && drawnAsCopies(node.id) && node.id != output {
            add("t\(node.id.index)", .terminal, node: nil, shape: .plain, content: m.text(node.displayName, color: theme.text, bold: true), padding: 2)
            let wire = wireLabels(value: node.value, gradient: .some(shownGradient(node.id)), local: nil)
            labelledWire("w\(node.id.index)_out", from: "n\(node.id.index)", to: "t\(node.id.index)", above: wire.above, below: wire.below)
        }
        // The output's own wire, ending in its name.
        let result = graph[output]
        add("out", .terminal, node: nil, shape: .plain, content: m.text(result.displayName, color: theme.text, bold: true), padding: 2)
        let wire = wireLabels(value: result.value, gradient: .some(shownGradient(output)), local: nil)
        labelledWire("w_out", from: "n\(output.index)", to: "out", above: wire.above, below: wire.below)
    }

    /// The value over the wire; gradient and local derivative under it. A
    /// `gradient` of `.none` means the source gets no gradient (a constant).
    /// An `equation` (the written-out backward step) replaces the gradient's number.
    func wireLabels(value: Tensor?, gradient: Tensor??, local: String?, equation: Block? = nil) -> (above: [Block], below: [Block]) {
        var above: [Block] = [], below: [Block] = []
        if options.labels.contains(.value) {
            above.append(withThumbnail(value, m.text(circuitNumber(value), color: theme.value), diverging: false))
        }
        if options.labels.contains(.local), let local {
            below.append(m.text(local, color: theme.local, small: true))
        }
        if options.showGradients && options.labels.contains(.grad), let gradient {
            below.append(withThumbnail(gradient, equation ?? m.text(circuitNumber(gradient), color: theme.gradient), diverging: true))
        }
        return (above, below)
    }

    /// A tensor's text with a small heatmap before it; a scalar's text alone.
    func withThumbnail(_ tensor: Tensor?, _ text: Block, diverging: Bool) -> Block {
        guard let tensor, tensor.count > 1 else { return text }
        return m.row([thumbnail(tensor, diverging: diverging, side: 36), text])
    }

    /// A scalar as CS231n writes it; a tensor as its shape and range; nil as "—".
    func circuitNumber(_ tensor: Tensor?) -> String {
        guard let tensor else { return "—" }
        if tensor.count == 1 { return number(tensor.data[0]) }
        return describeShape(tensor.shape) + " " + summary(tensor)
    }

    /// The copy of `node`'s name at the start of the wire into input `k` of `consumer`.
    mutating func addCircuitCopy(_ node: Node, consumer: NodeID, k: Int) {
        let key = sourceKey(node.id, consumer: consumer, k: k)
        copies.insert(key)
        addCircuitLeaf(node, key: key)
    }

    mutating func addCircuitLeaf(_ node: Node, key: String) {
        // A named leaf shows its name; an anonymous constant shows its value.
        let label = node.name ?? (node.value.map { $0.count == 1 ? formatNumber($0.data[0]) : describeShape($0.shape) } ?? node.displayName)
        let (stroke, width) = outline(node.id, base: 0)
        let name = m.text(label, color: node.role == .constant ? theme.muted : theme.text, bold: node.role != .constant)
        add(key, .leaf, node: node.id, shape: .plain,
            content: name,
            padding: 3, fill: node.id == options.highlighted ? theme.highlight.mixed(with: .white, 0.6) : nil, stroke: stroke, strokeWidth: width)
    }

    mutating func addGate(_ node: Node) {
        let symbol = m.text(node.op?.symbol ?? "?", TextStyle(color: theme.text, size: theme.symbolFontSize, bold: true))
        let (stroke, width) = outline(node.id, base: 1.5)
        if let row = checkRow(node.id) {
            // A checked gate becomes a small box so its mark fits on it.
            add("n\(node.id.index)", .op, node: node.id, shape: .box, content: m.column([symbol, row]),
                padding: 4, fill: fill(node.id, base: theme.opFill), stroke: stroke, strokeWidth: width)
        } else {
            add("n\(node.id.index)", .op, node: node.id, shape: .circle, content: symbol, padding: 5,
                fill: fill(node.id, base: theme.opFill), stroke: stroke, strokeWidth: width)
        }
    }
}
