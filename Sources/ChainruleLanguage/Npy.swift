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

    /// The tensor stored at `path`, refusing before reading the data when it
    /// holds more than `maxElements` elements.
    public static func load(path: String, maxElements: Int = .max) throws(LoadError) -> Tensor {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LoadError(path: path, problem: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, problem: "the file cannot be read (a directory, or no permission)")
        }
        return try decode([UInt8](data), path: path, maxElements: maxElements)
    }

    /// Parses the bytes of an `.npy` file; `path` only names it in errors.
    public static func decode(_ bytes: [UInt8], path: String, maxElements: Int = .max) throws(LoadError) -> Tensor {
        func fail(_ problem: String) -> LoadError { LoadError(path: path, problem: problem) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a NumPy .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("bad header: the file ends inside it") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major) (versions 1, 2 and 3 are read)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("bad header: the file ends inside it") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = headerValue("descr", in: header), let descrText = quoted(descr) else {
            throw fail("bad header: no 'descr' entry in \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard let fortran = headerValue("fortran_order", in: header) else {
            throw fail("bad header: no 'fortran_order' entry")
        }
        if fortran.hasPrefix("True") {
            throw fail("the array is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(a))")
        }
        guard let shapeText = headerValue("shape", in: header), let shape = tupleOfInts(shapeText) else {
            throw fail("bad header: no readable 'shape' entry")
        }
        guard let type = ElementType(descrText) else {
            throw fail("unsupported dtype '\(descrText)'; float64, float32, int8–int64, uint8–uint64 and bool are read")
        }
        guard let count = Tensor.checkedElementCount(shape) else {
            throw fail("bad header: shape \(describeShape(shape)) has a negative size or more elements than can be counted")
        }
        guard count <= maxElements else {
            throw fail("its shape \(describeShape(shape)) holds \(count) elements, over the limit of \(maxElements) (--max-elements)")
        }
        let dataStart = headerStart + headerLength
        let needed = count * type.size
        guard bytes.count - dataStart >= needed else {
            throw fail("the file is truncated: shape \(describeShape(shape)) of \(descrText) needs \(needed) bytes of data, found \(bytes.count - dataStart)")
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { buffer in
            for i in 0..<count {
                values[i] = type.read(buffer, at: dataStart + i * type.size)
            }
        }
        return Tensor(shape: shape, data: values)
    }

    /// The raw text after `'key':` in the header dictionary.
    private static func headerValue(_ key: String, in header: String) -> Substring? {
        for quote in ["'", "\""] {
            if let range = header.range(of: "\(quote)\(key)\(quote)") {
                var rest = header[range.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { return nil }
                rest = rest.dropFirst().drop { $0 == " " }
                return rest
            }
        }
        return nil
    }

    private static func quoted(_ text: Substring) -> String? {
        guard let quote = text.first, quote == "'" || quote == "\"" else { return nil }
        let body = text.dropFirst()
        guard let end = body.firstIndex(of: quote) else { return nil }
        return String(body[..<end])
    }

    /// `(3, 4)`, `(5,)`, `()`.
    private static func tupleOfInts(_ text: Substring) -> [Int]? {
        guard text.first == "(", let close = text.firstIndex(of: ")") else { return nil }
        let inner = text[text.index(after: text.startIndex)..<close]
        var result: [Int] = []
        for part in inner.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if trimmed.isEmpty { continue }
            guard let value = Int(trimmed) else { return nil }
            result.append(value)
        }
        return result
    }

    /// A dtype we read: its byte size, kind and byte order.
    private struct ElementType {
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
