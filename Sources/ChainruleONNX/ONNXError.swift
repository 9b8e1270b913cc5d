/// Why an ONNX model could not be read or imported, in words for the person
/// who gave the file: what was wrong, where (the node or tensor), and what
/// would be right. `chainrule` prints it and exits 2.
public struct ONNXError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
