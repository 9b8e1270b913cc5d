import ChainruleCore

extension ProgramCompiler {
    /// Compiles an `op` block into a `CustomOperation`. Each clause's
    /// problems are reported; an op with any is left out, and its uses are
    /// not reported again.
    func compileOperation(_ definition: OpDefinition) {
        let name = definition.name
        var problems: [CompileFailure] = []
        defer {
            problems.forEach(record)
            if !problems.isEmpty { failedOperations.insert(name) }
        }
        if Registry.spec(named: name) != nil {
            problems.append(failure("op \(name) is already in the registry; give your op another name, as my_\(name)", at: definition.nameToken))
            return
        }
        if Self.isBuiltInFunction(name) {
            problems.append(failure("\(name) is a built-in function; give your op another name", at: definition.nameToken))
            return
        }
        if let earlier = customDefinitions[name] {
            problems.append(failure("op \(name) is already defined on line \(earlier.line)", at: definition.nameToken))
            return
        }
        customDefinitions[name] = definition.nameToken
        if definition.hasBrokenClause {
            failedOperations.insert(name)
            return
        }
        let parameters = definition.parameters.map(\.name)
        for (index, parameter) in definition.parameters.enumerated() {
            if parameter.name == "grad" || parameter.name == "out" {
                problems.append(failure("'\(parameter.name)' names the \(parameter.name == "grad" ? "upstream gradient" : "op's output") inside an op; call the parameter something else", at: parameter.token))
            } else if parameters[..<index].contains(parameter.name) {
                problems.append(failure("op \(name) has two parameters named \(parameter.name)", at: parameter.token))
            }
        }
        if parameters.isEmpty {
            problems.append(failure("op \(name) needs at least one parameter", at: definition.nameToken))
        }
        guard problems.isEmpty else { return }

        var forward: BuiltExpression?
        if let expression = definition.forward {
            do throws(CompileFailure) {
                forward = try customExpression(expression, parameters: parameters, inBackward: false, op: name)
            } catch {
                problems.append(error)
            }
        } else {
            problems.append(failure("op \(name) has no forward clause; add a line 'forward: expression'", at: definition.nameToken))
        }

        var backward: [String: BuiltExpression] = [:]
        var backwardAt: [String: SourceLocation] = [:]
        for clause in definition.backward {
            guard parameters.contains(clause.parameter) else {
                problems.append(failure("op \(name) has no parameter \(clause.parameter) (its parameters are \(parameters.joined(separator: ", ")))",
                                        at: clause.token))
                continue
            }
            guard backward[clause.parameter] == nil else {
                problems.append(failure("op \(name) has two backward clauses for \(clause.parameter)", at: clause.token))
                continue
            }
            do throws(CompileFailure) {
                backward[clause.parameter] = try customExpression(clause.expression, parameters: parameters, inBackward: true, op: name)
                backwardAt[clause.parameter] = location(clause.token)
            } catch {
                problems.append(error)
            }
        }
        let written = Set(definition.backward.map(\.parameter))
        let missing = parameters.filter { !written.contains($0) }
        if !missing.isEmpty {
            let example = parameters.count == 1 ? "backward: expression" : "backward \(missing[0]): expression"
            problems.append(failure("op \(name) has no backward rule for \(missing.joined(separator: ", ")); add a line '\(example)'", at: definition.nameToken))
        }
        guard problems.isEmpty, let forward else { return }
        let rules = [forward] + parameters.map { backward[$0]! }
        // The shape rule walks every clause once, so the op costs their sum.
        let nodes = rules.reduce(0) { $0.addingReportingOverflow($1.nodes).partialValue }
        if nodes > options.maxOpNodes || nodes < 0 {
            problems.append(failure("op \(name) expands to more than \(options.maxOpNodes) op nodes, its forward and backward rules together (the op-node budget, --max-op-nodes): every use runs them all; an op that calls another twice doubles its size", at: definition.nameToken))
            return
        }
        customOperations[name] = CustomOperation(
            name: name, parameters: parameters, definition: location(definition.keyword),
            forward: forward.expression, backward: parameters.map { backward[$0]!.expression },
            backwardLocations: parameters.map { backwardAt[$0]! }, elementLimit: options.maxElements,
            nestingDepth: rules.map(\.depth).max()!, expandedNodes: nodes)
    }

    /// An expression inside an op block. It sees the op's parameters, and in
    /// backward clauses `grad` (the upstream gradient) and `out` (the output).
    ///
    /// Counts as it builds: how deep the tree nests (with the ops it calls)
    /// and how many op nodes it expands to, refusing the step that passes
    /// `CustomOperation.maximumDepth` or `options.maxOpNodes` before the tree
    /// grows past it.
    func customExpression(_ expression: Expression, parameters: [String], inBackward: Bool, op: String) throws(CompileFailure) -> BuiltExpression {
        func inner(_ e: Expression) throws(CompileFailure) -> BuiltExpression {
            try customExpression(e, parameters: parameters, inBackward: inBackward, op: op)
        }
        func leaf(_ e: CustomExpression) -> BuiltExpression { BuiltExpression(expression: e, depth: 1, nodes: 0) }
        /// `operation` applied to `arguments`, within the limits.
        func apply(_ operation: any Operation, _ arguments: [BuiltExpression], at token: Token) throws(CompileFailure) -> BuiltExpression {
            let callee = operation as? CustomOperation
            let depth = 1 + Swift.max(arguments.map(\.depth).max() ?? 0, callee?.nestingDepth ?? 0)
            if depth > CustomOperation.maximumDepth {
                throw failure("op \(op) nests more than \(CustomOperation.maximumDepth) levels deep here, counting the ops it calls and their rules: the limit is fixed (deeper rules would overflow the stack); split the rule into ops that call each other less deeply", at: token)
            }
            var nodes = callee?.expandedNodes ?? 1
            for argument in arguments { nodes = nodes.addingReportingOverflow(argument.nodes).partialValue }
            if nodes > options.maxOpNodes || nodes < 0 {
                throw failure("op \(op) expands to more than \(options.maxOpNodes) op nodes here (the op-node budget, --max-op-nodes): every use runs them all; an op that calls another twice doubles its size", at: token)
            }
            return BuiltExpression(expression: .apply(operation, arguments.map(\.expression)), depth: depth, nodes: nodes)
        }
        switch expression {
        case .number(let value, _):
            return leaf(.constant(Tensor(value)))
        case .list:
            return leaf(.constant(try literalTensor(expression)!))
        case .string(_, let token):
            throw failure("a string is only used as a file name, as in load(\"weights.npy\")", at: token)
        case .name(let name, let token):
            if let index = parameters.firstIndex(of: name) { return leaf(.parameter(index)) }
            if name == "grad" || name == "out" {
                guard inBackward else {
                    throw failure("'\(name)' is only known in backward clauses; forward computes out from the parameters", at: token)
                }
                return leaf(name == "grad" ? .gradient : .output)
            }
            let visible = parameters + (inBackward ? ["grad", "out"] : [])
            if definitions[name] != nil || bindings[name] != nil || options.at[name] != nil {
                throw failure("op \(op) sees only \(visible.joined(separator: ", ")); \(name) is a binding outside it: pass it in as a parameter", at: token)
            }
            let suggestion = Suggestions.closest(to: name, among: visible)
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? " (op \(op) sees \(visible.joined(separator: ", ")))"
            throw failure("unknown name '\(name)' in op \(op)\(hint)", at: token)
        case .negate(let operand, let token):
            if let value = expression.literalNumber { return leaf(.constant(Tensor(value))) }
            return try apply(try operatorOperation("neg", symbol: "-", inputs: 1, at: token), [try inner(operand)], at: token)
        case .power(let base, let exponent, let token):
            if let power = exponent.literalNumber {
                return try apply(try operatorOperation("pow_const", symbol: "^", inputs: 1, exponent: power, at: token), [try inner(base)], at: token)
            }
            return try apply(try operatorOperation("pow", symbol: "^", inputs: 2, at: token), [try inner(base), try inner(exponent)], at: token)
        case .chain(let first, let links):
            var built = try inner(first)
            for link in links {
                let operation = try operatorOperation(Self.operatorOps[link.symbol]!, symbol: link.symbol, inputs: 2, at: link.token)
                built = try apply(operation, [built, try inner(link.operand)], at: link.token)
            }
            return built
        case .call(let callee, let arguments, let token):
            if let operation = customOperations[callee] {
                var inputs: [BuiltExpression] = []
                for argument in try customCallArguments(operation, arguments, at: token) { inputs.append(try inner(argument)) }
                return try apply(operation, inputs, at: token)
            }
            if Self.isBuiltInFunction(callee) {
                throw failure("\(callee)(…) cannot be used inside an op: an op's rules are functions of its inputs only", at: token)
            }
            guard let spec = Registry.spec(named: callee) else {
                if failedOperations.contains(callee) { throw .poisoned }
                throw unknownFunction(callee, at: token)
            }
            let (operation, tensorArguments) = try registryCall(spec, arguments, at: token)
            var inputs: [BuiltExpression] = []
            for argument in tensorArguments { inputs.append(try inner(argument)) }
            return try apply(operation, inputs, at: token)
        }
    }
}

/// A compiled op-block expression with what its size costs: `depth`, how
/// deeply evaluating it recurses (through the ops it calls), and `nodes`, how
/// many registry ops evaluating it once applies.
struct BuiltExpression {
    var expression: CustomExpression
    var depth: Int
    var nodes: Int
}
