import ChainruleCore

/// Reads the plainest scalar programs — what a generator writes, one
/// `name = expression` per line — from their bytes straight to a
/// `ScalarTape`, without tokens or a syntax tree.
///
/// A generated program of 65,000 lines spends most of its compile time on
/// what the general front end builds for every line: tokens with their
/// text, a tree of boxed expressions, dictionaries keyed by `String`. This
/// reader keeps none of them: names are byte ranges in a table of their
/// own, and each operator's node is added as soon as its right operand is
/// read, which is the order `ProgramCompiler` adds them in.
///
/// It reads a subset of the language, by the same rules: ASCII names and
/// numbers as `Lexer` reads them, `+ -` looser than `* /`, then unary
/// `-`/`+`, then a right-associative `^` whose exponent may carry a sign,
/// parentheses on one line, and calls of registry ops with positional
/// arguments; a literal (`2`, `-(0.5)`) stays a number until an operator
/// uses it, as `Expression.literalNumber` decides. Anything else (a dotted
/// name, a non-ASCII byte, `;`, `@`, a string or a list, a line broken
/// inside parentheses, `output`, `op` blocks, named arguments) and every
/// mistake makes it give up, and the general front end reads the program:
/// so what it reports is the general front end's.
struct ScalarReader: ~Copyable {
    typealias NotScalar = ScalarTapeBuilder.NotScalar

    /// The program's bytes and `padding` NULs after them, so that reading
    /// the byte at `index` needs no bounds check (a NUL ends every loop,
    /// and only `count` tells the end of the text from a NUL inside it) and
    /// a name compares 8 bytes at a time.
    private let bytes: UnsafePointer<UInt8>
    private let count: Int
    static let padding = 8
    /// Whether a byte continues a name (A–Z, a–z, 0–9, `_`), by the byte.
    private let continuesName: UnsafePointer<Bool>
    private var builder: ScalarTapeBuilder
    private var names: NameTable
    private var index = 0
    private var line = 1
    private var lineStart = 0
    /// How deeply signs and parentheses nest, bounded as `Parser.maximumDepth` bounds them.
    private var depth = 0

    /// A value being read: a literal not yet made a node, or a node.
    private enum Value {
        case literal(Double, ScalarTape.Place)
        case node(Int32)
    }

    /// The tape of `source` with its forward pass done, its output node and
    /// the output's name; nil when the program is not one this reader takes.
    static func read(_ source: String, file: String?, options: CompileOptions) -> (tape: ScalarTape, output: Int32, name: String)? {
        var text = source
        return text.withUTF8 { text in
            guard text.count < Int(Int32.max) else { return nil }
            let padded = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.count + padding)
            let continuesName = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 256)
            defer {
                padded.deallocate()
                continuesName.deallocate()
            }
            _ = padded.initialize(from: text)
            padded[text.count...].initialize(repeating: 0)
            for b in 0..<256 { continuesName[b] = isNameStart(UInt8(b)) || isDigit(UInt8(b)) }
            do {
                let builder = try ScalarTapeBuilder(source: source, file: file, options: options, capacity: text.count / 12)
                var reader = ScalarReader(bytes: UnsafePointer(padded.baseAddress!), count: text.count, continuesName: UnsafePointer(continuesName.baseAddress!), builder: builder)
                let (output, name) = try reader.readProgram()
                return (reader.builder.tape, output, name)
            } catch {
                return nil
            }
        }
    }

    private init(bytes: UnsafePointer<UInt8>, count: Int, continuesName: UnsafePointer<Bool>, builder: ScalarTapeBuilder) {
        self.bytes = bytes
        self.count = count
        self.continuesName = continuesName
        self.builder = builder
        names = NameTable(capacity: count / 24)
    }

    // MARK: Bytes

    /// The byte at `index`; the NUL after the text at its end.
    private var byte: UInt8 { bytes[index] }

    private var place: ScalarTape.Place { ScalarTape.Place(line: line, column: index - lineStart + 1) }

    private mutating func skipSpaces() {
        while true {
            let b = bytes[index]
            guard b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") else { return }
            index += 1
        }
    }

    /// A–Z, a–z or `_` (a letter's bit 5 set makes it lower case).
    private static func isNameStart(_ b: UInt8) -> Bool { (b | 0x20) &- 97 < 26 || b == 95 }
    static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }

    /// A name read from the text: its bytes' range and their hash, so that
    /// the name table hashes no name twice.
    struct Name {
        var range: Range<Int>
        var hash: UInt32
    }

    /// A name, hashed as it is read (FNV-1a over its bytes); a dot or a
    /// non-ASCII byte after it is not read here.
    private mutating func readName() throws(NotScalar) -> Name {
        let start = index
        var end = index
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        while true {
            let b = bytes[end]
            guard continuesName[Int(b)] else { break }
            hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3
            end += 1
        }
        index = end
        guard bytes[end] != UInt8(ascii: ".") && bytes[end] < 0x80 else { throw NotScalar() }
        return Name(range: start..<end, hash: UInt32(truncatingIfNeeded: hash ^ (hash >> 29)))
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(start: bytes + range.lowerBound, count: range.count), as: UTF8.self)
    }

    // MARK: Lines

    private mutating func readProgram() throws(NotScalar) -> (Int32, String) {
        guard count < 3 || !(bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) else { throw NotScalar() }
        var last: (node: Int32, name: Range<Int>)?
        while true {
            skipSpaces()
            if index == count { break }
            switch byte {
            case UInt8(ascii: "\n"):
                endLine()
                continue
            case UInt8(ascii: "#"):
                skipComment()
                continue
            default:
                last = try readBinding()
            }
        }
        guard let last else { throw NotScalar() }
        try builder.finish(output: last.node)
        return (last.node, string(last.name))
    }

    private mutating func endLine() {
        index += 1
        line += 1
        lineStart = index
    }

    private mutating func skipComment() {
        while index < count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
    }

    /// `name = expression`, then the end of the line (a comment may end it).
    private mutating func readBinding() throws(NotScalar) -> (Int32, Range<Int>) {
        guard Self.isNameStart(byte) else { throw NotScalar() }
        let namePlace = place
        let name = try readName()
        skipSpaces()
        guard byte == UInt8(ascii: "=") else { throw NotScalar() }
        index += 1
        // The name's slot, found now: the expression binds no name, so it stays free.
        guard case .free(let slot) = names.find(name, in: bytes) else { throw NotScalar() }
        let firstNew = builder.tape.count
        let node: Int32
        switch try readExpression() {
        case .literal(let value, _):
            node = builder.tape.leaf(named: name.range, value, role: .input, at: namePlace)
        case .node(let made):
            node = made
            if Int(made) >= firstNew || !builder.tape.isNamed(made) { builder.tape.setName(name.range, of: made) }
        }
        skipSpaces()
        if byte == UInt8(ascii: "#") { skipComment() }
        if index < count {
            guard byte == UInt8(ascii: "\n") else { throw NotScalar() }
            endLine()
        }
        names.bind(name, node: node, at: slot)
        return (node, name.range)
    }

    // MARK: Expressions

    /// The value as a node: a literal becomes a constant where it was written.
    private mutating func node(_ value: Value) -> Int32 {
        switch value {
        case .literal(let number, let place): return builder.tape.leaf(named: nil, number, role: .constant, at: place)
        case .node(let node): return node
        }
    }

    /// How tightly a binary operator binds: `+ -` 1, `* /` 2; 0 for any other byte.
    private static func precedence(_ symbol: UInt8) -> Int {
        switch symbol {
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 1
        case UInt8(ascii: "*"), UInt8(ascii: "/"): return 2
        default: return 0
        }
    }

    /// An expression: `a + b * c - d`.
    private mutating func readExpression() throws(NotScalar) -> Value { try readBinary(1) }

    /// Operands joined by binary operators of at least `minimum`
    /// precedence, left to right, each node added once its right operand is
    /// read (precedence climbing: the order the parser's levels, `+ -` over
    /// `* /`, add them in). `@` is left to the general front end.
    private mutating func readBinary(_ minimum: Int) throws(NotScalar) -> Value {
        var value = try readUnary()
        while true {
            skipSpaces()
            let symbol = byte
            let precedence = Self.precedence(symbol)
            guard precedence >= minimum, precedence > 0 else {
                if symbol == UInt8(ascii: "@") { throw NotScalar() }
                return value
            }
            let a = node(value)
            let at = place
            index += 1
            let b = node(try readBinary(precedence + 1))
            value = .node(builder.tape.apply(try builder.operatorOp(symbol, at: at), a, b, at: at))
        }
    }

    /// `-x`, `+x`, or `base ^ exponent` (right-associative, the exponent
    /// may carry a sign): a literal exponent makes `pow_const`, any other `pow`.
    private mutating func readUnary() throws(NotScalar) -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Parser.maximumDepth else { throw NotScalar() }
        skipSpaces()
        if byte == UInt8(ascii: "-") {
            let at = place
            index += 1
            switch try readUnary() {
            case .literal(let value, _):
                return .literal(-value, at)
            case .node(let operand):
                let op = try builder.operatorOp(UInt8(ascii: "-"), unary: true, at: at)
                return .node(builder.tape.apply(op, operand, -1, at: at))
            }
        }
        if byte == UInt8(ascii: "+") {
            index += 1
            return try readUnary()
        }
        let base = try readPrimary()
        skipSpaces()
        guard byte == UInt8(ascii: "^") else { return base }
        let a = node(base)
        let at = place
        index += 1
        switch try readUnary() {
        case .literal(let exponent, _):
            return .node(builder.tape.apply(try builder.powerOp(exponent, at: at), a, -1, at: at))
        case .node(let b):
            return .node(builder.tape.apply(try builder.operatorOp(UInt8(ascii: "^"), at: at), a, b, at: at))
        }
    }

    /// A number, a name, a call or a parenthesised expression.
    @inline(__always)
    private mutating func readPrimary() throws(NotScalar) -> Value {
        skipSpaces()
        let at = place
        let first = byte
        if Self.isDigit(first) || (first == UInt8(ascii: ".") && Self.isDigit(bytes[index + 1])) {
            return .literal(try readNumber(), at)
        }
        if first == UInt8(ascii: "(") {
            index += 1
            let inner = try readExpression()
            skipSpaces()
            guard byte == UInt8(ascii: ")") else { throw NotScalar() }
            index += 1
            return inner
        }
        guard Self.isNameStart(first) else { throw NotScalar() }
        let name = try readName()
        skipSpaces()
        if byte == UInt8(ascii: "(") { return .node(try readCall(name.range, at: at)) }
        guard case .bound(let node) = names.find(name, in: bytes) else { throw NotScalar() }
        return .node(node)
    }

    /// `f(a)` or `f(a, b)`: each argument a node in order, then the call's node.
    private mutating func readCall(_ callee: Range<Int>, at: ScalarTape.Place) throws(NotScalar) -> Int32 {
        index += 1
        var inputs: [Int32] = []
        while true {
            skipSpaces()
            if byte == UInt8(ascii: ")"), !inputs.isEmpty { break }
            inputs.append(node(try readExpression()))
            skipSpaces()
            if byte == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard byte == UInt8(ascii: ")") else { throw NotScalar() }
            break
        }
        index += 1
        guard inputs.count <= 2 else { throw NotScalar() }
        let op = try builder.positionalCallOp(string(callee), inputs: inputs.count, at: at)
        return builder.tape.apply(op, inputs[0], inputs.count == 2 ? inputs[1] : -1, at: at)
    }

    /// `12`, `0.5`, `.5`, `1e-3`, `2.5E+4`, as `Lexer` reads them, and the
    /// Double the lexer makes of the text.
    private mutating func readNumber() throws(NotScalar) -> Double {
        let start = index
        while Self.isDigit(bytes[index]) { index += 1 }
        if byte == UInt8(ascii: ".") {
            index += 1
            while Self.isDigit(bytes[index]) { index += 1 }
        }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            var look = index + 1
            if bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
            if Self.isDigit(bytes[look]) {
                index = look
                while Self.isDigit(bytes[index]) { index += 1 }
            }
        }
        // A letter right after a number is the lexer's error to report.
        guard !Self.isNameStart(byte), byte < 0x80,
              let value = Self.exactDecimal(UnsafeBufferPointer(start: bytes, count: count), start..<index) ?? Double(string(start..<index)),
              value.isFinite
        else { throw NotScalar() }
        return value
    }

    /// The Double a short decimal (`0.9`, `12.5`, `3e-4`) writes, without
    /// `Double(String)`: at most 15 digits make an integer `m` that a Double
    /// holds exactly, and for a power of ten `10^k` with |k| ≤ 22 (also
    /// exact) one IEEE multiplication or division `m · 10^k` is correctly
    /// rounded — the same bits `Double(String)` gives (Clinger's fast
    /// path). Nil for any other text, which `Double(String)` reads.
    static func exactDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        var i = range.lowerBound
        var afterPoint = false
        while i < range.upperBound {
            let b = bytes[i]
            if isDigit(b) {
                mantissa = mantissa * 10 + UInt64(b - 48)
                digits += 1
                if afterPoint { scale -= 1 }
            } else if b == UInt8(ascii: ".") {
                afterPoint = true
            } else {
                break
            }
            i += 1
        }
        guard digits > 0, digits <= 15 else { return nil }
        if i < range.upperBound {
            // An exponent: e or E, an optional sign, one to three digits.
            i += 1
            var sign = 1
            if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                sign = bytes[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
            }
            guard range.upperBound - i <= 3 else { return nil }
            var exponent = 0
            while i < range.upperBound {
                exponent = exponent * 10 + Int(bytes[i] - 48)
                i += 1
            }
            scale += sign * exponent
        }
        guard scale >= -22 && scale <= 22 else { return nil }
        let m = Double(mantissa)
        return scale >= 0 ? m * powersOfTen[scale] : m / powersOfTen[-scale]
    }

    /// 10^0 … 10^22, each exact in a Double.
    private static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { value, _ in value * 10 } }
}

/// The reader's bound names: byte ranges of the program text and their
/// nodes, in an open-addressing table keyed by the hash `readName` made
/// as it read the name, so no name becomes a `String` to be looked up and
/// none is hashed twice. It owns its slots (noncopyable, freed when it ends).
struct NameTable: ~Copyable {
    /// A name's first byte, length (0: an empty slot; names are never
    /// empty), hash and node.
    private struct Slot {
        var start: Int32
        var length: Int32
        var hash: UInt32
        var node: Int32
    }

    private var slots: UnsafeMutableBufferPointer<Slot>
    private var mask: Int
    private var count = 0

    init(capacity: Int) {
        var size = 64
        while size < 2 * capacity { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(start: 0, length: 0, hash: 0, node: -1))
        mask = size - 1
    }

    deinit { slots.deallocate() }

    /// What a name's probe found: its node, or the free slot where it would go.
    enum Found {
        case bound(Int32)
        case free(Int)
    }

    /// The node `name` is bound to, or the slot it would take (`bind`
    /// keeps at least half the slots free); the slot stays free for `bind`
    /// as long as nothing else is bound first. `bytes` are followed by
    /// `ScalarReader.padding` readable bytes.
    func find(_ name: ScalarReader.Name, in bytes: UnsafePointer<UInt8>) -> Found {
        let length = Int32(name.range.count)
        var i = Int(name.hash) & mask
        while true {
            let slot = slots[i]
            if slot.length == 0 { return .free(i) }
            if slot.hash == name.hash && slot.length == length && Self.same(bytes + Int(slot.start), bytes + name.range.lowerBound, name.range.count) {
                return .bound(slot.node)
            }
            i = (i + 1) & mask
        }
    }

    /// Whether `count` bytes at `a` and at `b` are the same, compared 8 at
    /// a time (the last word's bytes past `count` masked off).
    private static func same(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        func word(_ p: UnsafePointer<UInt8>) -> UInt64 { UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) }
        var k = 0
        while k + 8 <= count {
            if word(a + k) != word(b + k) { return false }
            k += 8
        }
        if k == count { return true }
        let mask: UInt64 = (1 << UInt64(8 * (count - k))) - 1
        return (word(a + k) ^ word(b + k)) & mask == 0
    }

    /// Binds a name not bound yet at the slot `find` gave it.
    mutating func bind(_ name: ScalarReader.Name, node: Int32, at slot: Int) {
        slots[slot] = Slot(start: Int32(name.range.lowerBound), length: Int32(name.range.count), hash: name.hash, node: node)
        count += 1
        if 2 * count > slots.count { grow() }
    }

    /// Twice the slots, every name moved by the hash it keeps.
    private mutating func grow() {
        let old = slots
        let size = 2 * old.count
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(start: 0, length: 0, hash: 0, node: -1))
        mask = size - 1
        for slot in old where slot.length > 0 {
            var i = Int(slot.hash) & mask
            while slots[i].length > 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
        old.deallocate()
    }
}
