import ChainruleCore
import Foundation

/// Tensors by name and string metadata in the safetensors format
/// (huggingface/safetensors): an 8-byte little-endian header length, a JSON
/// header `{"__metadata__": {…}, NAME: {"dtype": "F64", "shape": […],
/// "data_offsets": [begin, end]}, …}` padded with spaces to a multiple of 8,
/// then the raw little-endian data, tensors one after another in header order.
/// Python's `safetensors` and a few lines of NumPy open it.
public struct SafeTensors: Sendable, Equatable {
    public var tensors: [(name: String, tensor: Tensor)]
    /// safetensors allows only strings here.
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public static func == (a: SafeTensors, b: SafeTensors) -> Bool {
        a.metadata == b.metadata && a.tensors.map(\.name) == b.tensors.map(\.name)
            && zip(a.tensors, b.tensors).allSatisfy { $0.tensor.shape == $1.tensor.shape && $0.tensor.data.map(\.bitPattern) == $1.tensor.data.map(\.bitPattern) }
    }

    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            header[name] = ["dtype": "F64", "shape": tensor.shape, "data_offsets": [offset, offset + 8 * tensor.count]] as [String: Any]
            offset += 8 * tensor.count
        }
        // Every value here is a string, number, array or dictionary: JSON always encodes them.
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        for (_, tensor) in tensors {
            for value in tensor.data { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        }
        return bytes
    }

    /// Writes the file whole or not at all (`OutputFiles.write`: checked writes into a
    /// tracked temporary folder beside it, then renamed into place).
    public func write(to path: String) throws(TrainingError) {
        do { try OutputFiles.write(Data(encoded()), to: path) } catch {
            throw TrainingError("cannot write the checkpoint \(path): \(error.reason)")
        }
    }

    /// Reads a safetensors file of F64 tensors (F32 ones are widened).
    public static func read(path: String) throws(TrainingError) -> SafeTensors {
        let data: Data
        do { data = try InputFiles.contents(of: path, kind: "a checkpoint") } catch {
            throw TrainingError("cannot read the checkpoint \(path): \(error.reason)")
        }
        return try decode([UInt8](data), path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(TrainingError) -> SafeTensors {
        func bad(_ problem: String) -> TrainingError { TrainingError("\(path) is not a safetensors checkpoint: \(problem)") }
        guard bytes.count >= 8 else { throw bad("shorter than its 8-byte header length") }
        let length = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(bytes.count - 8) else { throw bad("its header length \(length) is past the end of the file (\(bytes.count) bytes)") }
        let start = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<start])) as? [String: Any] else {
            throw bad("its header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let entry = header["__metadata__"] {
            guard let strings = entry as? [String: String] else { throw bad("__metadata__ must map strings to strings") }
            metadata = strings
        }
        var entries: [(name: String, begin: Int, width: Int, tensor: Tensor)] = []
        for (name, entry) in header where name != "__metadata__" {
            guard let fields = entry as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shapeList = fields["shape"] as? [Any], let offsetList = fields["data_offsets"] as? [Any] else {
                throw bad("the entry of \(name) needs dtype, shape and data_offsets")
            }
            guard shapeList.count <= Tensor.maximumRank else {
                throw bad("\(name) has \(shapeList.count) axes, more than the \(Tensor.maximumRank) a tensor may have")
            }
            guard let shape = Self.wholeNumbers(shapeList) else { throw bad("the shape of \(name) is not a list of integers below 2^63 (written without a point or exponent)") }
            guard let offsets = Self.wholeNumbers(offsetList), offsets.count == 2 else {
                throw bad("the data_offsets of \(name) are not two integers [begin, end] below 2^63")
            }
            let width: Int
            switch dtype {
            case "F64": width = 8
            case "F32": width = 4
            default: throw bad("\(name) has dtype \(dtype); F64 and F32 are read")
            }
            guard let count = Tensor.checkedElementCount(shape), shape.allSatisfy({ $0 >= 0 }) else { throw bad("\(name) has shape \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            // Divided, not multiplied: a hostile shape's count × width (or start + end) would overflow.
            guard begin >= 0, end >= begin, end <= bytes.count - start, (end - begin) % width == 0, (end - begin) / width == count else {
                throw bad("the data of \(name) (offsets \(begin)…\(end), \(count) elements of \(width) bytes) does not fit the file")
            }
            var values = [Double](repeating: 0, count: count)
            for i in 0..<count {
                let base = start + begin + i * width
                var bits: UInt64 = 0
                for k in 0..<width { bits |= UInt64(bytes[base + k]) << (8 * UInt64(k)) }
                values[i] = width == 8 ? Double(bitPattern: bits) : Double(Float(bitPattern: UInt32(bits)))
            }
            entries.append((name, begin, width, Tensor(shape: shape, data: values)))
        }
        // As the format requires (and Python's safetensors checks): the tensors' data lie one after
        // another from the start of the data to the end of the file. Offsets that overlap read one
        // tensor's numbers as another's; a gap or a tail is bytes no tensor owns: a damaged file either way.
        let ordered = entries.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        var end = 0
        for entry in ordered {
            guard entry.begin == end else {
                throw bad(entry.begin < end
                    ? "the data of \(entry.name) (from byte \(entry.begin)) overlaps the tensor before it (to byte \(end))"
                    : "bytes \(end)…\(entry.begin) before the data of \(entry.name) belong to no tensor")
            }
            end = entry.begin + entry.tensor.count * (entry.width)
        }
        guard end == bytes.count - start else {
            throw bad("its tensors' data end at byte \(end) of \(bytes.count - start): the rest belongs to no tensor")
        }
        return SafeTensors(tensors: ordered.map { ($0.name, $0.tensor) }, metadata: metadata)
    }

    /// JSON numbers that are whole Ints (as `2`, not `2.5`, `1e30` or `true`); nil otherwise.
    static func wholeNumbers(_ list: [Any]) -> [Int]? {
        var numbers: [Int] = []
        for element in list {
            // JSON's true and false are NSNumbers too, of type "c" (a char): not sizes.
            guard let number = element as? NSNumber else { return nil }
            let value: Int?
            switch String(cString: number.objCType) {
            // A number written with a point or an exponent (`2.0`, `2e0`) is not the integer the
            // format's shape and offsets are (safetensors' own reader refuses it too).
            case "c", "d", "f": value = nil
            case "Q": value = number.uint64Value <= UInt64(Int.max) ? Int(number.uint64Value) : nil
            default: value = Int(exactly: number.int64Value)
            }
            guard let value else { return nil }
            numbers.append(value)
        }
        return numbers
    }
}
