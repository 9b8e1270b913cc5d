/// A node of a graph, for building graphs in Swift the way one writes math:
///
/// ```swift
/// let g = Graph()
/// let x = g.input("x", -2), y = g.input("y", 5), z = g.input("z", -4)
/// let f = (x + y) * z
/// try g.backward(f)      // f.value == -12, x.gradient == -4
/// ```
///
/// Operators and op functions check shapes as they build; a broken shape
/// rule stops the program with the op's message (use `Graph.apply` to get it
/// as a thrown error instead).
public struct Var {
    public let graph: Graph
    public let id: NodeID

    public init(_ graph: Graph, _ id: NodeID) {
        self.graph = graph
        self.id = id
    }

    public var node: Node { graph[id] }
    public var shape: [Int] { node.shape }

    /// The value; runs the forward pass first when a node was added or a
    /// leaf's value replaced since the last one.
    public var value: Tensor {
        if !graph.valuesAreCurrent { try! graph.forward() }
        return graph[id].value!
    }

    /// The gradient from the last backward pass, `nil` before it.
    public var gradient: Tensor? { graph[id].gradient }

    /// Names this node (for reports and figures) and returns it.
    @discardableResult
    public func named(_ name: String) -> Var {
        graph.setName(name, of: id)
        return self
    }
}

extension Graph {
    /// A leaf that gets a gradient, e.g. `g.input("x", -2)`.
    public func input(_ name: String, _ value: Tensor) -> Var {
        Var(self, leaf(name, value, role: .input))
    }

    /// A learnable parameter.
    public func param(_ name: String, _ value: Tensor) -> Var {
        Var(self, leaf(name, value, role: .param))
    }

    /// A leaf that gets no gradient.
    public func constant(_ value: Tensor, name: String? = nil) -> Var {
        Var(self, leaf(name, value, role: .constant))
    }

    /// Backpropagates from `output` (see `backward(from:seed:)`).
    public func backward(_ output: Var, seed: Tensor? = nil) throws(GraphError) {
        try backward(from: output.id, seed: seed)
    }

    /// Applies `op` for the builder API, stopping with the shape error's text
    /// if the shapes do not fit.
    public func build(_ op: any Operation, _ inputs: [Var]) -> Var {
        precondition(inputs.allSatisfy { $0.graph === self }, "\(op.name): inputs come from different graphs")
        do {
            return Var(self, try apply(op, inputs.map(\.id)))
        } catch {
            fatalError(error.description)
        }
    }
}

extension Var {
    /// A constant in the same graph, for mixing numbers into expressions (`x * 2`).
    func lift(_ value: Double) -> Var { graph.constant(Tensor(value)) }
}
