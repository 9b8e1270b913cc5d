import ChainruleCore

/// Reads tokens into statements by recursive descent. A statement with a
/// syntax error is reported and skipped to the end of its line, so every
/// independent error in a file is reported in one run.
///
/// Precedence, loosest first: `+ -`, then `* / @`, then unary `-`, then `^`
/// (right-associative, and its exponent may carry a sign: `x^-2`). So `-x^2`
/// is `-(x^2)` and `2^3^2` is `2^(3^2)`.
struct Parser {
    private let tokens: [Token]
    private let file: String?
    private let source: [UInt8]
    private var position = 0
    /// Open parentheses and brackets: inside them line ends are spaces.
    private var openers: [Token] = []
    private var nesting: Int { openers.count }
    /// How deeply parentheses, brackets, calls and signs nest right now.
    private var depth = 0
    /// Deeper nesting is refused: it is never written by hand, and the
    /// recursive descent would otherwise run out of stack on generated input.
    static let maximumDepth = 200
    /// Where to go on after an error that ran into the next statement.
    private var resumeAt: Int?
    private(set) var diagnostics: [Diagnostic] = []
    /// Names of bindings whose line had a syntax error: the compiler stays
    /// quiet about their later uses instead of calling them unknown.
    private(set) var failedBindings: Set<String> = []

    /// Thrown after a diagnostic was recorded, to unwind to the statement.
    private struct Abandon: Error {}

    static func parse(_ tokens: [Token], source: String, file: String?) -> (statements: [Statement], diagnostics: [Diagnostic], failedBindings: Set<String>) {
        var parser = Parser(tokens: tokens, file: file, source: Array(source.utf8))
        let statements = parser.parseProgram()
        return (statements, parser.diagnostics, parser.failedBindings)
    }

    private init(tokens: [Token], file: String?, source: [UInt8]) {
        self.tokens = tokens
        self.file = file
        self.source = source
    }

    // MARK: Tokens

    private mutating func peek() -> Token {
        while nesting > 0, case .newline = tokens[position].kind { position += 1 }
        return tokens[position]
    }

    private func peek(ahead n: Int) -> Token {
        var i = position, seen = 0
        while true {
            if case .end = tokens[i].kind { return tokens[i] }
            if nesting > 0, case .newline = tokens[i].kind { i += 1; continue }
            if seen == n { return tokens[i] }
            seen += 1
            i += 1
        }
    }

    @discardableResult
    private mutating func next() -> Token {
        let token = peek()
        if case .end = token.kind { return token }
        position += 1
        return token
    }

    private mutating func atSymbol(_ c: Character) -> Bool { peek().isSymbol(c) }

    private mutating func atLineEnd() -> Bool {
        switch peek().kind {
        case .newline, .end: return true
        default: return false
        }
    }

    private mutating func fail(_ message: String, at token: Token) -> Abandon {
        if let opener = openers.last, token.line > opener.line, startsNextStatement(token) {
            // The real mistake is the bracket that never closes, not the
            // end of the file or the next binding it ran into, which is
            // parsed as usual.
            resumeAt = index(of: token)
            diagnostics.append(Diagnostic(
                "'\(opener.text)' is never closed: add its '\(opener.isSymbol("(") ? ")" : "]")'",
                at: opener.location(file)))
            return Abandon()
        }
        diagnostics.append(Diagnostic(message, at: token.location(file), length: token.length))
        return Abandon()
    }

    /// The position of `token` in `tokens`, found by its byte offset (tokens
    /// are in text order): a binary search, as a file may hold a million.
    private func index(of token: Token) -> Int? {
        var (low, high) = (0, tokens.count)
        while low < high {
            let middle = (low + high) / 2
            if tokens[middle].start < token.start { low = middle + 1 } else { high = middle }
        }
        return low < tokens.count && tokens[low].start == token.start ? low : nil
    }

    /// The end of input, or `name =` at the start of a line.
    private func startsNextStatement(_ token: Token) -> Bool {
        if case .end = token.kind { return true }
        guard case .identifier = token.kind, let index = index(of: token) else { return false }
        return tokens[index + 1].isSymbol("=") && index > 0 && tokens[index - 1].kind == .newline
    }

    private mutating func expect(_ c: Character, _ context: String) throws(Abandon) -> Token {
        let token = peek()
        guard token.isSymbol(c) else { throw fail("expected '\(c)' \(context), found \(token.described)", at: token) }
        return next()
    }

    private mutating func expectIdentifier(_ context: String) throws(Abandon) -> Token {
        let token = peek()
        guard case .identifier = token.kind else {
            throw fail("expected a name \(context), found \(token.described)", at: token)
        }
        return next()
    }

    /// Skips the rest of a broken statement: up to and past its line end.
    private mutating func recover() {
        openers = []
        depth = 0
        if let resumeAt {
            position = resumeAt
            self.resumeAt = nil
            return
        }
        while true {
            switch tokens[position].kind {
            case .end: return
            case .newline: position += 1; return
            default: position += 1
            }
        }
    }

    private mutating func skipLineEnds() {
        while case .newline = peek().kind { position += 1 }
    }

    // MARK: Statements

    private mutating func parseProgram() -> [Statement] {
        var statements: [Statement] = []
        while true {
            skipLineEnds()
            if case .end = peek().kind { break }
            let start = position
            do {
                statements.append(try parseStatement())
            } catch {
                if case .identifier = tokens[start].kind, tokens[start + 1].isSymbol("=") {
                    failedBindings.insert(tokens[start].text)
                }
                recover()
            }
        }
        return statements
    }

    private mutating func parseStatement() throws(Abandon) -> Statement {
        let first = peek()
        let second = peek(ahead: 1)
        if case .identifier = first.kind {
            if second.isSymbol("=") {
                next(); next()
                if first.text.utf8.contains(UInt8(ascii: ".")) {
                    throw fail("'\(first.text)' cannot be bound: names with a dot are a layer's parameters; use a name like \(first.text.replacingOccurrences(of: ".", with: "_"))", at: first)
                }
                let value = try parseExpression()
                try expectStatementEnd(after: "the binding of \(first.text)")
                return .binding(name: first.text, nameToken: first, value: value)
            }
            if first.text == "output", case .identifier = second.kind {
                next()
                let name = next()
                try expectStatementEnd(after: "output \(name.text)")
                return .output(name: name.text, token: name)
            }
            if first.text == "op", case .identifier = second.kind {
                return .op(try parseOpDefinition())
            }
        }
        let expression = try parseExpression()
        let last = tokens[position - 1]
        let text = String(decoding: source[first.start..<last.end], as: UTF8.self)
        try expectStatementEnd(after: "the expression")
        return .expression(expression, text: text, textRange: first.start..<last.end)
    }

    private mutating func expectStatementEnd(after context: String) throws(Abandon) {
        let token = peek()
        if atLineEnd() { next(); return }
        var message = "expected end of line after \(context), found \(token.described)"
        if token.isSymbol("=") { message += "; a binding is name = expression, one per line" }
        if case .identifier = token.kind { message += "; put each binding on its own line, or use an operator between values" }
        if case .number = token.kind { message += "; an operator is missing before it" }
        throw fail(message, at: token)
    }

    // MARK: op blocks

    private mutating func parseOpDefinition() throws(Abandon) -> OpDefinition {
        let keyword = next()
        let nameToken = next()
        openers.append(try expect("(", "after op \(nameToken.text)"))
        var parameters: [(name: String, token: Token)] = []
        if !atSymbol(")") {
            repeat {
                let p = try expectIdentifier("for a parameter of op \(nameToken.text)")
                parameters.append((p.text, p))
            } while try acceptComma(closing: ")")
        }
        _ = try expect(")", "to close the parameter list of op \(nameToken.text)")
        openers.removeLast()
        let open = try expect("{", "to start the body of op \(nameToken.text)")
        var definition = OpDefinition(
            name: nameToken.text, nameToken: nameToken, parameters: parameters, forward: nil, backward: [], keyword: keyword)
        while true {
            skipLineEnds()
            let token = peek()
            if token.isSymbol("}") { next(); break }
            if case .end = token.kind {
                diagnostics.append(Diagnostic(
                    "expected '}' to close the body of op \(nameToken.text) opened at line \(open.line)",
                    at: token.location(file)))
                break
            }
            do {
                try parseOpClause(into: &definition)
            } catch {
                definition.hasBrokenClause = true
                recover()
            }
        }
        return definition
    }

    private mutating func parseOpClause(into definition: inout OpDefinition) throws(Abandon) {
        let keyword = peek()
        guard case .identifier = keyword.kind, keyword.text == "forward" || keyword.text == "backward" else {
            throw fail("expected 'forward:' or 'backward NAME:' in the body of op \(definition.name), found \(keyword.described)", at: keyword)
        }
        next()
        var parameter: String?
        if keyword.text == "backward", case .identifier = peek().kind {
            parameter = next().text
        }
        _ = try expect(":", "after '\(keyword.text)\(parameter.map { " " + $0 } ?? "")'")
        let expression = try parseExpression()
        if !atSymbol("}") { try expectStatementEnd(after: "the \(keyword.text) expression") }
        // The clause parsed: a mistake in what it says leaves the parser on
        // the next line, so it is reported without skipping that line.
        func refuse(_ message: String) {
            diagnostics.append(Diagnostic(message, at: keyword.location(file), length: keyword.length))
            definition.hasBrokenClause = true
        }
        if keyword.text == "forward" {
            if definition.forward != nil {
                return refuse("op \(definition.name) has two forward clauses")
            }
            definition.forward = expression
        } else {
            let name: String
            if let parameter {
                name = parameter
            } else if definition.parameters.count == 1 {
                name = definition.parameters[0].name
            } else {
                let names = definition.parameters.map(\.name)
                return refuse("op \(definition.name) has \(names.count) parameters: say which one this backward is for, e.g. 'backward \(names.first ?? "x"):'")
            }
            definition.backward.append((name, expression, keyword))
        }
    }

    // MARK: Expressions

    private mutating func parseExpression() throws(Abandon) -> Expression {
        let first = try parseProduct()
        var links: [Link] = []
        while atSymbol("+") || atSymbol("-") {
            let op = next()
            links.append(Link(symbol: op.text.first!, operand: try parseProduct(), token: op))
        }
        return links.isEmpty ? first : .chain(first, links)
    }

    private mutating func parseProduct() throws(Abandon) -> Expression {
        let first = try parseUnary()
        var links: [Link] = []
        while atSymbol("*") || atSymbol("/") || atSymbol("@") {
            let op = next()
            links.append(Link(symbol: op.text.first!, operand: try parseUnary(), token: op))
        }
        return links.isEmpty ? first : .chain(first, links)
    }

    private mutating func parseUnary() throws(Abandon) -> Expression {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth {
            throw fail("this expression nests more than \(Self.maximumDepth) levels deep; split it into bindings", at: peek())
        }
        if atSymbol("-") {
            let minus = next()
            return .negate(try parseUnary(), minus)
        }
        if atSymbol("+") {
            next()
            return try parseUnary()
        }
        return try parsePower()
    }

    private mutating func parsePower() throws(Abandon) -> Expression {
        let base = try parsePrimary()
        if atSymbol("^") {
            let op = next()
            let exponent = try parseUnary()
            return .power(base, exponent, op)
        }
        return base
    }

    private mutating func parsePrimary() throws(Abandon) -> Expression {
        let token = peek()
        switch token.kind {
        case .number(let value):
            next()
            return .number(value, token)
        case .string(let text):
            next()
            return .string(text, token)
        case .identifier:
            next()
            if atSymbol("(") { return try parseCall(token) }
            return .name(token.text, token)
        case .symbol("("):
            openers.append(next())
            let inner = try parseExpression()
            _ = try expect(")", "to close '(' at line \(token.line), column \(token.column)")
            openers.removeLast()
            return inner
        case .symbol("["):
            openers.append(next())
            var elements: [Expression] = []
            if !atSymbol("]") {
                repeat {
                    elements.append(try parseExpression())
                } while try acceptComma(closing: "]")
            }
            _ = try expect("]", "to close '[' at line \(token.line), column \(token.column)")
            openers.removeLast()
            return .list(elements, token)
        default:
            var message = "expected an expression, found \(token.described)"
            if token.isSymbol("*") && peek(ahead: 1).isSymbol("*") { message += "; powers are written x^2" }
            throw fail(message, at: token)
        }
    }

    private mutating func parseCall(_ name: Token) throws(Abandon) -> Expression {
        let open = next()
        openers.append(open)
        var arguments: [Argument] = []
        if !atSymbol(")") {
            repeat {
                let first = peek()
                if case .identifier = first.kind, peek(ahead: 1).isSymbol(":") {
                    next(); next()
                    arguments.append(Argument(label: first.text, labelToken: first, value: try parseExpression()))
                } else {
                    arguments.append(Argument(label: nil, labelToken: nil, value: try parseExpression()))
                }
            } while try acceptComma(closing: ")")
        }
        _ = try expect(")", "to close the call of \(name.text)(…) at line \(open.line), column \(open.column)")
        openers.removeLast()
        return .call(name.text, arguments, name)
    }

    /// After an element: `,` continues (a trailing comma before the closer
    /// is fine), the closer ends, anything else is an error.
    private mutating func acceptComma(closing: Character) throws(Abandon) -> Bool {
        let token = peek()
        if token.isSymbol(",") {
            next()
            return !atSymbol(closing)
        }
        if token.isSymbol(closing) { return false }
        throw fail("expected ',' or '\(closing)', found \(token.described)", at: token)
    }
}
