import ChainruleCore

/// One problem in a program, at a place in its text.
///
/// `message` is written for the person who wrote the program: what is wrong
/// and, where we can tell, what would be right (`did you mean 'exp'?`).
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is: 1-based line and column. Line 0 means the
    /// problem has no place in the text (an `--at` name the program never uses).
    public var location: SourceLocation
    /// How many characters the caret line underlines (at least 1).
    public var length: Int
    public var message: String
    /// Further lines printed after the caret (`'conv2d' is defined as …`).
    public var notes: [String]

    public init(
        _ message: String, at location: SourceLocation, length: Int = 1,
        notes: [String] = []
    ) {
        self.location = location
        self.length = Swift.max(1, length)
        self.message = message
        self.notes = notes
    }

    /// `file:line:column: error: message`
    public var description: String {
        let file = location.file ?? "<input>"
        if location.line == 0 { return "\(file): error: \(message)" }
        return "\(file):\(location.line):\(location.column): error: \(message)"
    }
}

/// Every problem found in one program, in the order of the text.
public struct DiagnosticList: Error, Sendable, Equatable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// Each diagnostic as the compiler prints it: the `file:line:column: error:`
    /// line, the source line and a caret (`^~~~`) under the spot, then its notes.
    ///
    /// ```
    /// circuit.grad:3:5: error: unknown name 'exq'; did you mean 'exp'?
    /// y = exq(x)
    ///     ^~~
    /// ```
    ///
    /// At most `limit` diagnostics are printed (default 20), then one line
    /// `… and N more errors`: the first ones are those to fix, and a
    /// generated file with a hundred thousand mistakes should not print
    /// megabytes.
    public func rendered(source: String, limit: Int = DiagnosticList.defaultLimit) -> String {
        let lines = source.sourceLines()
        var out: [String] = []
        for diagnostic in diagnostics.prefix(Swift.max(limit, 0)) {
            out.append(diagnostic.description)
            let line = diagnostic.location.line
            if line >= 1 && line <= lines.count {
                var text = String(lines[line - 1])
                // The lexer skips a leading byte-order mark: so does the caret.
                if line == 1, text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
                let shown = Self.excerpt(text, column: diagnostic.location.column, length: diagnostic.length)
                // Control characters shown as visible signs, one scalar each, so the caret still counts right.
                let printed = SourceText.printable(shown.text)
                out.append(printed)
                out.append(Self.caretLine(under: printed, column: shown.column, length: shown.length))
            }
            for note in diagnostic.notes { out.append("note: \(note)") }
        }
        let hidden = diagnostics.count - Swift.max(limit, 0)
        if hidden > 0 { out.append("… and \(hidden) more error\(hidden == 1 ? "" : "s")") }
        return out.joined(separator: "\n") + "\n"
    }

    /// How many diagnostics `rendered` prints by default.
    public static let defaultLimit = 20

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// A source line longer than `longestLineShown` characters is shown as the part around
    /// the spot — `excerptContext` characters either side, the underline at most half the
    /// line — with `…` where it is cut, and the caret's column and length moved to match:
    /// a generated 1 MB line should not be printed whole under every error.
    static func excerpt(_ text: String, column: Int, length: Int) -> (text: String, column: Int, length: Int) {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count > longestLineShown else { return (text, column, length) }
        let spot = Swift.min(Swift.max(column - 1, 0), scalars.count)
        let underlined = Swift.min(Swift.max(length, 1), longestLineShown / 2)
        let start = Swift.max(0, spot - excerptContext)
        let end = Swift.min(scalars.count, spot + underlined + excerptContext)
        var shown = String(String.UnicodeScalarView(scalars[start..<end]))
        var shownColumn = spot - start + 1
        if start > 0 {
            shown = "…" + shown
            shownColumn += 1
        }
        if end < scalars.count { shown += "…" }
        return (shown, shownColumn, underlined)
    }

    static let longestLineShown = 160
    static let excerptContext = 60

    /// Spaces up to `column` (tabs copied, so the caret lines up in a terminal;
    /// as many spaces as a character takes columns there: none for a combining
    /// mark, two for a CJK character or an emoji), then `^` and `~` for the
    /// columns of the `length` characters underlined.
    static func caretLine(under text: String, column: Int, length: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        let spot = Swift.max(column - 1, 0)
        var prefix = ""
        for scalar in scalars.prefix(spot) {
            if scalar == "\t" { prefix.append("\t") } else { prefix += String(repeating: " ", count: SourceText.displayWidth(scalar)) }
        }
        prefix += String(repeating: " ", count: Swift.max(0, spot - scalars.count))
        let underlined = scalars.dropFirst(spot).prefix(Swift.max(length, 1))
        let width = Swift.max(1, underlined.reduce(0) { $0 + ($1 == "\t" ? 1 : SourceText.displayWidth($1)) } + Swift.max(0, length - underlined.count))
        return prefix + "^" + String(repeating: "~", count: width - 1)
    }
}
