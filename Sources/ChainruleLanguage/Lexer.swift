import ChainruleCore

/// One token of a `.grad` program.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A name: letters (any script's: `α`, `θ`, `é`), digits, `_`, and
        /// `.` between parts (`h.W`).
        case identifier
        case number(Double)
        /// The text between the quotes.
        case string(String)
        /// One of `( ) [ ] { } , : = + - * / ^ @ ;`.
        case symbol(Character)
        /// The end of a line (also `;`): statements are separated by these.
        case newline
        case end
    }

    var kind: Kind
    /// The text as written (`1e-3`, `h.W`, `+`).
    var text: String
    var line: Int
    var column: Int
    /// Characters the token covers, for the caret line.
    var length: Int
    /// Byte offsets of the token in the UTF-8 text: `start..<end`.
    var start: Int
    var end: Int

    func location(_ file: String?) -> SourceLocation { SourceLocation(file: file, line: line, column: column) }

    /// How the token is named in "expected …, found …".
    var described: String {
        switch kind {
        case .identifier: return "name '\(text)'"
        case .number: return "number \(text)"
        case .string: return "string \"\(text)\""
        case .symbol(let c): return "'\(c)'"
        case .newline: return text == ";" ? "';'" : "end of line"
        case .end: return "end of input"
        }
    }

    func isSymbol(_ c: Character) -> Bool {
        if case .symbol(c) = kind { return true }
        return false
    }
}

/// Turns program text into tokens. Works on UTF-8 bytes; columns count
/// Unicode scalars, so a caret lines up under non-ASCII names and comments.
/// Errors (a stray character, an unterminated string) become diagnostics and
/// lexing goes on, so one run reports them all.
struct Lexer {
    private let bytes: [UInt8]
    private let file: String?
    private var index = 0
    private var line = 1
    private var column = 1
    private(set) var tokens: [Token] = []
    private(set) var diagnostics: [Diagnostic] = []

    static func tokenize(_ source: String, file: String?) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        var lexer = Lexer(bytes: Array(source.utf8), file: file)
        lexer.run()
        return (lexer.tokens, lexer.diagnostics)
    }

    private init(bytes: [UInt8], file: String?) {
        self.bytes = bytes
        self.file = file
    }

    /// Which bytes are the one-byte symbols `( ) [ ] { } , : = + - * / ^ @`:
    /// a table, as this test runs for every token of files of a million lines.
    private static let isSymbolByte: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "()[]{},:=+-*/^@".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// ASCII letters and `_`, which start a name; with digits they continue one.
    private static func isASCIINameStart(_ b: UInt8) -> Bool {
        (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95
    }

    /// The UTF-8 byte-order mark some editors write at the start of a file.
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private mutating func run() {
        // A leading byte-order mark is not text: skip it without a column.
        if bytes.starts(with: Self.byteOrderMark) { index = Self.byteOrderMark.count }
        while index < bytes.count {
            let byte = bytes[index]
            let startLine = line, startColumn = column, start = index
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                advance()
            case UInt8(ascii: ";"):
                advance()
                tokens.append(Token(kind: .newline, text: ";", line: startLine, column: startColumn, length: 1, start: start, end: index))
            case _ where LineEnds.starts(byte):
                // "\n", "\r\n" or a lone "\r" (`LineEnds`): one line end.
                index += LineEnds.length(at: index, of: bytes)
                tokens.append(Token(kind: .newline, text: "\n", line: startLine, column: startColumn, length: 1, start: start, end: index))
                line += 1
                column = 1
            case UInt8(ascii: "#"):
                while index < bytes.count && !LineEnds.starts(bytes[index]) { advance() }
            case UInt8(ascii: "\""):
                lexString(start: start, startLine: startLine, startColumn: startColumn)
            case _ where Self.isDigit(byte) || (byte == UInt8(ascii: ".") && index + 1 < bytes.count && Self.isDigit(bytes[index + 1])):
                lexNumber(start: start, startLine: startLine, startColumn: startColumn)
            case _ where Self.isASCIINameStart(byte) || (byte >= 0x80 && Self.nameStart(bytes, at: index) != nil):
                lexName()
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                tokens.append(Token(kind: .identifier, text: text, line: startLine, column: startColumn, length: column - startColumn, start: start, end: index))
            case _ where Self.isSymbolByte[Int(byte)]:
                advance()
                let c = Character(Unicode.Scalar(byte))
                tokens.append(Token(kind: .symbol(c), text: String(c), line: startLine, column: startColumn, length: 1, start: start, end: index))
            default:
                let scalarText = takeScalar()
                let shown = scalarText.unicodeScalars.first.map { scalar in
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    let code = "U+" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
                    if scalar.isASCII { return scalar.value >= 32 ? "'\(scalarText)'" : code }
                    return scalar.properties.generalCategory == .format || scalar.properties.isWhitespace ? code : "'\(scalarText)' (\(code))"
                } ?? scalarText
                var message = "unexpected character \(shown)"
                if scalarText == "\0" { message += ", a NUL byte: is this a text file?" }
                if scalarText == "'" { message += "; strings use double quotes: \"file.npy\"" }
                if scalarText == "×" || scalarText == "·" { message += "; multiply with *" }
                diagnostics.append(Diagnostic(message, at: SourceLocation(file: file, line: startLine, column: startColumn)))
            }
        }
        tokens.append(Token(kind: .end, text: "", line: line, column: column, length: 1, start: bytes.count, end: bytes.count))
    }

    /// Moves past a name: its parts, and `.` between parts (`h.W`). ASCII
    /// letters, digits and `_` take the short way (one byte, one column).
    private mutating func lexName() {
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isASCIINameStart(byte) || Self.isDigit(byte) {
                index += 1
                column += 1
            } else if byte >= 0x80, let length = Self.namePart(bytes, at: index) {
                for _ in 0..<length { advance() }
            } else if byte == UInt8(ascii: "."), let length = Self.nameStart(bytes, at: index + 1) {
                for _ in 0...length { advance() }
            } else {
                return
            }
        }
    }

    /// Moves past one byte, counting a column per Unicode scalar (UTF-8
    /// continuation bytes do not start a column).
    private mutating func advance() {
        index += 1
        if index < bytes.count && (bytes[index] & 0xC0) == 0x80 { return }
        column += 1
    }

    /// Consumes one Unicode scalar and returns it as text.
    private mutating func takeScalar() -> String {
        let start = index
        index += 1
        while index < bytes.count && (bytes[index] & 0xC0) == 0x80 { index += 1 }
        column += 1
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func lexString(start: Int, startLine: Int, startColumn: Int) {
        advance()
        var content: [UInt8] = []
        while index < bytes.count && bytes[index] != UInt8(ascii: "\"") && !LineEnds.starts(bytes[index]) {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count,
               bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\") {
                advance()
            }
            content.append(bytes[index])
            advance()
        }
        guard index < bytes.count && bytes[index] == UInt8(ascii: "\"") else {
            diagnostics.append(Diagnostic(
                "unterminated string: add a closing \" on the same line",
                at: SourceLocation(file: file, line: startLine, column: startColumn)))
            // Go on as if it were closed, so the rest of the line parses.
            let text = String(decoding: content, as: UTF8.self)
            tokens.append(Token(kind: .string(text), text: text, line: startLine, column: startColumn, length: column - startColumn, start: start, end: index))
            return
        }
        advance()
        let text = String(decoding: content, as: UTF8.self)
        tokens.append(Token(kind: .string(text), text: text, line: startLine, column: startColumn, length: column - startColumn, start: start, end: index))
    }

    /// `12`, `0.5`, `.5`, `1e-3`, `2.5E+4`.
    private mutating func lexNumber(start: Int, startLine: Int, startColumn: Int) {
        while index < bytes.count && Self.isDigit(bytes[index]) { advance() }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            advance()
            while index < bytes.count && Self.isDigit(bytes[index]) { advance() }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            var look = index + 1
            if look < bytes.count && (bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-")) { look += 1 }
            if look < bytes.count && Self.isDigit(bytes[look]) {
                while index < look { advance() }
                while index < bytes.count && Self.isDigit(bytes[index]) { advance() }
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        let location = SourceLocation(file: file, line: startLine, column: startColumn)
        if Self.nameStart(bytes, at: index) != nil {
            var end = index
            while let length = Self.namePart(bytes, at: end) { end += length }
            let word = String(decoding: bytes[start..<end], as: UTF8.self)
            diagnostics.append(Diagnostic(
                "'\(word)' is neither a number nor a name: names start with a letter or _, and a product needs *",
                at: location, length: end - start))
            while index < end { advance() }
            return
        }
        guard let value = Double(text) else {
            diagnostics.append(Diagnostic("'\(text)' is not a number", at: location, length: index - start))
            return
        }
        if !value.isFinite {
            diagnostics.append(Diagnostic("number \(text) is too large for a Double", at: location, length: index - start))
            return
        }
        tokens.append(Token(kind: .number(value), text: text, line: startLine, column: startColumn, length: index - start, start: start, end: index))
    }

    /// Whether `text` is a name the language reads: a letter or `_`, then
    /// letters, digits and `_` (no dot: a layer's parameter is not set from
    /// outside).
    static func isName(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard var index = nameStart(bytes, at: 0) else { return false }
        while index < bytes.count {
            guard let length = namePart(bytes, at: index) else { return false }
            index += length
        }
        return true
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// The byte length of the character at `index` if a name can start with
    /// it: `_` or a letter of any script (`x`, `α`, `θ`, `é`); else nil.
    static func nameStart(_ bytes: [UInt8], at index: Int) -> Int? {
        guard let (scalar, length) = scalar(bytes, at: index) else { return nil }
        if scalar.isASCII {
            let b = UInt8(scalar.value)
            return (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 ? 1 : nil
        }
        return isLetter(scalar) ? length : nil
    }

    /// The byte length of the character at `index` if it may continue a
    /// name: what starts one, a digit, or a combining mark (`e` + U+0301).
    static func namePart(_ bytes: [UInt8], at index: Int) -> Int? {
        if let length = nameStart(bytes, at: index) { return length }
        guard let (scalar, length) = scalar(bytes, at: index) else { return nil }
        if scalar.isASCII { return isDigit(UInt8(scalar.value)) ? 1 : nil }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .decimalNumber: return length
        default: return nil
        }
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// The Unicode scalar whose UTF-8 encoding starts at `index`, and its
    /// byte length; nil at the end or inside a malformed sequence.
    private static func scalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        guard index < bytes.count else { return nil }
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        guard length > 0, index + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[index..<(index + length)].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return nil }
        return (scalar, length)
    }
}
