import ChainruleCore

/// A problem that stops training: a program it cannot train, a checkpoint
/// that does not fit, a batch a shape rule refuses.
public struct TrainingError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A leaf that training changes (or keeps, when frozen), by its program name.
public struct ModelParameter: Sendable, Equatable {
    public var name: String
    public var node: NodeID
    public var shape: [Int]
}

/// A program's graph made ready to train: its nodes (a copy, so the graph
/// given stays as it was), which leaves are trained and which frozen, where
/// the mini-batch goes in, and where the scores fed to the classification
/// loss are, for accuracy.
///
/// Every leaf that is not a constant is trained (`input` and `param`
/// leaves); `data(…)`, `labels()` and `const(…)` are constants.
public final class Model {
    public private(set) var nodes: [Node]
    public let loss: NodeID
    public let data: NodeID?
    public let labels: NodeID?
    /// The leaves updated by the optimizer, in the order of the graph.
    public let parameters: [ModelParameter]
    /// The leaves `--freeze` keeps as they are.
    public let frozen: [ModelParameter]
    /// The classification loss (cross_entropy or hinge) whose scores and
    /// labels give the accuracy; nil when the loss has none.
    public let classifier: (scores: NodeID, labels: NodeID)?
    /// The ReLU nodes, for the fraction of dead units.
    public let rectifiers: [(name: String, node: NodeID)]
    private var checkedBatchSizes: Set<Int> = []
    /// The backward pass's paths from the trained parameters to the loss: a step computes
    /// no gradient of the data batch, the labels, constants or frozen layers.
    private let backwardPlan: BackwardPlan

    /// `freeze` names layers (`c1`, as `c1 = Conv2D(…)` binds it) or single
    /// leaves (`a`); an unknown name is refused with the ones there are.
    public init(graph: Graph, loss: NodeID, data: NodeID?, labels: NodeID?, freeze: [String] = []) throws(TrainingError) {
        guard graph[loss].shape.isEmpty else {
            throw TrainingError("the loss \(graph[loss].displayName) has shape \(describeShape(graph[loss].shape)); training needs a scalar loss (end the program with a loss, as loss = cross_entropy(s, y))")
        }
        nodes = graph.nodes
        self.loss = loss
        self.data = data
        self.labels = labels
        if let data { checkedBatchSizes.insert(graph[data].shape[0]) }
        func layerName(_ node: Node) -> String? { node.layer.map { graph.layers[$0].name } }
        let trainable = graph.nodes.filter { $0.role == .input || $0.role == .param }
        var unknown = Set(freeze)
        var trained: [ModelParameter] = [], frozen: [ModelParameter] = []
        for node in trainable {
            let parameter = ModelParameter(name: node.displayName, node: node.id, shape: node.shape)
            let group = layerName(node)
            if let match = freeze.first(where: { $0 == node.name || $0 == group }) {
                unknown.remove(match)
                frozen.append(parameter)
            } else {
                trained.append(parameter)
            }
        }
        if let name = unknown.sorted().first {
            let layers = Array(Set(trainable.compactMap(layerName))).sorted()
            let plain = trainable.filter { $0.layer == nil }.map(\.displayName)
            let known = (layers + plain).joined(separator: ", ")
            throw TrainingError("--freeze \(name): the program has no layer or parameter \(name); it has \(known.isEmpty ? "none" : known)")
        }
        parameters = trained
        backwardPlan = BackwardPlan(nodes: graph.nodes, output: loss, leaves: trained.map(\.node))
        self.frozen = frozen
        let losses = graph.nodes.filter { $0.op is CrossEntropy || $0.op is Hinge }
        let reader = losses.first { labels != nil && $0.inputs[1] == labels } ?? losses.last
        classifier = reader.map { ($0.inputs[0], $0.inputs[1]) }
        rectifiers = graph.nodes.filter { $0.op?.name == Activation.relu.name }.map { ($0.displayName, $0.id) }
    }

    /// Every parameter, trained and frozen, in the order of the graph.
    public var allParameters: [ModelParameter] { (parameters + frozen).sorted { $0.node < $1.node } }

    public func value(of node: NodeID) -> Tensor { nodes[node.index].value! }

    public func setValue(_ value: Tensor, of node: NodeID) {
        precondition(value.shape == nodes[node.index].shape, "Model.setValue: shape \(value.shape) for \(nodes[node.index].displayName) \(nodes[node.index].shape)")
        nodes[node.index].value = value
    }

    /// Changes a leaf's values in place (an optimizer step).
    public func updateValue(of node: NodeID, _ body: (inout [Double]) -> Void) {
        body(&nodes[node.index].value!.data)
    }

    /// Binds a mini-batch to `data(…)` and `labels()`, checking first, once
    /// per batch size, that every shape rule accepts it.
    public func bind(features: Tensor, labels batchLabels: Tensor) throws(TrainingError) {
        guard let data else { return }
        try checkShapes(examples: features.shape[0])
        nodes[data.index].value = features
        if let labels { nodes[labels.index].value = batchLabels }
    }

    private func checkShapes(examples: Int) throws(TrainingError) {
        guard let data, !checkedBatchSizes.contains(examples) else { return }
        var shapes = nodes.map(\.shape)
        shapes[data.index][0] = examples
        if let labels { shapes[labels.index] = [examples] }
        for node in nodes {
            guard let op = node.op else { continue }
            do {
                shapes[node.id.index] = try op.outputShape(node.inputs.map { shapes[$0.index] })
            } catch {
                let place = node.location.map { " (line \($0.line), column \($0.column))" } ?? ""
                throw TrainingError("a batch of \(examples) examples does not fit \(node.displayName)\(place): \(error); the program must not fix the batch size")
            }
        }
        checkedBatchSizes.insert(examples)
    }

    /// The value of every node at the bound batch.
    public func forward() throws(TrainingError) -> [Tensor] {
        do {
            return try Graph.forwardValues(nodes: nodes)
        } catch {
            throw TrainingError(error.description)
        }
    }

    /// The gradient of the loss for each trained parameter (nil where the
    /// loss does not depend on it), from the values of `forward()`.
    public func gradients(_ values: [Tensor]) -> [Tensor?] {
        let all = Graph.gradients(nodes: nodes, values: values, output: loss, seed: Tensor(1), plan: backwardPlan)
        return parameters.map { all[$0.node.index] }
    }

    /// Correct predictions and examples: the arg-max of each row of scores
    /// against its label. Nil without a classification loss.
    public func correct(_ values: [Tensor]) -> (correct: Int, examples: Int)? {
        guard let classifier else { return nil }
        let labels = values[classifier.labels.index].data
        let predicted = Self.predictedClasses(values[classifier.scores.index])
        return (zip(predicted, labels).filter { Double($0) == $1 }.count, predicted.count)
    }

    /// The arg-max of each row of `[N, C]` scores (the first on a tie).
    public static func predictedClasses(_ scores: Tensor) -> [Int] {
        let rows = scores.shape[0], columns = scores.shape[1]
        return scores.data.withUnsafeBufferPointer { s in
            (0..<rows).map { row in
                var best = 0
                for column in 1..<Swift.max(columns, 1) where s[row * columns + column] > s[row * columns + best] { best = column }
                return best
            }
        }
    }

    /// Per ReLU node, the fraction of its units (the positions of one
    /// example) that are 0 for every example of the bound batch: "dead".
    public func deadFractions(_ values: [Tensor]) -> [(name: String, fraction: Double)] {
        rectifiers.map { name, node in
            let value = values[node.index]
            let examples = Swift.max(value.shape.first ?? 1, 1), units = value.count / examples
            var dead = 0
            value.data.withUnsafeBufferPointer { v in
                for unit in 0..<units where !(0..<examples).contains(where: { v[$0 * units + unit] > 0 }) { dead += 1 }
            }
            return (name, units == 0 ? 0 : Double(dead) / Double(units))
        }
    }
}
