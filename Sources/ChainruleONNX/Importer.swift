import ChainruleCore
import Foundation
import SwiftProtobuf

/// An ONNX model read into a Chainrule graph: every weight a named
/// parameter, every graph input an input leaf with a value, the forward pass done.
public struct ONNXModel {
    public let graph: Graph
    /// The first graph output, or the loss when one was asked for.
    public let output: NodeID
    public let outputName: String
    /// The model's inputs, as the file names them, and their leaves.
    public let inputs: [(name: String, node: NodeID)]
    /// The labels leaf of the loss asked for (a constant), nil without one.
    public let labels: NodeID?
    /// What the person should know: random inputs, a dynamic axis set to 1,
    /// a non-scalar output differentiated as its sum.
    public let notes: [String]
    /// The standard-domain opset the model imports.
    public let opset: Int
}

/// A loss put on the model's output, whose first axis is the batch, against
/// one class label per example (as a `.grad` program's `labels()`).
public struct ONNXLoss: Sendable, Equatable {
    public var kind: ONNXLossKind
    public var labels: [Int]

    public init(_ kind: ONNXLossKind, labels: [Int]) {
        self.kind = kind
        self.labels = labels
    }
}

/// The registry's losses that read class labels, named as the registry names them.
public enum ONNXLossKind: String, Sendable, CaseIterable {
    /// `cross_entropy(output, labels)`: the output is taken as logits N×C.
    case crossEntropy = "cross_entropy"
    /// `hinge(output, labels)`: CS231n's multiclass SVM loss, the output taken as scores N×C.
    case hinge
    /// `binary_cross_entropy_with_logits(output, labels)`: the output is one logit
    /// per example (N, or N×1 as `nn.Linear(k, 1)` gives), each label 0 or 1.
    case binaryCrossEntropyWithLogits = "binary_cross_entropy_with_logits"

    /// The output the loss takes, for messages: `logits N×C`.
    public var output: String {
        switch self {
        case .crossEntropy: "logits N×C"
        case .hinge: "scores N×C"
        case .binaryCrossEntropyWithLogits: "one logit per example (N or N×1)"
        }
    }
}

/// How a model is read: its limits, the values of its inputs, a loss.
public struct ONNXImportOptions: Sendable {
    public var limits: ONNXLimits
    /// Input values by the file's input name; the key `""` stands for the
    /// model's only input. Inputs not given are random normal values, seeded.
    public var inputs: [String: Tensor]
    /// The seed of the random inputs (input k uses seed + k).
    public var seed: UInt64
    public var loss: ONNXLoss?
    /// Where the input values come from, for the messages about them.
    public var inputOrigin: ONNXInputOrigin

    public init(limits: ONNXLimits, inputs: [String: Tensor] = [:], seed: UInt64 = 0, loss: ONNXLoss? = nil,
                inputOrigin: ONNXInputOrigin = .files) {
        self.limits = limits
        self.inputs = inputs
        self.seed = seed
        self.loss = loss
        self.inputOrigin = inputOrigin
    }
}

/// Where an ONNX model's input values come from: `.npy` files given by the
/// person (`eval`, `check`, `render`), or the batches of a data set (`train`).
public enum ONNXInputOrigin: Sendable, Equatable {
    case files
    /// The first batch of the named data set; later batches take its place.
    case dataset(String)
}

/// Reads `.onnx` files (standard opsets 13 to 21) into Chainrule graphs.
public enum ONNXImporter {
    public static let opsets = 13...21

    /// The largest model file read whole: protobuf's own 2 GiB limit. Larger
    /// models keep their weights in external data files.
    static let maximumFileBytes = Int(Int32.max)

    /// Reads the model at `path`; external data is looked for in its folder.
    /// The file is refused before it is read when it is larger than the memory budget.
    public static func read(path: String, options: ONNXImportOptions) throws(ONNXError) -> ONNXModel {
        let url = URL(fileURLWithPath: path)
        let file: FileHandle
        do { file = try InputFiles.open(path, kind: "an .onnx model") } catch { throw ONNXError("\(path): cannot read it: \(error.reason)") }
        let limit = min(maximumFileBytes, options.limits.maxMemory)
        guard let size = try? file.seekToEnd() else { throw ONNXError("\(path): cannot read it") }
        guard size <= UInt64(Swift.max(limit, 0)) else {
            throw ONNXError("\(path): the file has \(size) bytes, more than the \(limit) a model file may have here (--max-memory); it was not read")
        }
        guard (try? file.seek(toOffset: 0)) != nil, let data = try? file.readToEnd() else { throw ONNXError("\(path): cannot read it") }
        return try read(data: data, file: path, folder: url.deletingLastPathComponent(), options: options)
    }

    /// Reads a model from its bytes. `file` names it in messages; external
    /// data is followed only inside `folder` (never when it is `nil`).
    /// Every error message starts with `file: `.
    public static func read(data: Data, file: String, folder: URL?, options: ONNXImportOptions) throws(ONNXError) -> ONNXModel {
        do {
            return try decodeAndImport(data, folder: folder, options: options)
        } catch {
            throw ONNXError("\(file): \(error.message)")
        }
    }

    static func decodeAndImport(_ data: Data, folder: URL?, options: ONNXImportOptions) throws(ONNXError) -> ONNXModel {
        guard !data.isEmpty else { throw ONNXError("the file is empty, not an ONNX model") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch BinaryDecodingError.messageDepthLimit {
            let limit = BinaryDecodingOptions().messageDepthLimit
            throw ONNXError("the model nests messages (subgraphs in attributes, types in types) more than \(limit) deep, protobuf's decoding limit; it was not read")
        } catch {
            throw ONNXError("not an ONNX model, or one cut short (the protobuf decoder says: \(error))")
        }
        guard model.irVersion > 0, model.hasGraph, !model.opsetImport.isEmpty else {
            throw ONNXError("not an ONNX model: it has no \(model.irVersion <= 0 ? "IR version" : model.hasGraph ? "opset import" : "graph")")
        }
        guard let standard = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXError("the model imports no standard ONNX opset (only \(model.opsetImport.map(\.domain).joined(separator: ", "))); Chainrule reads opsets \(opsets.lowerBound) to \(opsets.upperBound)")
        }
        guard opsets.contains(Int(clamping: standard.version)) else {
            throw ONNXError("the model uses opset \(standard.version); Chainrule reads opsets \(opsets.lowerBound) to \(opsets.upperBound) (re-export with torch.onnx.export(..., opset_version=17))")
        }
        var session = ImportSession(
            opset: Int(standard.version), reader: TensorReader(folder: folder, limits: options.limits), options: options)
        return try session.run(model.graph)
    }
}

/// One import: the graph being built and what each ONNX value name is.
struct ImportSession {
    let opset: Int
    let reader: TensorReader
    let options: ONNXImportOptions
    let graph = Graph()
    /// Value names that are graph nodes.
    var nodes: [String: NodeID] = [:]
    /// Value names whose values are known while reading (shapes, indices,
    /// constants): folded, so they become nodes only if an op reads them as tensors.
    var folded: [String: Tensor] = [:]
    var initializers: [String: Onnx_TensorProto] = [:]
    /// Names of the graph's sparse initializers, which Chainrule does not read.
    var sparseInitializers: Set<String> = []
    /// Leaves whose values are read once the whole graph fits the budget.
    var pending: [(NodeID, () throws(ONNXError) -> Tensor)] = []
    /// Initializers that are statistics, not parameters (batch norm's running mean and variance).
    var statistics: Set<String> = []
    var notes: [String] = []

    init(opset: Int, reader: TensorReader, options: ONNXImportOptions) {
        self.opset = opset
        self.reader = reader
        self.options = options
    }

    mutating func run(_ proto: Onnx_GraphProto) throws(ONNXError) -> ONNXModel {
        for tensor in proto.initializer { initializers[tensor.name] = tensor }
        sparseInitializers = Set(proto.sparseInitializer.map(\.values.name))
        for node in proto.node where node.opType == ONNXOp.batchNormalization.rawValue {
            statistics.formUnion(node.input.dropFirst(3))
        }
        let inputs = try makeInputs(proto)
        try convertNodes(proto.node)
        guard let first = proto.output.first else { throw ONNXError("the model's graph has no output") }
        guard var output = nodes[first.name] else {
            throw ONNXError(folded[first.name] != nil
                ? "the model's output '\(first.name)' is a constant: it does not depend on any input or weight"
                : "the model's output '\(first.name)' is made by no node")
        }
        if proto.output.count > 1 {
            notes.append("the model has \(proto.output.count) outputs; Chainrule differentiates the first, \(first.name)")
        }
        var outputName = first.name
        var labels: NodeID?
        if let loss = options.loss {
            (output, labels) = try addLoss(loss, to: output)
            outputName = graph[output].displayName
        }
        if !graph[output].role.isLeaf { graph.setRole(.output, of: output) }
        if !graph[output].shape.isEmpty {
            notes.append("the output \(outputName) has shape \(describeShape(graph[output].shape)); gradients are those of sum(\(outputName))")
        }
        try checkBudget()
        for (id, make) in pending { graph.setValue(try make(), of: id) }
        do {
            try graph.forward()
        } catch {
            throw ONNXError("the forward pass failed: \(error)")
        }
        return ONNXModel(graph: graph, output: output, outputName: outputName, inputs: inputs, labels: labels, notes: notes, opset: opset)
    }

    // MARK: Inputs and budget

    /// A leaf per graph input (initializers that old exporters also list as inputs excepted):
    /// the value given, else random normal of the declared shape with dynamic axes set to 1.
    mutating func makeInputs(_ proto: Onnx_GraphProto) throws(ONNXError) -> [(name: String, node: NodeID)] {
        let declared = proto.input.filter { initializers[$0.name] == nil }
        var given = options.inputs
        if let only = given.removeValue(forKey: "") {
            guard declared.count == 1 else {
                let names = declared.map(\.name).joined(separator: ", ")
                switch options.inputOrigin {
                case .files: throw ONNXError("the model has \(declared.count) inputs (\(names)): give each as --input NAME=FILE.npy")
                case .dataset(let set): throw ONNXError("the model has \(declared.count) inputs (\(names)); training binds the examples of \(set) to a model's only input")
                }
            }
            given[declared[0].name] = only
        }
        if let unknown = given.keys.sorted().first(where: { name in !declared.contains { $0.name == name } }) {
            throw ONNXError("the model has no input named '\(unknown)'; its inputs are \(declared.map(\.name).joined(separator: ", "))")
        }
        var made: [(name: String, node: NodeID)] = []
        for (k, input) in declared.enumerated() {
            // Each value name is assigned once: a second input of the name would replace the first
            // for every node that reads it, and the first would get a gradient of 0 in silence.
            guard nodes[input.name] == nil else {
                throw ONNXError("the model declares the input '\(input.name)' twice; each input has its own name")
            }
            try requireTensor(input)
            try requireRealElements(input)
            let dims = input.type.tensorType.shape.dim
            guard dims.count <= Tensor.maximumRank else {
                throw ONNXError("input '\(input.name)' declares \(dims.count) axes, more than the \(Tensor.maximumRank) a tensor may have")
            }
            var declaredShape: [Int?] = []
            for dim in dims {
                guard case .dimValue(let size)? = dim.value else {
                    declaredShape.append(nil)
                    continue
                }
                guard size >= 0, size <= Int64(options.limits.maxElements) else {
                    throw ONNXError("input '\(input.name)' declares shape \(describeDeclared(dims)): a size must lie in 0…\(options.limits.maxElements) (--max-elements)")
                }
                declaredShape.append(Int(size))
            }
            let id: NodeID
            if let value = given[input.name] {
                for (axis, size) in declaredShape.enumerated() where value.rank != dims.count || (size != nil && size != value.shape[axis]) {
                    switch options.inputOrigin {
                    case .files:
                        throw ONNXError("--input \(input.name): the model declares shape \(describeDeclared(dims)), the file holds \(describeShape(value.shape))")
                    case .dataset(let set):
                        throw ONNXError("input '\(input.name)' declares shape \(describeDeclared(dims)), but a batch of \(set) has shape \(describeShape(value.shape)) (examples of \(describeShape(Array(value.shape.dropFirst())))); train it on data of its shape")
                    }
                }
                id = graph.leaf(input.name, value, role: .input)
            } else {
                let shape = declaredShape.map { $0 ?? 1 }
                guard let count = Tensor.checkedElementCount(shape), count <= options.limits.maxElements else {
                    throw ONNXError("input '\(input.name)' of declared shape \(describeDeclared(dims)) has more than \(options.limits.maxElements) elements (--max-elements)")
                }
                let seed = options.seed &+ UInt64(k)
                id = graph.leaf(input.name, shape: shape, role: .input)
                pending.append((id, { Tensor.randn(shape, seed: seed) }))
                let dynamic = declaredShape.contains(nil) ? " (its dynamic axes set to 1)" : ""
                notes.append("input \(input.name) is random normal, seed \(seed), of the declared shape \(describeShape(shape))\(dynamic); give --input FILE.npy for your own")
            }
            nodes[input.name] = id
            made.append((input.name, id))
        }
        return made
    }

    /// Refuses a graph input that is not a tensor (a sequence, map, optional,
    /// sparse or opaque value): Chainrule's values are dense tensors. An input
    /// that declares no type is read as a tensor of rank 0.
    func requireTensor(_ input: Onnx_ValueInfoProto) throws(ONNXError) {
        let kind: String
        switch input.type.value {
        case .tensorType?, nil: return
        case .sequenceType?: kind = "a sequence"
        case .mapType?: kind = "a map"
        case .optionalType?: kind = "an optional"
        case .sparseTensorType?: kind = "a sparse tensor"
        case .opaqueType?: kind = "an opaque value"
        }
        throw ONNXError("input '\(input.name)' is \(kind); Chainrule reads models whose inputs are dense tensors")
    }

    /// Refuses an input whose elements are not numbers (strings) or are complex: Chainrule's
    /// values are real numbers, and a random normal one would stand for text.
    func requireRealElements(_ input: Onnx_ValueInfoProto) throws(ONNXError) {
        guard case .tensorType(let tensor)? = input.type.value else { return }
        let kind: String? = switch tensor.elemType {
        case Int32(Onnx_TensorProto.DataType.string.rawValue): "strings"
        case Int32(Onnx_TensorProto.DataType.complex64.rawValue), Int32(Onnx_TensorProto.DataType.complex128.rawValue): "complex numbers"
        default: nil
        }
        if let kind { throw ONNXError("input '\(input.name)' holds \(kind); Chainrule reads models whose inputs are real numbers") }
    }

    func describeDeclared(_ dims: [Onnx_TensorShapeProto.Dimension]) -> String {
        dims.map { dim in
            switch dim.value {
            case .dimValue(let v)?: "\(v)"
            case .dimParam(let name)?: name
            case nil: "?"
            }
        }.joined(separator: "×")
    }

    /// Refuses a graph whose tensors would keep more than the memory budget,
    /// counted from shapes before any weight or input is read.
    func checkBudget() throws(ONNXError) {
        var total = 0
        for node in graph.nodes {
            let (bytes, overflow) = Tensor.elementCount(node.shape).multipliedReportingOverflow(by: 2 * MemoryLayout<Double>.size)
            let (sum, overflow2) = total.addingReportingOverflow(bytes)
            guard !overflow, !overflow2, sum <= options.limits.maxMemory else {
                throw ONNXError("the model needs more than \(options.limits.maxMemory) bytes for its values and gradients (--max-memory), passed at \(node.displayName) of shape \(describeShape(node.shape)); nothing was allocated")
            }
            total = sum
        }
    }

    /// The loss node and its labels leaf (a constant of shape N, the labels as
    /// numbers; binary cross-entropy reads them reshaped to an N×1 output's shape).
    mutating func addLoss(_ loss: ONNXLoss, to output: NodeID) throws(ONNXError) -> (loss: NodeID, labels: NodeID) {
        let shape = graph[output].shape, labels = loss.labels, name = loss.kind.rawValue
        let fits: Bool, classes: Int
        switch loss.kind {
        case .crossEntropy, .hinge:
            fits = shape.count == 2 && shape[0] == labels.count
            classes = shape.count == 2 ? shape[1] : 0
        case .binaryCrossEntropyWithLogits:
            fits = (shape.count == 1 || shape.count == 2 && shape[1] == 1) && shape[0] == labels.count
            classes = 2
        }
        guard fits else {
            switch options.inputOrigin {
            case .files:
                throw ONNXError("--loss \(name) takes the output as \(loss.kind.output), with one label per example: the output is \(describeShape(shape)) and \(labels.count) label\(labels.count == 1 ? " was" : "s were") given")
            case .dataset(let set):
                throw ONNXError("\(name) takes the output as \(loss.kind.output): for a batch of \(labels.count) examples of \(set) the output is \(describeShape(shape))")
            }
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            // Binary cross-entropy's output is one logit, not a score per class: say which labels it takes.
            let valid = loss.kind == .binaryCrossEntropyWithLogits
                ? "\(name) takes labels 0 or 1"
                : "the model's output scores \(classes) class\(classes == 1 ? "" : "es") (0…\(classes - 1))"
            switch options.inputOrigin {
            case .files: throw ONNXError("--labels: class \(bad) is out of range: \(valid)")
            case .dataset(let set): throw ONNXError("\(set) has class \(bad), but \(valid)")
            }
        }
        let labelsLeaf = graph.leaf("labels", Tensor(labels.map(Double.init)), role: .constant)
        let lossNode: NodeID
        switch loss.kind {
        case .crossEntropy: lossNode = try apply(CrossEntropy(), [output, labelsLeaf], name: "loss")
        case .hinge: lossNode = try apply(Hinge(), [output, labelsLeaf], name: "loss")
        case .binaryCrossEntropyWithLogits:
            let targets = shape.count == 1 ? labelsLeaf : try apply(Reshape(shape: [-1, 1]), [labelsLeaf], name: "targets")
            lossNode = try apply(BinaryCrossEntropyWithLogits(), [output, targets], name: "loss")
        }
        return (lossNode, labelsLeaf)
    }

    // MARK: Nodes

    /// Converts the nodes in order; consecutive nodes of one module form one layer.
    mutating func convertNodes(_ protoNodes: [Onnx_NodeProto]) throws(ONNXError) {
        var index = 0
        while index < protoNodes.count {
            guard let scope = ONNXNaming.scope(of: protoNodes[index]) else {
                try convert(protoNodes[index])
                index += 1
                continue
            }
            var end = index + 1
            while end < protoNodes.count, ONNXNaming.scope(of: protoNodes[end]) == scope { end += 1 }
            let run = Array(protoNodes[index..<end])
            let layer = Layer(name: scope.name, kind: scope.kind ?? layerKind(run))
            var failure: ONNXError?
            var session = self
            graph.withLayer(layer) {
                for node in run where failure == nil {
                    do throws(ONNXError) { try session.convert(node) } catch { failure = error }
                }
            }
            self = session
            if let failure { throw failure }
            index = end
        }
    }

    /// The layer's kind when the file does not name the module's class: its
    /// first op that is not a constant (`Conv`, `Gemm`, `BatchNormalization`).
    func layerKind(_ run: [Onnx_NodeProto]) -> String {
        (run.first { $0.opType != ONNXOp.constant.rawValue } ?? run[0]).opType
    }

    mutating func apply(_ op: any ChainruleCore.Operation, _ inputs: [NodeID], name: String?) throws(ONNXError) -> NodeID {
        let id: NodeID
        do {
            id = try graph.apply(op, inputs, name: name)
        } catch {
            throw ONNXError("\(error)")
        }
        guard Tensor.elementCount(graph[id].shape) <= options.limits.maxElements else {
            throw ONNXError("\(graph[id].displayName) (\(op.name)) would have shape \(describeShape(graph[id].shape)), more than \(options.limits.maxElements) elements (--max-elements)")
        }
        return id
    }

    /// The graph node of value `name`, made on first use from a folded
    /// constant (a constant leaf) or an initializer (a parameter, or a
    /// constant for batch-norm statistics), its value read later.
    mutating func node(_ name: String, for node: Onnx_NodeProto) throws(ONNXError) -> NodeID {
        if let id = nodes[name] { return id }
        let id: NodeID
        if let value = folded[name] {
            id = graph.leaf(name, value, role: .constant)
        } else if let tensor = initializers[name] {
            id = graph.leaf(name, shape: try reader.shape(of: tensor), role: statistics.contains(name) ? .constant : .param)
            let reader = self.reader
            pending.append((id, { () throws(ONNXError) in try reader.read(tensor) }))
        } else if sparseInitializers.contains(name) {
            throw ONNXError("\(node.label) (\(node.opType)) reads '\(name)', a sparse initializer; Chainrule reads dense initializers only (save the weight dense)")
        } else {
            throw ONNXError("\(node.label) (\(node.opType)) reads '\(name)', which no earlier node, initializer or input makes")
        }
        nodes[name] = id
        return id
    }

    /// The value of `name` when it is known while reading: a folded value or an initializer.
    func constant(_ name: String) throws(ONNXError) -> Tensor? {
        if let value = folded[name] { return value }
        if let tensor = initializers[name] { return try reader.read(tensor) }
        return nil
    }

    mutating func convert(_ proto: Onnx_NodeProto) throws(ONNXError) {
        guard proto.domain.isEmpty || proto.domain == "ai.onnx", let op = ONNXOp(rawValue: proto.opType) else {
            let domain = proto.domain.isEmpty ? "" : " of domain \(proto.domain)"
            throw ONNXError("\(proto.label): op \(proto.opType)\(domain) (opset \(opset)) is not supported; Chainrule imports \(ONNXOp.list)")
        }
        var converter = NodeConverter(proto: proto, op: op, opset: opset)
        try converter.convert(&self)
    }
}
