import ChainruleCore

/// A program's output value and the gradient of every leaf that gets one:
/// what `chainrule eval` prints.
public struct Evaluation: Sendable {
    public var outputName: String
    public var value: Tensor
    /// Leaves in the order the program creates them (bindings, then each
    /// layer's `W` and `b`).
    public var gradients: [(name: String, gradient: Tensor)]
    public var notes: [String]
}

extension Program {
    /// Backpropagates from the output (a non-scalar output as its sum) and
    /// collects the gradient of every input and parameter. A leaf the output
    /// does not depend on gets zeros, and a note says so.
    public func evaluate() throws(DiagnosticList) -> Evaluation {
        if let tape = nodes.unbuiltTape, let evaluation = evaluate(tape) { return evaluation }
        do {
            try graph.backward(from: output)
        } catch {
            // Compiling ran the forward pass, so this happens only if a
            // caller changed a leaf of `graph` to a value an op refuses.
            throw DiagnosticList([Diagnostic(error.message, at: error.location ?? SourceLocation(file: file, line: 0, column: 0))])
        }
        var notes = self.notes
        if let note = nonFiniteGradientNote() { notes.append(note) }
        var gradients: [(name: String, gradient: Tensor)] = []
        for leaf in graph.differentiableLeaves {
            let node = graph[leaf]
            if let gradient = node.gradient {
                gradients.append((node.displayName, gradient))
            } else {
                gradients.append((node.displayName, Tensor.zeros(node.shape)))
                notes.append("\(outputName) does not depend on \(node.displayName): its gradient is 0")
            }
        }
        return Evaluation(outputName: outputName, value: graph[output].value!, gradients: gradients, notes: notes)
    }
}

extension Program {
    /// `evaluate()` on the program's tape, leaves in the same order with
    /// the same names, notes and bits; nil when a gradient is not finite
    /// (the graph's pass then says where it first appears).
    private func evaluate(_ tape: ScalarTape) -> Evaluation? {
        guard tape.backward(from: output.index), tape.gradientsAreFinite else { return nil }
        var notes = self.notes
        var leaves: [(name: String, gradient: Tensor)] = []
        for i in 0..<tape.count where tape.role(of: i) == .input || tape.role(of: i) == .param {
            let name = tape.displayName(of: i)
            if let gradient = tape.gradient(of: i) {
                leaves.append((name, Tensor(gradient)))
            } else {
                leaves.append((name, Tensor.zeros([])))
                notes.append("\(outputName) does not depend on \(name): its gradient is 0")
            }
        }
        return Evaluation(outputName: outputName, value: Tensor(tape.value(of: output.index)), gradients: leaves, notes: notes)
    }

    /// Where backpropagation first made a NaN or an infinity, if it did: the
    /// node nearest the output whose gradient is not finite (every node
    /// after it has a finite one), and the backward rule that sent it.
    func nonFiniteGradientNote() -> String? {
        let nodes = graph.nodes
        guard let bad = nodes.last(where: { !($0.gradient?.allFinite ?? true) }) else { return nil }
        func place(_ node: Node) -> String {
            node.location.map { " (line \($0.line), column \($0.column))" } ?? ""
        }
        var note = "a NaN or infinity first appears in the gradients at \(bad.displayName)\(place(bad))"
        // Its consumers' gradients are finite: find the one whose rule made it.
        for consumer in nodes[(bad.id.index + 1)...] {
            guard let op = consumer.op, let gradient = consumer.gradient, let value = consumer.value,
                  let k = consumer.inputs.firstIndex(of: bad.id) else { continue }
            let inputs = consumer.inputs.map { nodes[$0.index].value! }
            if let sent = op.backward(inputs, output: value, gradient: gradient)[k], !sent.allFinite {
                note += ", sent back by the backward rule of \(consumer.displayName)\(place(consumer))"
                break
            }
        }
        return note
    }
}

extension Evaluation {
    /// For people: the output, then one line per gradient. Scalars print as
    /// numbers; tensors as shape, min, max, mean and the first elements,
    /// or every element with `full`.
    ///
    /// ```
    /// f = -12
    /// gradients of f:
    ///   x  -4
    ///   y  -4
    ///   z  3
    /// ```
    public func text(full: Bool = false) -> String {
        var lines = ["\(outputName) = \(Self.describe(value, full: full))"]
        if gradients.isEmpty {
            lines.append("no leaf gets a gradient (every leaf is a constant)")
        } else {
            lines.append("gradients of \(outputName):")
            let width = gradients.map(\.name.count).max() ?? 0
            for (name, gradient) in gradients {
                let padded = name + String(repeating: " ", count: width - name.count)
                lines.append("  \(padded)  \(Self.describe(gradient, full: full))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `-12`; `3 [0.1, 0.2, 0.7]`; or a summary of a larger tensor:
    /// `10×3072 min -0.0214 max 0.0187 mean 1.2e-06 first [0.0012, …]`.
    /// With `full`, a tensor of rank 2 or more prints below, row by row.
    static func describe(_ tensor: Tensor, full: Bool) -> String {
        if tensor.isScalar { return formatNumber(tensor.data[0]) }
        let shape = describeShape(tensor.shape)
        guard full || tensor.count <= 6 else { return "\(shape) " + tensor.summaryText(first: 5) }
        if tensor.rank == 1 { return "\(shape) " + tensor.nestedText() }
        return "\(shape)\n    " + tensor.nestedText(rowIndent: 4)
    }

    /// For machines:
    /// `{"output": NAME, "value": T, "gradients": {leaf: T, …}, "notes": […]}`
    /// with `T = {"shape": [...], "data": [...]}` (row-major; a scalar has
    /// shape `[]`). Numbers are Swift's shortest representation that reads
    /// back as the same Double, so the values round-trip exactly. JSON has no
    /// NaN or infinity: they are written as `NonFiniteJSON`'s strings
    /// (`"NaN"`, `"Infinity"`, `"-Infinity"`).
    public func json() -> String {
        var out = "{\n"
        out += "  \"output\": \(JSON.string(outputName)),\n"
        out += "  \"value\": \(JSON.tensor(value)),\n"
        out += "  \"gradients\": {"
        out += gradients.map { "\n    \(JSON.string($0.name)): \(JSON.tensor($0.gradient))" }.joined(separator: ",")
        out += gradients.isEmpty ? "},\n" : "\n  },\n"
        out += "  \"notes\": [" + notes.map(JSON.string).joined(separator: ", ") + "]\n"
        out += "}\n"
        return out
    }
}

/// The few JSON pieces `Evaluation.json()` writes.
enum JSON {
    static func number(_ value: Double) -> String {
        if value.isNaN { return "\"\(NonFiniteJSON.nan)\"" }
        if value.isInfinite { return "\"\(value > 0 ? NonFiniteJSON.infinity : NonFiniteJSON.negativeInfinity)\"" }
        return value.description
    }

    static func tensor(_ tensor: Tensor) -> String {
        let shape = tensor.shape.map(String.init).joined(separator: ", ")
        var data = ""
        data.reserveCapacity(tensor.count * 20)
        for (i, value) in tensor.data.enumerated() {
            if i > 0 { data += ", " }
            data += number(value)
        }
        return "{\"shape\": [\(shape)], \"data\": [\(data)]}"
    }

    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
