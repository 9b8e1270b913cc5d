import ChainruleCore

/// CS231n's circuit: data flows left to right through small gates; every wire
/// carries its forward value in green above it and the gradient flowing back
/// along it in red below it, marked `←`; input names stand at the start of the wires.
///
/// A constant operand folds into its gate as CS231n draws it (`+1`, `*−1`,
/// `1/x`, `max(0, x)`); the other inputs of a gate keep their order (first
/// operand on top), and a gate whose inputs cannot be swapped names its ports
/// (`a`, `b`). Where a value feeds several wires, its wire ends in a fork: the
/// stem carries the summed gradient (`7.00 = 3.00 + 3.00 + 1.00`), each
/// branch its part; a leaf drawn as copies says its total on every copy.
extension SceneBuilder {
    mutating func buildCircuit() {
        for node in graph.nodes {
            let readers = consumers[node.id.index].filter { !folds(node.id, into: $0.node, at: $0.input) }
            if node.op == nil {
                // A constant folded into every gate that reads it is not drawn at all.
                if readers.isEmpty && !consumers[node.id.index].isEmpty { continue }
                if drawnAsCopies(node.id) {
                    for (consumer, k) in readers { addCircuitCopy(node, consumer: consumer, k: k) }
                } else {
                    addCircuitLeaf(node, key: "n\(node.id.index)")
                }
            } else {
                addGate(node)
                if drawnAsCopies(node.id) {
                    for (consumer, k) in readers { addCircuitCopy(node, consumer: consumer, k: k) }
                } else if forks(node.id) {
                    addFork(node)
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
            let drawn = node.inputs.indices.filter { !folds(node.inputs[$0], into: node.id, at: $0) }
            let ports = drawn.count > 1 && node.op.map { !$0.isCommutative } == true ? portNames(node) : nil
            for k in drawn {
                let input = node.inputs[k]
                let branch = forks(input)
                let wire = wireLabels(
                    value: branch ? .none : .some(graph[input].value),
                    gradient: receivesGradient(input) ? .some(gradients[k]) : .none,
                    local: locals[k].map(localGradientText),
                    equation: terms.first { $0.position == k }.map { equationBlock($0) })
                labelledWire("w\(node.id.index)_\(k)", from: circuitSource(input, consumer: node.id, k: k), to: "n\(node.id.index)",
                             above: wire.above, below: wire.below, port: ports?[k])
            }
        }
        // A gate whose value is copied beside its readers ends in its name, like the output.
        for node in graph.nodes where node.op != nil && drawnAsCopies(node.id) && node.id != output {
            add("t\(node.id.index)", .terminal, node: nil, shape: .plain, content: m.text(label(node.id), color: theme.text, bold: true), padding: 2)
            let wire = wireLabels(value: .some(node.value), gradient: .some(shownGradient(node.id)), local: nil, sum: sumBlock(node.id))
            labelledWire("w\(node.id.index)_out", from: "n\(node.id.index)", to: "t\(node.id.index)", above: wire.above, below: wire.below)
        }
        // The output's own wire, ending in its name.
        let result = graph[output]
        add("out", .terminal, node: nil, shape: .plain, content: m.text(label(output), color: theme.text, bold: true), padding: 2)
        let wire = wireLabels(value: .some(result.value), gradient: .some(shownGradient(output)), local: nil)
        labelledWire("w_out", from: "n\(output.index)", to: "out", above: wire.above, below: wire.below)
    }

    // MARK: Folded constants

    /// Whether input `k` of `consumer` is folded into the gate: an unnamed
    /// scalar constant read by a two-input gate whose other input is drawn
    /// (CS231n's `+1`, `*−1`, `1/x`). Infix and call notations fold.
    func folds(_ input: NodeID, into consumer: NodeID, at k: Int) -> Bool {
        let gate = graph[consumer]
        guard let op = gate.op, gate.inputs.count == 2 else { return false }
        func foldable(_ id: NodeID) -> Bool {
            let leaf = graph[id]
            return leaf.op == nil && leaf.role == .constant && leaf.name == nil && leaf.value?.count == 1 && leaf.shape.isEmpty
        }
        guard foldable(input) else { return false }
        switch op.notation {
        case .infix, .call: break
        case .prefix, .postfix: return false
        }
        // Of two constants only the second folds, so the gate keeps one input.
        return !(k == 0 && foldable(gate.inputs[1]))
    }

    /// The gate's label: the op's symbol, or with its folded constant `c`:
    /// `+c`, `*c`, `/c`, `−c` when the constant is second (or the op commutes),
    /// `c/x`, `c−x` when it is first; `max(0, x)` for a call (with the op's symbol).
    func gateSymbol(_ node: Node) -> String {
        guard let op = node.op else { return "?" }
        guard let k = node.inputs.indices.first(where: { folds(node.inputs[$0], into: node.id, at: $0) }),
              let value = graph[node.inputs[k]].value?.data.first else { return op.symbol }
        let c = displayNumber(value)
        switch op.notation {
        case .infix(let symbol, _):
            return k == 1 || op.isCommutative ? symbol + c : c + symbol + "x"
        case .call:
            return op.symbol + (k == 0 || op.isCommutative ? "(\(c), x)" : "(x, \(c))")
        case .prefix, .postfix:
            return op.symbol
        }
    }

    /// The names of a gate's inputs, for its port labels: the op's parameter
    /// names from the registry (`a`, `b`; `x`, `W`), else `a`, `b`, `c`, …
    func portNames(_ node: Node) -> [String] {
        let tensors = node.op?.spec?.parameters.filter { [.tensor, .optionalTensor, .labels].contains($0.kind) }.map(\.name) ?? []
        if tensors.count == node.inputs.count { return tensors }
        return node.inputs.indices.map { String(UnicodeScalar(UInt8(97 + $0 % 26))) }
    }

    // MARK: Forks

    /// Whether `id`'s one drawing feeds several wires (not counting folded
    /// constants, and not values copied beside their readers): its wire forks.
    func forks(_ id: NodeID) -> Bool {
        graph[id].op != nil && !drawnAsCopies(id) && consumers[id.index].count > 1
    }

    /// Where the wire into input `k` of `consumer` starts: the fork of a forked value, else its drawing.
    func circuitSource(_ input: NodeID, consumer: NodeID, k: Int) -> String {
        forks(input) ? "j\(input.index)" : sourceKey(input, consumer: consumer, k: k)
    }

    /// A fork: a dot after the gate, reached by a stem carrying the value and
    /// the summed gradient; the branches start at the dot.
    mutating func addFork(_ node: Node) {
        let key = "j\(node.id.index)"
        add(key, .fork, node: nil, shape: .plain, content: m.spacer(Self.forkDot, Self.forkDot), padding: 0, fill: theme.stroke)
        let wire = wireLabels(value: .some(node.value), gradient: .some(shownGradient(node.id)), local: nil, sum: sumBlock(node.id))
        labelledWire("w\(node.id.index)_fork", from: "n\(node.id.index)", to: key, above: wire.above, below: wire.below, arrow: false)
    }

    /// The side of a fork's dot (points).
    static let forkDot = 7.0

    /// The parts of `id`'s gradient, one per wire that reads it (nil where not yet sent).
    func gradientParts(_ id: NodeID) -> [Tensor?] {
        consumers[id.index].map { consumer, k in
            guard options.gradientsSent?.contains(consumer) ?? true else { return nil }
            return wireGradients(consumer: consumer)[k]
        }
    }

    /// `= 3.00 + 3.00 + 1.00` under a forked scalar's total, true as shown;
    /// `sum of 6 wires` for more than four parts or tensors. Nil while the total is unknown.
    func sumBlock(_ id: NodeID) -> Block? {
        guard options.showGradients, options.labels.contains(.grad), let total = shownGradient(id) else { return nil }
        let parts = gradientParts(id)
        guard parts.count > 1 else { return nil }
        let scalars = parts.compactMap { $0?.count == 1 ? $0?.data[0] : nil }
        guard total.count == 1, scalars.count == parts.count, parts.count <= 4 else {
            return m.text("sum of \(parts.count) wires", color: theme.gradient, small: true)
        }
        let shown = displayedEquation(scalars, result: total.data[0]) { $0.reduce(0, +) }
        return m.text((shown.exact ? "= " : "≈ ") + shown.terms.joined(separator: " + "), color: theme.gradient, small: true)
    }

    // MARK: Wire labels

    /// The value over the wire; gradient and local derivative under it. A
    /// `value` or `gradient` of `.none` leaves it out (a fork's branch shows
    /// its value once, on the stem; a constant gets no gradient). An
    /// `equation` (the written-out backward step) replaces the gradient's
    /// number; a `sum` goes under it.
    func wireLabels(value: Tensor??, gradient: Tensor??, local: String?, equation: Block? = nil, sum: Block? = nil) -> (above: [Block], below: [Block]) {
        var above: [Block] = [], below: [Block] = []
        if options.labels.contains(.value), let value {
            above.append(withThumbnail(value, m.text(circuitNumber(value), color: theme.value), diverging: false))
        }
        if options.labels.contains(.local), let local {
            below.append(m.text(local, color: theme.local, small: true))
        }
        if options.showGradients && options.labels.contains(.grad), let gradient {
            below.append(equation ?? withThumbnail(gradient, gradientText(circuitNumber(gradient)), diverging: true))
            if let sum { below.append(sum) }
        }
        return (above, below)
    }

    /// A gradient's number with its mark: `← -4.00`, so that it differs from a
    /// value by more than its colour and place.
    func gradientText(_ number: String) -> Block {
        m.text(Self.gradientMark + number, color: theme.gradient)
    }

    /// `←` and a narrow no-break space (U+202F): the mark stays with its number
    /// and costs a wire less width than a full space.
    static let gradientMark = "←\u{202F}"

    /// A tensor's text with a small heatmap before it; a scalar's text alone.
    /// The heatmap follows the fitting search's choice (`FitChoice`): half
    /// size, or pictures instead of numbers, as a record's panels do.
    func withThumbnail(_ tensor: Tensor?, _ text: Block, diverging: Bool) -> Block {
        guard let tensor, tensor.count > 1 else { return text }
        return m.row([thumbnail(tensor, diverging: diverging, side: 36, choice: options.fitChoice), text])
    }

    /// A scalar as CS231n writes it; a tensor as its shape and range; nil as "—".
    func circuitNumber(_ tensor: Tensor?) -> String {
        guard let tensor else { return "—" }
        if tensor.count == 1 { return number(tensor.data[0]) }
        return describeShape(tensor.shape) + " " + summary(tensor)
    }

    // MARK: Nodes

    /// The copy of `node`'s name at the start of the wire into input `k` of `consumer`.
    /// A leaf's copies say its total gradient: all of them when it has at most
    /// `copiedFanOut` readers, else the first (a weight shared by a hundred
    /// gates would widen every step of the chain by its total).
    mutating func addCircuitCopy(_ node: Node, consumer: NodeID, k: Int) {
        let key = sourceKey(node.id, consumer: consumer, k: k)
        copies.insert(key)
        let readers = consumers[node.id.index]
        let first = readers.first.map { $0.node == consumer && $0.input == k } ?? false
        addCircuitLeaf(node, key: key, copy: node.op == nil && (readers.count <= Self.copiedFanOut || first))
    }

    /// A leaf's name at the start of its wire. A `copy` of a leaf read by
    /// several gates also says its gradient is the sum over all its copies' wires.
    mutating func addCircuitLeaf(_ node: Node, key: String, copy: Bool = false) {
        // A named leaf shows its name; an anonymous constant shows its value.
        let text = node.name ?? (node.value.map { $0.count == 1 ? displayNumber($0.data[0]) : describeShape($0.shape) } ?? label(node.id))
        let (stroke, width) = outline(node.id, base: 0)
        var content = m.text(text, color: node.role == .constant ? theme.muted : theme.text, bold: node.role != .constant)
        if copy, receivesGradient(node.id), options.showGradients, options.labels.contains(.grad) {
            let total = shownGradient(node.id).map { "Σ " + circuitNumber($0) } ?? "Σ —"
            content = m.column([content, m.text(total, color: theme.gradient, small: true)])
        }
        add(key, .leaf, node: node.id, shape: .plain,
            content: content,
            padding: 3, fill: node.id == options.highlighted ? theme.highlight.mixed(with: .white, 0.7) : nil, stroke: stroke, strokeWidth: width)
    }

    mutating func addGate(_ node: Node) {
        let symbol = m.text(gateSymbol(node), TextStyle(color: theme.text, size: theme.symbolFontSize, bold: true))
        let (stroke, width) = outline(node.id, base: 1.5)
        let key = "n\(node.id.index)"
        if let row = checkRow(node.id) {
            // A checked gate becomes a small box so its mark fits on it.
            // Room inside for a kink's second outline line.
            add(key, .op, node: node.id, shape: .box, content: m.column([symbol, row]),
                padding: 4 + OutlineStyle.doubleGap, fill: fill(node.id, base: theme.opFill), stroke: stroke, strokeWidth: width)
        } else {
            add(key, .op, node: node.id, shape: .circle, content: symbol, padding: 4,
                fill: fill(node.id, base: theme.opFill), stroke: stroke, strokeWidth: width)
        }
        if node.inputs.count > 1 { nodes[nodes.count - 1].ordersInputs = true }
    }
}

/// A circuit whose one line reads below 14 pt on its target wraps like a
/// line of text (`RowWrap`'s lines): the chain is cut in the gaps between
/// its ranks, and every piece runs left to right under the one before —
/// never mirrored, so every gradient's `←` still points the way it flows. A
/// wire crossing a cut leaves its row on the right, runs down a lane outside
/// the rows and back along the gap above the next row, and enters it from
/// the left, as a carriage return. A circuit that reads at 14 pt keeps its
/// one line: its gates read as an equation.
enum CircuitWrap {
    /// The arrangement of `laidOut` (left to right) in 2…`RowWrap.maxRows`
    /// rows, `RowWrap.rowGap` apart, that reads biggest on `target`, when its
    /// one line is not readable there and the rows gain `RowWrap.minimumGain`; else `laidOut`.
    static func wrap(_ laidOut: LaidOutScene, into target: FitTarget) -> LaidOutScene {
        guard laidOut.scene.direction == .LR, !SlideFit(laidOut, target: target).isReadable,
              let rows = RowWrap.rows(laidOut, into: target, order: .lines, rowGap: RowWrap.rowGap) else { return laidOut }
        return RowWrap.titled(rows, like: laidOut)
    }
}
