import ChainruleCore

/// A mini-batch a program's `data(…)` and `labels()` are bound to: the
/// features with the batch axis in front, and one class index per example.
public struct DataBatch: Sendable {
    /// `[N, per-example shape…]`.
    public var features: Tensor
    /// `[N]`, whole numbers from 0.
    public var labels: Tensor
    /// Where the batch comes from, for the note the tools print:
    /// `the first batch of digits (100 of 1,797 examples)`.
    public var origin: String

    public init(features: Tensor, labels: Tensor, origin: String) {
        precondition(features.rank >= 1 && labels.shape == [features.shape[0]],
                     "DataBatch: features \(describeShape(features.shape)) and labels \(describeShape(labels.shape)) differ in examples")
        self.features = features
        self.labels = labels
        self.origin = origin
    }

    /// The shape of one example: the features' shape without the batch axis.
    public var exampleShape: [Int] { Array(features.shape.dropFirst()) }
}

/// The mini-batch inputs a program declares: `x = data(64)` (the shape of
/// one example; the batch axis is added in front) and `y = labels()`.
/// Both are constant leaves: they get no gradient and are never trained.
public struct DataInputs: Sendable {
    /// The `data(…)` leaf and the shape of one example.
    public var data: (node: NodeID, exampleShape: [Int])?
    /// The `labels()` leaf, shaped `[N]`.
    public var labels: NodeID?
    /// What they were bound to, as the tools say it on standard error
    /// (`x = data(64) is bound to a seeded random batch of 8 examples …`);
    /// nil for a program without them.
    public var bindingNote: String?

    public init() {}

    public var isEmpty: Bool { data == nil && labels == nil }
}

/// The calls that declare a program's mini-batch inputs.
enum DataInputKind: String, CaseIterable {
    /// `data(64)`, `data(1, 8, 8)`: the shape of one example.
    case data
    /// `labels()`: one class index per example.
    case labels

    var signature: String {
        switch self {
        case .data: return "data(shape of one example…), as data(64) or data(1, 8, 8)"
        case .labels: return "labels()"
        }
    }
}

extension CompileOptions {
    /// Examples in the seeded random batch that `data(…)` and `labels()` are
    /// bound to when no `batch` is given: 8, enough for a figure or a check
    /// to show a batch axis, small enough to draw.
    public static let randomBatchSize = 8
}

extension ProgramCompiler {
    /// Compiles `data(…)` or `labels()`: a constant leaf bound to the given
    /// batch (its example shape checked against the call) or to a seeded
    /// random one. A program declares each at most once.
    func compileDataInput(_ kind: DataInputKind, _ arguments: [Argument], name: String?, at token: Token) throws(CompileFailure) -> NodeID {
        let examples = options.batch?.features.shape[0] ?? CompileOptions.randomBatchSize
        switch kind {
        case .data:
            if let earlier = dataInputs.data {
                throw failure("the program already declares its data on line \(graph[earlier.node].location?.line ?? 0); a program has one data(…) input", at: token)
            }
            guard !arguments.isEmpty, arguments.allSatisfy({ $0.label == nil }) else {
                throw failure("data takes the shape of one example, as \(kind.signature); the batch axis is added in front", at: token)
            }
            let exampleShape = try shapeArguments(arguments, of: kind.rawValue, signature: kind.signature, at: token)
            let shape = [examples] + exampleShape
            try checkSize(shape, what: "data(…)", at: token)
            let value: PendingValue
            if let batch = options.batch {
                guard batch.exampleShape == exampleShape else {
                    throw failure("data(\(exampleShape.map(String.init).joined(separator: ", "))) declares examples of shape \(describeShape(exampleShape)), but those of \(batch.origin) have shape \(describeShape(batch.exampleShape)); write data(\(batch.exampleShape.map(String.init).joined(separator: ", ")))", at: token)
                }
                value = PendingValue(batch.features)
            } else {
                let seed = defaultSeed(for: "data")
                value = PendingValue(shape: shape) { Tensor.randn(shape, seed: seed) }
            }
            let node = try leaf(name, value, role: .constant, at: token)
            dataInputs.data = (node, exampleShape)
            return node
        case .labels:
            if let earlier = dataInputs.labels {
                throw failure("the program already declares its labels on line \(graph[earlier].location?.line ?? 0); a program has one labels() input", at: token)
            }
            guard arguments.isEmpty else { throw failure("labels takes no arguments: labels()", at: token) }
            // Without a batch the classes are known only once the loss that
            // reads the labels is compiled: `bindRandomLabels` fills them in.
            let value = options.batch.map { PendingValue($0.labels) } ?? PendingValue(shape: [examples]) { Tensor.zeros([examples]) }
            let node = try leaf(name, value, role: .constant, at: token)
            dataInputs.labels = node
            return node
        }
    }

    /// Without a batch, draws the random labels from the classes of the op
    /// that reads them (`cross_entropy(s, y)`: the last axis of `s`; 2 if
    /// no op reads them), and writes the note that says what was bound.
    func bindRandomLabelsAndNote() {
        guard !dataInputs.isEmpty else { return }
        var declared: [String] = []
        if let data = dataInputs.data {
            declared.append("\(graph[data.node].displayName) = data(\(data.exampleShape.map(String.init).joined(separator: ", ")))")
        }
        if let labels = dataInputs.labels { declared.append("\(graph[labels].displayName) = labels()") }
        let what = declared.joined(separator: " and ")
        if let batch = options.batch {
            dataInputs.bindingNote = "\(what) \(declared.count == 1 ? "is" : "are") bound to \(batch.origin)"
            return
        }
        let examples = CompileOptions.randomBatchSize
        var classes = 2
        if let labels = dataInputs.labels {
            if let reader = graph.nodes.first(where: { $0.inputs.contains(labels) }), let scores = reader.inputs.first,
               scores != labels, let last = graph[scores].shape.last {
                classes = last
            }
            var generator = SeededGenerator(seed: defaultSeed(for: "labels"))
            let values = (0..<examples).map { _ in Double(Int(generator.next() % UInt64(classes))) }
            graph.setValue(Tensor(values), of: labels)
        }
        dataInputs.bindingNote = "\(what) \(declared.count == 1 ? "is" : "are") bound to a seeded random batch of \(examples) examples (normal features\(dataInputs.labels == nil ? "" : ", labels 0–\(classes - 1)")); give --data to use a data set"
    }
}
