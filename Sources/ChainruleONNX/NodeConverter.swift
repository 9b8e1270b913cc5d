import ChainruleCore
import Foundation

/// Turns one ONNX node into Chainrule ops (or a folded value), reading its
/// attributes with the defaults of opsets 13 to 21. Attribute values
/// Chainrule's ops cannot express are refused, naming the node.
struct NodeConverter {
    let proto: Onnx_NodeProto
    let op: ONNXOp
    let opset: Int
    let attributes: [String: Onnx_AttributeProto]

    init(proto: Onnx_NodeProto, op: ONNXOp, opset: Int) {
        self.proto = proto
        self.op = op
        self.opset = opset
        attributes = Dictionary(proto.attribute.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// An error about this node: `node '/conv1/Conv' (Conv, opset 17): …`.
    func refuse(_ message: String) -> ONNXError {
        ONNXError("\(proto.label) (\(proto.opType), opset \(opset)): \(message)")
    }

    /// The attribute `name` when the node has it, refused when it is written as
    /// another type than the ONNX spec gives it: read as the field of its type, an
    /// alpha written as an INT would be the FLOAT field's 0, and the model would
    /// compute something else in silence. An attribute without a type (some old
    /// exporters wrote none) is read from the field of the type asked for.
    func attribute(_ name: String, _ type: Onnx_AttributeProto.AttributeType) throws(ONNXError) -> Onnx_AttributeProto? {
        guard let attribute = attributes[name] else { return nil }
        guard attribute.type == type || attribute.type == .undefined else {
            throw refuse("its attribute \(name) is written as \(Self.typeName(attribute.type)), but \(proto.opType)'s \(name) is \(Self.typeName(type)) (the ONNX spec's type; re-export the model)")
        }
        return attribute
    }

    /// How the ONNX spec writes an attribute type in words: `an INT`, `a FLOAT`, `INTS`.
    static func typeName(_ type: Onnx_AttributeProto.AttributeType) -> String {
        switch type {
        case .undefined: "no type"
        case .float: "a FLOAT"
        case .int: "an INT"
        case .string: "a STRING"
        case .tensor: "a TENSOR"
        case .graph: "a GRAPH"
        case .sparseTensor: "a SPARSE_TENSOR"
        case .typeProto: "a TYPE_PROTO"
        case .floats: "FLOATS (a list)"
        case .ints: "INTS (a list)"
        case .strings: "STRINGS (a list)"
        case .tensors: "TENSORS (a list)"
        case .graphs: "GRAPHS (a list)"
        case .sparseTensors: "SPARSE_TENSORS (a list)"
        case .typeProtos: "TYPE_PROTOS (a list)"
        case .UNRECOGNIZED(let code): "an unknown type (\(code))"
        }
    }

    func int(_ name: String, default fallback: Int) throws(ONNXError) -> Int {
        try attribute(name, .int).map { Int(clamping: $0.i) } ?? fallback
    }

    func double(_ name: String, default fallback: Double) throws(ONNXError) -> Double {
        try attribute(name, .float).map { Double($0.f) } ?? fallback
    }

    func ints(_ name: String) throws(ONNXError) -> [Int]? {
        try attribute(name, .ints).map { $0.ints.map { Int(clamping: $0) } }
    }

    func string(_ name: String) throws(ONNXError) -> String? {
        try attribute(name, .string).map { String(decoding: $0.s, as: UTF8.self) }
    }

    /// Refuses a node that gives one attribute twice: ONNX allows each once, and
    /// which of the two a reader takes is a guess.
    func requireDistinctAttributes() throws(ONNXError) {
        var seen: Set<String> = []
        for attribute in proto.attribute where !seen.insert(attribute.name).inserted {
            throw refuse("gives the attribute \(attribute.name) twice; ONNX allows each attribute once")
        }
    }

    /// The input names, the omitted optional ones ("") left out at the end.
    var inputNames: [String] {
        var names = proto.input
        while names.last == "" { names.removeLast() }
        return names
    }

    func requireInputs(_ range: ClosedRange<Int>) throws(ONNXError) {
        guard range.contains(inputNames.count), !inputNames.contains("") else {
            let count = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw refuse("takes \(count) inputs, got \(inputNames.count)")
        }
    }

    /// Stores the node's (first) output.
    func produce(_ id: NodeID, in session: inout ImportSession) throws(ONNXError) {
        session.nodes[try outputName(in: session)] = id
    }

    func produceFolded(_ value: Tensor, in session: inout ImportSession) throws(ONNXError) {
        session.folded[try outputName(in: session)] = value
    }

    /// The node's (first) output name, refused when empty or when it names a value that
    /// already exists: an ONNX graph assigns each name once, and a second writer would
    /// silently replace what earlier nodes read.
    private func outputName(in session: ImportSession) throws(ONNXError) -> String {
        guard let name = proto.output.first, !name.isEmpty else { throw refuse("has no output") }
        if session.nodes[name] != nil || session.folded[name] != nil || session.initializers[name] != nil {
            throw refuse("writes '\(name)', which an earlier node, initializer or input already defines (each name is assigned once)")
        }
        return name
    }

    /// The node's inputs as graph nodes.
    func tensorInputs(_ session: inout ImportSession) throws(ONNXError) -> [NodeID] {
        var ids: [NodeID] = []
        for name in inputNames { ids.append(try session.node(name, for: proto)) }
        return ids
    }

    /// Applies `operation` to the node's inputs (all of them unless `inputs` says), named by the node.
    func emit(_ operation: any ChainruleCore.Operation, _ inputs: [NodeID], in session: inout ImportSession) throws(ONNXError) {
        let id: NodeID
        do {
            id = try session.apply(operation, inputs, name: ONNXNaming.nodeName(proto.name))
        } catch {
            throw refuse(error.message)
        }
        try produce(id, in: &session)
    }

    func constantInput(_ index: Int, _ session: ImportSession, what: String) throws(ONNXError) -> Tensor {
        guard index < inputNames.count, let value = try session.constant(inputNames[index]) else {
            throw refuse("its \(what) must be a constant (an initializer or a Constant node), so that Chainrule knows it while reading the model")
        }
        return value
    }

    /// The elements of a constant that must hold integers (indices, axes), refused otherwise.
    func integers(_ tensor: Tensor, what: String) throws(ONNXError) -> [Int] {
        guard tensor.data.allSatisfy({ $0.rounded() == $0 && abs($0) < 1e15 }) else {
            throw refuse("its \(what) must be integers, got \(tensor.data.prefix(8).map { formatNumber($0) })")
        }
        return tensor.data.map { Int($0) }
    }

    /// Sizes, strides and pads read from attributes are below 10^15, as a `.grad` program's whole numbers are.
    static let sizeLimit = 1_000_000_000_000_000

    /// Refuses a value folded while reading (a Gather or Concat of constants) whose
    /// shape passes the element limit, before it is computed.
    func checkFolded(_ shape: [Int], _ session: ImportSession) throws(ONNXError) {
        let limit = session.options.limits.maxElements
        guard let count = Tensor.checkedElementCount(shape), count <= limit else {
            throw refuse("its result would have shape \(describeShape(shape)), more than \(limit) elements (--max-elements); it was not computed")
        }
    }

    func convertValueError(_ make: () throws(ValueError) -> any ChainruleCore.Operation) throws(ONNXError) -> any ChainruleCore.Operation {
        do { return try make() } catch { throw refuse(error.message) }
    }

    mutating func convert(_ session: inout ImportSession) throws(ONNXError) {
        try requireDistinctAttributes()
        switch op {
        case .add, .sub, .mul, .div:
            try requireInputs(2...2)
            let operation: any ChainruleCore.Operation = switch op {
            case .add: Add()
            case .sub: Sub()
            case .mul: Mul()
            default: Div()
            }
            try emit(operation, try tensorInputs(&session), in: &session)
        case .pow:
            try requireInputs(2...2)
            // One exponent is pow_const when it adds no axes: a [1] exponent of a scalar base broadcasts to [1].
            let base = try session.node(inputNames[0], for: proto)
            if let exponent = try session.constant(inputNames[1]), exponent.count == 1,
               exponent.rank == 0 || (exponent.rank == 1 && !session.graph[base].shape.isEmpty) {
                try emit(Unary.powConst(exponent.data[0]), [base], in: &session)
            } else {
                try emit(Pow(), try tensorInputs(&session), in: &session)
            }
        case .neg, .exp, .log, .sqrt, .relu, .sigmoid, .tanh, .softplus:
            try requireInputs(1...1)
            let unary = switch op {
            case .neg: Unary.neg
            case .exp: Unary.exp
            case .log: Unary.log
            case .sqrt: Unary.sqrt
            case .relu: Activation.relu
            case .sigmoid: Activation.sigmoid
            case .tanh: Activation.tanh
            default: Activation.softplus
            }
            try emit(unary, try tensorInputs(&session), in: &session)
        case .leakyRelu:
            try requireInputs(1...1)
            try emit(Activation.leakyReLU(slope: try double("alpha", default: 0.01)), try tensorInputs(&session), in: &session)
        case .elu:
            try requireInputs(1...1)
            try emit(Activation.elu(alpha: try double("alpha", default: 1)), try tensorInputs(&session), in: &session)
        case .softmax, .logSoftmax:
            try requireInputs(1...1)
            let inputs = try tensorInputs(&session)
            let rank = session.graph[inputs[0]].shape.count
            let axis = try int("axis", default: -1)
            guard axis == -1 || axis == rank - 1 else {
                throw refuse("axis \(axis) of a rank-\(rank) input: Chainrule's \(op == .softmax ? "softmax" : "log_softmax") acts on the last axis only")
            }
            try emit(op == .softmax ? Softmax() : LogSoftmax(), inputs, in: &session)
        case .conv:
            try convertConv(&session)
        case .maxPool, .averagePool:
            try convertPool(&session)
        case .globalAveragePool:
            try requireInputs(1...1)
            try emit(GlobalAvgPool(), try tensorInputs(&session), in: &session)
        case .gemm:
            try convertGemm(&session)
        case .matMul:
            try requireInputs(2...2)
            try emit(MatMul(), try tensorInputs(&session), in: &session)
        case .batchNormalization:
            try requireInputs(5...5)
            guard try int("training_mode", default: 0) == 0 else {
                throw refuse("training_mode 1 computes batch statistics; Chainrule imports batch norm for inference (export the model in eval() mode)")
            }
            let epsilon = try double("epsilon", default: BatchNorm.defaultEpsilon)
            try emit(try convertValueError { () throws(ValueError) in try BatchNorm(epsilon: epsilon) }, try tensorInputs(&session), in: &session)
        case .flatten:
            try requireInputs(1...1)
            let input = try session.node(inputNames[0], for: proto)
            let shape = session.graph[input].shape
            let written = try int("axis", default: 1)
            let axis = written < 0 ? written + shape.count : written
            guard (0...shape.count).contains(axis) else { throw refuse("axis \(written) is outside a rank-\(shape.count) input") }
            if axis == 1 && shape.count > 1 {
                try emit(Flatten(), [input], in: &session)
            } else {
                let rows = Tensor.elementCount(Array(shape[..<axis]))
                try emit(Reshape(shape: [rows, Tensor.elementCount(Array(shape[axis...]))]), [input], in: &session)
            }
        case .reshape:
            try convertReshape(&session)
        case .transpose:
            try requireInputs(1...1)
            try emit(Transpose(axes: try ints("perm")), try tensorInputs(&session), in: &session)
        case .concat:
            try convertConcat(&session)
        case .dropout, .identity:
            try requireInputs(op == .dropout ? 1...3 : 1...1)
            // Dropout is the identity at inference only: a training_mode that is true
            // (or not known while reading) would drop elements at random.
            if op == .dropout, inputNames.count == 3 {
                let mode = try session.constant(inputNames[2])
                guard let mode, mode.data.allSatisfy({ $0 == 0 }) else {
                    throw refuse(mode == nil
                        ? "its training_mode '\(inputNames[2])' is computed by the model; Chainrule imports Dropout for inference, training_mode false (export the model in eval() mode)"
                        : "training_mode is true: it drops elements at random; Chainrule imports Dropout for inference (export the model in eval() mode)")
                }
            }
            if let value = session.folded[inputNames[0]] {
                try produceFolded(value, in: &session)
            } else {
                try produce(try session.node(inputNames[0], for: proto), in: &session)
            }
        case .constant:
            try produceFolded(try constantValue(session), in: &session)
        case .shape:
            try requireInputs(1...1)
            let shape: [Int]
            if let value = session.folded[inputNames[0]] {
                shape = value.shape
            } else {
                shape = session.graph[try session.node(inputNames[0], for: proto)].shape
            }
            let rank = shape.count
            func clampAxis(_ axis: Int) -> Int { min(max(axis < 0 ? axis + rank : axis, 0), rank) }
            let start = clampAxis(try int("start", default: 0)), end = clampAxis(try int("end", default: rank))
            let dims = start < end ? Array(shape[start..<end]) : []
            try produceFolded(Tensor(shape: [dims.count], data: dims.map(Double.init)), in: &session)
        case .gather:
            try convertGather(&session)
        case .unsqueeze:
            try convertUnsqueeze(&session)
        }
    }

    /// The attributes that give a `Constant` its value (ONNX: exactly one of them).
    static let constantValueNames = ["value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value"]

    /// A `Constant` node's value, from whichever of its value attributes is set.
    func constantValue(_ session: ImportSession) throws(ONNXError) -> Tensor {
        let given = Self.constantValueNames.filter { attributes[$0] != nil }
        guard given.count <= 1 else {
            throw refuse("gives its value \(given.count) times (\(given.joined(separator: ", "))); a Constant has exactly one value attribute")
        }
        if let tensor = try attribute("value", .tensor), tensor.hasT { return try session.reader.read(tensor.t) }
        if let v = try attribute("value_float", .float) { return Tensor(Double(v.f)) }
        if let v = try attribute("value_floats", .floats) { return Tensor(v.floats.map(Double.init)) }
        if let v = try attribute("value_int", .int) { return Tensor(Double(v.i)) }
        if let v = try attribute("value_ints", .ints) { return Tensor(v.ints.map(Double.init)) }
        throw refuse("Chainrule reads a Constant's value, value_float(s) or value_int(s); this one has \(attributes.keys.sorted().joined(separator: ", "))")
    }

    /// The spatial attributes conv and pooling share, reduced to one stride
    /// and one padding, the form Chainrule's ops take.
    func window(kernel: [Int]) throws(ONNXError) -> (stride: Int, pad: Int) {
        let autoPad = try string("auto_pad") ?? "NOTSET"
        guard autoPad == "NOTSET" || autoPad == "VALID" else {
            throw refuse("auto_pad \(autoPad) is not supported; export with explicit pads (PyTorch does)")
        }
        let strides = try ints("strides") ?? [1, 1]
        let pads = autoPad == "VALID" ? [0, 0, 0, 0] : try ints("pads") ?? [0, 0, 0, 0]
        let dilations = try ints("dilations") ?? [1, 1]
        guard kernel.count == 2, strides.count == 2, pads.count == 4 else {
            throw refuse("Chainrule imports 2-D windows only: kernel \(kernel), strides \(strides), pads \(pads)")
        }
        // The window's sizes go into the ops' size arithmetic: bounded as a program's whole numbers are.
        guard (kernel + strides + pads + dilations).allSatisfy({ $0 > -Self.sizeLimit && $0 < Self.sizeLimit }) else {
            throw refuse("kernel \(kernel), strides \(strides), pads \(pads), dilations \(dilations): sizes are below 10^15")
        }
        guard dilations.allSatisfy({ $0 == 1 }) else { throw refuse("dilations \(dilations) are not supported; only 1") }
        guard strides[0] == strides[1] else { throw refuse("strides \(strides) differ; Chainrule takes one stride for both axes") }
        guard Set(pads).count == 1 else { throw refuse("pads \(pads) are not the same on every side; Chainrule pads every side equally") }
        return (strides[0], pads[0])
    }

    mutating func convertConv(_ session: inout ImportSession) throws(ONNXError) {
        try requireInputs(2...3)
        let group = try int("group", default: 1)
        guard group == 1 else { throw refuse("group \(group): Chainrule imports group 1 convolutions only") }
        let inputs = try tensorInputs(&session)
        let weight = session.graph[inputs[1]].shape
        guard weight.count == 4 else { throw refuse("weights \(describeShape(weight)): Chainrule imports 2-D convolutions (O×C×KH×KW weights)") }
        let (stride, pad) = try window(kernel: try ints("kernel_shape") ?? Array(weight[2...]))
        let conv = try convertValueError { () throws(ValueError) in try Conv2D(stride: stride, pad: pad, floor: true, hasBias: inputs.count == 3) }
        try emit(conv, inputs, in: &session)
    }

    mutating func convertPool(_ session: inout ImportSession) throws(ONNXError) {
        try requireInputs(1...1)
        guard proto.output.count == 1 || proto.output.dropFirst().allSatisfy(\.isEmpty) else {
            throw refuse("MaxPool's Indices output is not supported")
        }
        guard let kernel = try ints("kernel_shape") else { throw refuse("has no kernel_shape") }
        let (stride, pad) = try window(kernel: kernel)
        guard kernel[0] == kernel[1] else { throw refuse("kernel \(kernel) is not square; Chainrule's pools take a square window") }
        guard pad == 0 else { throw refuse("pads \(try ints("pads") ?? []): Chainrule's pools do not pad") }
        let floor = try int("ceil_mode", default: 0) == 0
        let size = kernel[0]
        let pool = try convertValueError { () throws(ValueError) -> any ChainruleCore.Operation in
            op == .maxPool ? try MaxPool2D(kernel: size, stride: stride, floor: floor) : try AvgPool2D(kernel: size, stride: stride, floor: floor)
        }
        try emit(pool, try tensorInputs(&session), in: &session)
    }

    /// `Y = alpha·A'·B' + beta·C`, with A' = Aᵀ if transA and B' = Bᵀ if transB:
    /// PyTorch's Linear exports transB = 1 with C of shape [N], which is Chainrule's `linear`.
    mutating func convertGemm(_ session: inout ImportSession) throws(ONNXError) {
        try requireInputs(2...3)
        let (alpha, beta) = (try double("alpha", default: 1), try double("beta", default: 1))
        // The standard: a transpose flag that is not 0 transposes.
        let (transA, transB) = (try int("transA", default: 0) != 0, try int("transB", default: 0) != 0)
        var inputs = try tensorInputs(&session)
        let name = ONNXNaming.nodeName(proto.name) ?? "Gemm"
        // A and B are matrices; C broadcasts to the product's M×N one way (it never widens Y).
        let (a, bShape) = (session.graph[inputs[0]].shape, session.graph[inputs[1]].shape)
        guard a.count == 2, bShape.count == 2 else {
            throw refuse("A and B must be matrices (2-D), got A \(describeShape(a)) and B \(describeShape(bShape))")
        }
        let (m, k) = transA ? (a[1], a[0]) : (a[0], a[1])
        let (kB, n) = transB ? (bShape[1], bShape[0]) : (bShape[0], bShape[1])
        guard k == kB else {
            throw refuse("A\(transA ? "ᵀ" : "") \(describeShape([m, k])) and B\(transB ? "ᵀ" : "") \(describeShape([kB, n])) do not multiply: \(k) ≠ \(kB)")
        }
        if inputs.count == 3 {
            let c = session.graph[inputs[2]].shape
            let fits = c.count <= 2 && zip(c.reversed(), [n, m]).allSatisfy { $0 == $1 || $0 == 1 }
            guard fits else { throw refuse("C \(describeShape(c)) does not broadcast to the product's \(describeShape([m, n]))") }
        }
        func step(_ operation: any ChainruleCore.Operation, _ ids: [NodeID], _ suffix: String) throws(ONNXError) -> NodeID {
            do { return try session.apply(operation, ids, name: "\(name):\(suffix)") } catch { throw refuse(error.message) }
        }
        if transA { inputs[0] = try step(Transpose(), [inputs[0]], "Aᵀ") }
        let weight = session.graph[inputs[1]].shape
        if transB, alpha == 1, beta == 1, weight.count == 2, inputs.count == 2 || session.graph[inputs[2]].shape == [weight[0]] {
            try emit(Linear(hasBias: inputs.count == 3), inputs, in: &session)
            return
        }
        let b = transB ? try step(Transpose(), [inputs[1]], "Bᵀ") : inputs[1]
        var y = try step(MatMul(), [inputs[0], b], "A·B")
        if alpha != 1 { y = try step(Mul(), [y, session.graph.leaf("\(name):alpha", Tensor(alpha), role: .constant)], "alpha") }
        if inputs.count == 3 {
            var c = inputs[2]
            if beta != 1 { c = try step(Mul(), [c, session.graph.leaf("\(name):beta", Tensor(beta), role: .constant)], "beta") }
            try emit(Add(), [y, c], in: &session)
        } else {
            try produce(y, in: &session)
        }
    }

    mutating func convertReshape(_ session: inout ImportSession) throws(ONNXError) {
        try requireInputs(2...2)
        let target = try constantInput(1, session, what: "shape")
        let input = try session.node(inputNames[0], for: proto)
        let inputShape = session.graph[input].shape
        let allowZero = try int("allowzero", default: 0) == 1
        var shape: [Int] = []
        for (axis, size) in target.data.enumerated() {
            let written = "[" + target.data.map { formatNumber($0) }.joined(separator: ", ") + "]"
            guard size.rounded() == size else { throw refuse("shape \(written) is not a list of integers") }
            guard abs(size) < Double(Self.sizeLimit) else {
                throw refuse("shape \(written): size \(formatNumber(size)) at axis \(axis) is too large (sizes are below 10^15)")
            }
            if Int(size) == 0 && !allowZero {
                guard axis < inputShape.count else { throw refuse("shape size 0 at axis \(axis) copies an axis the \(describeShape(inputShape)) input does not have") }
                shape.append(inputShape[axis])
            } else {
                shape.append(Int(size))
            }
        }
        try emit(Reshape(shape: shape), [input], in: &session)
    }

    mutating func convertConcat(_ session: inout ImportSession) throws(ONNXError) {
        guard !inputNames.isEmpty, !inputNames.contains("") else { throw refuse("needs at least one input") }
        guard let axis = try attribute("axis", .int).map({ Int(clamping: $0.i) }) else { throw refuse("has no axis") }
        let values = inputNames.map { session.folded[$0] }
        if values.allSatisfy({ $0 != nil }) {
            let parts = values.map { $0! }
            let concat = Concat(axis: axis)
            let shape: [Int]
            do {
                shape = try concat.outputShape(parts.map(\.shape))
            } catch {
                throw refuse(error.description)
            }
            try checkFolded(shape, session)
            try produceFolded(concat.forward(parts), in: &session)
            return
        }
        try emit(Concat(axis: axis), try tensorInputs(&session), in: &session)
    }

    /// Gather on a constant (the dimension picked out of a Shape), folded.
    mutating func convertGather(_ session: inout ImportSession) throws(ONNXError) {
        try requireInputs(2...2)
        guard let data = try session.constant(inputNames[0]) else {
            throw refuse("Chainrule folds Gather on constant data only (the Shape → Gather → Unsqueeze → Concat chain of x.view(n, -1)); this one gathers from a tensor computed by the model")
        }
        let indices = try constantInput(1, session, what: "indices")
        guard data.rank >= 1 else { throw refuse("gathers from a scalar") }
        let written = try int("axis", default: 0)
        let axis = written < 0 ? written + data.rank : written
        guard (0..<data.rank).contains(axis) else { throw refuse("axis \(written) is outside a rank-\(data.rank) tensor") }
        let size = data.shape[axis]
        let picks = try integers(indices, what: "indices").map { (index: Int) throws(ONNXError) -> Int in
            guard (-size..<size).contains(index) else { throw refuse("index \(index) is out of range for size \(size)") }
            return index < 0 ? index + size : index
        }
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        try checkFolded(shape, session)
        let outer = Tensor.elementCount(Array(data.shape[..<axis]))
        let inner = Tensor.elementCount(Array(data.shape[(axis + 1)...]))
        var out: [Double] = []
        out.reserveCapacity(Tensor.elementCount(shape))
        for block in 0..<outer {
            for pick in picks { out += data.data[((block * size + pick) * inner)..<((block * size + pick + 1) * inner)] }
        }
        try produceFolded(Tensor(shape: shape, data: out), in: &session)
    }

    /// Unsqueeze: axes from the second input (opset 13 on), folded on constants, a reshape otherwise.
    mutating func convertUnsqueeze(_ session: inout ImportSession) throws(ONNXError) {
        try requireInputs(2...2)
        let axes = try integers(try constantInput(1, session, what: "axes"), what: "axes")
        let folded = session.folded[inputNames[0]]
        let input = folded == nil ? try session.node(inputNames[0], for: proto) : nil
        let shape = folded?.shape ?? session.graph[input!].shape
        let rank = shape.count + axes.count
        let resolved = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
        guard resolved.count == axes.count, resolved.allSatisfy({ (0..<rank).contains($0) }) else {
            throw refuse("axes \(axes) are not distinct axes of the rank-\(rank) result")
        }
        var remaining = shape[...]
        let newShape = (0..<rank).map { resolved.contains($0) ? 1 : remaining.popFirst()! }
        if let folded {
            try produceFolded(folded.reshaped(newShape), in: &session)
        } else {
            try emit(Reshape(shape: newShape), [input!], in: &session)
        }
    }
}

extension Onnx_NodeProto {
    /// How messages name the node: `node '/conv1/Conv'`, or for a node without
    /// a name (ONNX allows it), by what it writes: `the unnamed node writing 'y'`.
    var label: String {
        guard name.isEmpty else { return "node '\(name)'" }
        let written = output.filter { !$0.isEmpty }
        return written.isEmpty ? "an unnamed node" : "the unnamed node writing \(written.map { "'\($0)'" }.joined(separator: ", "))"
    }
}
