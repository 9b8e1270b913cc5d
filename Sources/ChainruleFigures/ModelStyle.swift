import ChainruleCore

/// A picture of a model: one box per layer (`Conv2D h  10×3×5×5  760 params`)
/// or per op with layers as frames, tensor shapes on the edges.
extension SceneBuilder {
    /// The box that draws node `id` in the model style, or nil for a small
    /// constant (a literal, class labels) folded into its consumer.
    func modelGroup(_ id: NodeID) -> String? {
        let node = graph[id]
        if let layer = node.layer, !options.drawsOps(ofLayer: layer) { return "L\(layer)" }
        if node.role == .constant && Tensor.elementCount(node.shape) <= 16 { return nil }
        return "n\(id.index)"
    }

    mutating func buildModel() {
        if options.view == .ops || !options.expandedLayers.isEmpty {
            clusters = graph.layers.enumerated().map { SceneCluster(key: "L\($0.offset)", title: "\($0.element.kind) \($0.element.name)") }
        }
        var drawnLayers: Set<Int> = []
        for node in graph.nodes {
            // A copied leaf exists only as its copies; a copied value also in its own place.
            guard let key = modelGroup(node.id), node.op != nil || !copiedInModel(node.id) else { continue }
            if let layer = node.layer, !options.drawsOps(ofLayer: layer) {
                if drawnLayers.insert(layer).inserted { addLayerBox(layer, key: key) }
            } else {
                addModelNodeBox(node, key: key)
            }
        }
        var connected: Set<String> = []
        for node in graph.nodes {
            guard let to = modelGroup(node.id) else { continue }
            for input in node.inputs {
                guard var from = modelGroup(input), from != to else { continue }
                if copiedInModel(input) {
                    from += "_for_" + to
                    if index[from] == nil {
                        copies.insert(from)
                        addModelNodeBox(graph[input], key: from, cluster: index[to].flatMap { nodes[$0].cluster })
                    }
                }
                guard connected.insert(from + ">" + to).inserted else { continue }
                let shape = m.text(describeShape(graph[input].shape), color: theme.muted, small: true)
                labelledWire("w\(connected.count)", from: from, to: to, above: [shape], below: [])
            }
        }
    }

    /// A shared leaf drawn as its own box (not inside a layer's box) gets a
    /// copy beside each box that reads it, as in the other styles.
    func copiedInModel(_ id: NodeID) -> Bool {
        drawnAsCopies(id) && modelGroup(id) == "n\(id.index)"
    }

    /// A convolution's window in words: `5×5 kernel, stride 1, pad 2`.
    static func geometry(of layer: Layer) -> String? {
        guard let kernel = layer.details["kernel"] else { return nil }
        var parts = ["\(kernel)×\(kernel) kernel"]
        if let stride = layer.details["stride"] { parts.append("stride \(stride)") }
        if let pad = layer.details["pad"] { parts.append("pad \(pad)") }
        return parts.joined(separator: ", ")
    }

    mutating func addLayerBox(_ index: Int, key: String) {
        let layer = graph.layers[index]
        let members = graph.nodes(inLayer: index)
        let params = members.filter { graph[$0].role == .param }
        var rows = [m.text("\(layer.kind) \(layer.name)", color: theme.text, bold: true)]
        if let geometry = Self.geometry(of: layer) { rows.append(m.text(geometry, color: theme.text, small: true)) }
        if !params.isEmpty {
            let shapes = params.map { id -> String in
                let name = graph[id].name.map { $0.hasPrefix(layer.name + ".") ? String($0.dropFirst(layer.name.count + 1)) : $0 }
                return (name.map { $0 + " " } ?? "") + describeShape(graph[id].shape)
            }.joined(separator: " · ")
            let count = params.reduce(0) { $0 + Tensor.elementCount(graph[$1].shape) }
            rows.append(m.text(shapes, color: theme.text, small: true))
            rows.append(m.text("\(groupedThousands(count)) params", color: theme.muted, small: true))
        }
        let out = members.last.map { graph[$0] }
        if let out { rows.append(m.text("→ " + describeShape(out.shape), color: theme.muted, small: true)) }
        if let worst = worstChecked(members), let row = checkRow(worst) { rows.append(row) }
        let (stroke, width) = outline(members, base: theme.lineWidth)
        add(key, .layer, node: out?.id, shape: .box, content: m.column(rows), padding: 8,
            fill: fill(members, base: theme.valueFill), stroke: stroke, strokeWidth: width)
    }

    mutating func addModelNodeBox(_ node: Node, key: String, cluster copyCluster: Int? = nil) {
        let title = node.op.map { op in node.name.map { "\(op.name) \($0)" } ?? op.name } ?? node.displayName
        var rows = [m.text(title, color: theme.text, bold: true), m.text(describeShape(node.shape), color: theme.muted, small: true)]
        if node.role == .param { rows.append(m.text("\(groupedThousands(Tensor.elementCount(node.shape))) params", color: theme.muted, small: true)) }
        if !node.shape.isEmpty, options.drawsOps(ofLayer: node.layer) { rows.append(tensorPanels(node.id)) }
        if let row = checkRow(node.id) { rows.append(row) }
        let (stroke, width) = outline(node.id, base: theme.lineWidth)
        let cluster = copyCluster ?? (options.drawsOps(ofLayer: node.layer) ? node.layer : nil)
        add(key, node.op == nil ? .leaf : .value, node: node.id, shape: .box, content: m.column(rows),
            fill: fill(node.id, base: node.role.isLeaf ? theme.leafFill : theme.valueFill), stroke: stroke, strokeWidth: width, cluster: cluster)
    }
}

/// `61706` as `61,706`.
func groupedThousands(_ value: Int) -> String {
    let digits = Array(String(value.magnitude))
    var grouped = value < 0 ? "-" : ""
    for (i, digit) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { grouped.append(",") }
        grouped.append(digit)
    }
    return grouped
}
