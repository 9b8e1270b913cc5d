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

    /// The program's bytes, read where the `String` keeps them, and the NUL
    /// after them, so that reading the byte at `index` needs no bounds
    /// check (a NUL ends every loop, and only `count` tells the end of the
    /// text from a NUL inside it).
    private let text: ScalarText
    private var bytes: UnsafePointer<UInt8> { text.bytes }
    private var count: Int { text.count }
    /// Each byte's `ByteClass` bits, by the byte: one load tells what it may be.
    private let classes: UnsafePointer<UInt8>
    private var builder: ScalarTapeBuilder
    private var names: NameTable
    /// The registry ops called so far, by the callee's bytes and the number of inputs.
    private var calls: [(callee: Range<Int>, inputs: Int, op: Int32)] = []
    private var index = 0
    private var line = 1
    private var lineStart = 0
    /// How deeply signs and parentheses nest, bounded as `Parser.maximumDepth` bounds them.
    private var depth = 0

    /// What a byte may be, as bits: a byte's entry in `classes` is their union.
    private enum ByteClass {
        /// A–Z, a–z, 0–9, `_`: continues a name.
        static let name: UInt8 = 1
        /// A–Z, a–z, `_`: starts a name.
        static let nameStart: UInt8 = 2
        static let digit: UInt8 = 4
        /// Space, tab (a "\r" ends a line, as `LineEnds` says).
        static let space: UInt8 = 8
        /// A binary operator's precedence in these two bits: `+ -` 1, `* /` 2.
        static let precedenceShift: UInt8 = 4
        static let precedence: UInt8 = 3 << precedenceShift
        /// `.` or a non-ASCII byte: after a name, the general front end's to read.
        static let afterNameNotScalar: UInt8 = 64

        static func of(_ b: UInt8) -> UInt8 {
            let letter = (b | 0x20) &- 97 < 26 || b == UInt8(ascii: "_")
            let digit = ScalarReader.isDigit(b)
            var bits: UInt8 = 0
            if letter || digit { bits |= name }
            if letter { bits |= nameStart }
            if digit { bits |= ByteClass.digit }
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { bits |= space }
            if b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { bits |= 1 << precedenceShift }
            if b == UInt8(ascii: "*") || b == UInt8(ascii: "/") { bits |= 2 << precedenceShift }
            if b == UInt8(ascii: ".") || b >= 0x80 { bits |= afterNameNotScalar }
            return bits
        }
    }

    /// A value being read: a literal not yet made a node, or a node.
    private enum Value {
        case literal(Double, ScalarTape.Place)
        case node(Int32)
    }

    /// The tape of `source` with its forward pass done, its output node and
    /// the output's name; nil when the program is not one this reader takes.
    static func read(_ source: String, file: String?, options: CompileOptions) -> (tape: ScalarTape, output: Int32, name: String)? {
        let count = source.utf8.count
        guard count < Int(Int32.max) else { return nil }
        // A native string's bytes, NUL-terminated where it keeps them: no copy.
        return source.withCString { cString in
            cString.withMemoryRebound(to: UInt8.self, capacity: count + 1) { bytes in
                let classes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256)
                defer { classes.deallocate() }
                for b in 0..<256 { classes[b] = ByteClass.of(UInt8(b)) }
                let text = ScalarText(bytes: bytes, count: count)
                do {
                    // A generated line (`t12 = t10 * t11`) is some 20 bytes and makes a node.
                    let builder = try ScalarTapeBuilder(source: source, file: file, options: options, capacity: count / 16)
                    // Every binding has its `=`: the names are at most the `=` bytes.
                    guard let names = NameTable(capacity: text.count(of: UInt8(ascii: "="))) else { return nil }
                    var reader = ScalarReader(text: text, classes: UnsafePointer(classes.baseAddress!), builder: builder, names: names)
                    let (output, name) = try reader.readProgram()
                    return (try reader.finish(output: output), output, name)
                } catch {
                    return nil
                }
            }
        }
    }

    private init(text: ScalarText, classes: UnsafePointer<UInt8>, builder: consuming ScalarTapeBuilder, names: consuming NameTable) {
        self.text = text
        self.classes = classes
        self.builder = builder
        self.names = names
    }

    /// The tape of the nodes read, `output` marked, forward pass run.
    private consuming func finish(output: Int32) throws(NotScalar) -> ScalarTape {
        try builder.finish(output: output)
    }

    // MARK: Bytes

    /// The byte at `index`; the NUL after the text at its end.
    @inline(__always)
    private var byte: UInt8 { bytes[index] }

    @inline(__always)
    private func isClass(_ b: UInt8, _ bits: UInt8) -> Bool { classes[Int(b)] & bits != 0 }

    @inline(__always)
    private var place: ScalarTape.Place { ScalarTape.Place(line: line, column: index - lineStart + 1) }

    /// Past spaces and tabs. Every reader of a value
    /// (`readUnary`, `readBinary`, `readPrimary`, `readCall`) skips those
    /// before it and leaves `index` past those after it, so no caller
    /// skips them again.
    @inline(__always)
    private mutating func skipSpaces() {
        while isClass(bytes[index], ByteClass.space) { index += 1 }
    }

    static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }

    /// The low `count` bytes of `word` (all of them from 8 on).
    @inline(__always)
    static func low(_ word: UInt64, _ count: Int) -> UInt64 { count >= 8 ? word : word & ((1 &<< UInt64(8 &* count)) &- 1) }

    /// A name read from the text: where its bytes are, its first 8 bytes
    /// (zeros past its end), and their hash, so that the name table hashes
    /// no name twice and compares most names as one word.
    struct Name {
        var start: Int
        var length: Int
        var head: UInt64
        var hash: UInt32

        var range: Range<Int> { start..<(start + length) }
    }

    /// A name, its byte at `index` known to start one; a dot or a non-ASCII
    /// byte after it is not read here. Its first 8 bytes are read as one
    /// word, which tells where a shorter name ends (`nameBytes`); a longer
    /// one is scanned on one table load a byte. The hash mixes the name 8
    /// bytes at a time, each word multiplied by an odd constant to 128 bits
    /// and the halves folded (every bit of the word reaches the low bits the
    /// table indexes by).
    @inline(__always)
    private mutating func readName() throws(NotScalar) -> Name {
        let start = index
        let first = text.word(at: start)
        var length = Self.nameBytes(first)
        if length == 8 {
            while isClass(bytes[start + length], ByteClass.name) { length += 1 }
        }
        let end = start + length
        index = end
        guard !isClass(bytes[end], ByteClass.afterNameNotScalar) else { throw NotScalar() }
        let head = Self.low(first, length)
        return Name(start: start, length: length, head: head, hash: Self.hash(text, start, length: length, head: head))
    }

    /// The hash of the `length` bytes of `text` at `start`, whose first 8 are `head`.
    @inline(__always)
    static func hash(_ text: ScalarText, _ start: Int, length: Int, head: UInt64) -> UInt32 {
        var hash = mix(head ^ UInt64(length))
        var k = 8
        while k < length {
            hash = mix(hash ^ low(text.word(at: start + k), length - k))
            k += 8
        }
        return UInt32(truncatingIfNeeded: hash)
    }

    /// How many of `word`'s bytes, from the lowest, continue a name (A–Z,
    /// a–z, 0–9, `_`) before the first that does not; 8 if all do. Each
    /// byte's class comes from its low 7 bits by adding constants whose
    /// sums stay within the byte: `v + (0x80 − lo)` has the top bit set
    /// where `v ≥ lo`, `v + (0x7F − hi)` where `v > hi`; a byte with its top
    /// bit set continues no name.
    @inline(__always)
    static func nameBytes(_ word: UInt64) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high = 0x80 &* ones
        let x = word & ~high
        func atLeast(_ v: UInt64, _ lo: UInt64) -> UInt64 { v &+ (0x80 - lo) &* ones }
        func above(_ v: UInt64, _ hi: UInt64) -> UInt64 { v &+ (0x7F - hi) &* ones }
        let digit = atLeast(x, 0x30) & ~above(x, 0x39)
        let folded = x | 0x20 &* ones
        let letter = atLeast(folded, 0x61) & ~above(folded, 0x7A)
        let underscore = ~((x ^ 0x5F &* ones) &+ 0x7F &* ones)
        let other = ~((digit | letter | underscore) & ~word) & high
        return other == 0 ? 8 : other.trailingZeroBitCount >> 3
    }

    /// Whether a byte continues a name (A–Z, a–z, 0–9, `_`), without the table.
    static func isNameByte(_ b: UInt8) -> Bool { (b | 0x20) &- 97 < 26 || b == UInt8(ascii: "_") || isDigit(b) }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return high ^ low
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
            case _ where LineEnds.starts(byte):
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
        return (last.node, string(last.name))
    }

    /// Past the line end at `index` ("\n", "\r\n" or a lone "\r": `LineEnds`).
    private mutating func endLine() {
        index += LineEnds.length(at: index, of: UnsafeBufferPointer(start: bytes, count: count))
        line += 1
        lineStart = index
    }

    private mutating func skipComment() {
        while index < count, !LineEnds.starts(bytes[index]) { index += 1 }
    }

    /// `name = expression`, then the end of the line (a comment may end it).
    private mutating func readBinding() throws(NotScalar) -> (Int32, Range<Int>) {
        guard isClass(byte, ByteClass.nameStart) else { throw NotScalar() }
        let namePlace = place
        let name = try readName()
        skipSpaces()
        guard byte == UInt8(ascii: "=") else { throw NotScalar() }
        index += 1
        // The name's slot, found now: the expression binds no name, so it stays free.
        guard case .free(let slot) = names.find(name, in: text) else { throw NotScalar() }
        let firstNew = builder.nodes.count
        let node: Int32
        switch try readExpression() {
        case .literal(let value, _):
            node = try builder.nodes.leaf(value, named: .init(name.range), role: .input, at: namePlace)
        case .node(let made):
            node = made
            if Int(made) >= firstNew || !builder.nodes.isNamed(made) { builder.nodes.setName(name.range, of: made) }
        }
        if byte == UInt8(ascii: "#") { skipComment() }
        if index < count {
            guard LineEnds.starts(byte) else { throw NotScalar() }
            endLine()
        }
        try names.bind(name, node: node, at: slot)
        return (node, name.range)
    }

    // MARK: Expressions

    /// The value as a node: a literal becomes a constant where it was written.
    @inline(__always)
    private mutating func node(_ value: Value) throws(NotScalar) -> Int32 {
        switch value {
        case .literal(let number, let place): return try builder.nodes.leaf(number, named: .none, role: .constant, at: place)
        case .node(let node): return node
        }
    }

    @inline(__always)
    private mutating func apply(_ op: Int32, _ a: Int32, _ b: Int32, at place: ScalarTape.Place) throws(NotScalar) -> Int32 {
        try builder.nodes.apply(op, a, b, at: place)
    }

    /// An expression: `a + b * c - d`.
    @inline(__always)
    private mutating func readExpression() throws(NotScalar) -> Value { try readBinary(1) }

    /// Operands joined by binary operators of at least `minimum`
    /// precedence, left to right, each node added once its right operand is
    /// read (precedence climbing: the order the parser's levels, `+ -` over
    /// `* /`, add them in). `@` is left to the general front end.
    private mutating func readBinary(_ minimum: UInt8) throws(NotScalar) -> Value {
        try readBinary(minimum, from: try readOperand())
    }

    /// `readBinary` whose first operand, `first`, has been read.
    private mutating func readBinary(_ minimum: UInt8, from first: Value) throws(NotScalar) -> Value {
        var value = first
        while true {
            let symbol = byte
            let precedence = precedence(of: symbol)
            guard precedence >= minimum, precedence > 0 else {
                if symbol == UInt8(ascii: "@") { throw NotScalar() }
                return value
            }
            let a = try node(value)
            let at = place
            index += 1
            // The right operand takes the operators that bind tighter than this one.
            var right = try readOperand()
            if self.precedence(of: byte) > precedence { right = try readBinary(precedence + 1, from: right) }
            let b = try node(right)
            value = .node(try apply(try builder.operatorOp(symbol, at: at), a, b, at: at))
        }
    }

    /// A binary operator's precedence, `+ -` 1, `* /` 2; 0 for any other byte.
    @inline(__always)
    private func precedence(of symbol: UInt8) -> UInt8 {
        (classes[Int(symbol)] & ByteClass.precedence) >> ByteClass.precedenceShift
    }

    /// An operand of a binary operator: `readUnary`, but the commonest
    /// operand — a bound name with no sign, call or power — is read here
    /// without a frame of its own (most operands of a scalar program are
    /// names). A name followed by `(` or `^` is read again by `readUnary`.
    @inline(__always)
    private mutating func readOperand() throws(NotScalar) -> Value {
        skipSpaces()
        // At the nesting limit, `readUnary` gives up as it would for any operand.
        if isClass(byte, ByteClass.nameStart) && depth < Parser.maximumDepth {
            let start = index
            let name = try readName()
            skipSpaces()
            if byte != UInt8(ascii: "(") && byte != UInt8(ascii: "^") {
                guard case .bound(let node) = names.find(name, in: text) else { throw NotScalar() }
                return .node(node)
            }
            index = start
        }
        return try readUnary()
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
                return .node(try apply(op, operand, -1, at: at))
            }
        }
        if byte == UInt8(ascii: "+") {
            index += 1
            return try readUnary()
        }
        let base = try readPrimary()
        guard byte == UInt8(ascii: "^") else { return base }
        let a = try node(base)
        let at = place
        index += 1
        switch try readUnary() {
        case .literal(let exponent, _):
            return .node(try apply(try builder.powerOp(exponent, at: at), a, -1, at: at))
        case .node(let b):
            return .node(try apply(try builder.operatorOp(UInt8(ascii: "^"), at: at), a, b, at: at))
        }
    }

    /// A number, a name, a call or a parenthesised expression.
    @inline(__always)
    private mutating func readPrimary() throws(NotScalar) -> Value {
        let first = byte
        if isClass(first, ByteClass.nameStart) {
            let at = place
            let name = try readName()
            skipSpaces()
            if byte == UInt8(ascii: "(") { return .node(try readCall(name.range, at: at)) }
            guard case .bound(let node) = names.find(name, in: text) else { throw NotScalar() }
            return .node(node)
        }
        if isClass(first, ByteClass.digit) || (first == UInt8(ascii: ".") && isClass(bytes[index + 1], ByteClass.digit)) {
            let at = place
            let number = try readNumber()
            skipSpaces()
            return .literal(number, at)
        }
        guard first == UInt8(ascii: "(") else { throw NotScalar() }
        index += 1
        let inner = try readExpression()
        guard byte == UInt8(ascii: ")") else { throw NotScalar() }
        index += 1
        skipSpaces()
        return inner
    }

    /// `f(a)` or `f(a, b)`: each argument a node in order, then the call's node.
    private mutating func readCall(_ callee: Range<Int>, at: ScalarTape.Place) throws(NotScalar) -> Int32 {
        index += 1
        var inputs = 0
        var arguments: (Int32, Int32) = (-1, -1)
        while true {
            skipSpaces()
            if byte == UInt8(ascii: ")"), inputs > 0 { break }
            // A third argument: no op with scalar rules takes one.
            guard inputs < 2 else { throw NotScalar() }
            let argument = try node(try readExpression())
            if inputs == 0 { arguments.0 = argument } else { arguments.1 = argument }
            inputs += 1
            if byte == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard byte == UInt8(ascii: ")") else { throw NotScalar() }
            break
        }
        index += 1
        skipSpaces()
        return try apply(try callOp(callee, inputs: inputs, at: at), arguments.0, arguments.1, at: at)
    }

    /// The op of a call of `callee` with `inputs` positional arguments,
    /// built by `ScalarTapeBuilder` the first time and then found by the
    /// callee's bytes (a program calls a few ops, so the list is short).
    private mutating func callOp(_ callee: Range<Int>, inputs: Int, at place: ScalarTape.Place) throws(NotScalar) -> Int32 {
        let length = callee.count
        for known in calls where known.inputs == inputs && known.callee.count == length
            && text.same(known.callee.lowerBound, callee.lowerBound, length) {
            return known.op
        }
        let op = try builder.positionalCallOp(string(callee), inputs: inputs, at: place)
        calls.append((callee, inputs, op))
        return op
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
        guard !isClass(byte, ByteClass.nameStart), byte < 0x80,
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
                // Past 15 digits the text is not a fast-path decimal (and 20 would overflow).
                guard digits < 15 else { return nil }
                mantissa = mantissa &* 10 &+ UInt64(b &- 48)
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

/// The program's bytes as the reader scans them: `count` bytes and the
/// NUL after them, read 8 at a time where 8 are there.
struct ScalarText {
    let bytes: UnsafePointer<UInt8>
    let count: Int

    /// 8 bytes from `offset` on, the first in the lowest byte, zeros past the end of the text.
    @inline(__always)
    func word(at offset: Int) -> UInt64 {
        offset &+ 8 <= count ? UInt64(littleEndian: UnsafeRawPointer(bytes + offset).loadUnaligned(as: UInt64.self)) : tailWord(at: offset)
    }

    /// `word(at:)` within 8 bytes of the end, byte by byte.
    @inline(never)
    private func tailWord(at offset: Int) -> UInt64 {
        var word: UInt64 = 0
        for k in stride(from: min(offset + 8, count) - 1, through: offset, by: -1) { word = word << 8 | UInt64(bytes[k]) }
        return word
    }

    /// Whether the `length` bytes at `a` and at `b` are the same, compared
    /// 8 at a time (the last word's bytes past `length` masked off).
    func same(_ a: Int, _ b: Int, _ length: Int) -> Bool {
        var k = 0
        while k < length {
            if ScalarReader.low(word(at: a + k) ^ word(at: b + k), length - k) != 0 { return false }
            k += 8
        }
        return true
    }

    /// How many bytes are `byte`, 8 at a time: a byte of `w ^ byte×8` is
    /// zero where it matches, `((x & 0x7F…) + 0x7F…) | x` sets the top bit
    /// of every byte that is not zero (no carry crosses a byte), and the
    /// matches are added up in eight byte-wide lanes, summed every 255 words.
    func count(of byte: UInt8) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let (low, high, pattern) = (0x7F * ones, 0x80 * ones, UInt64(byte) &* ones)
        let pairMask: UInt64 = 0x00FF_00FF_00FF_00FF
        var total = 0
        var i = 0
        while i + 8 <= count {
            // At most 255 words a round, so that no lane passes 255.
            var lanes: UInt64 = 0
            let last = min(count - 8, i + 8 * 254)
            while i <= last {
                let x = UInt64(littleEndian: UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self)) ^ pattern
                lanes &+= (~(((x & low) &+ low) | x) & high) >> 7
                i += 8
            }
            // The lanes summed in pairs (16 bits each), then the four pairs into the top 16 bits.
            let pairs = (lanes & pairMask) &+ (lanes >> 8 & pairMask)
            total &+= Int(truncatingIfNeeded: (pairs &* 0x0001_0001_0001_0001) >> 48)
        }
        while i < count {
            if bytes[i] == byte { total += 1 }
            i += 1
        }
        return total
    }
}

/// The reader's bound names: byte ranges of the program text and their
/// nodes, in an open-addressing table keyed by the hash `readName` made
/// as it read the name, so no name becomes a `String` to be looked up and
/// none is hashed twice. A slot keeps the name's first 8 bytes: a probe
/// compares a name of under 8 bytes without reading the text. Sized once
/// for the names the text can bind (at most three quarters full), in
/// zeroed `ScalarMemory`, an empty slot being zeros: nothing to clear,
/// nothing to grow. It owns its slots (noncopyable, freed when it ends).
struct NameTable: ~Copyable {
    /// A name's first 8 bytes (zeros past its end; 0 marks an empty slot,
    /// as a name is never empty and holds no NUL), where it starts in the
    /// text, and its node: 16 bytes, so that the table touches few pages.
    /// The name ends at the first byte after it that continues no name.
    private struct Slot {
        var head: UInt64
        var start: Int32
        var node: Int32
    }

    private let memory: ScalarMemory
    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int
    /// The most names the table takes (three quarters of its slots).
    private let limit: Int
    private var count = 0

    /// Room for `capacity` names; nil when the system has no memory for them.
    init?(capacity: Int) {
        var size = 64
        while size < capacity + capacity / 3 + 1 { size <<= 1 }
        guard let memory = ScalarMemory(bytes: size * MemoryLayout<Slot>.stride) else { return nil }
        slots = memory.base.bindMemory(to: Slot.self, capacity: size)
        (mask, limit) = (size - 1, size / 4 * 3)
        self.memory = memory
    }

    /// What a name's probe found: its node, or the free slot where it would go.
    enum Found {
        case bound(Int32)
        case free(Int)
    }

    /// The node `name` is bound to, or the slot it would take (`bind`
    /// keeps a quarter of the slots free); the slot stays free for `bind`
    /// as long as nothing else is bound first.
    @inline(__always)
    func find(_ name: ScalarReader.Name, in text: ScalarText) -> Found {
        var i = Int(name.hash) & mask
        while true {
            let slot = slots[i]
            if slot.head == 0 { return .free(i) }
            // The same first 8 bytes with a zero among them: the same name.
            if slot.head == name.head && (name.length < 8 || Self.sameTail(of: name, asAt: Int(slot.start), in: text)) {
                return .bound(slot.node)
            }
            i = (i + 1) & mask
        }
    }

    /// Whether the name at `start`, whose first 8 bytes are `name`'s, has
    /// the rest of `name`'s bytes and ends where `name` ends. A bound name
    /// comes before `name` in the text, so the byte after it is in the text.
    private static func sameTail(of name: ScalarReader.Name, asAt start: Int, in text: ScalarText) -> Bool {
        text.same(start + 8, name.start + 8, name.length - 8) && !ScalarReader.isNameByte(text.bytes[start + name.length])
    }

    /// Binds a name not bound yet at the slot `find` gave it; past the
    /// names the text can bind (which a text does not reach), gives up.
    @inline(__always)
    mutating func bind(_ name: ScalarReader.Name, node: Int32, at slot: Int) throws(ScalarReader.NotScalar) {
        guard count < limit else { throw .init() }
        slots[slot] = Slot(head: name.head, start: Int32(truncatingIfNeeded: name.start), node: node)
        count += 1
    }
}
