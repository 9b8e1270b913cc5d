import ChainruleCore

/// A program of scalars as a tape: one entry per node, in the order the
/// program's `Graph` would hold them, stored as parallel arrays (op, inputs,
/// value, role, name, place) instead of a `Node` with its tensors apiece.
///
/// A program written as micrograd writes one (a neuron per line, tens of
/// thousands of scalar bindings) spends its time on what a node of a tensor
/// graph needs and a scalar does not: a shape array, two tensors, a source
/// location with its file name. Its passes run the ops' own scalar rules
/// (`Operation.scalarForward` / `scalarBackward`, the same ones the graph's
/// passes call for scalar nodes, in the same order), so they give the
/// graph's bits. The `Graph` is built from the tape only when something
/// needs it (a figure, a check, `--init-from`): `graph()`.
struct ScalarTape {
    /// The ops the nodes apply; a node's `operation` indexes this, -1 for a leaf.
    private(set) var operations: [any Operation] = []
    /// Whether each op of `operations` sends a gradient to its first and to its second input.
    private var differentiable: [(first: Bool, second: Bool)] = []
    /// Everything about a node but its value, in one entry.
    private(set) var entries: [Entry] = []
    /// Leaves' values from the start, ops' after `forward()`.
    private(set) var values: [Double] = []
    /// The program text: a node's name is a range of its UTF-8 bytes.
    let source: String
    let file: String?

    /// A node: its op and inputs (-1 for none: a leaf has none, a one-input
    /// op no second), its role, where its name is in the source (-1 for
    /// none) and where it comes from.
    struct Entry {
        var operation: Int32
        var first: Int32
        var second: Int32
        var nameStart: Int32 = -1
        var nameEnd: Int32 = -1
        var line: Int32
        var column: Int32
        var role: NodeRole
    }

    init(source: String, file: String?, capacity: Int) {
        self.source = source
        self.file = file
        entries.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    var count: Int { values.count }

    func role(of node: Int) -> NodeRole { entries[node].role }

    /// Where a node comes from in the text: 1-based line and column.
    struct Place {
        var line: Int32
        var column: Int32

        init(line: Int, column: Int) {
            self.line = Int32(truncatingIfNeeded: line)
            self.column = Int32(truncatingIfNeeded: column)
        }

        init(_ token: Token) { self.init(line: token.line, column: token.column) }
    }

    /// Adds `op` to the table the nodes index; `op` must have scalar rules.
    mutating func register(_ op: any Operation) -> Int32 {
        operations.append(op)
        differentiable.append((op.isDifferentiable(input: 0), op.isDifferentiable(input: 1)))
        return Int32(operations.count - 1)
    }

    /// A leaf named by the source's bytes `name`, if given.
    mutating func leaf(named name: Range<Int>?, _ value: Double, role: NodeRole, at place: Place) -> Int32 {
        var entry = Entry(operation: -1, first: -1, second: -1, line: place.line, column: place.column, role: role)
        if let name { (entry.nameStart, entry.nameEnd) = (Int32(name.lowerBound), Int32(name.upperBound)) }
        entries.append(entry)
        values.append(value)
        return Int32(values.count - 1)
    }

    /// A node applying `operations[op]` to `a` (and `b`, or -1); its value comes with `forward()`.
    mutating func apply(_ op: Int32, _ a: Int32, _ b: Int32, at place: Place) -> Int32 {
        entries.append(Entry(operation: op, first: a, second: b, line: place.line, column: place.column, role: .intermediate))
        values.append(0)
        return Int32(values.count - 1)
    }

    mutating func setRole(_ role: NodeRole, of node: Int32) { entries[Int(node)].role = role }

    func isNamed(_ node: Int32) -> Bool { entries[Int(node)].nameStart >= 0 }

    /// Names `node` by the source's bytes `name`.
    mutating func setName(_ name: Range<Int>, of node: Int32) {
        entries[Int(node)].nameStart = Int32(name.lowerBound)
        entries[Int(node)].nameEnd = Int32(name.upperBound)
    }

    func name(of node: Int) -> String? {
        let entry = entries[node]
        guard entry.nameStart >= 0 else { return nil }
        let utf8 = source.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: Int(entry.nameStart))
        let end = utf8.index(utf8.startIndex, offsetBy: Int(entry.nameEnd))
        return String(source[start..<end])
    }

    /// As `Node.displayName`: the name, else `op#index`, else `%index`.
    func displayName(of node: Int) -> String {
        if let name = name(of: node) { return name }
        let k = Int(entries[node].operation)
        return k >= 0 ? "\(operations[k].name)#\(node)" : NodeID(node).description
    }

    func location(of node: Int) -> SourceLocation {
        SourceLocation(file: file, line: Int(entries[node].line), column: Int(entries[node].column))
    }

    // MARK: Passes

    /// Every op node's value from its inputs' by the op's scalar rule — a
    /// one-input op gets `0` as its second argument, as the graph's pass
    /// gives it. False when an op gives none (then the graph's pass runs).
    /// The ops are read through a buffer pointer, which calls each where it
    /// is stored instead of copying it out of its array for every node.
    mutating func forward() -> Bool {
        operations.withUnsafeBufferPointer { operations in
            for i in values.indices {
                let entry = entries[i]
                let k = Int(entry.operation)
                guard k >= 0 else { continue }
                let b = Int(entry.second)
                guard let value = operations[k].scalarForward(values[Int(entry.first)], b >= 0 ? values[b] : 0) else { return false }
                values[i] = value
            }
            return true
        }
    }

    /// Backpropagation from `output` with seed 1: each node's gradient,
    /// accumulated over its uses as the graph's pass accumulates them (the
    /// gradient already there first, a node's first input before its
    /// second, later nodes before earlier ones); `reached` is false where
    /// the output does not depend on the node. A one-input op gets its
    /// input as its second argument, as the graph's pass gives it. Nil when
    /// an op gives no scalar rule.
    func backward(from output: Int) -> (gradients: [Double], reached: [Bool])? {
        var gradients = [Double](repeating: 0, count: count)
        var reached = [Bool](repeating: false, count: count)
        gradients[output] = 1
        reached[output] = true
        let complete = operations.withUnsafeBufferPointer { operations in
            for i in stride(from: output, through: 0, by: -1) {
                let entry = entries[i]
                let k = Int(entry.operation)
                guard k >= 0, reached[i] else { continue }
                let a = Int(entry.first), b = Int(entry.second)
                let va = values[a]
                guard let (ga, gb) = operations[k].scalarBackward(va, b >= 0 ? values[b] : va, output: values[i], gradient: gradients[i]) else {
                    return false
                }
                if differentiable[k].first { Self.accumulate(ga, into: a, &gradients, &reached) }
                if b >= 0 && differentiable[k].second { Self.accumulate(gb, into: b, &gradients, &reached) }
            }
            return true
        }
        return complete ? (gradients, reached) : nil
    }

    @inline(__always)
    private static func accumulate(_ sent: Double, into node: Int, _ gradients: inout [Double], _ reached: inout [Bool]) {
        if reached[node] {
            gradients[node] += sent
        } else {
            gradients[node] = sent
            reached[node] = true
        }
    }

    // MARK: The graph

    /// The `Graph` of the same nodes (ops, inputs, names, roles, places),
    /// forward pass done: what the general compiler builds for this program.
    func graph() -> Graph {
        let graph = Graph()
        for i in values.indices {
            let entry = entries[i]
            let k = Int(entry.operation)
            if k < 0 {
                graph.leaf(name(of: i), Tensor(values[i]), role: entry.role, location: location(of: i))
                continue
            }
            var inputs = [NodeID(Int(entry.first))]
            if entry.second >= 0 { inputs.append(NodeID(Int(entry.second))) }
            do {
                let node = try graph.apply(operations[k], inputs, name: name(of: i), location: location(of: i))
                if entry.role != .intermediate { graph.setRole(entry.role, of: node) }
            } catch {
                preconditionFailure("ScalarTape.graph: the tape admits ops whose shape rule takes scalars, yet \(error)")
            }
        }
        do {
            try graph.forward()
        } catch {
            preconditionFailure("ScalarTape.graph: ops with scalar rules check no values, yet \(error)")
        }
        return graph
    }
}
