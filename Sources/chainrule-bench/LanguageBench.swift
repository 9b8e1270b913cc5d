import ChainruleLanguage
import Foundation

/// Compiling large generated programs: the lexer, parser and compiler (and
/// the forward pass `compile` ends with) must stay well under 100 ms for
/// 10,000 lines in a release build; micrograd's demo step (65,612 scalar
/// bindings, issue 14) is compiled, run forward and backward, each timed.
enum LanguageBench {
    /// 10,000 bindings, each using the one before: x0 = 0.5, x1 = tanh(x0) * 0.9 + 0.1, …
    static func chainProgram(lines: Int) -> String {
        var text = "x0 = 0.5\n"
        for i in 1..<lines { text += "x\(i) = tanh(x\(i - 1)) * 0.9 + 0.1\n" }
        return text
    }

    /// 9,999 scalar leaves and one binding that adds them all: a 9,999-term sum.
    static func wideSumProgram(lines: Int) -> String {
        var text = ""
        for i in 0..<(lines - 1) { text += "a\(i) = \(Double(i % 97) / 10)\n" }
        text += "s = " + (0..<(lines - 1)).map { "a\($0)" }.joined(separator: " + ") + "\n"
        return text
    }

    static func run() throws {
        print("program                         lines   compile ms   forward ms   backward ms   nodes")
        let programs = [
            ("long chain", chainProgram(lines: 10_000)), ("wide sum", wideSumProgram(lines: 10_000)),
            ("micrograd demo step", MicrogradStep.program()),
        ]
        for (name, source) in programs {
            let compileSeconds = try EngineBench.median(warmUp: 1, runs: 5) { _ = try Compiler.compile(source: source, file: name) }
            let program = try Compiler.compile(source: source, file: name)
            let forwardSeconds = try EngineBench.median(warmUp: 1, runs: 5) { try program.forward() }
            let backwardSeconds = try EngineBench.median(warmUp: 1, runs: 5) { _ = try program.evaluate() }
            let lines = source.split(separator: "\n").count
            let label = name + String(repeating: " ", count: 30 - name.count)
            let compileOnly = compileSeconds - forwardSeconds
            print(label + String(format: "  %6d   %10.1f   %10.1f   %11.1f   %5d", lines, compileOnly * 1e3, forwardSeconds * 1e3, backwardSeconds * 1e3, program.nodeCount))
        }
        print("(median of 5 after one warm-up; compile is lexing, parsing and building the graph or the scalar tape,")
        print(" without the forward pass it ends with; backward is evaluate(): backpropagation and the leaves' gradients)")
    }
}
