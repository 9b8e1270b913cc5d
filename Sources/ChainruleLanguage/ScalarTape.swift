import ChainruleCore

/// A program of scalars as a tape: one entry per node, in the order the
/// program's `Graph` would hold them, in the columns of `ScalarNodes`
/// (what the passes read, value, gradient, name, place) instead of a
/// `Node` with its tensors apiece.
///
/// A program written as micrograd writes one (a neuron per line, tens of
/// thousands of scalar bindings) spends its time on what a node of a tensor
/// graph needs and a scalar does not: a shape array, two tensors, a source
/// location with its file name. Its passes run the ops' own scalar rules
/// (`Operation.scalarForward` / `scalarBackward`, the same ones the graph's
/// passes call for scalar nodes, in the same order), so they give the
/// graph's bits. The `Graph` is built from the tape only when something
/// needs it (a figure, a check, `--init-from`): `graph()`.
///
/// The readers write the nodes in place and hand them over whole; after
/// that the passes write only values, gradients and the reached marks.
final class ScalarTape {
    let operations: ScalarOperations
    private let nodes: ScalarNodes
    /// The program text: a node's name is a range of its UTF-8 bytes.
    let source: String
    let file: String?

    init(operations: ScalarOperations, nodes: consuming ScalarNodes, source: String, file: String?) {
        self.operations = operations
        self.nodes = nodes
        self.source = source
        self.file = file
    }

    var count: Int { nodes.count }

    func role(of node: Int) -> NodeRole { nodes.steps[node].role }

    func value(of node: Int) -> Double { nodes.values[node] }

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

    func name(of node: Int) -> String? {
        let name = nodes.names[node]
        guard name.start >= 0 else { return nil }
        let utf8 = source.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: Int(name.start))
        let end = utf8.index(utf8.startIndex, offsetBy: Int(name.end))
        return String(source[start..<end])
    }

    /// As `Node.displayName`: the name, else `op#index`, else `%index`.
    func displayName(of node: Int) -> String {
        if let name = name(of: node) { return name }
        let k = Int(nodes.steps[node].operation)
        return k >= 0 ? "\(operations.operations[k].name)#\(node)" : NodeID(node).description
    }

    func location(of node: Int) -> SourceLocation {
        let place = nodes.places[node]
        return SourceLocation(file: file, line: Int(place.line), column: Int(place.column))
    }

    // MARK: Passes

    /// Every op node's value from its inputs' by the op's scalar rule — a
    /// one-input op gets `0` as its second argument, as the graph's pass
    /// gives it. False when an op gives none (then the graph's pass runs).
    func forward() -> Bool {
        let (steps, values) = (nodes.steps, nodes.values)
        return operations.withRun { run in
            for i in 0..<nodes.count {
                let step = steps[i]
                guard step.operation >= 0 else { continue }
                let a = values[Int(step.first)]
                guard let value = run.forward(Int(step.operation), a, step.second >= 0 ? values[Int(step.second)] : 0) else { return false }
                values[i] = value
            }
            return true
        }
    }

    /// Whether every node's value is finite.
    var valuesAreFinite: Bool {
        !UnsafeBufferPointer(start: nodes.values, count: nodes.count).contains { !$0.isFinite }
    }

    /// Backpropagation from `output` with seed 1: each node's gradient,
    /// accumulated over its uses as the graph's pass accumulates them (the
    /// gradient already there first, a node's first input before its
    /// second, later nodes before earlier ones); `gradient(of:)` is nil
    /// where the output does not depend on the node. A one-input op gets
    /// its input as its second argument, as the graph's pass gives it.
    /// False when an op gives no scalar rule. A node's first gradient is
    /// stored, later ones added, so only the reached marks are cleared
    /// before the pass.
    func backward(from output: Int) -> Bool {
        let (steps, values, gradients, reached) = (nodes.steps, nodes.values, nodes.gradients, nodes.reached)
        reached.initialize(repeating: false, count: nodes.count)
        gradients[output] = 1
        reached[output] = true
        return operations.withRun { run in
            for i in stride(from: output, through: 0, by: -1) {
                let step = steps[i]
                let k = Int(step.operation)
                guard k >= 0, reached[i] else { continue }
                let a = Int(step.first), b = Int(step.second)
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

    /// The gradient `backward(from:)` gave `node`; nil where the output does not depend on it.
    func gradient(of node: Int) -> Double? { nodes.reached[node] ? nodes.gradients[node] : nil }

    /// Whether every gradient `backward(from:)` gave is finite.
    var gradientsAreFinite: Bool {
        (0..<nodes.count).allSatisfy { !nodes.reached[$0] || nodes.gradients[$0].isFinite }
    }

    @inline(__always)
    private static func accumulate(_ sent: Double, into node: Int, _ gradients: UnsafeMutablePointer<Double>, _ reached: UnsafeMutablePointer<Bool>) {
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
        for i in 0..<nodes.count {
            let step = nodes.steps[i]
            let k = Int(step.operation)
            if k < 0 {
                graph.leaf(name(of: i), Tensor(nodes.values[i]), role: step.role, location: location(of: i))
                continue
            }
            var inputs = [NodeID(Int(step.first))]
            if step.second >= 0 { inputs.append(NodeID(Int(step.second))) }
            do {
                let node = try graph.apply(operations.operations[k], inputs, name: name(of: i), location: location(of: i))
                if step.role != .intermediate { graph.setRole(step.role, of: node) }
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

/// The ops a tape's nodes apply, and how its passes run each one.
struct ScalarOperations {
    /// The ops the nodes apply; a node's `operation` indexes this, -1 for a leaf.
    private(set) var operations: [any Operation] = []
    /// How the passes run each op of `operations`.
    private var rules: [Rule] = []
    /// The elementwise ops among `operations`, by their concrete type: `Kernel.unary` indexes this.
    private var unaries: [UnaryElementwise] = []

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

    /// The ops' rules as the passes call them, read in place: no array is
    /// checked for uniqueness, nor an op copied out, per node.
    struct Run {
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

    func withRun<R>(_ body: (Run) -> R) -> R {
        rules.withUnsafeBufferPointer { rules in
            unaries.withUnsafeBufferPointer { unaries in
                operations.withUnsafeBufferPointer { operations in
                    body(Run(rules: rules, unaries: unaries, operations: operations))
                }
            }
        }
    }
}

/// A tape's nodes, column by column in one block of `ScalarMemory` sized
/// for `capacity` nodes: what the passes read of a node (16 bytes), its
/// value, its gradient, its name (8), its place (8), whether the backward
/// pass reached it (1) — 49 bytes a node. A reader writes each node once,
/// where the tape will keep it; an append is a few stores and a count.
struct ScalarNodes: ~Copyable {
    /// What the passes read of a node: its op (-1 for a leaf), its inputs
    /// (-1 for none: a leaf has none, a one-input op no second), its role.
    struct Step {
        var operation: Int32
        var first: Int32
        var second: Int32
        var role: NodeRole
    }

    /// Where a node's name is in the source's UTF-8 bytes, `start..<end`; `start` -1 for none.
    struct Name {
        var start: Int32
        var end: Int32

        static let none = Name(start: -1, end: -1)

        init(start: Int32, end: Int32) { (self.start, self.end) = (start, end) }

        init(_ range: Range<Int>) {
            (start, end) = (Int32(truncatingIfNeeded: range.lowerBound), Int32(truncatingIfNeeded: range.upperBound))
        }
    }

    private var memory: ScalarMemory
    private(set) var steps: UnsafeMutablePointer<Step>
    private(set) var values: UnsafeMutablePointer<Double>
    private(set) var gradients: UnsafeMutablePointer<Double>
    private(set) var names: UnsafeMutablePointer<Name>
    private(set) var places: UnsafeMutablePointer<ScalarTape.Place>
    private(set) var reached: UnsafeMutablePointer<Bool>
    private(set) var count = 0
    private var capacity: Int

    /// The bytes of one node across the columns.
    private static let bytesPerNode = MemoryLayout<Step>.stride + 2 * MemoryLayout<Double>.stride
        + MemoryLayout<Name>.stride + MemoryLayout<ScalarTape.Place>.stride + MemoryLayout<Bool>.stride

    /// Room for `capacity` nodes (at least 64); nil when the system has no memory for them.
    init?(capacity: Int) {
        let capacity = max(capacity, 64)
        guard capacity <= Int(Int32.max), let memory = ScalarMemory(bytes: capacity * Self.bytesPerNode) else { return nil }
        self.capacity = capacity
        (steps, values, gradients, names, places, reached) = Self.columns(memory.base, capacity)
        self.memory = memory
    }

    /// The columns of a block for `capacity` nodes, widest first, so each starts aligned.
    private static func columns(_ base: UnsafeMutableRawPointer, _ capacity: Int) -> (
        UnsafeMutablePointer<Step>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
        UnsafeMutablePointer<Name>, UnsafeMutablePointer<ScalarTape.Place>, UnsafeMutablePointer<Bool>
    ) {
        var offset = 0
        func column<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
            defer { offset += capacity * MemoryLayout<T>.stride }
            return (base + offset).bindMemory(to: T.self, capacity: capacity)
        }
        return (column(Step.self), column(Double.self), column(Double.self), column(Name.self), column(ScalarTape.Place.self), column(Bool.self))
    }

    /// A leaf of value `value`, named by the source's bytes `name` (or `.none`).
    @inline(__always)
    mutating func leaf(_ value: Double, named name: Name, role: NodeRole, at place: ScalarTape.Place) throws(ScalarTapeBuilder.NotScalar) -> Int32 {
        if count == capacity { try grow() }
        (steps + count).initialize(to: Step(operation: -1, first: -1, second: -1, role: role))
        (values + count).initialize(to: value)
        (names + count).initialize(to: name)
        (places + count).initialize(to: place)
        count += 1
        return Int32(truncatingIfNeeded: count - 1)
    }

    /// A node applying the tape's op `op` to `a` (and `b`, or -1), unnamed;
    /// its value comes with the forward pass.
    @inline(__always)
    mutating func apply(_ op: Int32, _ a: Int32, _ b: Int32, at place: ScalarTape.Place) throws(ScalarTapeBuilder.NotScalar) -> Int32 {
        if count == capacity { try grow() }
        (steps + count).initialize(to: Step(operation: op, first: a, second: b, role: .intermediate))
        (names + count).initialize(to: .none)
        (places + count).initialize(to: place)
        count += 1
        return Int32(truncatingIfNeeded: count - 1)
    }

    @inline(__always)
    func isNamed(_ node: Int32) -> Bool { names[Int(node)].start >= 0 }

    /// Names `node` by the source's bytes `name`.
    @inline(__always)
    func setName(_ name: Range<Int>, of node: Int32) { names[Int(node)] = Name(name) }

    func role(of node: Int32) -> NodeRole { steps[Int(node)].role }

    func setRole(_ role: NodeRole, of node: Int32) { steps[Int(node)].role = role }

    /// Twice the room, the nodes copied column by column.
    @inline(never)
    private mutating func grow() throws(ScalarTapeBuilder.NotScalar) {
        let size = 2 * capacity
        guard size <= Int(Int32.max), let bigger = ScalarMemory(bytes: size * Self.bytesPerNode) else { throw .init() }
        let (moreSteps, moreValues, moreGradients, moreNames, morePlaces, moreReached) = Self.columns(bigger.base, size)
        moreSteps.initialize(from: steps, count: count)
        moreValues.initialize(from: values, count: count)
        moreNames.initialize(from: names, count: count)
        morePlaces.initialize(from: places, count: count)
        memory = bigger
        (steps, values, gradients, names, places, reached, capacity) = (moreSteps, moreValues, moreGradients, moreNames, morePlaces, moreReached, size)
    }
}
