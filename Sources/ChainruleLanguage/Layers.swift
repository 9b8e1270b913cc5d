import ChainruleCore

/// Capitalised calls: layers that create and own their parameters.
enum LayerKind: String, CaseIterable {
    /// `Linear(x, out, seed: N, bias: true)`: `linear(x, h.W, h.b)` with
    /// `h.W` [out, in] He-initialised (normal, std √(2/in)) and `h.b` zeros.
    case Linear
    /// `Conv2D(x, filters:, kernel:, stride: 1, pad: 0, seed: N, bias: true)`:
    /// `conv2d(x, h.W, h.b)` on NCHW input with `h.W` [filters, C, kernel,
    /// kernel] He-initialised (std √(2/(C·kernel²))) and `h.b` zeros.
    case Conv2D

    var signature: CallSignature {
        switch self {
        case .Linear:
            return CallSignature(
                callee: rawValue, names: ["x", "out", "seed", "bias"], required: ["x", "out"],
                describe: { "Linear(x, out, seed: N, bias: true)" })
        case .Conv2D:
            return CallSignature(
                callee: rawValue, names: ["x", "filters", "kernel", "stride", "pad", "seed", "bias"],
                required: ["x", "filters", "kernel"],
                describe: { "Conv2D(x, filters: F, kernel: K, stride: 1, pad: 0, seed: N, bias: true)" })
        }
    }

    /// The registry op the layer applies.
    var opName: String {
        switch self {
        case .Linear: return "linear"
        case .Conv2D: return "conv2d"
        }
    }
}

extension ProgramCompiler {
    /// The name of the layer being created: the binding's name for its first
    /// layer, `h_2`, `h_3`, … for the next ones. Its parameters `NAME.W` and
    /// `NAME.b` are names a checkpoint keys on, so no two layers share one: a
    /// further layer's name skips every name the program binds (a later
    /// `h_2 = Linear(…)` keeps `h_2`) and every layer already named.
    func uniqueLayerName() -> String {
        var name = layersInBinding == 1 ? currentBinding : "\(currentBinding)_\(layersInBinding)"
        var suffix = Swift.max(layersInBinding, 1)
        while layerParameters[name] != nil || (name != currentBinding && definitions[name] != nil) {
            suffix += 1
            name = "\(currentBinding)_\(suffix)"
        }
        return name
    }

    /// Compiles a layer call: the input first (outside the layer), then the
    /// parameters and the op, grouped as one layer named after the binding
    /// (`h`; a second layer in the same binding is `h_2`).
    func compileLayer(_ kind: LayerKind, _ arguments: [Argument], _ token: Token) throws(CompileFailure) -> NodeID {
        let bound = try bind(arguments, to: kind.signature, at: token)
        guard let spec = Registry.spec(named: kind.opName) else {
            preconditionFailure("\(kind.rawValue) needs the op \(kind.opName), which is not in the registry")
        }
        func integer(_ name: String, default value: Int?, minimum: Int) throws(CompileFailure) -> Int {
            guard let argument = bound[name] else { return value! }
            return try wholeNumberArgument(argument, named: name, of: kind.rawValue, minimum: minimum)
        }
        var useBias = true
        if let argument = bound["bias"] {
            useBias = try attributeValue(argument, OpParameter("bias", .bool), callee: kind.rawValue).boolValue!
        }
        let input = try compileExpression(bound["x"]!.value)
        let inputShape = graph[input].shape

        layersInBinding += 1
        let layerName = uniqueLayerName()
        let seed = try seedArgument(bound["seed"], of: kind.rawValue)

        let weightShape: [Int], biasShape: [Int]
        var attributes: [String: AttributeValue] = [:]
        switch kind {
        case .Linear:
            guard let features = inputShape.last else {
                throw failure("Linear needs an input with a feature axis, got a scalar", at: token)
            }
            let out = try integer("out", default: nil, minimum: 1)
            weightShape = [out, features]
            biasShape = [out]
        case .Conv2D:
            guard inputShape.count == 4 else {
                throw failure("Conv2D takes an NCHW input (batch, channels, height, width), got shape \(describeShape(inputShape))", at: token)
            }
            let filters = try integer("filters", default: nil, minimum: 1)
            let kernel = try integer("kernel", default: nil, minimum: 1)
            let stride = try integer("stride", default: 1, minimum: 1)
            let pad = try integer("pad", default: 0, minimum: 0)
            weightShape = [filters, inputShape[1], kernel, kernel]
            biasShape = [filters]
            attributes = ["stride": .int(stride), "pad": .int(pad)]
        }
        try checkSize(weightShape, what: "the weight of \(kind.rawValue)", at: token)
        // Each output sums over one row of W: in features, or C·kernel².
        let fanIn = Tensor.elementCount(Array(weightShape.dropFirst()))
        try checkSize(biasShape, what: "the bias of \(kind.rawValue)", at: token)
        let (_, overflow) = Tensor.elementCount(weightShape).addingReportingOverflow(useBias ? Tensor.elementCount(biasShape) : 0)
        guard !overflow else { throw failure("\(kind.rawValue) would have more parameters than can be counted", at: token) }

        let tensorNames = spec.parameters.filter(\.isTensorInput).map(\.name).prefix(useBias ? 3 : 2)
        let operation = try buildOperation(spec, attributes, tensorInputs: Array(tensorNames), at: token)

        let layer = Layer(name: layerName, kind: kind.rawValue)
        let result: Result<NodeID, CompileFailure> = graph.withLayer(layer) {
            let weightName = "\(layerName).W", biasName = "\(layerName).b"
            let weightSeed = seed ?? defaultSeed(for: weightName)
            let weight = PendingValue(shape: weightShape) {
                Tensor.randn(weightShape, seed: weightSeed, scale: (2 / Double(fanIn)).squareRoot())
            }
            do throws(CompileFailure) {
                var inputs = [input, try leaf(weightName, weight, role: .param, at: token)]
                bindings[weightName] = inputs[1]
                layerParameters[layerName] = [weightName]
                if useBias {
                    inputs.append(try leaf(biasName, PendingValue(shape: biasShape) { Tensor.zeros(biasShape) }, role: .param, at: token))
                    bindings[biasName] = inputs[2]
                    layerParameters[layerName]?.append(biasName)
                }
                // Named after its layer (`c1.conv2d`) until a binding names it.
                let node = try apply(operation, inputs, at: token)
                graph.setName("\(layerName).\(operation.name)", of: node)
                return .success(node)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
