import ChainruleCore

/// A picture of a model as a teacher draws it. In the layers view each box is
/// a stage: a layer (`Conv2D c1`, its window, weights and parameter count)
/// with the parameter-free ops that follow it in a chain folded in as rows
/// (`relu`, `maxpool2d s2 · 2×2 window, stride 2`), and its output shape once,
/// at the bottom; edges are plain arrows. In the ops view each op is a box
/// with its tensors, layers framed. Every fact on a box comes from the op's
/// typed `layerAttributes` and the graph's shapes, never from strings.
extension SceneBuilder {
    /// Class labels: a constant that every reader takes at an input that gets
    /// no gradient (cross-entropy's labels), holding whole numbers.
    func classLabels(_ id: NodeID) -> [Int]? {
        let node = graph[id]
        guard node.role == .constant, !consumers[id.index].isEmpty,
              consumers[id.index].allSatisfy({ graph[$0.node].op?.isDifferentiable(input: $0.input) == false }),
              let value = node.value, value.data.allSatisfy({ $0.rounded() == $0 && abs($0) < 1e9 }) else { return nil }
        return value.data.map { Int($0) }
    }

    /// `labels [3, 1]`; more than `listedLabels` by their count, `8 labels`:
    /// a batch's labels are data, like its inputs (drawn by their shape), and
    /// written out they made their reader's box the widest of the figure.
    func labelsText(_ labels: [Int]) -> String {
        labels.count > Self.listedLabels ? "\(labels.count) labels" : "labels [" + labels.map(String.init).joined(separator: ", ") + "]"
    }

    /// Up to this many class labels are written out in full.
    static let listedLabels = 4

    /// A leaf that one op not inside a layer reads as its weight (`W1`, `b1` of
    /// `linear(x, W1, b1)`): drawn inside that op's box in the layers view.
    func absorbedWeight(_ id: NodeID) -> NodeID? {
        guard options.view == .layers, graph[id].op == nil, consumers[id.index].count == 1 else { return nil }
        let reader = consumers[id.index][0]
        let node = graph[reader.node]
        guard node.layer == nil, let op = node.op,
              op.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape }).weightInputs.contains(reader.input) else { return nil }
        return reader.node
    }

    /// The box key of every node, in one pass in topological order. A scalar
    /// constant or class labels: none. In the layers view a layer's nodes
    /// share `L<layer>`, an absorbed weight its reader's box, and an op with
    /// one input joins that input's box when it is that box's only reader
    /// (conv → relu → pool is one stage).
    static func modelUnits(_ builder: SceneBuilder) -> [String?] {
        let graph = builder.graph, layers = builder.options.view == .layers
        var units = [String?](repeating: nil, count: graph.count)
        for node in graph.nodes {
            let i = node.id.index
            if node.role == .constant && (node.shape.isEmpty || Tensor.elementCount(node.shape) == 1 || builder.classLabels(node.id) != nil) {
                continue
            }
            if let layer = node.layer, builder.options.drawsOps(ofLayer: layer) {
                // An expanded layer (the interactive page's): its ops as boxes.
                units[i] = "n\(i)"
            } else if layers, let layer = node.layer {
                units[i] = "L\(layer)"
            } else if layers, node.op != nil, node.inputs.count == 1, let input = node.inputs.first, graph[input].op != nil,
                      !builder.options.drawsOps(ofLayer: graph[input].layer),
                      builder.consumers[input.index].count == 1, let unit = units[input.index] {
                units[i] = unit
            } else {
                units[i] = "n\(i)"
            }
        }
        // Weights are read later than they are made: give each its reader's box.
        for node in graph.nodes where node.op == nil {
            if let reader = builder.absorbedWeight(node.id), graph[reader].layer == nil { units[node.id.index] = units[reader.index] }
        }
        return units
    }

    mutating func buildModel() {
        let units = Self.modelUnits(self)
        // A shared leaf drawn as its own box (not inside a layer's box) gets a
        // copy beside each box that reads it, as in the other styles.
        let copied = graph.nodes.map { drawnAsCopies($0.id) && units[$0.id.index] == "n\($0.id.index)" }
        if options.view == .ops || !options.expandedLayers.isEmpty {
            clusters = graph.layers.enumerated().map { SceneCluster(key: "L\($0.offset)", title: "\($0.element.kind) \($0.element.name)") }
        }
        var members: [String: [NodeID]] = [:]
        var order: [String] = []
        for node in graph.nodes {
            // A copied leaf exists only as its copies; a copied value also in its own place.
            guard let key = units[node.id.index], node.op != nil || !copied[node.id.index] else { continue }
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(node.id)
        }
        for key in order {
            let ids = members[key]!
            if options.view == .layers && !options.drawsOps(ofLayer: graph[ids[0]].layer) {
                addStageBox(ids, key: key)
            } else {
                addModelNodeBox(graph[ids[0]], key: key)
            }
        }
        var connected: Set<String> = []
        for node in graph.nodes {
            guard let to = units[node.id.index] else { continue }
            for input in node.inputs {
                guard var from = units[input.index], from != to else { continue }
                if copied[input.index] {
                    from += "_for_" + to
                    if index[from] == nil {
                        copies.insert(from)
                        if options.view == .layers {
                            addStageBox([input], key: from)
                        } else {
                            addModelNodeBox(graph[input], key: from, cluster: index[to].flatMap { nodes[$0].cluster })
                        }
                    }
                }
                guard connected.insert(from + ">" + to).inserted else { continue }
                connect(from, to)
            }
        }
    }

    /// An op's window in words, from its typed attributes: `5×5 kernel,
    /// stride 1, pad 2` for a convolution (pad left out when 0), `2×2 window,
    /// stride 2` for a pool; nil for an op without one.
    func windowText(_ id: NodeID) -> String? {
        let node = graph[id]
        guard let op = node.op else { return nil }
        let attributes = op.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape })
        guard let kernel = attributes.kernel else { return nil }
        var parts = [kernel.map(String.init).joined(separator: "×") + (attributes.pad == nil ? " window" : " kernel")]
        if let stride = attributes.stride { parts.append("stride \(stride)") }
        if let pad = attributes.pad, pad > 0 { parts.append("pad \(pad)") }
        return parts.joined(separator: ", ")
    }

    /// The weight leaves drawn in a box of `ids`: a layer's parameters, or the
    /// leaves absorbed by an op outside layers.
    func weights(_ ids: [NodeID]) -> [NodeID] {
        ids.filter { id in
            let node = graph[id]
            return node.op == nil && (node.role == .param || absorbedWeight(id) != nil)
        }
    }

    /// One stage box: its title, then for each op its window and weights, the
    /// parameter count (frozen ones marked), class labels it reads, and the
    /// stage's output shape.
    mutating func addStageBox(_ ids: [NodeID], key: String) {
        let first = graph[ids[0]]
        let layer = first.layer.map { graph.layers[$0] }
        let weightIDs = weights(ids)
        let ops = ids.filter { graph[$0].op != nil }
        // The head (the layer, or the first op), its window and weights, then
        // the ops folded into the stage, one row each, then the labels read.
        var head: [Block] = [], folded: [Block] = [], labels: [Block] = []
        if let layer { head.append(m.text("\(layer.kind) \(layer.name)", color: theme.text, bold: true)) }
        if ops.isEmpty { head.append(m.text(first.displayName, color: theme.text, bold: true)) }
        for (k, id) in ops.enumerated() {
            let node = graph[id]
            var title = node.op!.name
            if let name = node.name, name != layer?.name, !(layer.map { name.hasPrefix($0.name + ".") } ?? false) { title += " " + name }
            let window = windowText(id)
            if layer == nil && k == 0 {
                head.append(m.text(title, color: theme.text, bold: true))
                if let window { head.append(m.text(window, color: theme.text)) }
            } else if node.layer != nil {
                if let window { head.append(m.text(window, color: theme.text)) }
            } else {
                folded.append(m.text(([title] + (window.map { [$0] } ?? [])).joined(separator: " · "), color: theme.text))
            }
            for input in node.inputs {
                if let list = classLabels(input) { labels.append(m.text(labelsText(list), color: theme.text)) }
            }
        }
        var rows = head
        let frozen = !weightIDs.isEmpty && weightIDs.allSatisfy { graph[$0].role == .constant }
        if !weightIDs.isEmpty {
            let prefix = layer.map { $0.name + "." } ?? ""
            let shapes = weightIDs.map { id -> String in
                let name = graph[id].name.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
                return (name.map { $0 + " " } ?? "") + describeShape(graph[id].shape)
            }.joined(separator: " · ")
            let count = weightIDs.reduce(0) { $0 + Tensor.elementCount(graph[$1].shape) }
            rows.append(m.text(shapes, color: theme.text))
            rows.append(m.text("\(groupedThousands(count)) \(frozen ? "frozen " : "")params", color: frozen ? theme.text : theme.muted, bold: frozen))
        }
        rows += folded + labels
        let out = graph[ids.last!]
        rows.append(m.text((ops.isEmpty ? "" : "→ ") + describeShape(out.shape), color: theme.muted))
        if let worst = worstChecked(ids), let row = checkRow(worst) { rows.append(row) }
        let (stroke, width) = outline(ids, base: theme.lineWidth)
        let base = frozen ? Self.frozenFill(theme) : ops.isEmpty ? theme.leafFill : theme.valueFill
        add(key, layer != nil || !weightIDs.isEmpty ? .layer : ops.isEmpty ? .leaf : .value, node: out.id, shape: .box,
            content: m.column(rows), padding: 8, fill: fill(ids, base: base), stroke: stroke, strokeWidth: width)
        if let i = index[key] {
            nodes[i].hatched = frozen
            nodes[i].layer = first.layer
        }
    }

    /// Frozen weights are greyed: the cluster grey darkened a little towards the muted text.
    static func frozenFill(_ theme: Theme) -> RGB { theme.clusterFill.mixed(with: theme.muted, 0.18) }

    mutating func addModelNodeBox(_ node: Node, key: String, cluster copyCluster: Int? = nil) {
        let title = node.op.map { op in node.name.map { "\(op.name) \($0)" } ?? op.name } ?? node.displayName
        var rows = [m.text(title, color: theme.text, bold: true), m.text(describeShape(node.shape), color: theme.muted, small: true)]
        if let window = windowText(node.id) { rows.append(m.text(window, color: theme.text, small: true)) }
        for input in node.inputs {
            if let labels = classLabels(input) { rows.append(m.text(labelsText(labels), color: theme.text, small: true)) }
        }
        if node.role == .param { rows.append(m.text("\(groupedThousands(Tensor.elementCount(node.shape))) params", color: theme.muted, small: true)) }
        if !node.shape.isEmpty { rows.append(tensorPanels(node.id)) }
        if let row = checkRow(node.id) { rows.append(row) }
        let (stroke, width) = outline(node.id, base: theme.lineWidth)
        let cluster = copyCluster ?? (options.drawsOps(ofLayer: node.layer) ? node.layer : nil)
        add(key, node.op == nil ? .leaf : .value, node: node.id, shape: .box, content: m.column(rows),
            fill: fill(node.id, base: node.role.isLeaf ? theme.leafFill : theme.valueFill), stroke: stroke, strokeWidth: width, cluster: cluster)
    }

    /// `61,706 parameters in 5 layers`, or with constant weights (a frozen,
    /// pretrained layer) `51 trainable · 144 frozen parameters in 1 layer`:
    /// what a model picture is asked first.
    func parameterSummary() -> String? {
        let trainable = graph.nodes.filter { $0.role == .param }.reduce(0) { $0 + Tensor.elementCount($1.shape) }
        let frozen = graph.nodes.filter { node in
            node.role == .constant && consumers[node.id.index].contains { reader in
                let op = graph[reader.node]
                return op.op?.layerAttributes(inputShapes: op.inputs.map { graph[$0].shape }).weightInputs.contains(reader.input) ?? false
            }
        }.reduce(0) { $0 + Tensor.elementCount($1.shape) }
        guard trainable + frozen > 0 else { return nil }
        let layers = graph.layers.count
        let inLayers = layers > 0 ? " in \(layers) layer\(layers == 1 ? "" : "s")" : ""
        if frozen == 0 { return "\(groupedThousands(trainable)) parameter\(trainable == 1 ? "" : "s")" + inLayers }
        return "\(groupedThousands(trainable)) trainable · \(groupedThousands(frozen)) frozen parameters" + inLayers
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
