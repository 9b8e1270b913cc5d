import ChainruleCore

/// What both readers of scalar programs build with: the tape's nodes, and
/// the ops of operators and calls, built by `ProgramCompiler`'s own
/// functions (one source of truth for which op `+` or `relu(x)` means),
/// each admitted to the tape once it is known to have scalar rules.
struct ScalarTapeBuilder: ~Copyable {
    /// Why the tape cannot hold this program: the general compiler takes it.
    struct NotScalar: Error {}

    private let builder: ProgramCompiler
    private let options: CompileOptions
    private let source: String
    private let file: String?
    private var operations = ScalarOperations()
    /// The tape's nodes, written where the tape keeps them.
    var nodes: ScalarNodes
    /// The tape's index of the op behind each operator by its ASCII byte
    /// (`~` for unary `-`), once it is used; -1 before.
    private var operatorIndex = [Int32](repeating: -1, count: 128)
    /// The tape's index of each registry op called with tensor inputs only,
    /// by position, by name: the op and how many inputs it was called with.
    private var callIndex: [String: (inputs: Int, op: Int32)] = [:]

    /// A builder with room for `capacity` nodes (it grows past them).
    init(source: String, file: String?, options: CompileOptions, capacity: Int) throws(NotScalar) {
        guard options.at.isEmpty, options.maxElements >= 1, source.utf8.count < Int(Int32.max),
              let nodes = ScalarNodes(capacity: capacity) else { throw NotScalar() }
        builder = ProgramCompiler(file: file, options: options)
        self.options = options
        (self.source, self.file) = (source, file)
        self.nodes = nodes
    }

    /// The tape's index of the op behind an operator (`neg` for unary `-`),
    /// built once: after that a load, inlined where the readers use it.
    @inline(__always)
    mutating func operatorOp(_ symbol: UInt8, unary: Bool = false, at place: ScalarTape.Place) throws(NotScalar) -> Int32 {
        let key = Int(unary ? UInt8(ascii: "~") : symbol & 0x7F)
        let known = operatorIndex.withUnsafeBufferPointer { $0[key] }
        return known >= 0 ? known : try buildOperatorOp(symbol, unary: unary, key: key, at: place)
    }

    @inline(never)
    private mutating func buildOperatorOp(_ symbol: UInt8, unary: Bool, key: Int, at place: ScalarTape.Place) throws(NotScalar) -> Int32 {
        let symbol = Character(Unicode.Scalar(symbol))
        guard let opName = unary ? "neg" : ProgramCompiler.operatorOps[symbol] else { throw NotScalar() }
        let inputs = unary ? 1 : 2
        let op = try admitted(try built { () throws(CompileFailure) in
            try builder.operatorOperation(opName, symbol: symbol, inputs: inputs, at: place.token)
        }, inputs: inputs)
        operatorIndex[key] = op
        return op
    }

    /// `x ^ p` for a literal `p`: a `pow_const` op of its own.
    mutating func powerOp(_ exponent: Double, at place: ScalarTape.Place) throws(NotScalar) -> Int32 {
        try admitted(try built { () throws(CompileFailure) in
            try builder.operatorOperation("pow_const", symbol: "^", inputs: 1, exponent: exponent, at: place.token)
        }, inputs: 1)
    }

    /// The op of a call of `callee` that gives `count` tensors by position
    /// and nothing else, built once.
    mutating func positionalCallOp(_ callee: String, inputs count: Int, at place: ScalarTape.Place) throws(NotScalar) -> Int32 {
        if let known = callIndex[callee], known.inputs == count { return known.op }
        guard !ProgramCompiler.isBuiltInFunction(callee), let spec = Registry.spec(named: callee) else { throw NotScalar() }
        guard let operation = try built({ () throws(CompileFailure) in
            try builder.positionalTensorCall(spec, inputs: count, at: place.token)
        }) else { throw NotScalar() }
        let op = try admitted(operation, inputs: count)
        callIndex[callee] = (count, op)
        return op
    }

    /// The op of any other call of a registry op, with its tensor arguments in order.
    mutating func callOp(_ callee: String, _ arguments: [Argument], at token: Token) throws(NotScalar) -> (Int32, [Expression]) {
        guard !ProgramCompiler.isBuiltInFunction(callee), let spec = Registry.spec(named: callee) else { throw NotScalar() }
        let (operation, tensorArguments) = try built { () throws(CompileFailure) in
            try builder.registryCall(spec, arguments, at: token)
        }
        return (try admitted(operation, inputs: tensorArguments.count), tensorArguments)
    }

    private func built<T>(_ make: () throws(CompileFailure) -> T) throws(NotScalar) -> T {
        do { return try make() } catch { throw NotScalar() }
    }

    /// Registers `op` on the tape if it has scalar rules and its shape rule
    /// takes `inputs` scalars to a scalar.
    private mutating func admitted(_ op: any Operation, inputs: Int) throws(NotScalar) -> Int32 {
        guard inputs == 1 || inputs == 2, op.scalarForward(0.5, 0.5) != nil,
              (try? op.outputShape(Array(repeating: [], count: inputs)))?.isEmpty == true
        else { throw NotScalar() }
        return operations.register(op)
    }

    /// The tape, its output marked and its forward pass run, as
    /// `ProgramCompiler` ends. Programs over the memory budget or with a
    /// NaN or an infinity go to the general compiler, for its error or its note.
    consuming func finish(output: Int32) throws(NotScalar) -> ScalarTape {
        // Each node keeps a value and a gradient, against the memory budget.
        guard let bytes = CompileOptions.keptBytes([]),
              case (let total, false) = bytes.multipliedReportingOverflow(by: nodes.count), total <= options.maxMemory
        else { throw NotScalar() }
        if nodes.role(of: output) == .intermediate { nodes.setRole(.output, of: output) }
        let tape = ScalarTape(operations: operations, nodes: nodes, source: source, file: file)
        guard tape.forward(), tape.valuesAreFinite else { throw NotScalar() }
        return tape
    }
}

extension ScalarTape.Place {
    /// A token at this place, for the op builders' error messages (which
    /// the tape never shows: a refused op sends the program to the general compiler).
    var token: Token {
        Token(kind: .end, text: "", line: Int(line), column: Int(column), length: 1, start: 0, end: 0)
    }
}

/// Compiles parsed statements whose every value is a scalar to a
/// `ScalarTape`, the nodes in the order `ProgramCompiler` would add them to
/// a graph, with the same names, roles and places.
///
/// It takes the programs it can say nothing about but their numbers:
/// bindings of numbers, names and expressions of `+ - * / ^`, unary `-` and
/// calls of registry ops that have scalar rules, with no `op` blocks,
/// initialisers, layers, data inputs or `--at`. Anything else — and every
/// mistake, which it does not try to describe — makes it give up (`nil`),
/// and `ProgramCompiler` compiles the program as it always does: so the
/// diagnostics are that compiler's.
struct ScalarProgramCompiler: ~Copyable {
    typealias NotScalar = ScalarTapeBuilder.NotScalar

    private var builder: ScalarTapeBuilder
    private var bindings: [String: Int32] = [:]

    /// The tape of `statements` with its forward pass done, its output
    /// node and the output's name; nil when the program is not one the tape
    /// holds or not one that compiles.
    static func compile(_ statements: [Statement], source: String, file: String?, options: CompileOptions) -> (tape: ScalarTape, output: Int32, name: String)? {
        do {
            var compiler = ScalarProgramCompiler(builder: try ScalarTapeBuilder(source: source, file: file, options: options, capacity: statements.count * 2))
            let (output, name) = try compiler.compile(statements)
            return (try compiler.builder.finish(output: output), output, name)
        } catch {
            return nil
        }
    }

    private mutating func compile(_ statements: [Statement]) throws(NotScalar) -> (Int32, String) {
        var last: (node: Int32, name: String)?
        var requested: String?
        for statement in statements {
            switch statement {
            case .binding(let name, let token, let value):
                guard bindings[name] == nil else { throw NotScalar() }
                let node = try bindingValue(token.start..<token.end, token, value)
                bindings[name] = node
                last = (node, name)
            case .expression(let expression, let text, let textRange):
                last = (try named(textRange, expression), text)
            case .output(let name, _):
                guard requested == nil else { throw NotScalar() }
                requested = name
            case .op:
                throw NotScalar()
            }
        }
        let output: (node: Int32, name: String)
        if let requested {
            output = (try resolve(requested), requested)
        } else if let last {
            output = last
        } else {
            throw NotScalar()
        }
        return output
    }

    /// `name = value`, as `ProgramCompiler.bindingValue` compiles it.
    private mutating func bindingValue(_ name: Range<Int>, _ token: Token, _ value: Expression) throws(NotScalar) -> Int32 {
        if let number = value.literalNumber { return try builder.nodes.leaf(number, named: .init(name), role: .input, at: .init(token)) }
        if case .name(let other, _) = value { return try resolve(other) }
        return try named(name, value)
    }

    /// The node of `value`, named by the source's bytes `name` if this
    /// binding made it (an existing node reached by `b = (a)` keeps its own name).
    private mutating func named(_ name: Range<Int>, _ value: Expression) throws(NotScalar) -> Int32 {
        let firstNew = builder.nodes.count
        let node = try expression(value)
        if !builder.nodes.isNamed(node) || Int(node) >= firstNew { builder.nodes.setName(name, of: node) }
        return node
    }

    private func ascii(_ symbol: Character) throws(NotScalar) -> UInt8 {
        guard let byte = symbol.asciiValue else { throw NotScalar() }
        return byte
    }

    private func resolve(_ name: String) throws(NotScalar) -> Int32 {
        guard let node = bindings[name] else { throw NotScalar() }
        return node
    }

    /// An expression, as `ProgramCompiler.compileExpression` compiles it.
    private mutating func expression(_ expression: Expression) throws(NotScalar) -> Int32 {
        switch expression {
        case .number(let value, let token):
            return try builder.nodes.leaf(value, named: .none, role: .constant, at: .init(token))
        case .name(let name, _):
            return try resolve(name)
        case .negate(let inner, let token):
            if let value = expression.literalNumber { return try builder.nodes.leaf(value, named: .none, role: .constant, at: .init(token)) }
            let operand = try self.expression(inner)
            return try builder.nodes.apply(try builder.operatorOp(UInt8(ascii: "-"), unary: true, at: .init(token)), operand, -1, at: .init(token))
        case .power(let base, let exponent, let token):
            if let power = exponent.literalNumber {
                let operand = try self.expression(base)
                return try builder.nodes.apply(try builder.powerOp(power, at: .init(token)), operand, -1, at: .init(token))
            }
            let a = try self.expression(base), b = try self.expression(exponent)
            return try builder.nodes.apply(try builder.operatorOp(UInt8(ascii: "^"), at: .init(token)), a, b, at: .init(token))
        case .chain(let first, let links):
            var node = try self.expression(first)
            for link in links {
                let right = try self.expression(link.operand)
                node = try builder.nodes.apply(try builder.operatorOp(try ascii(link.symbol), at: .init(link.token)), node, right, at: .init(link.token))
            }
            return node
        case .call(let callee, let arguments, let token):
            let (op, inputs) = try builder.callOp(callee, arguments, at: token)
            switch inputs.count {
            case 1:
                let a = try self.expression(inputs[0])
                return try builder.nodes.apply(op, a, -1, at: .init(token))
            case 2:
                let a = try self.expression(inputs[0]), b = try self.expression(inputs[1])
                return try builder.nodes.apply(op, a, b, at: .init(token))
            default:
                throw NotScalar()
            }
        case .string, .list:
            throw NotScalar()
        }
    }
}
