import ChainruleCore
import Foundation

/// A compiled `.grad` program: its graph, forward pass done, and which node
/// is the output.
public struct Program {
    /// Every node carries its `SourceLocation`; bindings name their nodes;
    /// leaves are `.input` (bound literals and initialisers), `.param` (layer
    /// parameters) or `.constant` (`const(…)`, inline literals, labels).
    /// A program of scalars builds it from its tape when first asked.
    public var graph: Graph { nodes.graph }
    /// The graph, or the scalar tape it is built from.
    let nodes: ProgramNodes
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
    /// The mini-batch inputs it declares (`data(…)`, `labels()`), if any.
    public let dataInputs: DataInputs

    init(
        nodes: ProgramNodes, output: NodeID, outputName: String, notes: [String], source: String, file: String?,
        customOperations: [String: CustomOperation] = [:], dataInputs: DataInputs = DataInputs()
    ) {
        self.nodes = nodes
        self.output = output
        self.outputName = outputName
        self.notes = notes
        self.source = source
        self.file = file
        self.customOperations = customOperations
        self.dataInputs = dataInputs
    }

    /// How many nodes the program has, without building its graph.
    public var nodeCount: Int { nodes.unbuiltTape?.count ?? graph.count }

    /// Runs the forward pass again, as after a leaf of `graph` changed.
    public func forward() throws(DiagnosticList) {
        if nodes.forwardTape() { return }
        do {
            try graph.forward()
        } catch {
            throw DiagnosticList([Diagnostic(error.message, at: error.location ?? SourceLocation(file: file, line: 0, column: 0))])
        }
    }
}

/// Where a program's nodes are: a `Graph`, or a `ScalarTape` that builds
/// its graph the first time someone asks for it (a figure, a check,
/// `--init-from`). From then on the graph is the program: it may change.
final class ProgramNodes {
    private var tape: ScalarTape?
    private var built: Graph?

    init(_ graph: Graph) { built = graph }
    init(_ tape: ScalarTape) { self.tape = tape }

    var graph: Graph {
        if let built { return built }
        let graph = tape!.graph()
        built = graph
        tape = nil
        return graph
    }

    /// The tape, while the graph has not been built from it.
    var unbuiltTape: ScalarTape? { built == nil ? tape : nil }

    /// Reruns the tape's forward pass; false when it has none (or a rule gave none).
    func forwardTape() -> Bool {
        guard built == nil, tape != nil else { return false }
        return tape!.forward()
    }
}

/// How a program is compiled.
public struct CompileOptions: Sendable {
    /// The largest tensor, in elements, a program may create (a literal, an
    /// initialiser, a loaded file or an op's output). Checked from shapes,
    /// before anything is allocated. Default 50 million (400 MB of Float64).
    public var maxElements: Int
    /// The op-node budget: how many registry ops one `op` block may expand
    /// to (its forward and backward rules, the ops it calls counted with
    /// their own size), and how many all the uses of op blocks in a program
    /// may expand to together. Checked from the rules, before anything runs.
    /// Default 1,000,000: a few seconds of shape rules at worst, and far more
    /// than a rule written by hand needs (an op that calls another twice
    /// doubles, which is what the budget is for).
    public var maxOpNodes: Int
    /// The memory budget, in bytes: what all the tensors of the program may
    /// keep together (a value and a gradient for every node, 8 bytes an
    /// element), counted from shapes as the program is compiled and refused
    /// at the line that passes it, before any tensor is allocated. Default
    /// `defaultMaxMemory`, a quarter of the machine's memory.
    public var maxMemory: Int
    /// Values for scalar leaves, as `--at x=1,y=2` gives them: a binding
    /// `x = <number>` takes this value instead, and a name the program uses
    /// without binding it becomes a scalar input with this value.
    public var at: [String: Double]
    /// Where `load("file.npy")` looks for relative paths; `nil` is the
    /// current directory.
    public var baseDirectory: String?
    /// The mini-batch `data(…)` and `labels()` are bound to; nil binds them
    /// to a seeded random batch of `randomBatchSize` examples.
    public var batch: DataBatch?

    public init(
        maxElements: Int = 50_000_000, maxOpNodes: Int = 1_000_000, maxMemory: Int = CompileOptions.defaultMaxMemory,
        at: [String: Double] = [:], baseDirectory: String? = nil
    ) {
        self.maxElements = maxElements
        self.maxOpNodes = maxOpNodes
        self.maxMemory = maxMemory
        self.at = at
        self.baseDirectory = baseDirectory
    }

    /// A problem with the text of an `--at` option.
    public struct AtSyntaxError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `--at` values into `["x": 1, "y": -2.5]`: each string holds
    /// one or more `name=value` pairs separated by commas (`x=1,y=-2.5`), as
    /// one `--at` option gives them, so repeated options are passed as a
    /// list. A name set twice, in one string or across them, is refused.
    /// Values follow the language's own number rules (a sign, then `2`,
    /// `0.5`, `.5`, `1e-3`): `0x10`, `inf` and `1e999` are refused as a
    /// program refuses them.
    public static func parseAt(_ assignments: [String]) throws(AtSyntaxError) -> [String: Double] {
        var values: [String: Double] = [:]
        var written: [String: String] = [:]
        for part in assignments.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: true) }) {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else {
                throw AtSyntaxError(description: "--at expects name=value pairs separated by commas (x=1,y=2), found '\(part)'")
            }
            let name = pieces[0].trimmingCharacters(in: .whitespaces)
            let valueText = pieces[1].trimmingCharacters(in: .whitespaces)
            guard Lexer.isName(name) else {
                throw AtSyntaxError(description: "--at: '\(name)' is not a name (letters, digits and _, not starting with a digit)")
            }
            let value = try number(valueText, for: name)
            if let first = written[name] {
                throw AtSyntaxError(description: "--at sets \(name) twice (\(name)=\(first) and \(name)=\(valueText)); give it once")
            }
            values[name] = value
            written[name] = valueText
        }
        return values
    }

    /// A number as a program writes it, with an optional sign, read by the
    /// language's own lexer (`WrittenNumber`).
    private static func number(_ text: String, for name: String) throws(AtSyntaxError) -> Double {
        switch WrittenNumber.read(text) {
        case .success(let value): return value
        case .failure(let problem): throw AtSyntaxError(description: "--at \(name)=\(text): \(problem)")
        }
    }
}

extension Program {
    /// A program whose graph another front end built (an imported ONNX
    /// model): it has no source text and no op blocks.
    public init(graph: Graph, output: NodeID, outputName: String, notes: [String], file: String?) {
        self.init(nodes: ProgramNodes(graph), output: output, outputName: outputName, notes: notes, source: "", file: file)
    }
}

/// A number as a program writes one — `2`, `-0.5`, `1e-3`, `+4` — read by the
/// language's own lexer: the one definition of a number for `--at` and every
/// numeric option of the command line, so `0x10`, `nan`, `inf` and `1_000`,
/// which a program would not take, are refused alike.
public enum WrittenNumber {
    /// Why a text is no number as a program writes one.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The number `text` spells (an optional sign, then one number token), or why it spells none.
    public static func read(_ text: String) -> Result<Double, Problem> {
        let (tokens, problems) = Lexer.tokenize(text, file: nil)
        // The one lexer problem worth its own words: a number too large.
        if let problem = problems.first, Double(text)?.isInfinite == true {
            return .failure(Problem(description: problem.message))
        }
        var kinds = tokens.map(\.kind)[...]
        var sign = 1.0
        if kinds.first == .symbol("-") || kinds.first == .symbol("+") {
            sign = kinds.first == .symbol("-") ? -1 : 1
            kinds = kinds.dropFirst()
        }
        guard problems.isEmpty, kinds.count == 2, case .number(let value)? = kinds.first, kinds.last == .end else {
            return .failure(Problem(description: "'\(text)' is not a number as a program writes one (2, -0.5, 1e-3)"))
        }
        return .success(sign * value)
    }
}
