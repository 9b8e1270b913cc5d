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

    /// A leaf written into the box of the one op that reads it when the
    /// fitting search folds weights (`BoxDetail.foldedWeights` and beyond):
    /// a parameter, or a leaf the op reads as its weight (a frozen layer's),
    /// read by an op drawn as a box of its own. That op, or nil.
    func foldedWeight(_ id: NodeID) -> NodeID? {
        guard options.fitChoice.boxDetail >= .foldedWeights, graph[id].op == nil, consumers[id.index].count == 1 else { return nil }
        let reader = consumers[id.index][0]
        let node = graph[reader.node]
        guard let op = node.op, options.drawsOps(ofLayer: node.layer) else { return nil }
        let isWeight = op.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape }).weightInputs.contains(reader.input)
        return graph[id].role == .param || isWeight ? reader.node : nil
    }

    /// `W 6×1×5×5 · b 6`: the weights `ids`, named without their layer's prefix.
    func weightShapes(_ ids: [NodeID], layer: Layer?) -> String {
        let prefix = layer.map { $0.name + "." } ?? ""
        return ids.map { id -> String in
            let name = graph[id].name.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
            return (name.map { $0 + " " } ?? "") + describeShape(graph[id].shape)
        }.joined(separator: " · ")
    }

    /// The frame (scene cluster) of each layer in the ops view: every layer
    /// has one, but once weights are folded (`foldedWeight`) a layer drawn as
    /// one box has none, its box titled by the layer instead; none in the
    /// layers view, unless the layer is drawn op by op (`expandedLayers`).
    func layerFrames(boxKeys: [String], members: [String: [NodeID]]) -> (clusters: [SceneCluster], frameOf: [Int?]) {
        guard options.view == .ops || !options.expandedLayers.isEmpty else { return ([], graph.layers.map { _ in nil }) }
        var boxes = [Int](repeating: 0, count: graph.layers.count)
        for key in boxKeys {
            if let layer = graph[members[key]![0]].layer, options.drawsOps(ofLayer: layer) { boxes[layer] += 1 }
        }
        let folded = options.fitChoice.boxDetail >= .foldedWeights
        var clusters: [SceneCluster] = [], frameOf: [Int?] = []
        for (k, layer) in graph.layers.enumerated() {
            guard !folded || boxes[k] > 1 else {
                frameOf.append(nil)
                continue
            }
            frameOf.append(clusters.count)
            clusters.append(SceneCluster(key: "L\(k)", title: "\(layer.kind) \(layer.name)"))
        }
        return (clusters, frameOf)
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
            if node.role == .constant && (node.shape.isEmpty || Tensor.elementCount(node.shape) == 1 || builder.classLabels(node.id) != nil)
                || builder.foldedWeight(node.id) != nil {
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
        var members: [String: [NodeID]] = [:]
        var order: [String] = []
        for node in graph.nodes {
            // A copied leaf exists only as its copies; a copied value also in its own place.
            guard let key = units[node.id.index], node.op != nil || !copied[node.id.index] else { continue }
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(node.id)
        }
        let frames = layerFrames(boxKeys: order, members: members)
        clusters = frames.clusters
        layerFrame = frames.frameOf
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
            for (k, input) in node.inputs.enumerated() {
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
                // Once weights are folded, the figure is the chain of first operands: it pulls
                // straight, and a wire that skips ahead (a residual's) bends instead.
                if k == 0 && options.fitChoice.boxDetail >= .foldedWeights { edges[edges.count - 1].weight = Self.chainWireWeight }
            }
        }
    }

    /// How hard a first operand's wire pulls straight once weights are
    /// folded (`buildModel`): more than a skipping wire's dummy points hold
    /// theirs in `dot` (eight times its weight of 1), so the chain of boxes
    /// stays on one line and wraps into rows as low as its boxes.
    static let chainWireWeight = 16

    /// An op's window in words, from its typed attributes: `5×5 kernel,
    /// stride 1, pad 2` for a convolution (pad left out when 0), `2×2 window,
    /// stride 2` for a pool; nil for an op without one. `compact` (boxes
    /// that give detail up, `BoxDetail.compact`) drops the noun and every
    /// attribute at its registry default: `3×3, pad 1` for the same
    /// convolution at stride 1, `2×2, stride 2` for the pool (whose stride
    /// has no default of its own); and the kernel too when one of
    /// `weightShapes`, written beside it, ends in it (`W 4×1×3×3` holds the
    /// 3×3): `pad 1`, or nil when nothing is left.
    func windowText(_ id: NodeID, compact: Bool = false, beside weightShapes: [[Int]] = []) -> String? {
        let node = graph[id]
        guard let op = node.op else { return nil }
        let attributes = op.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape })
        guard let kernel = attributes.kernel else { return nil }
        func isDefault(_ name: String, _ value: Int) -> Bool {
            compact && op.spec?.parameters.first { $0.name == name }?.defaultValue == .int(value)
        }
        let kernelShown = compact && weightShapes.contains { $0.count > kernel.count && $0.suffix(kernel.count).elementsEqual(kernel) }
        var parts: [String] = []
        if !kernelShown {
            parts.append(kernel.map(String.init).joined(separator: "×") + (compact ? "" : attributes.pad == nil ? " window" : " kernel"))
        }
        if let stride = attributes.stride, !isDefault("stride", stride) { parts.append("stride \(stride)") }
        if let pad = attributes.pad, pad > 0 { parts.append("pad \(pad)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
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
            if let name = node.name, name != layer?.name, !(layer.map { name.hasPrefix($0.name + ".") } ?? false),
               !Self.namesOp(name, node.op!) { title += " " + name }
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
        let out = graph[ids.last!]
        if !weightIDs.isEmpty {
            let count = weightIDs.reduce(0) { $0 + Tensor.elementCount(graph[$1].shape) }
            let params = "\(groupedThousands(count)) \(frozen ? "frozen " : "")params"
            if ops.isEmpty {
                // A parameter of its own box (a matmul's scores) is named by its title: its shape and count
                // on one line, the count alone when it says the shape (a vector's).
                let text = out.shape.count > 1 ? describeShape(out.shape) + " · " + params : params
                rows.append(m.text(text, color: frozen ? theme.text : theme.muted, bold: frozen))
            } else {
                rows.append(m.text(weightShapes(weightIDs, layer: layer), color: theme.text))
                rows.append(m.text(params, color: frozen ? theme.text : theme.muted, bold: frozen))
            }
        }
        rows += folded + labels
        if !(ops.isEmpty && !weightIDs.isEmpty) { rows.append(m.text((ops.isEmpty ? "" : "→ ") + describeShape(out.shape), color: theme.muted)) }
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

    /// Whether a node's `name` only repeats its op's (`MatMul` of a matmul,
    /// `Flatten` of a flatten: an ONNX exporter names nodes by their op type),
    /// letters compared without case or underscores.
    static func namesOp(_ name: String, _ op: any Operation) -> Bool {
        func letters(_ text: String) -> String { text.lowercased().filter { $0 != "_" } }
        return letters(name) == letters(op.name)
    }

    /// Frozen weights are greyed: the cluster grey darkened a little towards the muted text.
    static func frozenFill(_ theme: Theme) -> RGB { theme.clusterFill.mixed(with: theme.muted, 0.18) }

    /// One op or leaf as a box: its title (the layer's, `Conv2D c1`, when the
    /// layer has no frame of its own, `layerFrames`), shape, window, folded
    /// weights (`foldedWeight`), class labels, parameter count, and its
    /// tensors in full (`tensorPanels`) or compact (`compactPanels`).
    mutating func addModelNodeBox(_ node: Node, key: String, cluster copyCluster: Int? = nil) {
        let ownLayer = node.layer.flatMap { options.drawsOps(ofLayer: $0) ? $0 : nil }
        let frame = ownLayer.flatMap { layerFrame[$0] }
        var title = node.op.map { op in node.name.map { "\(op.name) \($0)" } ?? op.name } ?? node.displayName
        if let ownLayer, frame == nil, copyCluster == nil { title = "\(graph.layers[ownLayer].kind) \(graph.layers[ownLayer].name)" }
        var rows = [m.text(title, color: theme.text, bold: true), m.text(describeShape(node.shape), color: theme.muted, small: true)]
        let folded = node.inputs.filter { foldedWeight($0) == node.id }
        // Compact boxes write a window beside its weights on their line, without the kernel their shape holds.
        let compact = options.fitChoice.boxDetail >= .compact, joined = compact && !folded.isEmpty
        let window = windowText(node.id, compact: compact, beside: joined ? folded.map { graph[$0].shape } : [])
        if !joined, let window { rows.append(m.text(window, color: theme.text, small: true)) }
        if !folded.isEmpty {
            let frozen = folded.allSatisfy { graph[$0].role == .constant }
            let parts = [weightShapes(folded, layer: node.layer.map { graph.layers[$0] })] + (joined ? window.map { [$0] } ?? [] : []) + (frozen ? ["frozen"] : [])
            rows.append(m.text(parts.joined(separator: " · "), color: theme.text, small: true))
        }
        for input in node.inputs {
            if let labels = classLabels(input) { rows.append(m.text(labelsText(labels), color: theme.text, small: true)) }
        }
        if node.role == .param { rows.append(m.text("\(groupedThousands(Tensor.elementCount(node.shape))) params", color: theme.muted, small: true)) }
        if !node.shape.isEmpty { rows.append(options.fitChoice.boxDetail >= .compact ? compactPanels(node.id) : tensorPanels(node.id)) }
        if let row = checkRow(node.id) { rows.append(row) }
        let (stroke, width) = outline(node.id, base: theme.lineWidth)
        let cluster = copyCluster ?? frame
        add(key, node.op == nil ? .leaf : .value, node: node.id, shape: .box, content: m.column(rows),
            fill: fill(node.id, base: node.role.isLeaf ? theme.leafFill : theme.valueFill), stroke: stroke, strokeWidth: width, cluster: cluster)
    }

    /// A tensor in a compact box: its value's and gradient's ranges, and at
    /// `BoxDetail.compact` a small picture of its value's first plane beside
    /// them, as high as the two lines, with a colour bar on each line
    /// (`BoxDetail.ranges`: the ranges alone).
    func compactPanels(_ id: NodeID) -> Block {
        let node = graph[id]
        let pictured = options.fitChoice.boxDetail == .compact
        func line(_ tensor: Tensor?, _ label: String, color: RGB, diverging: Bool) -> Block {
            let text = m.text(label + " " + summary(tensor), color: color, small: true)
            guard pictured, let tensor, tensor.count > 1 else { return text }
            return m.row([text, colorBar(diverging: diverging)])
        }
        var lines: [Block] = []
        if let value = node.value { lines.append(line(value, "data", color: theme.value, diverging: false)) }
        if options.showGradients && receivesGradient(id) { lines.append(line(shownGradient(id), "grad", color: theme.gradient, diverging: true)) }
        let legends = FigureTitle.leftAligned(lines, measurer: m)
        guard pictured, let value = node.value, value.count > 1, let plane = firstPlane(value, filters: isFilterBank(id)) else { return legends }
        let picture = thumbnail(plane, diverging: false, side: legends.size.height, scale: Self.finiteRange([statistics(value)], magnitude: false),
                                choice: options.fitChoice)
        return m.row([picture, m.spacer(theme.gap, 0), legends])
    }

    /// The most cells a side of a compact box's picture has: its first plane
    /// is sampled (every k-th element, never averaged) down to this.
    static let compactCells = 16

    /// The first plane of `tensor` (`planes`: its first channel, or its first
    /// filter's first input channel) as a matrix, every k-th row and column
    /// kept so that no side exceeds `compactCells`; nil for an empty tensor.
    func firstPlane(_ tensor: Tensor, filters: Bool) -> Tensor? {
        let planes = planes(tensor.shape, filters: filters)
        guard tensor.count > 0, let offset = planes.offsets.first else { return nil }
        let step = max(1, (max(planes.rows, planes.columns) + Self.compactCells - 1) / Self.compactCells)
        let rows = Array(stride(from: 0, to: planes.rows, by: step)), columns = Array(stride(from: 0, to: planes.columns, by: step))
        let data = rows.flatMap { r in columns.map { c in tensor.data[offset + r * planes.columns + c] } }
        return Tensor(shape: [rows.count, columns.count], data: data)
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
