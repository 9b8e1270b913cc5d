import ChainruleCore
import Foundation

/// Reads NumPy `.npy` files (format versions 1–3): float64, float32, signed
/// and unsigned integers and booleans, either byte order, C order only.
/// Every value becomes a `Double`.
public enum Npy {
    /// A file that cannot be read as a tensor; the message names the path.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "cannot load \(path): \(problem)" }
    }

    /// What an `.npy` header says: the shape, the element type, and where
    /// the data starts.
    public struct Header: Sendable {
        public var shape: [Int]
        /// The element count, counted without overflow.
        public var count: Int
        /// The dtype as written, `<f8`.
        public var descr: String
        /// The byte offset of the first element.
        public var dataOffset: Int
        var type: ElementType
        /// The bytes of data the shape needs (`parseHeader` checked that
        /// the product does not overflow).
        public var dataBytes: Int { count * type.size }
    }

    /// The longest header NumPy reads by default (`max_header_size`).
    static let maximumHeaderLength = 10_000

    /// The header of the file at `path`, reading only its first bytes, and
    /// refusing a shape of more than `maxElements` elements.
    public static func readHeader(path: String, maxElements: Int = .max) throws(LoadError) -> Header {
        let handle = try open(path)
        defer { try? handle.close() }
        // magic, version, and a length of up to 4 bytes; then the header.
        let prefix = [UInt8]((try? handle.read(upToCount: 12)) ?? Data())
        let headerEnd = try headerLayout(prefix, path: path).end
        let rest = [UInt8]((try? handle.read(upToCount: Swift.max(0, headerEnd - prefix.count))) ?? Data())
        return try parseHeader(prefix + rest, path: path, maxElements: maxElements)
    }

    /// The tensor stored at `path`, refusing before reading the data when it
    /// holds more than `maxElements` elements. Reads the header, then only
    /// the bytes of data it announces.
    public static func load(path: String, maxElements: Int = .max) throws(LoadError) -> Tensor {
        let header = try readHeader(path: path, maxElements: maxElements)
        let handle = try open(path)
        defer { try? handle.close() }
        let data: [UInt8]
        do {
            try handle.seek(toOffset: UInt64(header.dataOffset))
            data = [UInt8](try handle.read(upToCount: header.dataBytes) ?? Data())
        } catch {
            throw LoadError(path: path, problem: "the file cannot be read: \(error.localizedDescription)")
        }
        return try tensor(header, data: data, at: 0, path: path)
    }

    /// Parses the bytes of an `.npy` file; `path` only names it in errors.
    public static func decode(_ bytes: [UInt8], path: String, maxElements: Int = .max) throws(LoadError) -> Tensor {
        let header = try parseHeader(bytes, path: path, maxElements: maxElements)
        return try tensor(header, data: bytes, at: header.dataOffset, path: path)
    }

    /// The tensor whose elements start at `start` in `data`.
    private static func tensor(_ header: Header, data: [UInt8], at start: Int, path: String) throws(LoadError) -> Tensor {
        guard data.count - start >= header.dataBytes else {
            throw LoadError(path: path, problem: "the file is truncated: shape \(describeShape(header.shape)) of \(header.descr) needs \(header.dataBytes) bytes of data, found \(data.count - start)")
        }
        var values = [Double](repeating: 0, count: header.count)
        let type = header.type
        data.withUnsafeBufferPointer { buffer in
            for i in 0..<header.count {
                values[i] = type.read(buffer, at: start + i * type.size)
            }
        }
        return Tensor(shape: header.shape, data: values)
    }

    /// The file at `path`, which must be a regular file (`InputFiles.open`).
    private static func open(_ path: String) throws(LoadError) -> FileHandle {
        do { return try InputFiles.open(path, kind: "a .npy file") } catch { throw LoadError(path: path, problem: error.reason) }
    }

    /// Where the header dictionary lies, from the magic, version and length
    /// fields: `start..<end`, and the format's major version.
    private static func headerLayout(_ bytes: [UInt8], path: String) throws(LoadError) -> (start: Int, end: Int, major: UInt8) {
        func fail(_ problem: String) -> LoadError { LoadError(path: path, problem: problem) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a NumPy .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6]
        switch major {
        case 1:
            return (10, 10 + (Int(bytes[8]) | Int(bytes[9]) << 8), major)
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("bad header: the file ends inside it") }
            let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            return (12, 12 + length, major)
        default:
            throw fail("unsupported .npy format version \(major) (versions 1, 2 and 3 are read)")
        }
    }

    /// Reads the header at the start of `bytes` as NumPy does, and only what
    /// NumPy accepts: a Python dictionary literal with exactly the keys
    /// `'descr'` (a dtype string), `'fortran_order'` (`True` or `False`) and
    /// `'shape'` (a tuple of whole numbers), each once, then only whitespace.
    static func parseHeader(_ bytes: [UInt8], path: String, maxElements: Int) throws(LoadError) -> Header {
        func fail(_ problem: String) -> LoadError { LoadError(path: path, problem: problem) }
        let layout = try headerLayout(bytes, path: path)
        guard layout.end <= bytes.count else { throw fail("bad header: the file ends inside it") }
        guard layout.end - layout.start <= maximumHeaderLength else {
            throw fail("bad header: it is \(layout.end - layout.start) bytes long, over NumPy's limit of \(maximumHeaderLength)")
        }
        // Versions 1 and 2 are Latin-1 text, version 3 UTF-8; the dictionary
        // itself is ASCII, so a byte outside it is refused either way.
        var reader = HeaderReader(bytes: Array(bytes[layout.start..<layout.end]), allowsLongSuffix: layout.major < 3)
        let entries: [String: HeaderValue]
        do {
            entries = try reader.dictionary()
        } catch {
            let text = String(decoding: bytes[layout.start..<layout.end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw fail("bad header: \(error.problem), in \(text)")
        }
        guard case .string(let descr)? = entries["descr"] else {
            throw fail(entries["descr"] == nil ? "bad header: no 'descr' entry" : "bad header: 'descr' is not a dtype string (structured dtypes are not read)")
        }
        guard case .bool(let fortran)? = entries["fortran_order"] else {
            throw fail(entries["fortran_order"] == nil ? "bad header: no 'fortran_order' entry" : "bad header: 'fortran_order' must be True or False")
        }
        guard case .tuple(let shape)? = entries["shape"] else {
            throw fail(entries["shape"] == nil ? "bad header: no 'shape' entry" : "bad header: 'shape' must be a tuple of whole numbers, as (3, 4)")
        }
        if fortran {
            throw fail("the array is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(a))")
        }
        guard let type = ElementType(descr) else {
            throw fail("unsupported dtype '\(descr)'; float64, float32, int8–int64, uint8–uint64 and bool are read")
        }
        guard shape.count <= Tensor.maximumRank else {
            throw fail("its shape has \(shape.count) axes, more than the \(Tensor.maximumRank) a tensor may have (NumPy's limit)")
        }
        guard let count = Tensor.checkedElementCount(shape) else {
            throw fail("bad header: shape \(describeShape(shape)) has more elements than can be counted")
        }
        guard count <= maxElements else {
            throw fail("its shape \(describeShape(shape)) holds \(count) elements, over the limit of \(maxElements) (--max-elements)")
        }
        guard !count.multipliedReportingOverflow(by: type.size).overflow else {
            throw fail("bad header: shape \(describeShape(shape)) of \(descr) has more bytes than can be counted")
        }
        return Header(shape: shape, count: count, descr: descr, dataOffset: layout.end, type: type)
    }

    /// A value of the header dictionary.
    private enum HeaderValue {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    /// A recursive-descent reader of the header's dictionary literal: a
    /// strict subset of Python's literals, the part `np.save` writes.
    private struct HeaderReader {
        struct Failure: Error { var problem: String }
        let bytes: [UInt8]
        /// Python 2 wrote `3L`; NumPy still reads it in versions 1 and 2.
        let allowsLongSuffix: Bool
        var index = 0

        init(bytes: [UInt8], allowsLongSuffix: Bool) {
            self.bytes = bytes
            self.allowsLongSuffix = allowsLongSuffix
        }

        static let keys = ["descr", "fortran_order", "shape"]

        mutating func dictionary() throws(Failure) -> [String: HeaderValue] {
            skipSpace()
            try expect("{")
            var entries: [String: HeaderValue] = [:]
            while true {
                skipSpace()
                if accept("}") { break }
                guard peek != nil else { throw Failure(problem: "expected '}', found \(described)") }
                let key = try string()
                guard Self.keys.contains(key) else {
                    throw Failure(problem: "unknown key '\(key)' (NumPy's keys are 'descr', 'fortran_order' and 'shape')")
                }
                guard entries[key] == nil else { throw Failure(problem: "'\(key)' is given twice") }
                skipSpace()
                try expect(":")
                skipSpace()
                entries[key] = try value()
                skipSpace()
                if accept("}") { break }
                try expect(",")
            }
            skipSpace()
            guard index == bytes.count else { throw Failure(problem: "text after the closing '}'") }
            return entries
        }

        mutating func value() throws(Failure) -> HeaderValue {
            switch peek {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "("): return .tuple(try tuple())
            default:
                if accept(word: "True") { return .bool(true) }
                if accept(word: "False") { return .bool(false) }
                throw Failure(problem: "expected a value, found \(described)")
            }
        }

        /// `(3, 4)`, `(5,)`, `()`: a one-element tuple needs its comma.
        mutating func tuple() throws(Failure) -> [Int] {
            try expect("(")
            var sizes: [Int] = []
            skipSpace()
            if accept(")") { return sizes }
            while true {
                sizes.append(try wholeNumber())
                skipSpace()
                if accept(")") {
                    guard sizes.count > 1 else { throw Failure(problem: "a one-element shape is written (n,), with a comma") }
                    return sizes
                }
                try expect(",")
                skipSpace()
                if accept(")") { return sizes }
            }
        }

        /// A decimal whole number as Python writes one: no sign, no leading zeros.
        mutating func wholeNumber() throws(Failure) -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            guard index > start else { throw Failure(problem: "expected a size, found \(described)") }
            guard bytes[start] != 48 || index - start == 1 else { throw Failure(problem: "a size with a leading zero") }
            var value = 0
            for digit in bytes[start..<index] {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int(digit - 48))
                guard !o1 && !o2 else { throw Failure(problem: "a size too large to count") }
                value = sum
            }
            if allowsLongSuffix, peek == UInt8(ascii: "L") { index += 1 }
            return value
        }

        /// A quoted string without escapes.
        mutating func string() throws(Failure) -> String {
            let quote = peek
            guard quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw Failure(problem: "expected a quoted key, found \(described)")
            }
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != quote {
                guard bytes[index] != UInt8(ascii: "\\"), bytes[index] != UInt8(ascii: "\n") else {
                    throw Failure(problem: "a string with an escape or a line break")
                }
                index += 1
            }
            guard index < bytes.count else { throw Failure(problem: "a string that is never closed") }
            index += 1
            return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        var described: String {
            guard let byte = peek else { return "the end of the header" }
            return byte >= 32 && byte < 127 ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(byte)"
        }

        mutating func skipSpace() {
            while let byte = peek, byte == 32 || byte == 9 || byte == 10 || byte == 13 { index += 1 }
        }

        mutating func accept(_ c: Character) -> Bool {
            guard peek == c.asciiValue else { return false }
            index += 1
            return true
        }

        mutating func accept(word: String) -> Bool {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<(index + w.count)]) == w else { return false }
            index += w.count
            return true
        }

        mutating func expect(_ c: Character) throws(Failure) {
            guard accept(c) else {
                throw Failure(problem: "expected '\(c)', found \(described)")
            }
        }
    }

    /// A dtype we read: its byte size, kind and byte order.
    struct ElementType: Sendable {
        enum Kind { case float, signed, unsigned, bool }
        var kind: Kind
        var size: Int
        var bigEndian: Bool

        init?(_ descr: String) {
            guard descr.count >= 3 else { return nil }
            let order = descr.first!
            guard order == "<" || order == ">" || order == "|" || order == "=" else { return nil }
            bigEndian = order == ">"
            let code = descr.dropFirst().first!
            guard let size = Int(descr.dropFirst(2)) else { return nil }
            self.size = size
            switch (code, size) {
            case ("f", 4), ("f", 8): kind = .float
            case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
            case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
            case ("b", 1): kind = .bool
            default: return nil
            }
        }

        func read(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int) -> Double {
            var bits: UInt64 = 0
            for k in 0..<size {
                let byte = UInt64(buffer[offset + (bigEndian ? size - 1 - k : k)])
                bits |= byte << (8 * UInt64(k))
            }
            switch kind {
            case .float:
                return size == 8 ? Double(bitPattern: bits) : Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
            case .signed:
                let shift = UInt64(64 - 8 * size)
                return Double(Int64(bitPattern: bits << shift) >> Int64(shift))
            case .unsigned:
                return Double(bits)
            case .bool:
                return bits == 0 ? 0 : 1
            }
        }
    }
}
