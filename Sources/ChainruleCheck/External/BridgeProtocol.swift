import ChainruleCore
import Foundation

/// The pipe protocol between chainrule and the `chainrule` Python module (version 1).
///
/// Every message is a frame: a 4-byte ASCII tag, the body's length as a little-endian
/// `UInt32`, the body. Numbers are little-endian float64 (branch patterns int64), arrays
/// row-major, so a batch of perturbed points costs one binary copy each way instead of
/// text formatting and parsing. `chainrule.py` ends with the same description.
enum BridgeProtocol {
    static let version = 1
    /// The variable naming the child's ends of the two pipes, `"READ,WRITE"`.
    static let fdsVariable = "CHAINRULE_BRIDGE_FDS"
    /// The child's file descriptors for requests (it reads) and replies (it writes).
    static let childRequestFD: Int32 = 3
    static let childReplyFD: Int32 = 4
    /// The longest `HELO` body: the inputs and the output, 2²⁸ bytes (32 Mi float64s).
    /// Every other reply is bounded by its request (`ExternalOperation`'s limits).
    static let maximumHello = 1 << 28
    /// The longest `ERR ` body: a message and a traceback, 16 MiB.
    static let maximumErrorFrame = 1 << 24

    /// The frames' tags.
    enum Tag: String {
        /// Python → chainrule, once: the layer's metadata, its inputs and its output at them.
        case hello = "HELO"
        /// chainrule → Python: `UInt32 P`, then P points (every input's values, one after the other).
        case forward = "FWD "
        /// Python → chainrule: `UInt32 first`, `UInt32 k`, then k outputs (each with its branch pattern).
        case outputs = "OUTS"
        /// chainrule → Python: the inputs, the output, the upstream gradient.
        case backward = "BWD "
        /// Python → chainrule: per input a byte 1 and its gradient, or a byte 0 for none.
        case gradients = "GRAD"
        /// Python → chainrule, instead of an answer: JSON `{kind, message, traceback}`.
        case error = "ERR "
        /// chainrule → Python: `serve()` returns.
        case end = "END "

        var bytes: [UInt8] { Array(rawValue.utf8) }
    }

    /// The JSON at the start of `HELO`.
    struct Hello: Decodable {
        struct Input: Decodable {
            var name: String
            var shape: [Int]
            var dtype: String
            var differentiable: Bool
        }

        var `protocol`: Int
        var name: String
        var file: String?
        var line: Int?
        var python: String?
        var numpy: String?
        var torch: String?
        var inputs: [Input]
        var output: [Int]
        var branches: Bool
    }

    /// The JSON of `ERR `.
    struct Failure: Decodable {
        var kind: String
        var message: String
        var traceback: String
    }
}

/// Appends little-endian numbers to a frame body.
struct FrameWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ values: [Double]) {
        values.withUnsafeBufferPointer { buffer in
            #if _endian(little)
            bytes.append(contentsOf: UnsafeRawBufferPointer(buffer))
            #else
            for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            #endif
        }
    }

    /// The whole frame: tag, length, body.
    static func frame(_ tag: BridgeProtocol.Tag, _ body: [UInt8]) -> [UInt8] {
        var header = FrameWriter(capacity: 8 + body.count)
        header.bytes.append(contentsOf: tag.bytes)
        header.append(UInt32(body.count))
        return header.bytes + body
    }
}

/// Reads little-endian numbers from a frame body, refusing to read past its end.
struct FrameReader {
    private let bytes: [UInt8]
    private(set) var offset = 0
    /// What the frame is, for the protocol error when it is short.
    private let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    private func require(_ count: Int) throws(ExternalError) {
        guard count >= 0, count <= remaining else {
            throw .protocolViolation("\(what) ends early: \(count) more bytes wanted at byte \(offset) of \(bytes.count)")
        }
    }

    mutating func uint32() throws(ExternalError) -> Int {
        try require(4)
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { target in
            for k in 0..<4 { target[k] = bytes[offset + k] }
        }
        offset += 4
        return Int(UInt32(littleEndian: value))
    }

    mutating func byte() throws(ExternalError) -> UInt8 {
        try require(1)
        offset += 1
        return bytes[offset - 1]
    }

    mutating func raw(_ count: Int) throws(ExternalError) -> [UInt8] {
        try require(count)
        offset += count
        return Array(bytes[(offset - count)..<offset])
    }

    mutating func doubles(_ count: Int) throws(ExternalError) -> [Double] {
        try require(count.multipliedReportingOverflow(by: 8).overflow ? -1 : count * 8)
        var values = [Double](repeating: 0, count: count)
        values.withUnsafeMutableBytes { target in
            bytes.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count * 8)]))
            }
        }
        #if !_endian(little)
        for k in values.indices { values[k] = Double(bitPattern: UInt64(littleEndian: values[k].bitPattern)) }
        #endif
        offset += count * 8
        return values
    }

    mutating func int64s(_ count: Int) throws(ExternalError) -> [Int] {
        let data = try raw(count.multipliedReportingOverflow(by: 8).overflow ? -1 : count * 8)
        return (0..<count).map { k in
            var value: Int64 = 0
            withUnsafeMutableBytes(of: &value) { target in
                for b in 0..<8 { target[b] = data[k * 8 + b] }
            }
            return Int(Int64(littleEndian: value))
        }
    }

    func requireEnd() throws(ExternalError) {
        guard remaining == 0 else {
            throw .protocolViolation("\(what) has \(remaining) bytes more than it should")
        }
    }
}
