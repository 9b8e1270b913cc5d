import ChainruleCore
@testable import ChainruleLanguage
import Foundation

/// Compiles and evaluates a program that must be valid.
func evaluate(_ source: String, options: CompileOptions = .init()) throws -> Evaluation {
    try Compiler.compile(source: source, file: "test.grad", options: options).evaluate()
}

/// The diagnostics of a program that must fail to compile.
func diagnostics(_ source: String, options: CompileOptions = .init()) -> [Diagnostic] {
    do {
        _ = try Compiler.compile(source: source, file: "test.grad", options: options)
        return []
    } catch {
        return error.diagnostics
    }
}

/// The parse tree of one expression, fully parenthesised.
func parseTree(_ text: String) -> String {
    let (tokens, _) = Lexer.tokenize("e = " + text, file: nil)
    let parsed = Parser.parse(tokens, source: "e = " + text, file: nil)
    guard case .binding(_, _, let value)? = parsed.statements.first else { return "<no statement>" }
    return value.description
}

extension Evaluation {
    func gradient(_ name: String) -> Tensor? { gradients.first { $0.name == name }?.gradient }
}

/// Runs `body` with a fresh temporary folder for the files a test writes,
/// and deletes the folder afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-language-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// The bytes of a version-1 `.npy` file with this header dictionary and data.
func npyBytes(header: String, data: [UInt8]) -> [UInt8] {
    var dictionary = Array(header.utf8)
    // Pad so magic + version + length + header is a multiple of 64, ending in a newline.
    while (10 + dictionary.count + 1) % 64 != 0 { dictionary.append(UInt8(ascii: " ")) }
    dictionary.append(UInt8(ascii: "\n"))
    let length = UInt16(dictionary.count)
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + dictionary + data
}

func littleEndianBytes(_ values: [Double]) -> [UInt8] {
    values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt64($0))) } }
}
