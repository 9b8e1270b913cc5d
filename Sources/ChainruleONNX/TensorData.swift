import ChainruleCore
import Foundation

/// The limits a model is read under, so a hostile file is refused before it
/// allocates: the same budgets `chainrule` gives `.grad` programs
/// (`--max-elements`, `--max-memory`).
public struct ONNXLimits: Sendable {
    /// The most elements one tensor may have (a weight, an input or an op's output).
    public var maxElements: Int
    /// The most bytes the graph's tensors may keep together: a value and a
    /// gradient per node, 8 bytes an element, counted from shapes before any
    /// tensor is allocated.
    public var maxMemory: Int

    public init(maxElements: Int, maxMemory: Int) {
        self.maxElements = maxElements
        self.maxMemory = maxMemory
    }
}

/// The element types Chainrule reads, and their width in `raw_data`.
enum ElementType {
    case float32, float64, int64, int32

    init(_ code: Int32, tensor: String) throws(ONNXError) {
        switch Int(code) {
        case Onnx_TensorProto.DataType.float.rawValue: self = .float32
        case Onnx_TensorProto.DataType.double.rawValue: self = .float64
        case Onnx_TensorProto.DataType.int64.rawValue: self = .int64
        case Onnx_TensorProto.DataType.int32.rawValue: self = .int32
        default:
            let name = Onnx_TensorProto.DataType(rawValue: Int(code)).map { "\($0)" } ?? "code \(code)"
            throw ONNXError("tensor '\(tensor)' has element type \(name); Chainrule reads FLOAT, DOUBLE, INT64 and INT32 tensors")
        }
    }

    var byteWidth: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}

/// Reads a `TensorProto`'s elements into Float64, wherever the file keeps
/// them: `float_data`, `double_data`, `int64_data`, `int32_data`, `raw_data`
/// (little-endian) or an external file inside the model's folder.
struct TensorReader {
    /// The model's folder; external data must lie inside it. `nil` for a
    /// model read from memory, which may not use external data.
    var folder: URL?
    var limits: ONNXLimits

    /// The shape of `tensor`, refused when a size is negative or the count passes `maxElements`.
    func shape(of tensor: Onnx_TensorProto) throws(ONNXError) -> [Int] {
        guard tensor.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }) else {
            throw ONNXError("tensor '\(tensor.name)' has a negative size in its dims \(tensor.dims)")
        }
        guard tensor.dims.count <= Tensor.maximumRank else {
            throw ONNXError("tensor '\(tensor.name)' has \(tensor.dims.count) axes, more than the \(Tensor.maximumRank) a tensor may have")
        }
        let shape = tensor.dims.map { Int($0) }
        guard let count = Tensor.checkedElementCount(shape), count <= limits.maxElements else {
            throw ONNXError("tensor '\(tensor.name)' of shape \(describeShape(shape)) has more than \(limits.maxElements) elements, the limit (--max-elements); it was not read")
        }
        return shape
    }

    /// The tensor's elements in row-major order, as Float64.
    func read(_ tensor: Onnx_TensorProto) throws(ONNXError) -> Tensor {
        let shape = try self.shape(of: tensor)
        let count = Tensor.elementCount(shape)
        let type = try ElementType(tensor.dataType, tensor: tensor.name)
        func counted(_ values: [Double], field: String) throws(ONNXError) -> Tensor {
            guard values.count == count else {
                throw ONNXError("tensor '\(tensor.name)' of shape \(describeShape(shape)) needs \(count) elements, but its \(field) holds \(values.count)")
            }
            return Tensor(shape: shape, data: values)
        }
        if tensor.dataLocation == .external {
            return Tensor(shape: shape, data: decode(try externalBytes(tensor, byteCount: count * type.byteWidth), type))
        }
        if !tensor.rawData.isEmpty {
            guard tensor.rawData.count == count * type.byteWidth else {
                throw ONNXError("tensor '\(tensor.name)' of shape \(describeShape(shape)) needs \(count * type.byteWidth) bytes of raw_data, but has \(tensor.rawData.count)")
            }
            return Tensor(shape: shape, data: decode(tensor.rawData, type))
        }
        switch type {
        case .float32: return try counted(tensor.floatData.map { Double($0) }, field: "float_data")
        case .float64: return try counted(tensor.doubleData, field: "double_data")
        case .int64: return try counted(tensor.int64Data.map { Double($0) }, field: "int64_data")
        case .int32: return try counted(tensor.int32Data.map { Double($0) }, field: "int32_data")
        }
    }

    /// Little-endian fixed-width elements, as `raw_data` and external files hold them.
    private func decode(_ bytes: Data, _ type: ElementType) -> [Double] {
        let width = type.byteWidth
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / width)).map { i in
                switch type {
                case .float32: Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
                case .float64: Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                case .int64: Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                case .int32: Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                }
            }
        }
    }

    /// The bytes an external tensor names: `location` (relative to the
    /// model's folder, and refused if it leads out of it, through `..`, an
    /// absolute path or a symbolic link), from `offset`, `length` bytes.
    private func externalBytes(_ tensor: Onnx_TensorProto, byteCount: Int) throws(ONNXError) -> Data {
        let entries = Dictionary(tensor.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let name = tensor.name
        guard let folder else {
            throw ONNXError("tensor '\(name)' keeps its data in an external file, which a model read from memory cannot follow")
        }
        guard let location = entries["location"], !location.isEmpty else {
            throw ONNXError("tensor '\(name)' is marked external but names no location")
        }
        let root = folder.standardizedFileURL.resolvingSymlinksInPath()
        let file = root.appendingPathComponent(location).standardizedFileURL.resolvingSymlinksInPath()
        guard !location.hasPrefix("/"), file.path.hasPrefix(root.path + "/") else {
            throw ONNXError("tensor '\(name)' names external data '\(location)', which is outside the model's folder \(root.path); external data is read only from that folder")
        }
        func number(_ key: String) throws(ONNXError) -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw ONNXError("tensor '\(name)': external data \(key) '\(text)' is not a byte count")
            }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? byteCount
        guard length == byteCount else {
            throw ONNXError("tensor '\(name)' needs \(byteCount) bytes but its external data length is \(length)")
        }
        // Opened as a regular file or refused: a named pipe inside the folder would wait forever.
        let handle: FileHandle
        do { handle = try InputFiles.open(file.path, kind: "a file of tensor data") } catch {
            throw ONNXError("tensor '\(name)': cannot read its external data file '\(location)' in \(root.path): \(error.reason)")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()).map { Int($0) } ?? 0
        guard offset <= size, length <= size - offset else {
            throw ONNXError("tensor '\(name)': external data file '\(location)' has \(size) bytes, too few for \(length) bytes from offset \(offset)")
        }
        guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let data = try? handle.read(upToCount: length), data.count == length else {
            throw ONNXError("tensor '\(name)': cannot read \(length) bytes of '\(location)' from offset \(offset)")
        }
        return data
    }
}
