import ChainruleCore

/// Compiles `.grad` program text into a `Program`.
public enum Compiler {
    /// Lexes, parses and compiles `source`, then runs the forward pass.
    ///
    /// Every problem found is reported together, in the order of the text:
    /// the lexer and the parser recover at the next line, and a binding that
    /// failed is remembered so later lines that use it do not report it again.
    public static func compile(
        source: String, file: String?, options: CompileOptions = .init()
    ) throws(DiagnosticList) -> Program {
        try compile(source: source, file: file, options: options, frontEnds: .all)
    }

    /// Which front ends may take a program, fastest first: each gives up on
    /// what it does not read, and the general one reads everything.
    enum FrontEnds {
        /// The byte reader of plain scalar programs, the tape compiler of
        /// parsed scalar statements, the general compiler.
        case all
        /// The tape compiler of parsed statements, then the general compiler.
        case statements
        /// The general compiler alone.
        case general
    }

    static func compile(
        source: String, file: String?, options: CompileOptions, frontEnds: FrontEnds
    ) throws(DiagnosticList) -> Program {
        // A program of scalars compiles to a tape: straight from its bytes
        // if it is written plainly, else from its statements.
        if frontEnds == .all, let scalar = ScalarReader.read(source, file: file, options: options) {
            return Program(tape: scalar, source: source, file: file)
        }
        let (tokens, lexDiagnostics) = Lexer.tokenize(source, file: file)
        let parsed = Parser.parse(tokens, source: source, file: file)
        if frontEnds != .general, lexDiagnostics.isEmpty, parsed.diagnostics.isEmpty,
           let scalar = ScalarProgramCompiler.compile(parsed.statements, source: source, file: file, options: options) {
            return Program(tape: scalar, source: source, file: file)
        }
        let compiler = ProgramCompiler(file: file, options: options)
        // A stray character usually breaks the parse of its line too: report it alone.
        let linesWithLexErrors = Set(lexDiagnostics.map(\.location.line))
        compiler.diagnostics = lexDiagnostics + parsed.diagnostics.filter { !linesWithLexErrors.contains($0.location.line) }
        compiler.poisoned = parsed.failedBindings
        let result = compiler.compile(parsed.statements)
        let diagnostics = compiler.diagnostics.enumerated().sorted { a, b in
            let (la, lb) = (a.element.location, b.element.location)
            return (la.line, la.column, a.offset) < (lb.line, lb.column, b.offset)
        }.map(\.element)
        guard diagnostics.isEmpty, let (output, outputName) = result else {
            throw DiagnosticList(diagnostics)
        }
        return Program(
            nodes: ProgramNodes(compiler.graph), output: output, outputName: outputName, notes: compiler.notes,
            source: source, file: file, customOperations: compiler.customOperations, dataInputs: compiler.dataInputs)
    }
}

extension Program {
    /// A program of scalars on its tape, forward pass done.
    init(tape scalar: (tape: ScalarTape, output: Int32, name: String), source: String, file: String?) {
        self.init(nodes: ProgramNodes(scalar.tape), output: NodeID(Int(scalar.output)), outputName: scalar.name, notes: [], source: source, file: file)
    }
}

/// A leaf's value before it is made: its shape, and how to make it once the
/// whole program has passed the budgets.
struct PendingValue {
    var shape: [Int]
    var make: () throws(CompileFailure) -> Tensor

    /// A value already made (a literal).
    init(_ tensor: Tensor) {
        shape = tensor.shape
        make = { tensor }
    }

    init(shape: [Int], make: @escaping () throws(CompileFailure) -> Tensor) {
        self.shape = shape
        self.make = make
    }
}

/// Why compiling an expression stopped.
enum CompileFailure: Error {
    /// A problem was found and is described here.
    case reported(Diagnostic)
    /// The expression uses a binding that already failed: stay quiet.
    case poisoned
}

/// The state of one compilation: the graph being built and what each name means.
final class ProgramCompiler {
    let graph = Graph()
    let file: String?
    let options: CompileOptions
    var diagnostics: [Diagnostic] = []
    var notes: [String] = []

    /// Bound names (layer parameters `h.W` included) and their nodes.
    var bindings: [String: NodeID] = [:]
    /// The parameters each layer binds (`h` → `h.W`, `h.b`), for the error
    /// that names a parameter it does not have.
    var layerParameters: [String: [String]] = [:]
    /// Where each binding is first defined, from a pass over the whole
    /// program, to tell "used before its definition" from "unknown".
    var definitions: [String: Token] = [:]
    /// Bindings whose definition failed; their uses are not reported again.
    var poisoned: Set<String> = []
    var customOperations: [String: CustomOperation] = [:]
    /// The program's `data(…)` and `labels()` leaves.
    var dataInputs = DataInputs()
    var customDefinitions: [String: Token] = [:]
    var failedOperations: Set<String> = []
    var atUsed: Set<String> = []
    /// The ops behind `+ - * / @` and unary `-`, built once.
    var operatorCache: [String: any Operation] = [:]
    /// Registry ops called without attributes (`tanh(x)`), by name and given inputs, built once.
    var attributeFreeCache: [String: any Operation] = [:]
    /// The call signature of each registry op called, by op name, built once.
    var registrySignatures: [String: CallSignature] = [:]

    /// How many more unknown names get a "did you mean" (see `suggestion`):
    /// as many as the errors printed by default.
    var suggestionsLeft = DiagnosticList.defaultLimit
    /// Bytes the tensors of the nodes built so far will keep (a value and a
    /// gradient each), against `options.maxMemory`.
    var keptBytes = 0
    /// Registry ops the uses of op blocks so far expand to, against `options.maxOpNodes`.
    var opNodesUsed = 0
    /// Whether a budget was already reported: later lines are not refused again for it.
    var budgetReported = false
    /// Leaves created from their shape, with how to make each value: made
    /// only once the whole program has passed the budgets.
    var pendingValues: [(node: NodeID, value: PendingValue)] = []

    /// The binding being compiled: layers and default seeds are named after it.
    var currentBinding = ""
    var inlineInitialisers = 0
    var layersInBinding = 0

    init(file: String?, options: CompileOptions) {
        self.file = file
        self.options = options
    }

    func location(_ token: Token) -> SourceLocation { token.location(file) }

    func failure(_ message: String, at token: Token, notes: [String] = []) -> CompileFailure {
        .reported(Diagnostic(message, at: location(token), length: token.length, notes: notes))
    }

    func record(_ failure: CompileFailure) {
        if case .reported(let diagnostic) = failure { diagnostics.append(diagnostic) }
    }

    // MARK: Program

    /// Compiles the statements; returns the output node and its name, or nil
    /// if there is none (the diagnostics then say why).
    func compile(_ statements: [Statement]) -> (NodeID, String)? {
        definitions.reserveCapacity(statements.count)
        bindings.reserveCapacity(statements.count)
        for statement in statements {
            if case .binding(let name, let token, _) = statement, definitions[name] == nil {
                definitions[name] = token
            }
        }
        for statement in statements {
            if case .op(let definition) = statement { compileOperation(definition) }
        }
        var last: (node: NodeID?, name: String)?
        var requested: (name: String, token: Token)?
        for statement in statements {
            switch statement {
            case .binding(let name, let token, let value):
                last = (compileBinding(name, token, value), name)
            case .expression(let expression, let text, _):
                last = (compileBinding(text, expression.firstToken, expression, bare: true), text)
            case .output(let name, let token):
                if let earlier = requested {
                    // As a name is bound once, the output is named once: a
                    // second line would silently overrule the first.
                    record(failure("the output is already chosen on line \(earlier.token.line), column \(earlier.token.column) (output \(earlier.name)); a program has one output line: keep one of the two", at: token))
                } else {
                    requested = (name, token)
                }
            case .op:
                break
            }
        }
        let unusedAt = options.at.keys.filter { !atUsed.contains($0) }.sorted()
        if !unusedAt.isEmpty { reportUnused(at: unusedAt) }

        let output: (NodeID, String)
        if let requested {
            guard let node = bindings[requested.name] else {
                if !poisoned.contains(requested.name) {
                    record(unknownName(requested.name, at: requested.token))
                }
                return nil
            }
            output = (node, requested.name)
        } else if let last {
            guard let node = last.node else { return nil }
            output = (node, last.name)
        } else {
            if diagnostics.isEmpty {
                diagnostics.append(Diagnostic(
                    "the program has no bindings: write one per line, as f = (x + y) * z",
                    at: SourceLocation(file: file, line: 1, column: 1)))
            }
            return nil
        }
        guard diagnostics.isEmpty else { return nil }
        for pending in pendingValues {
            do throws(CompileFailure) {
                graph.setValue(try pending.value.make(), of: pending.node)
            } catch {
                record(error)
            }
        }
        pendingValues = []
        guard diagnostics.isEmpty else { return nil }
        bindRandomLabelsAndNote()
        finish(output: output.0, name: output.1)
        return diagnostics.isEmpty ? output : nil
    }

    /// Reports `--at` names the program never used, listing the leaves it could set.
    private func reportUnused(at names: [String]) {
        let scalarLeaves = graph.nodes.filter { $0.op == nil && $0.role != .constant && $0.shape.isEmpty }.compactMap(\.name)
        let leavesHint = scalarLeaves.isEmpty
            ? "it has no scalar leaves to set"
            : "its scalar leaves are " + scalarLeaves.joined(separator: ", ")
        for name in names {
            diagnostics.append(Diagnostic(
                "--at \(name)=…: the program has no leaf named \(name); \(leavesHint)",
                at: SourceLocation(file: file, line: 0, column: 0)))
        }
    }

    /// Marks the output, runs the forward pass and writes the notes.
    private func finish(output: NodeID, name: String) {
        if !graph[output].role.isLeaf { graph.setRole(.output, of: output) }
        do {
            try graph.forward()
        } catch {
            diagnostics.append(Diagnostic(error.message, at: error.location ?? SourceLocation(file: file, line: 0, column: 0)))
            return
        }
        let shape = graph.shape(of: output)
        if !shape.isEmpty {
            notes.append("the output \(name) has shape \(describeShape(shape)); gradients are those of sum(\(name))")
        }
        if let bad = graph.firstNonFiniteValue.map({ graph[$0] }) {
            let place = bad.location.map { " (line \($0.line), column \($0.column))" } ?? ""
            notes.append("a NaN or infinity first appears at \(bad.displayName)\(place)")
        }
    }

    // MARK: Bindings

    /// Compiles `name = value`. Returns nil when it failed (and was reported).
    private func compileBinding(_ name: String, _ token: Token, _ value: Expression, bare: Bool = false) -> NodeID? {
        currentBinding = name
        inlineInitialisers = 0
        layersInBinding = 0
        if !bare, bindings[name] != nil || poisoned.contains(name), let first = definitions[name], first.start != token.start {
            record(failure("\(name) is already defined on line \(first.line); bindings cannot change, choose another name", at: token))
            return nil
        }
        do throws(CompileFailure) {
            let node = try bindingValue(name, token, value, bare: bare)
            if !bare { bindings[name] = node }
            return node
        } catch {
            record(error)
            if !bare { poisoned.insert(name) }
            return nil
        }
    }

    private func bindingValue(_ name: String, _ token: Token, _ value: Expression, bare: Bool) throws(CompileFailure) -> NodeID {
        if !bare, var tensor = try literalTensor(value) {
            if let override = options.at[name] {
                atUsed.insert(name)
                guard tensor.isScalar else {
                    throw failure("--at \(name)=…: \(name) is a tensor of shape \(describeShape(tensor.shape)); --at sets scalar leaves", at: token)
                }
                tensor = Tensor(override)
            }
            return try leaf(name, tensor, role: .input, at: token)
        }
        if !bare, options.at[name] != nil {
            atUsed.insert(name)
            throw failure("--at \(name)=…: \(name) is not bound to a number here, so --at cannot set it", at: token)
        }
        if !bare, case .call(let callee, let arguments, let callToken) = value, let kind = DataInputKind(rawValue: callee) {
            return try compileDataInput(kind, arguments, name: name, at: callToken)
        }
        if !bare, case .call(let callee, let arguments, let callToken) = value, let initialiser = Initialiser(rawValue: callee) {
            let (value, role) = try makeInitialiser(initialiser, arguments, callToken, seedKey: name)
            return try leaf(name, value, role: role, at: token)
        }
        if !bare, case .name(let other, let otherToken) = value {
            return try resolve(other, at: otherToken)
        }
        let firstNew = graph.count
        let node = try compileExpression(value)
        // A node this binding made takes its name (over a layer's provisional
        // `h.conv2d`); an existing node reached by `b = (a)` keeps its own.
        if graph.name(of: node) == nil || node.index >= firstNew { graph.setName(name, of: node) }
        return node
    }

    // MARK: Names

    func resolve(_ name: String, at token: Token) throws(CompileFailure) -> NodeID {
        if let node = bindings[name] { return node }
        if poisoned.contains(name) { throw .poisoned }
        // `h1.W` after a failed `h1 = …`: that binding's error is the one to read.
        if let dot = name.firstIndex(of: "."), poisoned.contains(String(name[..<dot])) { throw .poisoned }
        if let definition = definitions[name] {
            if definition.line == token.line && currentBinding == name {
                throw failure("\(name) is used in its own definition; bind it to a value first", at: token)
            }
            throw failure("\(name) is used before its definition on line \(definition.line); move this line below it", at: token)
        }
        if let value = options.at[name] {
            atUsed.insert(name)
            let node = try leaf(name, Tensor(value), role: .input, at: token)
            bindings[name] = node
            return node
        }
        throw unknownName(name, at: token)
    }

    func unknownName(_ name: String, at token: Token) -> CompileFailure {
        if isCallable(name) {
            return failure("\(name) is a function; call it with arguments, as \(name)(x)", at: token)
        }
        if let dot = name.firstIndex(of: "."), bindings[String(name[..<dot])] != nil {
            let owner = String(name[..<dot])
            let parameters = layerParameters[owner] ?? []
            let known = parameters.isEmpty ? "\(owner) is not a layer, so it has no parameters" : "the parameters of \(owner) are \(parameters.joined(separator: ", "))"
            return failure("unknown name '\(name)': \(known)", at: token)
        }
        if let suggestion = suggestion(for: name, among: { Array(bindings.keys) + Array(definitions.keys) + Array(options.at.keys) }) {
            return failure("unknown name '\(name)'; did you mean '\(suggestion)'?", at: token)
        }
        if let dot = name.firstIndex(of: ".") {
            let owner = String(name[..<dot])
            return failure("unknown name '\(name)': a name with a dot is a layer's parameter, and no layer \(owner) is bound (as in \(owner) = Linear(x, 10))", at: token)
        }
        return failure("unknown name '\(name)': bind it first (\(name) = 1.5), or give it with --at \(name)=1.5", at: token)
    }

    /// "Did you mean" for an unknown name, while `suggestionsLeft` lasts:
    /// each compares the name with every binding, so a generated file of
    /// thousands of unknown names must not cost thousands times thousands.
    /// Only the first errors are printed anyway (`DiagnosticList.defaultLimit`).
    func suggestion(for name: String, among candidates: () -> [String]) -> String? {
        guard suggestionsLeft > 0 else { return nil }
        suggestionsLeft -= 1
        return Suggestions.closest(to: name, among: candidates())
    }

    // MARK: Expressions

    func compileExpression(_ expression: Expression) throws(CompileFailure) -> NodeID {
        switch expression {
        case .number(let value, let token):
            return try constant(Tensor(value), at: token)
        case .string(_, let token):
            throw failure("a string is only used as a file name, as in load(\"weights.npy\")", at: token)
        case .name(let name, let token):
            return try resolve(name, at: token)
        case .list(_, let token):
            return try constant(try literalTensor(expression)!, at: token)
        case .negate(let inner, let token):
            if let value = expression.literalNumber { return try constant(Tensor(value), at: token) }
            let operand = try compileExpression(inner)
            return try applyOperator("neg", symbol: "-", [operand], at: token)
        case .power(let base, let exponent, let token):
            if let power = exponent.literalNumber {
                return try applyOperator("pow_const", symbol: "^", [try compileExpression(base)], exponent: power, at: token)
            }
            let operands = [try compileExpression(base), try compileExpression(exponent)]
            return try applyOperator("pow", symbol: "^", operands, at: token)
        case .chain(let first, let links):
            var node = try compileExpression(first)
            for link in links {
                let right = try compileExpression(link.operand)
                node = try applyOperator(Self.operatorOps[link.symbol]!, symbol: link.symbol, [node, right], at: link.token)
            }
            return node
        case .call(let callee, let arguments, let token):
            return try compileCall(callee, arguments, token)
        }
    }

    /// The registry op each infix operator stands for.
    static let operatorOps: [Character: String] = [
        "+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul", "^": "pow",
    ]

    func constant(_ value: Tensor, at token: Token) throws(CompileFailure) -> NodeID {
        try leaf(nil, value, role: .constant, at: token)
    }

    // MARK: Budgets

    /// A leaf holding `value`, counted against the memory budget.
    func leaf(_ name: String?, _ value: Tensor, role: NodeRole, at token: Token) throws(CompileFailure) -> NodeID {
        try reserveMemory(value.shape, at: token)
        return graph.leaf(name, value, role: role, location: location(token))
    }

    /// A leaf of `value.shape`, counted against the memory budget; its
    /// tensor is made after the whole program has passed the budgets.
    func leaf(_ name: String?, _ value: PendingValue, role: NodeRole, at token: Token) throws(CompileFailure) -> NodeID {
        try reserveMemory(value.shape, at: token)
        let node = graph.leaf(name, shape: value.shape, role: role, location: location(token))
        pendingValues.append((node, value))
        return node
    }

    /// Counts a node of `shape` (its value and its gradient) against the
    /// memory budget, refusing the one that passes it: from shapes, before
    /// any tensor of the program is allocated.
    func reserveMemory(_ shape: [Int], at token: Token) throws(CompileFailure) {
        if let bytes = CompileOptions.keptBytes(shape) {
            let (total, overflow) = keptBytes.addingReportingOverflow(bytes)
            if !overflow && total <= options.maxMemory {
                keptBytes = total
                return
            }
        }
        if budgetReported { throw .poisoned }
        budgetReported = true
        let needed = CompileOptions.keptBytes(shape).map(ByteCount.describe) ?? "more bytes than can be counted"
        let isDefault = options.maxMemory == CompileOptions.defaultMaxMemory
        let budget = "the memory budget of \(ByteCount.describe(options.maxMemory)) (--max-memory\(isDefault ? "; by default a quarter of this machine's \(ByteCount.describe(ByteCount.availableMemory))" : ""))"
        let tensor = "a \(describeShape(shape)) tensor needs \(needed) with its gradient"
        guard keptBytes > 0, let bytes = CompileOptions.keptBytes(shape), case (let total, false) = keptBytes.addingReportingOverflow(bytes) else {
            throw failure("\(tensor), over \(budget)", at: token)
        }
        throw failure("\(tensor): with the program's other tensors that is \(ByteCount.describe(total)), over \(budget)", at: token)
    }

    /// Counts a use of an op block (every registry op it expands to)
    /// against the op-node budget, before its shape rule runs.
    func reserveOpNodes(_ operation: CustomOperation, at token: Token) throws(CompileFailure) {
        let (total, overflow) = opNodesUsed.addingReportingOverflow(operation.expandedNodes)
        if !overflow && total <= options.maxOpNodes {
            opNodesUsed = total
            return
        }
        if budgetReported { throw .poisoned }
        budgetReported = true
        throw failure("this use of op \(operation.name) (\(operation.expandedNodes) op nodes) brings the program's op blocks past the op-node budget of \(options.maxOpNodes) (--max-op-nodes)", at: token)
    }

    /// Builds the registry op behind an operator (`@` is `matmul`, `x^2` is
    /// `pow_const(x, p: 2)`) for `count` tensor inputs.
    func operatorOperation(_ opName: String, symbol: Character, inputs count: Int, exponent: Double? = nil, at token: Token) throws(CompileFailure) -> any Operation {
        // Ops without attributes are values that never change: build each once.
        if exponent == nil, let built = operatorCache[opName] { return built }
        let built = try buildOperatorOperation(opName, symbol: symbol, inputs: count, exponent: exponent, at: token)
        if exponent == nil { operatorCache[opName] = built }
        return built
    }

    private func buildOperatorOperation(_ opName: String, symbol: Character, inputs count: Int, exponent: Double?, at token: Token) throws(CompileFailure) -> any Operation {
        guard let spec = Registry.spec(named: opName) else {
            preconditionFailure("the '\(symbol)' operator needs the op \(opName), which is not in the registry")
        }
        var attributes: [String: AttributeValue] = [:]
        if let exponent, let parameter = spec.parameters.first(where: { !$0.isTensorInput }) {
            attributes[parameter.name] = .double(exponent)
        }
        let tensors = spec.parameters.filter(\.isTensorInput).prefix(count).map(\.name)
        return try buildOperation(spec, attributes, tensorInputs: Array(tensors), at: token)
    }

    private func applyOperator(_ opName: String, symbol: Character, _ inputs: [NodeID], exponent: Double? = nil, at token: Token) throws(CompileFailure) -> NodeID {
        let op = try operatorOperation(opName, symbol: symbol, inputs: inputs.count, exponent: exponent, at: token)
        return try apply(op, inputs, at: token)
    }

    /// Adds `op` to the graph at `token`, mapping a broken shape rule to the
    /// call's place and refusing an output over the element limit.
    func apply(_ op: any Operation, _ inputs: [NodeID], at token: Token) throws(CompileFailure) -> NodeID {
        if let custom = op as? CustomOperation { try reserveOpNodes(custom, at: token) }
        let node: NodeID
        do {
            node = try graph.apply(op, inputs, location: location(token))
        } catch {
            throw failure(error.message, at: token)
        }
        let shape = graph.shape(of: node)
        try checkSize(shape, what: "the result of \(op.name)", at: token)
        try reserveMemory(shape, at: token)
        return node
    }

    /// Refuses a shape holding more than `maxElements` elements (counted
    /// without overflow), before anything of that size is allocated. `what`
    /// is worded only for the error: this runs for every node.
    func checkSize(_ shape: [Int], what: @autoclosure () -> String, at token: Token) throws(CompileFailure) {
        guard shape.count <= Tensor.maximumRank else {
            throw failure("\(what()) would have \(shape.count) axes, more than the \(Tensor.maximumRank) a tensor may have", at: token)
        }
        let count = Tensor.checkedElementCount(shape)
        if (count ?? .max) > options.maxElements {
            let countText = count.map(String.init) ?? "more than \(Int.max)"
            throw failure("\(what()) would have shape \(describeShape(shape)), \(countText) elements: over the limit of \(options.maxElements) (--max-elements)", at: token)
        }
    }

    // MARK: Literals

    /// The tensor a literal writes (`2`, `-0.5`, `[[1, 2], [3, 4]]`), or nil
    /// if the expression is not a literal.
    func literalTensor(_ expression: Expression) throws(CompileFailure) -> Tensor? {
        if let value = expression.literalNumber { return Tensor(value) }
        guard case .list = expression else { return nil }
        var shape: [Int] = []
        var data: [Double] = []
        try flatten(expression, depth: 0, shape: &shape, data: &data)
        try checkSize(shape, what: "this tensor literal", at: expression.token)
        return Tensor(shape: shape, data: data)
    }

    private func flatten(_ expression: Expression, depth: Int, shape: inout [Int], data: inout [Double]) throws(CompileFailure) {
        if let value = expression.literalNumber {
            guard depth == shape.count else {
                throw failure("this tensor literal mixes numbers and lists at the same depth", at: expression.token)
            }
            data.append(value)
            return
        }
        guard case .list(let elements, let token) = expression else {
            throw failure("a tensor literal holds numbers only; compute tensors from others with ops", at: expression.token)
        }
        guard !elements.isEmpty else { throw failure("an empty tensor literal: a tensor needs at least one element", at: token) }
        if depth == shape.count {
            guard data.isEmpty || depth == 0 else {
                throw failure("this tensor literal mixes numbers and lists at the same depth", at: token)
            }
            shape.append(elements.count)
        } else if depth > shape.count {
            throw failure("this tensor literal mixes numbers and lists at the same depth", at: token)
        } else if shape[depth] != elements.count {
            throw failure("rows of a tensor literal must have equal lengths: this one has \(elements.count) elements, the first has \(shape[depth])", at: token)
        }
        for element in elements {
            try flatten(element, depth: depth + 1, shape: &shape, data: &data)
        }
    }
}
