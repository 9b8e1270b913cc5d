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
struct ScalarReader {
    typealias NotScalar = ScalarTapeBuilder.NotScalar

    private let bytes: UnsafeBufferPointer<UInt8>
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
        return text.withUTF8 { bytes in
            guard bytes.count < Int(Int32.max) else { return nil }
            do {
                let builder = try ScalarTapeBuilder(source: source, file: file, options: options, capacity: bytes.count / 12)
                var reader = ScalarReader(bytes: bytes, builder: builder)
                let (output, name) = try reader.readProgram()
                return (reader.builder.tape, output, name)
            } catch {
                return nil
            }
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, builder: ScalarTapeBuilder) {
        self.bytes = bytes
        self.builder = builder
        names = NameTable(capacity: bytes.count / 24)
    }

    // MARK: Bytes

    private var byte: UInt8 { index < bytes.count ? bytes[index] : 0 }

    private var place: ScalarTape.Place { ScalarTape.Place(line: line, column: index - lineStart + 1) }

    private mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: "\r") {
            index += 1
        }
    }

    private static func isNameStart(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// A name's byte range; a dot or a non-ASCII byte after it is not read here.
    private mutating func readName() throws(NotScalar) -> Range<Int> {
        let start = index
        var end = index
        let count = bytes.count
        while end < count, Self.isNameStart(bytes[end]) || Self.isDigit(bytes[end]) { end += 1 }
        index = end
        guard end == count || (bytes[end] != UInt8(ascii: ".") && bytes[end] < 0x80) else { throw NotScalar() }
        return start..<end
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    // MARK: Lines

    private mutating func readProgram() throws(NotScalar) -> (Int32, String) {
        guard !bytes.starts(with: [0xEF, 0xBB, 0xBF]) else { throw NotScalar() }
        var last: (node: Int32, name: Range<Int>)?
        while true {
            skipSpaces()
            if index == bytes.count { break }
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
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
    }

    /// `name = expression`, then the end of the line (a comment may end it).
    private mutating func readBinding() throws(NotScalar) -> (Int32, Range<Int>) {
        guard Self.isNameStart(byte) else { throw NotScalar() }
        let namePlace = place
        let name = try readName()
        skipSpaces()
        guard byte == UInt8(ascii: "=") else { throw NotScalar() }
        index += 1
        guard names.node(named: name, in: bytes) == nil else { throw NotScalar() }
        let firstNew = builder.tape.count
        let node: Int32
        switch try readSum() {
        case .literal(let value, _):
            node = builder.tape.leaf(named: name, value, role: .input, at: namePlace)
        case .node(let made):
            node = made
            if Int(made) >= firstNew || !builder.tape.isNamed(made) { builder.tape.setName(name, of: made) }
        }
        skipSpaces()
        if byte == UInt8(ascii: "#") { skipComment() }
        if index < bytes.count {
            guard byte == UInt8(ascii: "\n") else { throw NotScalar() }
            endLine()
        }
        names.insert(name, node: node, in: bytes)
        return (node, name)
    }

    // MARK: Expressions

    /// The value as a node: a literal becomes a constant where it was written.
    private mutating func node(_ value: Value) -> Int32 {
        switch value {
        case .literal(let number, let place): return builder.tape.leaf(named: nil, number, role: .constant, at: place)
        case .node(let node): return node
        }
    }

    /// `a + b - c`: left to right, each node added once its right operand is read.
    private mutating func readSum() throws(NotScalar) -> Value {
        var value = try readProduct()
        while true {
            skipSpaces()
            let symbol = byte
            guard symbol == UInt8(ascii: "+") || symbol == UInt8(ascii: "-") else { return value }
            let a = node(value)
            let at = place
            index += 1
            let b = node(try readProduct())
            value = .node(builder.tape.apply(try builder.operatorOp(symbol, at: at), a, b, at: at))
        }
    }

    /// `a * b / c`; `@` is left to the general front end.
    private mutating func readProduct() throws(NotScalar) -> Value {
        var value = try readUnary()
        while true {
            skipSpaces()
            let symbol = byte
            guard symbol == UInt8(ascii: "*") || symbol == UInt8(ascii: "/") else {
                if symbol == UInt8(ascii: "@") { throw NotScalar() }
                return value
            }
            let a = node(value)
            let at = place
            index += 1
            let b = node(try readUnary())
            value = .node(builder.tape.apply(try builder.operatorOp(symbol, at: at), a, b, at: at))
        }
    }

    /// `-x`, `+x`, or a power.
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
        return try readPower()
    }

    /// `base ^ exponent`: a literal exponent makes `pow_const`, any other `pow`.
    private mutating func readPower() throws(NotScalar) -> Value {
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
    private mutating func readPrimary() throws(NotScalar) -> Value {
        skipSpaces()
        let at = place
        let first = byte
        if Self.isDigit(first) || (first == UInt8(ascii: ".") && index + 1 < bytes.count && Self.isDigit(bytes[index + 1])) {
            return .literal(try readNumber(), at)
        }
        if first == UInt8(ascii: "(") {
            index += 1
            let inner = try readSum()
            skipSpaces()
            guard byte == UInt8(ascii: ")") else { throw NotScalar() }
            index += 1
            return inner
        }
        guard Self.isNameStart(first) else { throw NotScalar() }
        let name = try readName()
        skipSpaces()
        if byte == UInt8(ascii: "(") { return .node(try readCall(name, at: at)) }
        guard let node = names.node(named: name, in: bytes) else { throw NotScalar() }
        return .node(node)
    }

    /// `f(a)` or `f(a, b)`: each argument a node in order, then the call's node.
    private mutating func readCall(_ callee: Range<Int>, at: ScalarTape.Place) throws(NotScalar) -> Int32 {
        index += 1
        var inputs: [Int32] = []
        while true {
            skipSpaces()
            if byte == UInt8(ascii: ")"), !inputs.isEmpty { break }
            inputs.append(node(try readSum()))
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
        while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        if byte == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
        }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            var look = index + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
            if look < bytes.count, Self.isDigit(bytes[look]) {
                index = look
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
        }
        // A letter right after a number is the lexer's error to report.
        guard !Self.isNameStart(byte), byte < 0x80,
              let value = Self.exactDecimal(bytes, start..<index) ?? Double(string(start..<index)), value.isFinite
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
/// nodes, in an open-addressing table hashed with FNV-1a over the bytes,
/// so no name becomes a `String` to be looked up.
struct NameTable {
    /// A name's first byte and length in the text (-1: an empty slot), and its node.
    private struct Slot {
        var start: Int32 = -1
        var length: Int32 = 0
        var node: Int32 = -1
    }

    private var slots: [Slot]
    private var mask: Int
    private var count = 0

    init(capacity: Int) {
        var size = 64
        while size < 2 * capacity { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
    }

    private static func hash(_ range: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in range {
            hash = (hash ^ UInt64(bytes[i])) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    private static func holds(_ slot: Slot, _ name: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(slot.length) == name.count else { return false }
        var j = Int(slot.start)
        for i in name {
            if bytes[i] != bytes[j] { return false }
            j += 1
        }
        return true
    }

    func node(named name: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            var i = Self.hash(name, bytes) & mask
            while slots[i].start >= 0 {
                if Self.holds(slots[i], name, bytes) { return slots[i].node }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    /// Binds a name not bound yet.
    mutating func insert(_ name: Range<Int>, node: Int32, in bytes: UnsafeBufferPointer<UInt8>) {
        if 2 * (count + 1) > slots.count { grow(bytes) }
        let mask = self.mask
        slots.withUnsafeMutableBufferPointer { slots in
            var i = Self.hash(name, bytes) & mask
            while slots[i].start >= 0 { i = (i + 1) & mask }
            slots[i] = Slot(start: Int32(name.lowerBound), length: Int32(name.count), node: node)
        }
        count += 1
    }

    private mutating func grow(_ bytes: UnsafeBufferPointer<UInt8>) {
        let old = slots.filter { $0.start >= 0 }
        self = NameTable(capacity: slots.count)
        for slot in old { insert(Int(slot.start)..<Int(slot.start + slot.length), node: slot.node, in: bytes) }
    }
}
