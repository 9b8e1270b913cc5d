import ChainruleCore
import Foundation

/// A compiled `.grad` program: its graph, forward pass done, and which node
/// is the output.
public struct Program {
    /// Every node carries its `SourceLocation`; bindings name their nodes;
    /// leaves are `.input` (bound literals and initialisers), `.param` (layer
    /// parameters) or `.constant` (`const(…)`, inline literals, labels).
    public let graph: Graph
    public let output: NodeID
    /// The binding the output comes from (a bare expression's own text).
    public let outputName: String
    /// Things the person should know that are not errors (a non-scalar output
    /// differentiated as its sum, a NaN in the forward pass).
    public let notes: [String]
    public let source: String
    public let file: String?
    /// The `op` blocks of the program, by name.
    public let customOperations: [String: CustomOperation]
}

/// How a program is compiled.
public struct CompileOptions: Sendable {
    /// The largest tensor, in elements, a program may create (a literal, an
    /// initialiser, a loaded file or an op's output). Checked from shapes,
    /// before anything is allocated. Default 50 million (400 MB of Float64).
    public var maxElements: Int
    /// Values for scalar leaves, as `--at x=1,y=2` gives them: a binding
    /// `x = <number>` takes this value instead, and a name the program uses
    /// without binding it becomes a scalar input with this value.
    public var at: [String: Double]
    /// Where `load("file.npy")` looks for relative paths; `nil` is the
    /// current directory.
    public var baseDirectory: String?

    public init(maxElements: Int = 50_000_000, at: [String: Double] = [:], baseDirectory: String? = nil) {
        self.maxElements = maxElements
        self.at = at
        self.baseDirectory = baseDirectory
    }

    /// A problem with the text of an `--at` option.
    public struct AtSyntaxError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `x=1,y=-2.5` into `["x": 1, "y": -2.5]`.
    public static func parseAt(_ text: String) throws(AtSyntaxError) -> [String: Double] {
        var values: [String: Double] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else {
                throw AtSyntaxError(description: "--at expects name=value pairs separated by commas (x=1,y=2), found '\(part)'")
            }
            let name = pieces[0].trimmingCharacters(in: .whitespaces)
            let valueText = pieces[1].trimmingCharacters(in: .whitespaces)
            guard Lexer.isName(name) else {
                throw AtSyntaxError(description: "--at: '\(name)' is not a name (ASCII letters, digits and _, not starting with a digit)")
            }
            guard let value = Double(valueText) else {
                throw AtSyntaxError(description: "--at \(name)=\(valueText): '\(valueText)' is not a number")
            }
            guard values[name] == nil else {
                throw AtSyntaxError(description: "--at sets \(name) twice")
            }
            values[name] = value
        }
        return values
    }
}
