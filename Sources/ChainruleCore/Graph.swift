/// The position of a node in its graph's node array.
public struct NodeID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.index < b.index }
    public var description: String { "%\(index)" }
}

/// What a node is for. Leaves are inputs, params or constants.
public enum NodeRole: String, Sendable, Codable {
    /// A leaf the user gave (`x = -2`): gets a gradient.
    case input
    /// A learnable leaf (a layer's `W`, `b`): gets a gradient.
    case param
    /// A leaf that gets no gradient (a literal inside an expression, labels, `const(…)`).
    case constant
    case intermediate
    case output

    public var isLeaf: Bool { self == .input || self == .param || self == .constant }
}

/// Where a node came from in a program: 1-based line and column.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    public var file: String?
    public var line: Int
    public var column: Int

    public init(file: String? = nil, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file ?? "<input>"):\(line):\(column)" }
}

/// A group of nodes made by one layer call (`h = Conv2D(x, …)`).
public struct Layer: Sendable, Equatable, Codable {
    /// The binding name, e.g. `"h"`.
    public var name: String
    /// The layer kind, e.g. `"Conv2D"`.
    public var kind: String

    /// What a layer's box says (kernel, stride, pad, parameters) is read from
    /// its ops' typed `layerAttributes` and the graph's shapes, not kept here.
    public init(name: String, kind: String) {
        self.name = name
        self.kind = kind
    }
}

/// One node: a leaf (no op) or an op applied to earlier nodes.
public struct Node: Sendable {
    public var id: NodeID
    /// `nil` for leaves.
    public var op: (any Operation)?
    public var inputs: [NodeID]
    public var name: String?
    public var role: NodeRole
    /// Index into `Graph.layers`.
    public var layer: Int?
    public var location: SourceLocation?
    public var shape: [Int]
    /// Set by the forward pass (leaves: at creation).
    public var value: Tensor?
    /// Set by the backward pass for nodes upstream of the output; `nil` before.
    public var gradient: Tensor?

    /// `name` if it has one, else `op#index` (`mul#7`) or `%index`.
    public var displayName: String {
        if let name { return name }
        if let op { return "\(op.name)#\(id.index)" }
        return id.description
    }
}

/// Errors of the passes.
public enum GraphError: Error, Sendable, CustomStringConvertible {
    /// An op refused its input values (labels out of range).
    case invalidValue(node: NodeID, nodeName: String, location: SourceLocation?, ValueError)
    /// A shape rule was broken while building the graph.
    case shape(ShapeError, location: SourceLocation?)

    public var description: String {
        switch self {
        case .invalidValue(_, let name, let location, let error):
            return (location.map { "\($0): " } ?? "") + "\(error) (node \(name))"
        case .shape(let error, let location):
            return (location.map { "\($0): " } ?? "") + error.description
        }
    }
}

/// A computation graph: nodes in topological order by construction.
///
/// Build it with leaves (`input`, `param`, `constant`) and ops (`apply`, or the
/// `Var` operators), then run `forward()` and `backward(from:)`.
public final class Graph {
    public private(set) var nodes: [Node] = []
    public private(set) var layers: [Layer] = []
    private var currentLayer: Int?
    /// False after a node is added or a leaf's value replaced, until the next `forward()`.
    public private(set) var valuesAreCurrent = true

    public init() {}

    public var count: Int { nodes.count }
    public subscript(id: NodeID) -> Node { nodes[id.index] }

    /// One field of a node, without copying the whole node (its op, inputs,
    /// name, location and tensors): what a front end building a graph of
    /// tens of thousands of nodes asks after each one.
    public func shape(of id: NodeID) -> [Int] { nodes[id.index].shape }
    public func name(of id: NodeID) -> String? { nodes[id.index].name }

    /// The first node, in order, whose value holds a NaN or an infinity.
    public var firstNonFiniteValue: NodeID? {
        for i in nodes.indices where !(nodes[i].value?.allFinite ?? true) { return NodeID(i) }
        return nil
    }

    /// The leaves: inputs, params and constants.
    public var leaves: [NodeID] { nodes.indices.filter { nodes[$0].role.isLeaf }.map(NodeID.init) }
    /// The leaves that get a gradient: inputs and params.
    public var differentiableLeaves: [NodeID] {
        nodes.indices.filter { nodes[$0].role == .input || nodes[$0].role == .param }.map(NodeID.init)
    }

    // MARK: Building

    @discardableResult
    public func leaf(
        _ name: String?, _ value: Tensor, role: NodeRole, location: SourceLocation? = nil
    ) -> NodeID {
        precondition(role.isLeaf, "Graph.leaf: role \(role) is not a leaf role")
        let id = NodeID(nodes.count)
        nodes.append(Node(
            id: id, op: nil, inputs: [], name: name, role: role, layer: currentLayer,
            location: location, shape: value.shape, value: value, gradient: nil))
        return id
    }

    /// A leaf whose value is given later, with `setValue`, before the first
    /// pass: so a front end can check a whole program's budget from its
    /// shapes before it allocates any tensor.
    @discardableResult
    public func leaf(
        _ name: String?, shape: [Int], role: NodeRole, location: SourceLocation? = nil
    ) -> NodeID {
        precondition(role.isLeaf, "Graph.leaf: role \(role) is not a leaf role")
        let id = NodeID(nodes.count)
        nodes.append(Node(
            id: id, op: nil, inputs: [], name: name, role: role, layer: currentLayer,
            location: location, shape: shape, value: nil, gradient: nil))
        valuesAreCurrent = false
        return id
    }

    /// Applies `op` to earlier nodes. Checks the shape rule now, so a bad
    /// graph is refused where it is built; values come with `forward()`.
    @discardableResult
    public func apply(
        _ op: any Operation, _ inputs: [NodeID], name: String? = nil, location: SourceLocation? = nil
    ) throws(GraphError) -> NodeID {
        for input in inputs {
            precondition(input.index < nodes.count, "Graph.apply: input \(input) is not a node of this graph")
        }
        let shape: [Int]
        let inputShapes = inputs.map { nodes[$0.index].shape }
        do {
            shape = try op.outputShape(inputShapes)
        } catch {
            throw .shape(error, location: location)
        }
        // Shapes multiply (broadcasting, products): one no Tensor can hold
        // is refused here, for every op, before a pass could trap on it.
        guard Tensor.checkedElementCount(shape) != nil else {
            throw .shape(ShapeError(op: op.name, shapes: inputShapes, "its result would have shape \(describeShape(shape)), more elements than can be counted"), location: location)
        }
        // Through the Swift API nothing else bounds a result (a pad of 2⁶¹ with a stride
        // of 2⁴⁰ makes a 422 TB convolution): one larger than the machine is refused.
        let bytes = Tensor.elementCount(shape).multipliedReportingOverflow(by: MemoryLayout<Double>.size)
        guard !bytes.overflow, bytes.partialValue <= MachineMemory.available else {
            let size = bytes.overflow ? "more than \(MachineMemory.describe(.max))" : MachineMemory.describe(bytes.partialValue)
            throw .shape(ShapeError(op: op.name, shapes: inputShapes, "its result would have shape \(describeShape(shape)), \(Tensor.elementCount(shape)) elements (\(size)), more than this machine's memory (\(MachineMemory.describe(MachineMemory.available)))"), location: location)
        }
        guard shape.count <= Tensor.maximumRank else {
            throw .shape(ShapeError(op: op.name, shapes: inputShapes, "its result would have \(shape.count) axes, more than the \(Tensor.maximumRank) a tensor may have"), location: location)
        }
        let id = NodeID(nodes.count)
        nodes.append(Node(
            id: id, op: op, inputs: inputs, name: name, role: .intermediate, layer: currentLayer,
            location: location, shape: shape, value: nil, gradient: nil))
        valuesAreCurrent = false
        return id
    }

    public func setName(_ name: String?, of id: NodeID) { nodes[id.index].name = name }
    public func setRole(_ role: NodeRole, of id: NodeID) { nodes[id.index].role = role }
    public func setLocation(_ location: SourceLocation?, of id: NodeID) { nodes[id.index].location = location }

    /// Replaces a leaf's value (same shape); values downstream are recomputed by the next `forward()`.
    public func setValue(_ value: Tensor, of id: NodeID) {
        precondition(nodes[id.index].op == nil, "Graph.setValue: \(nodes[id.index].displayName) is not a leaf")
        precondition(value.shape == nodes[id.index].shape, "Graph.setValue: shape \(value.shape) for a leaf of shape \(nodes[id.index].shape)")
        nodes[id.index].value = value
        valuesAreCurrent = false
    }

    /// Nodes created inside `body` belong to a new layer.
    public func withLayer<T>(_ layer: Layer, _ body: () throws -> T) rethrows -> T {
        let saved = currentLayer
        layers.append(layer)
        currentLayer = layers.count - 1
        defer { currentLayer = saved }
        return try body()
    }

    /// The nodes of layer `index`.
    public func nodes(inLayer index: Int) -> [NodeID] {
        nodes.filter { $0.layer == index }.map(\.id)
    }

    // MARK: Passes

    /// Computes every node's value in topological order.
    public func forward() throws(GraphError) {
        let values = try Self.forwardValues(nodes: nodes)
        for i in nodes.indices { nodes[i].value = values[i] }
        valuesAreCurrent = true
    }

    /// Backpropagates from `output`. The seed defaults to ones shaped like the
    /// output (so a non-scalar output is differentiated as `sum(output)`).
    /// Gradients accumulate: a node used twice receives both contributions.
    /// Nodes the output does not depend on keep a `nil` gradient.
    public func backward(from output: NodeID, seed: Tensor? = nil) throws(GraphError) {
        if !valuesAreCurrent { try forward() }
        let outputShape = nodes[output.index].shape
        let seed = seed ?? Tensor.ones(outputShape)
        precondition(seed.shape == outputShape, "Graph.backward: seed shape \(seed.shape) for output shape \(outputShape)")
        let gradients = Self.gradients(nodes: nodes, values: nodes.map { $0.value! }, output: output, seed: seed)
        for i in nodes.indices { nodes[i].gradient = gradients[i] }
    }

    /// Ids of the nodes that depend on `leaf` (itself included), in order.
    public func downstream(of leaf: NodeID) -> [NodeID] {
        Self.downstream(of: leaf, in: nodes)
    }

    // MARK: Passes over a node list

    /// Every node's value, in order: leaves as stored, ops computed from their inputs'
    /// values. Throws when an op refuses its input values (a class label out of range).
    /// A NaN or an infinity propagates without error.
    public static func forwardValues(nodes: [Node]) throws(GraphError) -> [Tensor] {
        var values: [Tensor] = []
        values.reserveCapacity(nodes.count)
        for node in nodes {
            guard let op = node.op else {
                guard let value = node.value else {
                    preconditionFailure("Graph.forward: leaf \(node.displayName) was created without a value and never given one")
                }
                values.append(value)
                continue
            }
            if let value = scalarValue(node, values) {
                values.append(value)
                continue
            }
            let inputs = node.inputs.map { values[$0.index] }
            do {
                try op.validate(inputs)
            } catch {
                throw .invalidValue(node: node.id, nodeName: node.displayName, location: node.location, error)
            }
            values.append(op.forward(inputs))
        }
        return values
    }

    /// Backpropagation from `output` with cotangent `seed`, at these node values: every
    /// node's gradient, accumulated over its uses (`nil` where `output` does not depend on it,
    /// and, with a `plan`, off the plan's paths). `observe` hears every rule that runs (see
    /// `shapeCheckedGradients`). A rule that returns the wrong number of gradients or one not
    /// shaped like its input stops the program with which (`shapeCheckedGradients` reports it instead).
    public static func gradients(
        nodes: [Node], values: [Tensor], output: NodeID, seed: Tensor, plan: BackwardPlan? = nil,
        observe: BackwardObserver? = nil
    ) -> [Tensor?] {
        switch shapeCheckedGradients(nodes: nodes, values: values, output: output, seed: seed, plan: plan, observe: observe) {
        case .success(let gradients): gradients
        case .failure(let wrong): preconditionFailure("Graph.gradients: \(wrong)")
        }
    }

    /// `gradients(nodes:values:output:seed:)` that checks each rule's gradients as it goes: one
    /// per input, each shaped like its input; the first that is not is returned instead (the
    /// next rule would index out of range with it).
    ///
    /// With a `plan`, only the nodes on its paths run their rules, asking only for the inputs
    /// on a path (`Operation.backward(_:output:gradient:wanted:)`); the gradients it keeps are
    /// the same bits as the full pass's, since every contribution to them comes from a node
    /// on a path, in the same order. `observe`, when given, is called for every node whose
    /// rule runs, with the gradient it received and what its rule returned (the scalar rules'
    /// shortcut is not taken then, so each node's gradients arrive as tensors; both give the
    /// same bits).
    public static func shapeCheckedGradients(
        nodes: [Node], values: [Tensor], output: NodeID, seed: Tensor, plan: BackwardPlan? = nil,
        observe: BackwardObserver? = nil
    ) -> Result<[Tensor?], MisshapenGradient> {
        precondition(plan == nil || (plan!.output == output && plan!.onPath.count == nodes.count),
                     "Graph.gradients: a plan made for another output or graph")
        var gradients = [Tensor?](repeating: nil, count: nodes.count)
        gradients[output.index] = seed
        for i in stride(from: output.index, through: 0, by: -1) {
            guard let op = nodes[i].op, let gradient = gradients[i] else { continue }
            if let plan, !plan.onPath[i] { continue }
            if observe == nil, scalarBackward(nodes[i], values, gradient, into: &gradients) { continue }
            let inputs = nodes[i].inputs.map { values[$0.index] }
            let wanted = plan?.wanted[i]
            let inputGradients = wanted.map { op.backward(inputs, output: values[i], gradient: gradient, wanted: $0) }
                ?? op.backward(inputs, output: values[i], gradient: gradient)
            guard inputGradients.count == inputs.count else {
                return .failure(MisshapenGradient(node: nodes[i], input: nil, shape: [], expected: []))
            }
            observe?(nodes[i].id, gradient, inputGradients)
            for (k, input) in nodes[i].inputs.enumerated() {
                guard wanted?[k] ?? op.isDifferentiable(input: k), let g = inputGradients[k] else { continue }
                guard g.shape == inputs[k].shape, g.data.count == inputs[k].count else {
                    return .failure(MisshapenGradient(node: nodes[i], input: k, shape: g.shape, expected: inputs[k].shape))
                }
                if let existing = gradients[input.index] {
                    gradients[input.index] = existing.zipMap(g, +)
                } else {
                    gradients[input.index] = g
                }
            }
        }
        // A scalar rule sends to both inputs; off the plan's paths nothing is kept.
        if let plan {
            for i in nodes.indices where !plan.onPath[i] { gradients[i] = nil }
        }
        return .success(gradients)
    }

    /// Ids of the nodes of `nodes` that depend on `leaf` (itself included), in order.
    public static func downstream(of leaf: NodeID, in nodes: [Node]) -> [NodeID] {
        var reached = [Bool](repeating: false, count: nodes.count)
        reached[leaf.index] = true
        var cone: [NodeID] = [leaf]
        for i in (leaf.index + 1)..<Swift.max(nodes.count, leaf.index + 1) where nodes[i].inputs.contains(where: { reached[$0.index] }) {
            reached[i] = true
            cone.append(nodes[i].id)
        }
        return cone
    }
}

/// Hears one node's rule during a backward pass: the node, the gradient it received (its
/// cotangent, accumulated over its uses) and the gradients its rule returned, one per input
/// (nil for an input without a gradient, or one the pass did not ask for).
public typealias BackwardObserver = (_ node: NodeID, _ gradient: Tensor, _ inputGradients: [Tensor?]) -> Void

/// Which nodes a backward pass from `output` needs, when only some leaves' gradients are
/// wanted (a training step wants its parameters', not the data batch's or a frozen layer's):
/// the nodes on a path from one of those leaves to the output, and for each of them the
/// inputs on such a path. Made once per graph and request (it reads only the graph's
/// structure), then given to every `Graph.gradients` of that request.
public struct BackwardPlan: Sendable, Equatable {
    public let output: NodeID
    /// Per node: it lies on a path from a requested leaf to the output (through inputs with
    /// a gradient), so the pruned pass computes its gradient.
    public let onPath: [Bool]
    /// Per op node on a path: whether each of its inputs is (the rule is asked for those
    /// alone); empty for the other nodes.
    public let wanted: [[Bool]]

    public init(nodes: [Node], output: NodeID, leaves: [NodeID]) {
        // Downstream of a requested leaf, through differentiable inputs.
        var reached = [Bool](repeating: false, count: nodes.count)
        for leaf in leaves where leaf.index <= output.index { reached[leaf.index] = true }
        for i in nodes.indices where i <= output.index {
            guard let op = nodes[i].op else { continue }
            reached[i] = nodes[i].inputs.indices.contains { reached[nodes[i].inputs[$0].index] && op.isDifferentiable(input: $0) }
        }
        // …and upstream of the output.
        var onPath = [Bool](repeating: false, count: nodes.count)
        var wanted = [[Bool]](repeating: [], count: nodes.count)
        onPath[output.index] = reached[output.index]
        for i in stride(from: output.index, through: 0, by: -1) where onPath[i] {
            guard let op = nodes[i].op else { continue }
            let inputs = nodes[i].inputs
            wanted[i] = inputs.indices.map { reached[inputs[$0].index] && op.isDifferentiable(input: $0) }
            for k in inputs.indices where wanted[i][k] { onPath[inputs[k].index] = true }
        }
        self.output = output
        self.onPath = onPath
        self.wanted = wanted
    }
}

/// A backward rule that returned the wrong number of gradients, or one not shaped like its input.
public struct MisshapenGradient: Error, CustomStringConvertible, Sendable {
    public var node: Node
    /// The input whose gradient is misshapen; nil when the count of gradients is wrong.
    public var input: Int?
    public var shape: [Int]
    public var expected: [Int]

    public var description: String {
        let op = node.op.map { " (\($0.name))" } ?? ""
        guard let input else { return "the backward rule of node \(node.displayName)\(op) returns the wrong number of gradients" }
        return "the backward rule of node \(node.displayName)\(op) returns a gradient of shape \(describeShape(shape)) for input \(input), shaped \(describeShape(expected))"
    }
}
