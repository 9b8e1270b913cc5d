import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// A program of scalars compiles to a tape (from its bytes, or from its
/// statements) instead of a graph. Whichever front end takes it, the
/// program must be the same: the same nodes (ops, inputs, names, roles,
/// places), the same bits in every value and gradient, the same output of
/// `chainrule eval`, and for a bad program the same diagnostics.
@Suite struct ScalarTapeTests {
    static func compiled(_ source: String, _ frontEnds: Compiler.FrontEnds, options: CompileOptions = .init()) throws -> Program {
        try Compiler.compile(source: source, file: "test.grad", options: options, frontEnds: frontEnds)
    }

    /// Which front end a program went to: a tape, or a graph.
    static func isTape(_ program: Program) -> Bool { program.nodes.unbuiltTape != nil }

    /// Compiles `source` with every front end, checks each against the
    /// general compiler, and says which of the fast ones took it.
    @discardableResult
    static func expectSameAsGeneral(_ source: String, options: CompileOptions = .init(), sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (reader: Bool, statements: Bool) {
        let general = try compiled(source, .general, options: options)
        let reader = try compiled(source, .all, options: options)
        let statements = try compiled(source, .statements, options: options)
        let taken = (ScalarReader.read(source, file: "test.grad", options: options) != nil, isTape(statements))
        #expect(isTape(reader) == (taken.0 || taken.1), sourceLocation: sourceLocation)
        let expected = try general.evaluate()
        for program in [reader, statements] {
            // The tape's own evaluation, then the graph built from the tape.
            let evaluation = try program.evaluate()
            #expect(evaluation.json() == expected.json(), "\(source)", sourceLocation: sourceLocation)
            #expect(evaluation.text() == expected.text(), sourceLocation: sourceLocation)
            #expect(bits(evaluation) == bits(expected), sourceLocation: sourceLocation)
            #expect(program.output == general.output && program.outputName == general.outputName, sourceLocation: sourceLocation)
            // Evaluating again runs the graph's backward pass, filling its gradients.
            let graph = program.graph
            #expect(!isTape(program), sourceLocation: sourceLocation)
            #expect(try bits(program.evaluate()) == bits(expected), sourceLocation: sourceLocation)
            expectSameNodes(graph, general.graph, sourceLocation: sourceLocation)
        }
        return taken
    }

    static func bits(_ evaluation: Evaluation) -> [UInt64] {
        evaluation.value.data.map(\.bitPattern) + evaluation.gradients.flatMap { $0.gradient.data.map(\.bitPattern) }
    }

    static func expectSameNodes(_ a: Graph, _ b: Graph, sourceLocation: Testing.SourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a.nodes, b.nodes) {
            #expect(x.op?.name == y.op?.name && x.op?.attributes == y.op?.attributes, "node \(x.id)", sourceLocation: sourceLocation)
            #expect(x.inputs == y.inputs && x.name == y.name && x.role == y.role, "node \(x.id)", sourceLocation: sourceLocation)
            #expect(x.location == y.location && x.shape == y.shape && x.layer == y.layer, "node \(x.id)", sourceLocation: sourceLocation)
            #expect(x.value?.data.map(\.bitPattern) == y.value?.data.map(\.bitPattern), "node \(x.id)", sourceLocation: sourceLocation)
            #expect(x.gradient?.data.map(\.bitPattern) == y.gradient?.data.map(\.bitPattern), "node \(x.id)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Every op with a scalar rule

    /// The registry ops with scalar rules, each with a point of its domain.
    static let scalarOps: [(name: String, sample: OpSample)] = Registry.specs.compactMap { spec in
        guard let sample = spec.samples.first(where: { $0.op.scalarForward(0.5, 0.5) != nil }) else { return nil }
        return (spec.name, sample)
    }

    @Test func theOpsWithScalarRulesIncludeTheElementwiseFamily() {
        let names = Self.scalarOps.map(\.name)
        for name in ["add", "sub", "mul", "div", "neg", "tanh", "relu", "exp", "sigmoid", "pow_const"] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test(arguments: scalarOps.map(\.name))
    func everyOpWithAScalarRuleRunsOnTheTape(name: String) throws {
        let sample = try #require(Self.scalarOps.first { $0.name == name }?.sample)
        let inputs = sample.inputs.map { $0.data[0] }
        let attributes = sample.op.attributes.sorted { $0.key < $1.key }.map { ", \($0.key): \($0.value)" }.joined()
        let arguments = ["x", "y"].prefix(inputs.count).joined(separator: ", ")
        let source = """
            x = \(inputs[0])
            y = \(inputs.count > 1 ? inputs[1] : 0.25)
            f = \(name)(\(arguments)\(attributes))
            g = f * x - y / 2 + f
            """
        let taken = try Self.expectSameAsGeneral(source)
        #expect(taken.statements, "\(name) is not compiled to the tape from its statements")
        #expect(taken.reader == attributes.isEmpty, "\(name): the byte reader takes calls without named arguments")
    }

    // MARK: Programs

    @Test func theCS231nCircuitGivesItsNumbersOnTheTape() throws {
        let source = "x = -2\ny = 5\nz = -4\nq = x + y\nf = q * z\n"
        let program = try Self.compiled(source, .all)
        #expect(Self.isTape(program))
        let evaluation = try program.evaluate()
        #expect(evaluation.value.data == [-12])
        #expect(evaluation.gradients.map(\.name) == ["x", "y", "z"])
        #expect(evaluation.gradients.map(\.gradient.data) == [[-4], [-4], [3]])
        try Self.expectSameAsGeneral(source)
    }

    @Test(arguments: [
        // literals where a binding or an operator uses them
        "a = -(1.5)\nb = +2\nc = (3)\nd = .25 + 1e-3 * 2.5E+1\ne = a * b + c - d\n",
        // precedence, signs and powers: -x^2 is -(x^2), 2^3^2 is 2^(3^2), x^-2
        "x = 0.7\ny = -x^2 + 2^3 * x^-2 - (x - 1) / (x + 1) ^ 2 + -2^2\n",
        // aliases keep the node and its name; a node made by a binding takes the binding's
        "a = 2\nb = a\nc = (b)\nd = c * c\n",
        // a literal as a whole binding, repeated uses, unreachable leaves
        "a = 3\nunused = 4\nb = a * a * a\n",
        // comments, blank lines, tabs and CRLF line ends
        "# a comment\n\na = 1 # trailing\r\n\tb = a + 2\t# more\n\n",
        // a constant-only program, no leaf gets a gradient
        "y = 2 * 3\n",
        // the last line without a line end
        "x = 0.5\ny = tanh(x) * sigmoid(x) + exp(x) - relu(x)",
        // functions and operators mixed, one call inside another
        "x = -0.3\ny = 0.8\nz = tanh(relu(x) + y * exp(-x)) / (1 + sigmoid(y))\n",
        // a name that is also an op's
        "relu = 2\ny = relu(relu - 3)\n",
        // mixed levels: each operator's node once its right operand is read, left to right within a level
        "a = 2\nb = 3\nc = 5\nd = a - b * c / a + c * -b - a / b / c * 4 + 7\n",
        // names that begin another name, or end where a digit, a letter or _ would continue it
        "t1 = 0.5\nt12 = t1 * 2\nt_1 = t12 + t1\nt1_ = t_1 * t12\nt = t1_ - t1 + t12 * t_1\n",
        // long names that differ only past their first 8 or 16 bytes, or only in length
        "weights_1 = 0.5\nweights_2 = 2\nweights2 = 3\nweights_layer_0_a = weights_1 * weights_2\nweights_layer_0_b = weights_layer_0_a + weights2\nweights_layer_0_ab = weights_layer_0_b * weights_layer_0_a\n",
    ])
    func aScalarProgramIsTheSameOnTheTape(source: String) throws {
        let taken = try Self.expectSameAsGeneral(source)
        #expect(taken.reader && taken.statements)
    }

    @Test(arguments: [
        // read from their statements: a line broken inside parentheses, `;`, `output`, a non-ASCII name
        "a = (1 +\n 2)\nb = a * 3\n",
        "a = 1; b = a * 2\n",
        "a = 2\nb = a * 3\nc = b + 1\noutput b\n",
        "α = 0.5\nβ = α * 2\n",
        // named arguments
        "x = -1.5\ny = leaky_relu(x, slope: 0.2) * 3\n",
        // a bare expression, as -e gives one
        "(2 + 3) * 4\n",
    ])
    func theTapeTakesScalarStatementsTheByteReaderLeaves(source: String) throws {
        let taken = try Self.expectSameAsGeneral(source)
        #expect(!taken.reader && taken.statements)
    }

    @Test(arguments: [
        // tensors, layers, initialisers, op blocks, --at: the graph's
        "x = [1, 2]\ny = sum(x * x)\n",
        "x = randn(3, seed: 1)\ny = sum(x)\n",
        "op sq(x) {\n  forward: x * x\n  backward: 2 * x * grad\n}\ny = sq(3)\n",
        // pow with an exponent that is not a literal has no scalar rule: 2^3^2 is 2^(3^2)
        "x = 1.5\ny = x ^ x\n",
        "y = 2^3^2\n",
        // a NaN, which the general compiler notes where it appears
        "x = 0 - 1\ny = log(x)\n",
        "x = 0\ny = 1 / x\nz = y - y\n",
    ])
    func programsTheTapeDoesNotHoldGoToTheGraph(source: String) throws {
        let taken = try Self.expectSameAsGeneral(source)
        #expect(!taken.reader && !taken.statements)
    }

    @Test func atValuesGoToTheGeneralCompiler() throws {
        var options = CompileOptions()
        options.at = ["x": 3]
        let taken = try Self.expectSameAsGeneral("x = 1\ny = x * z\n", options: {
            var with = options
            with.at["z"] = 2
            return with
        }())
        #expect(!taken.reader && !taken.statements)
    }

    @Test func theMemoryBudgetCountsTheTapesNodes() throws {
        // 4 nodes of 16 bytes (a value and a gradient) each.
        let source = "a = 1\nb = 2\nc = a * b\nd = c + a\n"
        try Self.expectSameAsGeneral(source, options: CompileOptions(maxMemory: 64))
        let refused = Self.diagnostics(source, .all, options: CompileOptions(maxMemory: 63))
        #expect(refused == Self.diagnostics(source, .general, options: CompileOptions(maxMemory: 63)))
        #expect(refused.contains("over the memory budget"))
    }

    /// Random scalar programs: every front end gives the general compiler's program.
    @Test func randomScalarProgramsAreTheSameOnTheTape() throws {
        var random = SeededGenerator(seed: 14)
        var read = 0
        for _ in 0..<60 {
            let source = Self.randomProgram(&random)
            if try Self.expectSameAsGeneral(source).reader {
                read += 1
            } else {
                // Left to the graph only for its note on a NaN or an infinity.
                let notes = try Self.compiled(source, .general).evaluate().notes
                #expect(notes.contains { $0.contains("NaN or infinity") }, "\(source)")
            }
        }
        #expect(read >= 40)
    }

    static func randomProgram(_ random: inout SeededGenerator) -> String {
        let literals = ["2", "0.5", ".25", "1e-1", "3.5E+0", "(1.5)", "-0.75", "-(2)", "+1"]
        let functions = ["tanh", "sigmoid", "relu", "exp", "softplus", "neg", "abs"].filter { name in scalarOps.contains { $0.name == name } }
        var names: [String] = []
        var lines = ["# generated"]
        func operand(_ depth: Int) -> String {
            switch random.next(below: depth > 2 ? 2 : 6) {
            case 0 where !names.isEmpty: return names[random.next(below: names.count)]
            case 0, 1: return literals[random.next(below: literals.count)]
            case 2: return "\(functions[random.next(below: functions.count)])(\(operand(depth + 1)))"
            case 3: return "(\(operand(depth + 1)) \(["+", "-", "*"][random.next(below: 3)]) \(operand(depth + 1)))"
            case 4: return "-\(operand(depth + 1))"
            // a^b^c is a^(b^c), whose exponent is not a literal: no scalar rule.
            default: return "(\(operand(depth + 1)))^\(["2", "-1", "3"][random.next(below: 3)])"
            }
        }
        for i in 0..<12 {
            let name = "v\(i)"
            let space = [" ", "", "  "][random.next(below: 3)]
            var value = operand(0)
            for _ in 0..<random.next(below: 4) {
                value += "\(space)\(["+", "-", "*", "/"][random.next(below: 4)])\(space)" + operand(1)
            }
            lines.append("\(name) = \(value)" + (random.next(below: 4) == 0 ? "  # note" : ""))
            names.append(name)
        }
        lines.append("out = " + names.suffix(4).joined(separator: " * 0.5 + "))
        return lines.joined(separator: random.next(below: 5) == 0 ? "\r\n" : "\n") + "\n"
    }

    /// Short lines hold more nodes per byte than the tape is first sized
    /// for (a generated line of some 16 bytes a node): its columns grow,
    /// and the name table, sized by the text's `=` bytes, holds every name.
    @Test func manyShortBindingsAreAllFound() throws {
        var lines = (0..<3000).map { "v\($0)=\($0 % 7)" }
        lines += (1..<3000).map { "s\($0)=\($0 == 1 ? "v0" : "s\($0 - 1)")*v\($0)+1" }
        let taken = try Self.expectSameAsGeneral(lines.joined(separator: "\n"))
        #expect(taken.reader)
    }

    /// Names that share their first 8 or 16 bytes, or are exactly 8 or 16
    /// bytes long, are told apart: the reader's table compares a name's
    /// first word, then the rest of its bytes.
    @Test func namesThatShareTheirFirstWordsAreToldApart() throws {
        let stems = ["abcdefgh", "abcdefghijklmnop", "a_long_name_of_twenty_four__"]
        var lines: [String] = []
        for (i, stem) in stems.enumerated() {
            lines += ["\(stem) = \(i + 1)", "\(stem)1 = \(i + 2)", "\(stem)2 = \(stem) * \(stem)1 - \(stem)"]
        }
        lines.append("out = " + stems.map { $0 + "2" }.joined(separator: " + "))
        let taken = try Self.expectSameAsGeneral(lines.joined(separator: "\n"))
        #expect(taken.reader)
    }

    /// The reader scans the string's own bytes, which end at its NUL: a
    /// name of any length that ends the text is read, hashed and compared
    /// up to its last byte, without a byte past the NUL.
    @Test(arguments: [1, 3, 7, 8, 9, 15, 16, 17, 24])
    func aNameThatEndsTheTextIsRead(length: Int) throws {
        let name = String(repeating: "n", count: length - 1) + "z"
        let source = "\(name) = 0.5\nalso_\(name) = \(name) * \(name)\nout = also_\(name) + \(name)"
        let taken = try Self.expectSameAsGeneral(source)
        #expect(taken.reader)
    }

    /// The text's words near its end stop at its last byte, and its `=`
    /// bytes are counted 8 at a time as one at a time counts them (in
    /// rounds of 255 words: the longer texts take several).
    @Test func theTextIsReadEightBytesAtATimeUpToItsEnd() {
        var random = SeededGenerator(seed: 11)
        for length in Array(0..<40) + [2040, 2047, 4089, 20_000] {
            let bytes = (0..<length).map { _ in [UInt8(ascii: "="), UInt8(ascii: "a"), 0x3C, 0x3E, 0xBD, 0][random.next(below: 6)] }
            bytes.withUnsafeBufferPointer { buffer in
                let text = ScalarText(bytes: buffer.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: length)
                #expect(text.count(of: UInt8(ascii: "=")) == bytes.filter { $0 == UInt8(ascii: "=") }.count)
                for offset in 0...length {
                    let expected = bytes[offset...].prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    #expect(text.word(at: offset) == expected, "length \(length), offset \(offset)")
                }
            }
        }
        // Every lane full in every round.
        let equals = [UInt8](repeating: UInt8(ascii: "="), count: 20_001)
        equals.withUnsafeBufferPointer { #expect(ScalarText(bytes: $0.baseAddress!, count: $0.count).count(of: UInt8(ascii: "=")) == 20_001) }
    }

    /// A name's end found 8 bytes at a time is where the first byte that
    /// continues no name is, byte by byte — around every edge of the
    /// classes (`/ 0 9 :`, `@ A Z [`, `_`, `` ` a z { ``, a top bit, NUL).
    @Test func aNamesEndIsFoundEightBytesAtATime() {
        let alphabet: [UInt8] = [0x2F, 0x30, 0x39, 0x3A, 0x40, 0x41, 0x5A, 0x5B, 0x5F, 0x60, 0x61, 0x7A, 0x7B, 0xE1, 0xB0, 0xDF, 0, 0x20, 0x2E, 0x7F]
        var random = SeededGenerator(seed: 5)
        for _ in 0..<5000 {
            // Mostly name bytes, so that long runs are tried too.
            let bytes = (0..<8).map { _ in random.next(below: 3) == 0 ? alphabet[random.next(below: alphabet.count)] : [0x30, 0x5A, 0x61, 0x5F, 0x7A][random.next(below: 5)] }
            let word = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let expected = bytes.firstIndex { !ScalarReader.isNameByte($0) } ?? 8
            #expect(ScalarReader.nameBytes(word) == expected, "\(bytes)")
        }
    }

    /// The reader's fast path for short decimals gives `Double(String)`'s bits, and leaves the rest to it.
    @Test func shortDecimalsReadAsDoubleReadsThem() {
        var random = SeededGenerator(seed: 7)
        var spellings = ["0.9", "0.1", "12", "1e-3", "2.5E+4", ".5", "5.", "0.0001", "123456789012345", "1234567890123456", "1e22", "1e23", "9e-22", "9e-23", "0.30000000000000004", "1e300"]
        for _ in 0..<3000 {
            let whole = String(random.next() % 1_000_000)
            let fraction = String(random.next() % 100_000_000)
            let exponent = random.next(below: 3) == 0 ? "e\(random.next(below: 2) == 0 ? "-" : "")\(random.next(below: 30))" : ""
            spellings.append(whole + "." + fraction + exponent)
        }
        for text in spellings {
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { ScalarReader.exactDecimal($0, 0..<$0.count) }
            if let fast { #expect(fast.bitPattern == Double(text)!.bitPattern, "\(text)") }
        }
        #expect(spellings.prefix(8).allSatisfy { text in Array(text.utf8).withUnsafeBufferPointer { ScalarReader.exactDecimal($0, 0..<$0.count) } != nil })
    }

    /// `formatNumber`, which prints every scalar of `chainrule eval`, gives
    /// what it gave through Foundation's `String(format:)`: `%.Ng`, then a
    /// fraction's trailing zeros and a bare point dropped.
    @Test func numbersPrintAsFoundationsFormatPrintsThem() {
        func throughFoundation(_ value: Double, _ significant: Int) -> String {
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value > 0 ? "inf" : "-inf" }
            if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
            var text = String(format: "%.\(significant)g", value)
            if text.contains("e") { return text }
            while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
            return text
        }
        var random = SeededGenerator(seed: 11)
        var values: [Double] = [0.5, -0.25, 1e-5, 1.5e-4, 123456.5, 1234567.5, 1e15 + 0.5, -1e16, 9.9999995, 0.1 + 0.2, .nan, .infinity, -.infinity,
                                .leastNonzeroMagnitude, .leastNormalMagnitude / 3, .greatestFiniteMagnitude, -0.0, 100, 1e-300, 1.234565, -0.0001234565, 999999.5]
        for _ in 0..<2000 {
            let magnitude = Double(random.next(below: 40)) - 20
            values.append((random.nextUnit() - 0.5) * pow(10, magnitude))
        }
        for value in values {
            for significant in [2, 6, 8, 17] {
                #expect(formatNumber(value, significant: significant) == throughFoundation(value, significant), "\(value) to \(significant) digits")
            }
        }
    }

    // MARK: micrograd's demo step

    /// micrograd's demo step written as `scripts/bench-vs/micrograd_step.py`
    /// writes it, smaller: an MLP(2, [4, 4, 1]) on 6 points.
    @Test func microgradsDemoStepIsTheSameOnTheTape() throws {
        let source = MicrogradStep.program(points: 6, hidden: [4, 4], seed: 3)
        let taken = try Self.expectSameAsGeneral(source)
        #expect(taken.reader && taken.statements)
    }

    // MARK: Diagnostics

    static func diagnostics(_ source: String, _ frontEnds: Compiler.FrontEnds, options: CompileOptions = .init()) -> String {
        do {
            _ = try compiled(source, frontEnds, options: options)
            return ""
        } catch let error as DiagnosticList {
            return error.rendered(source: source)
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        "a = 1\na = 2\n",
        "a = 1\nb = c + a\n",
        "b = a + 1\na = 2\n",
        "x = x + 1\n",
        "a = 1 +\n",
        "a = 1.2.3\n",
        "a = 2x\n",
        "a = 1\nb = tanh(a) * 2 3\n",
        "a = 1\nb = relu(a, 2)\n",
        "a = 1\nb = tanhh(a)\n",
        "a = 1\nb = a(2)\n",
        "a = 1\nb = relu()\n",
        "a = 1\nb = (a + 2\n",
        "a = 1\nb = a @ a\n",
        "a = 1\nh.W = 2\n",
        "a = 1\nb = a ** 2\n",
        "a = 1e999\n",
        "a = 1\nb = a # fine\nc = b $ 2\n",
    ])
    func aBadScalarProgramGetsTheGeneralCompilersDiagnostics(source: String) {
        let rendered = Self.diagnostics(source, .all)
        #expect(rendered.contains("test.grad:") && rendered.contains("^"), "\(rendered)")
        #expect(rendered == Self.diagnostics(source, .general))
        #expect(rendered == Self.diagnostics(source, .statements))
    }
}

/// Draws from Chainrule's own seeded generator, so generated programs repeat.
extension SeededGenerator {
    mutating func next(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
