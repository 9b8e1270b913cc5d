import ChainruleCore

/// What a callee accepts, for matching a call's arguments.
struct CallSignature {
    /// `conv2d`, `Linear`, `randn`.
    var callee: String
    /// Parameter names in positional order.
    var names: [String]
    /// Parameters the call must give.
    var required: [String]
    /// How the signature is shown in errors: `conv2d(x, W, b?, stride: 1, pad: 0)`.
    /// Built only when an error needs it: compiling a call must stay cheap.
    var describe: () -> String
    /// Whether `names` are only given by name: an initialiser's positional
    /// arguments are its sizes, bound apart.
    var namedOnly = false
    var text: String { describe() }
}

/// A call's arguments matched to a signature's parameters, by position in
/// the signature (an array, not a dictionary: calls are compiled by the
/// ten thousand and have a handful of parameters).
struct BoundArguments {
    let names: [String]
    var values: [Argument?]

    init(names: [String]) {
        self.names = names
        self.values = Array(repeating: nil, count: names.count)
    }

    subscript(name: String) -> Argument? {
        get { names.firstIndex(of: name).flatMap { values[$0] } }
        set { values[names.firstIndex(of: name)!] = newValue }
    }
}

extension ProgramCompiler {
    // MARK: Calls

    func compileCall(_ callee: String, _ arguments: [Argument], _ token: Token) throws(CompileFailure) -> NodeID {
        if let operation = customOperations[callee] {
            var inputs: [NodeID] = []
            for argument in try customCallArguments(operation, arguments, at: token) { inputs.append(try compileExpression(argument)) }
            return try apply(operation, inputs, at: token)
        }
        if failedOperations.contains(callee) { throw .poisoned }
        if let initialiser = Initialiser(rawValue: callee) {
            inlineInitialisers += 1
            let (value, _) = try makeInitialiser(initialiser, arguments, token, seedKey: "\(currentBinding)#\(inlineInitialisers)")
            return try leaf(nil, value, role: .constant, at: token)
        }
        if let layer = LayerKind(rawValue: callee) {
            return try compileLayer(layer, arguments, token)
        }
        if let kind = DataInputKind(rawValue: callee) {
            return try compileDataInput(kind, arguments, name: nil, at: token)
        }
        if let spec = Registry.spec(named: callee) {
            let (operation, tensorArguments) = try registryCall(spec, arguments, at: token)
            var inputs: [NodeID] = []
            for argument in tensorArguments { inputs.append(try compileExpression(argument)) }
            return try apply(operation, inputs, at: token)
        }
        throw unknownFunction(callee, at: token)
    }

    /// The arguments of a call of an op block, matched to its parameters:
    /// their expressions in parameter order.
    func customCallArguments(_ operation: CustomOperation, _ arguments: [Argument], at token: Token) throws(CompileFailure) -> [Expression] {
        let signature = CallSignature(
            callee: operation.name, names: operation.parameters, required: operation.parameters,
            describe: { "\(operation.name)(\(operation.parameters.joined(separator: ", ")))" })
        let bound = try bind(arguments, to: signature, at: token)
        return bound.values.map { $0!.value }
    }

    /// Functions the language provides beside the registry ops: the
    /// initialisers (`randn`, `load`) and the layers (`Linear`).
    static func isBuiltInFunction(_ name: String) -> Bool {
        Initialiser(rawValue: name) != nil || LayerKind(rawValue: name) != nil || DataInputKind(rawValue: name) != nil
    }

    /// Whether `name(…)` calls something: a registry op, an initialiser, a
    /// layer or an op block.
    func isCallable(_ name: String) -> Bool {
        Registry.spec(named: name) != nil || Self.isBuiltInFunction(name) || customOperations[name] != nil
    }

    /// Every name `isCallable` accepts, for "did you mean".
    var callableNames: [String] {
        Registry.names + Initialiser.allCases.map(\.rawValue) + LayerKind.allCases.map(\.rawValue) + DataInputKind.allCases.map(\.rawValue) + Array(customOperations.keys)
    }

    func unknownFunction(_ callee: String, at token: Token) -> CompileFailure {
        if bindings[callee] != nil || definitions[callee] != nil {
            return failure("\(callee) is a value, not a function; multiply with *, as \(callee) * (…)", at: token)
        }
        if let suggestion = suggestion(for: callee, among: { callableNames }) {
            return failure("unknown function '\(callee)'; did you mean '\(suggestion)'?", at: token)
        }
        return failure("unknown function '\(callee)'; `chainrule ops` lists the ops, and op blocks define new ones", at: token)
    }

    /// Matches a call's arguments to a signature: positional ones in order,
    /// named ones by name. Refuses too many, unknown, repeated and missing
    /// arguments, listing what the callee takes.
    func bind(_ arguments: [Argument], to signature: CallSignature, at token: Token) throws(CompileFailure) -> BoundArguments {
        var bound = BoundArguments(names: signature.names)
        var nextPosition = 0
        var sawNamed = false
        var listing: String { "\(signature.callee) takes \(signature.text)" }
        for argument in arguments {
            if let label = argument.label {
                sawNamed = true
                guard signature.names.contains(label) else {
                    let suggestion = Suggestions.closest(to: label, among: signature.names)
                    let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
                    let valid = signature.names.isEmpty ? "it takes no named arguments"
                        : "its \(signature.namedOnly ? "named " : "")arguments are \(signature.names.joined(separator: ", "))"
                    throw failure("\(signature.callee) has no argument named '\(label)'\(hint) (\(valid))", at: argument.token,
                                  notes: [listing])
                }
                guard bound[label] == nil else {
                    throw failure("argument '\(label)' of \(signature.callee) is given twice", at: argument.token)
                }
                bound[label] = argument
            } else {
                guard !sawNamed else {
                    throw failure("a positional argument cannot follow a named one in a call of \(signature.callee)", at: argument.token, notes: [listing])
                }
                guard nextPosition < signature.names.count else {
                    throw failure("\(signature.callee) takes at most \(signature.names.count) argument\(signature.names.count == 1 ? "" : "s"), got \(arguments.count): \(signature.text)",
                                  at: argument.token)
                }
                bound.values[nextPosition] = argument
                nextPosition += 1
            }
        }
        let missing = signature.names.filter { signature.required.contains($0) && bound[$0] == nil }
        if !missing.isEmpty {
            let list = missing.map { "'\($0)'" }.joined(separator: ", ")
            throw failure("\(signature.callee) is missing argument\(missing.count == 1 ? "" : "s") \(list): \(signature.text)", at: token)
        }
        return bound
    }

    // MARK: Registry ops

    /// Resolves a call of a registry op: builds the op from its attribute
    /// arguments (defaults filled in) and returns the expressions of its
    /// tensor inputs, in parameter order. Numbers and lists given for tensor
    /// inputs become constants; a list given for labels must hold integers.
    func registryCall(_ spec: OpSpec, _ arguments: [Argument], at token: Token) throws(CompileFailure) -> (any Operation, [Expression]) {
        let bound = try bind(arguments, to: registrySignature(spec), at: token)
        var attributes: [String: AttributeValue] = [:]
        var tensorNames: [String] = []
        var tensorArguments: [Expression] = []
        for (index, parameter) in spec.parameters.enumerated() {
            guard let argument = bound.values[index] else { continue }
            if parameter.isTensorInput {
                if parameter.kind == .labels, let labels = try literalTensor(argument.value) {
                    guard labels.data.allSatisfy({ $0.rounded() == $0 && $0 >= 0 }) else {
                        throw failure("labels of \(spec.name) are class indices: whole numbers from 0", at: argument.value.token)
                    }
                }
                tensorNames.append(parameter.name)
                tensorArguments.append(argument.value)
            } else {
                do throws(CompileFailure) {
                    attributes[parameter.name] = try attributeValue(argument, parameter, callee: spec.name)
                } catch {
                    throw withTensorCounterpart(error, spec, arguments)
                }
            }
        }
        // An op called without attributes (`tanh(x)`, `sum(x)` with its
        // defaults) is the same value every time it is built: build it once.
        guard attributes.isEmpty else {
            return (try buildOperation(spec, attributes, tensorInputs: tensorNames, at: token), tensorArguments)
        }
        return (try attributeFreeOperation(spec, tensorInputs: tensorNames, at: token), tensorArguments)
    }

    /// `spec`'s op with its default attributes for these tensor inputs, built once.
    private func attributeFreeOperation(_ spec: OpSpec, tensorInputs tensorNames: [String], at token: Token) throws(CompileFailure) -> any Operation {
        let cacheKey = spec.name + tensorNames.joined(separator: ",")
        if let built = attributeFreeCache[cacheKey] { return built }
        let built = try buildOperation(spec, [:], tensorInputs: tensorNames, at: token)
        attributeFreeCache[cacheKey] = built
        return built
    }

    /// The op `registryCall` makes of a call that gives `count` tensors by
    /// position and nothing else (`relu(x)`, `maximum(a, b)`), for a reader
    /// that has no argument expressions; nil when such a call is not
    /// complete (`registryCall` would report it) or gives labels.
    func positionalTensorCall(_ spec: OpSpec, inputs count: Int, at token: Token) throws(CompileFailure) -> (any Operation)? {
        let given = spec.parameters.prefix(count)
        guard given.count == count, given.allSatisfy({ $0.isTensorInput && $0.kind != .labels }),
              !spec.parameters.dropFirst(count).contains(where: { $0.kind == .tensor || $0.kind == .labels })
        else { return nil }
        return try attributeFreeOperation(spec, tensorInputs: given.map(\.name), at: token)
    }

    /// A refused attribute of a call that gave a tensor in its place, as
    /// CS231n's `max(z, w)` does, gets a hint to the registry op of a similar
    /// name that takes that many tensors (`maximum(z, w)`).
    private func withTensorCounterpart(_ failure: CompileFailure, _ spec: OpSpec, _ arguments: [Argument]) -> CompileFailure {
        guard case .reported(var diagnostic) = failure else { return failure }
        let positional = arguments.filter { $0.label == nil }
        guard positional.count > spec.parameters.filter(\.isTensorInput).count,
              positional.allSatisfy({ $0.value.literalNumber == nil }),
              let counterpart = Registry.names.first(where: { name in
                  name != spec.name && name.hasPrefix(spec.name)
                      && Registry.spec(named: name)!.parameters.filter(\.isTensorInput).count == positional.count
              })
        else { return failure }
        let tensors = spec.parameters.filter(\.isTensorInput).count
        diagnostic.notes.append("\(spec.name) takes \(tensors) tensor\(tensors == 1 ? "" : "s"), \(spec.signature); for \(counterpart) of \(positional.count) tensors, call \(counterpart)(…): \(Registry.spec(named: counterpart)!.doc)")
        return .reported(diagnostic)
    }

    /// The signature a call of `spec` is bound to, built once per op.
    func registrySignature(_ spec: OpSpec) -> CallSignature {
        if let signature = registrySignatures[spec.name] { return signature }
        // Tensor inputs are required here; an attribute without a default may
        // be optional (a reduction's axis), so the op's build says when one is missing.
        let required = spec.parameters.filter { $0.kind == .tensor || $0.kind == .labels }.map(\.name)
        let signature = CallSignature(callee: spec.name, names: spec.parameters.map(\.name), required: required, describe: { spec.signature })
        registrySignatures[spec.name] = signature
        return signature
    }

    /// Builds `spec`'s op from the attributes given (defaults filled in) and
    /// the tensor inputs given, reporting a refused attribute at `token`.
    func buildOperation(_ spec: OpSpec, _ attributes: [String: AttributeValue], tensorInputs: [String], at token: Token) throws(CompileFailure) -> any Operation {
        do {
            return try spec.make(attributes: attributes, tensorInputs: tensorInputs)
        } catch {
            throw failure(error.description, at: token)
        }
    }

    /// The literal value of an attribute argument (`stride: 2`, `axes: [0, 2, 3, 1]`, `floor: true`).
    func attributeValue(_ argument: Argument, _ parameter: OpParameter, callee: String) throws(CompileFailure) -> AttributeValue {
        let value = argument.value
        let what = "argument '\(parameter.name)' of \(callee)"
        switch parameter.kind {
        case .int:
            guard let number = value.literalNumber, let integer = Self.wholeNumber(number) else {
                throw failure(wholeNumberProblem(value, what) ?? "\(what) must be a whole number, as \(parameter.name): 2", at: value.token)
            }
            return .int(integer)
        case .double:
            guard let number = value.literalNumber else {
                throw failure("\(what) must be a number, as \(parameter.name): 0.5", at: value.token)
            }
            return .double(number)
        case .bool:
            guard case .name(let word, _) = value, word == "true" || word == "false" else {
                throw failure("\(what) must be true or false", at: value.token)
            }
            return .bool(word == "true")
        case .ints:
            if let number = value.literalNumber, let integer = Self.wholeNumber(number) { return .ints([integer]) }
            guard case .list(let elements, _) = value else {
                throw failure("\(what) must be a list of whole numbers, as \(parameter.name): [0, 2, 1]", at: value.token)
            }
            var integers: [Int] = []
            for element in elements {
                guard let number = element.literalNumber, let integer = Self.wholeNumber(number) else {
                    throw failure(wholeNumberProblem(element, what) ?? "\(what) must be a list of whole numbers, as \(parameter.name): [0, 2, 1]", at: element.token)
                }
                integers.append(integer)
            }
            return .ints(integers)
        case .tensor, .optionalTensor, .labels:
            preconditionFailure("attributeValue: \(parameter.name) is a tensor parameter")
        }
    }

    /// The whole number an argument gives for the parameter `name` (given
    /// by position or by name), refused below `minimum` (`seed: 3`, `out: 10`).
    func wholeNumberArgument(_ argument: Argument, named name: String, of callee: String, minimum: Int) throws(CompileFailure) -> Int {
        let what = "argument '\(name)' of \(callee)"
        guard let number = argument.value.literalNumber, let integer = Self.wholeNumber(number), integer >= minimum else {
            throw failure(wholeNumberProblem(argument.value, what) ?? "\(what) must be a whole number from \(minimum)", at: argument.value.token)
        }
        return integer
    }

    /// The seed a `seed:` argument gives, or nil if there is none.
    func seedArgument(_ argument: Argument?, of callee: String) throws(CompileFailure) -> UInt64? {
        guard let argument else { return nil }
        return UInt64(try wholeNumberArgument(argument, named: "seed", of: callee, minimum: 0))
    }

    /// Whole numbers the language reads as integers are below 10^15 in size:
    /// every one of them is exact in a Double, and larger sizes, strides or
    /// seeds are never meant.
    static let wholeNumberLimit = 1e15

    static func wholeNumber(_ value: Double) -> Int? {
        guard value.rounded() == value, abs(value) < wholeNumberLimit else { return nil }
        return Int(value)
    }

    /// The message for a whole number that is too large to be one of ours
    /// (`pad: 9223372036854775807`), naming it as written; nil for any other
    /// value, whose problem is that it is not a whole number.
    func wholeNumberProblem(_ value: Expression, _ what: String) -> String? {
        guard let number = value.literalNumber, number.rounded() == number, abs(number) >= Self.wholeNumberLimit else { return nil }
        return "\(what) is \(Self.written(value)), too large: whole numbers here are below 10^15"
    }

    /// A number literal as the program writes it (`-9223372036854775807`).
    static func written(_ value: Expression) -> String {
        switch value {
        case .number(_, let token): return token.text
        case .negate(let inner, _): return "-" + written(inner)
        default: return value.description
        }
    }
}
