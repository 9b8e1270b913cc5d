/// The syntax tree of a `.grad` program, as the parser reads it.

/// An expression, with the token that places it in the text: the call's
/// name, the operator, the literal, the opening bracket.
///
/// The tree is only as deep as the text nests (parentheses, brackets,
/// calls, signs, `^`), which the parser bounds: a long `a + b + c + …` is one
/// flat `.chain`, not a left-leaning tree, so neither releasing the tree nor
/// any walk over it recurses once per term.
indirect enum Expression: Sendable {
    case number(Double, Token)
    case string(String, Token)
    case name(String, Token)
    /// `[a, b, …]`, at its `[`.
    case list([Expression], Token)
    /// `-x`, at the `-`.
    case negate(Expression, Token)
    /// `a + b - c` or `a * b / c @ d`: operators of one precedence level,
    /// applied left to right to the first operand, at the last operator
    /// (the one applied last).
    case chain(Expression, [Link])
    /// `a ^ b`, at the `^`.
    case power(Expression, Expression, Token)
    /// `f(a, b, name: c)`, at the name.
    case call(String, [Argument], Token)

    var token: Token {
        switch self {
        case .number(_, let t), .string(_, let t), .name(_, let t), .list(_, let t),
             .negate(_, let t), .power(_, _, let t), .call(_, _, let t):
            return t
        case .chain(let first, let links):
            return links.last?.token ?? first.token
        }
    }

    /// The first token of the expression's text (`a` in `a + b`).
    var firstToken: Token {
        switch self {
        case .chain(let first, _), .power(let first, _, _): return first.firstToken
        default: return token
        }
    }

    /// The number this expression writes, if it is a literal (`2`, `-0.5`).
    var literalNumber: Double? {
        switch self {
        case .number(let v, _): return v
        case .negate(let inner, _): return inner.literalNumber.map { -$0 }
        default: return nil
        }
    }
}

/// One step of a `.chain`: `+ b`, at its operator.
struct Link: Sendable {
    var symbol: Character
    var operand: Expression
    var token: Token
}

/// One argument of a call: positional (`x`) or named (`stride: 2`).
struct Argument: Sendable {
    var label: String?
    var labelToken: Token?
    var value: Expression

    /// Where a problem with this argument is shown: its label, or its value.
    var token: Token { labelToken ?? value.token }
}

/// A user-defined op: `op name(a, b) { forward: … backward a: … }`.
struct OpDefinition: Sendable {
    var name: String
    var nameToken: Token
    var parameters: [(name: String, token: Token)]
    var forward: Expression?
    /// Backward expressions by parameter name, with the clause's keyword token.
    var backward: [(parameter: String, expression: Expression, token: Token)]
    /// The `op` keyword, where the definition starts.
    var keyword: Token
    /// A clause of the body did not parse (and was reported): the op is
    /// left out without further reports, which would only echo that one.
    var hasBrokenClause = false
}

enum Statement: Sendable {
    /// `name = expression`
    case binding(name: String, nameToken: Token, value: Expression)
    /// A bare expression (`-e "(x + y) * z"`): an output named by its
    /// text, which is the source's UTF-8 bytes `textRange`.
    case expression(Expression, text: String, textRange: Range<Int>)
    /// `output name`
    case output(name: String, token: Token)
    case op(OpDefinition)
}

extension Expression: CustomStringConvertible {
    /// The tree fully parenthesised, operators first: `-x^2` is `(- (^ x 2))`.
    var description: String {
        switch self {
        case .number(_, let t): return t.text
        case .string(let s, _): return "\"\(s)\""
        case .name(let n, _): return n
        case .list(let elements, _): return "[" + elements.map(\.description).joined(separator: " ") + "]"
        case .negate(let inner, _): return "(- \(inner))"
        case .chain(let first, let links):
            return links.reduce(first.description) { "(\($1.symbol) \($0) \($1.operand))" }
        case .power(let base, let exponent, _): return "(^ \(base) \(exponent))"
        case .call(let name, let arguments, _):
            let parts = arguments.map { ($0.label.map { "\($0): " } ?? "") + $0.value.description }
            return "(\(name) \(parts.joined(separator: " ")))"
        }
    }
}
