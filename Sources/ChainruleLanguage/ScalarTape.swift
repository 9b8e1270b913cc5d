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
    /// How the passes run each op of `operations`.
    private var rules: [Rule] = []
    /// The elementwise ops among `operations`, by their concrete type: `Kernel.unary` indexes this.
    private var unaries: [UnaryElementwise] = []
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

        /// A leaf named by the source's bytes `name`, if given.
        init(leafNamed name: Range<Int>?, role: NodeRole, at place: Place) {
            (operation, first, second, line, column, self.role) = (-1, -1, -1, place.line, place.column, role)
            if let name { (nameStart, nameEnd) = (Int32(truncatingIfNeeded: name.lowerBound), Int32(truncatingIfNeeded: name.upperBound)) }
        }

        /// A node applying the tape's op `op` to `a` (and `b`, or -1).
        init(applying op: Int32, _ a: Int32, _ b: Int32, at place: Place) {
            (operation, first, second, line, column, role) = (op, a, b, place.line, place.column, .intermediate)
        }
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

    /// How the passes call an op's scalar rules: the arithmetic ops and the
    /// elementwise family (every operator and most calls of a scalar
    /// program) through their concrete types, which the optimiser calls
    /// directly, any other op through `any Operation`, which opens the
    /// existential at every node. The rules are the ops' own either way:
    /// the same bits.
    enum Kernel {
        case add, sub, mul, div
        /// `unaries[index]`.
        case unary(Int32)
        case other
    }

    /// An op's kernel, and whether it sends a gradient to its first and to its second input.
    struct Rule {
        var kernel: Kernel
        var first: Bool
        var second: Bool
    }

    /// Adds `op` to the table the nodes index; `op` must have scalar rules.
    mutating func register(_ op: any Operation) -> Int32 {
        let kernel: Kernel
        switch op {
        case is Add: kernel = .add
        case is Sub: kernel = .sub
        case is Mul: kernel = .mul
        case is Div: kernel = .div
        case let unary as UnaryElementwise:
            kernel = .unary(Int32(unaries.count))
            unaries.append(unary)
        default: kernel = .other
        }
        rules.append(Rule(kernel: kernel, first: op.isDifferentiable(input: 0), second: op.isDifferentiable(input: 1)))
        operations.append(op)
        return Int32(operations.count - 1)
    }

    /// Appends nodes made elsewhere (the byte reader's buffers), ops' values 0 until `forward()`.
    mutating func append(entries more: UnsafeBufferPointer<Entry>, values moreValues: UnsafeBufferPointer<Double>) {
        entries.append(contentsOf: more)
        values.append(contentsOf: moreValues)
    }

    /// A leaf named by the source's bytes `name`, if given.
    mutating func leaf(named name: Range<Int>?, _ value: Double, role: NodeRole, at place: Place) -> Int32 {
        entries.append(Entry(leafNamed: name, role: role, at: place))
        values.append(value)
        return Int32(values.count - 1)
    }

    /// A node applying `operations[op]` to `a` (and `b`, or -1); its value comes with `forward()`.
    mutating func apply(_ op: Int32, _ a: Int32, _ b: Int32, at place: Place) -> Int32 {
        entries.append(Entry(applying: op, a, b, at: place))
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
    /// The arrays are read through buffer pointers opened once: no array
    /// is checked for uniqueness, nor an op copied out, per node.
    mutating func forward() -> Bool {
        let entries = entries
        return Self.withRun(rules, unaries, operations) { run in
            values.withUnsafeMutableBufferPointer { values in
                entries.withUnsafeBufferPointer { entries in
                    for i in 0..<values.count {
                        let entry = entries[i]
                        guard entry.operation >= 0 else { continue }
                        let a = values[Int(entry.first)]
                        guard let value = run.forward(Int(entry.operation), a, entry.second >= 0 ? values[Int(entry.second)] : 0) else { return false }
                        values[i] = value
                    }
                    return true
                }
            }
        }
    }

    /// Whether every node's value is finite.
    var valuesAreFinite: Bool {
        values.withUnsafeBufferPointer { values in !values.contains { !$0.isFinite } }
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
        let complete = Self.withRun(rules, unaries, operations) { run in
            entries.withUnsafeBufferPointer { entries in
                values.withUnsafeBufferPointer { values in
                    gradients.withUnsafeMutableBufferPointer { gradients in
                        reached.withUnsafeMutableBufferPointer { reached in
                            gradients[output] = 1
                            reached[output] = true
                            for i in stride(from: output, through: 0, by: -1) {
                                let entry = entries[i]
                                let k = Int(entry.operation)
                                guard k >= 0, reached[i] else { continue }
                                let a = Int(entry.first), b = Int(entry.second)
                                let va = values[a]
                                guard let (ga, gb) = run.backward(k, va, b >= 0 ? values[b] : va, output: values[i], gradient: gradients[i]) else {
                                    return false
                                }
                                let rule = run.rules[k]
                                if rule.first { Self.accumulate(ga, into: a, gradients, reached) }
                                if b >= 0 && rule.second { Self.accumulate(gb, into: b, gradients, reached) }
                            }
                            return true
                        }
                    }
                }
            }
        }
        return complete ? (gradients, reached) : nil
    }

    @inline(__always)
    private static func accumulate(_ sent: Double, into node: Int, _ gradients: UnsafeMutableBufferPointer<Double>, _ reached: UnsafeMutableBufferPointer<Bool>) {
        if reached[node] {
            gradients[node] += sent
        } else {
            gradients[node] = sent
            reached[node] = true
        }
    }

    /// The ops' rules as the passes call them, read in place.
    private struct Run {
        let rules: UnsafeBufferPointer<Rule>
        let unaries: UnsafeBufferPointer<UnaryElementwise>
        let operations: UnsafeBufferPointer<any Operation>

        @inline(__always)
        func forward(_ k: Int, _ a: Double, _ b: Double) -> Double? {
            switch rules[k].kernel {
            case .add: Add().scalarForward(a, b)
            case .sub: Sub().scalarForward(a, b)
            case .mul: Mul().scalarForward(a, b)
            case .div: Div().scalarForward(a, b)
            case .unary(let j): unaries[Int(j)].scalarForward(a, b)
            case .other: operations[k].scalarForward(a, b)
            }
        }

        @inline(__always)
        func backward(_ k: Int, _ a: Double, _ b: Double, output: Double, gradient g: Double) -> (Double, Double)? {
            switch rules[k].kernel {
            case .add: Add().scalarBackward(a, b, output: output, gradient: g)
            case .sub: Sub().scalarBackward(a, b, output: output, gradient: g)
            case .mul: Mul().scalarBackward(a, b, output: output, gradient: g)
            case .div: Div().scalarBackward(a, b, output: output, gradient: g)
            case .unary(let j): unaries[Int(j)].scalarBackward(a, b, output: output, gradient: g)
            case .other: operations[k].scalarBackward(a, b, output: output, gradient: g)
            }
        }
    }

    private static func withRun<R>(_ rules: [Rule], _ unaries: [UnaryElementwise], _ operations: [any Operation], _ body: (Run) -> R) -> R {
        rules.withUnsafeBufferPointer { rules in
            unaries.withUnsafeBufferPointer { unaries in
                operations.withUnsafeBufferPointer { operations in
                    body(Run(rules: rules, unaries: unaries, operations: operations))
                }
            }
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
