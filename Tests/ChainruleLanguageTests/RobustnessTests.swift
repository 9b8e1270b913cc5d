import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// Hostile programs: each is refused with a message that names the line, the
/// budget and the option that raises it, fast, or it simply works — never a
/// crash. The cases of issue 8, and their near variants.
@Suite struct RobustnessTests {
    /// Seconds `body` takes.
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    // MARK: Recursion: chains and op blocks

    @Test func aNinetyThousandTermChainCompilesAndIsReleased() throws {
        let source = "x = 2\ny = " + Array(repeating: "x", count: 90_000).joined(separator: " + ") + "\n"
        let result = try evaluate(source)
        #expect(result.value.scalar == 180_000)
        #expect(result.gradient("x")?.scalar == 90_000)
    }

    @Test func aOneMegabyteLineOfOnesCompiles() throws {
        let source = "y = " + Array(repeating: "1", count: 250_000).joined(separator: " + ") + "\n"
        #expect(source.utf8.count > 1_000_000)
        #expect(try Compiler.compile(source: source, file: "long.grad").graph[NodeID(0)].value?.scalar == 1)
    }

    @Test func longProductsAndChainsInsideParenthesesAreFlatToo() throws {
        let product = Array(repeating: "x", count: 20_000).joined(separator: " * ")
        let result = try evaluate("x = 1\ny = (\(product)) - (\(product))\n")
        #expect(result.value.scalar == 0)
    }

    /// `op f1(x) { forward: f0(x) … }`, each block calling the previous.
    func opChain(_ count: Int, calls: String = "f{p}(x)") -> String {
        var lines = ["op f0(x) {\n  forward: x * 2\n  backward: grad * 2\n}"]
        for i in 1..<count {
            let call = calls.replacingOccurrences(of: "{p}", with: "\(i - 1)")
            lines.append("op f\(i)(x) {\n  forward: \(call)\n  backward: grad * 2\n}")
        }
        return lines.joined(separator: "\n")
    }

    @Test func twelveThousandNestedOpBlocksAreRefusedAtTheDepthLimit() throws {
        var found: [Diagnostic] = []
        let time = seconds { found = diagnostics(opChain(12_000) + "\ny = f11999(1.5)\n") }
        let first = try #require(found.first)
        // f0 nests 2 levels (x * 2), and each block one more.
        let refused = CustomOperation.maximumDepth - 1
        #expect(first.message.hasPrefix("op f\(refused) nests more than \(CustomOperation.maximumDepth) levels deep here"))
        #expect(first.location.line == 4 * refused + 2)
        #expect(time < 10)
    }

    @Test func opBlocksNestedUpToTheDepthLimitWork() throws {
        let depth = CustomOperation.maximumDepth - 1
        let result = try evaluate(opChain(depth) + "\nx = 1.5\ny = f\(depth - 1)(x)\n")
        #expect(result.value.scalar == 3)
        #expect(result.gradient("x")?.scalar == 2)
    }

    @Test func opBlocksThatDoubleAreRefusedByTheOpNodeBudget() throws {
        var found: [Diagnostic] = []
        let time = seconds { found = diagnostics(opChain(40, calls: "f{p}(x) + f{p}(x)") + "\ny = f39(1.5)\n") }
        let first = try #require(found.first)
        // f_k expands to about 2^(k+2) registry ops: f18 is the first over a million.
        #expect(first.message.hasPrefix("op f18 expands to more than 1000000 op nodes"))
        #expect(first.message.contains("--max-op-nodes"))
        #expect(first.location.line == 4 * 18 + 2)
        #expect(time < 5)
    }

    @Test func theOpNodeBudgetCountsEveryUse() throws {
        let source = opChain(10, calls: "f{p}(x) + f{p}(x)") + "\nx = 1\ny = f9(x) + f9(x) + f9(x)\n"
        let nodes = try Compiler.compile(source: source, file: "t.grad").customOperations["f9"]!.expandedNodes
        let found = diagnostics(source, options: CompileOptions(maxOpNodes: 2 * nodes))
        #expect(found.map(\.message) == ["this use of op f9 (\(nodes) op nodes) brings the program's op blocks past the op-node budget of \(2 * nodes) (--max-op-nodes)"])
        #expect(found.first?.location.column == 21)
    }

    @Test func aLongChainInsideAnOpIsRefusedBeforeItOverflows() throws {
        let terms = Array(repeating: "x", count: 5_000).joined(separator: " + ")
        let found = diagnostics("op f(x) {\n  forward: \(terms)\n  backward: grad * 5000\n}\ny = f(1)\n")
        #expect(found.first?.message.hasPrefix("op f nests more than \(CustomOperation.maximumDepth) levels deep here") == true)
        #expect(found.first?.location.line == 2)
    }

    // MARK: Memory

    @Test func fourteenLargeTensorsAreRefusedByTheMemoryBudgetBeforeAnyIsMade() throws {
        let source = (1...14).map { "x\($0) = randn(7000, 7000)" }.joined(separator: "\n") + "\ny = x1 + x14\n"
        var found: [Diagnostic] = []
        let time = seconds { found = diagnostics(source, options: CompileOptions(maxMemory: 4_000_000_000)) }
        // Each is 784 MB with its gradient: the sixth passes 4 GB.
        #expect(found.map(\.message) == ["a 7000×7000 tensor needs 784 MB with its gradient: with the program's other tensors that is 4.7 GB, over the memory budget of 4 GB (--max-memory)"])
        #expect(found.first?.location.line == 6)
        #expect(time < 1)
    }

    @Test func theDefaultMemoryBudgetRefusesAHugeTensorWithAnyElementLimit() throws {
        var found: [Diagnostic] = []
        let options = CompileOptions(maxElements: .max)
        let time = seconds { found = diagnostics("x = randn(1000000, 1000000)\ny = sum(x)\n", options: options) }
        let message = try #require(found.first?.message)
        #expect(message.hasPrefix("a 1000000×1000000 tensor needs 16 TB with its gradient, over the memory budget of"))
        #expect(message.contains("(--max-memory; by default a quarter of this machine's \(ByteCount.describe(ByteCount.availableMemory)))"))
        #expect(time < 1)
    }

    @Test func opResultsAndLayerParametersCountTowardsTheBudget() {
        let found = diagnostics("x = randn(100, 100)\nh = Linear(x, 1000)\n", options: CompileOptions(maxMemory: 1_000_000))
        #expect(found.map(\.location.line) == [2])
        #expect(found.first?.message.hasPrefix("a 1000×100 tensor needs 1.6 MB with its gradient: with the program's other tensors that is 1.8 MB") == true)
    }

    @Test func byteCountsReadAndPrintAsPeopleWriteThem() {
        #expect(ByteCount.parse("8G") == 8_000_000_000)
        #expect(ByteCount.parse("512 MB") == 512_000_000)
        #expect(ByteCount.parse("2GiB") == 2 << 30)
        #expect(ByteCount.parse("1.5k") == 1500)
        #expect(ByteCount.parse("100000") == 100_000)
        #expect(ByteCount.parse("-1G") == nil && ByteCount.parse("8X") == nil && ByteCount.parse("1e30") == nil)
        #expect(ByteCount.describe(784_000_000) == "784 MB")
        #expect(ByteCount.describe(6_320_000_000) == "6.3 GB")
        #expect(ByteCount.describe(512) == "512 bytes")
    }

    // MARK: Sizes

    @Test func emptyAndUncountableNpyShapesAreRefusedWithTheirReason() throws {
        try withTemporaryDirectory { folder in
            let cases: [(String, [UInt8], String)] = [
                ("huge.npy", npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }", data: []),
                 "bad header: shape 0×4294967296×4294967296 has more elements than can be counted"),
                ("empty.npy", npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3, 3, 3), }", data: []),
                 "its shape 0×3×3×3 holds no elements; a tensor needs at least one"),
            ]
            for (name, bytes, problem) in cases {
                try Data(bytes).write(to: folder.appendingPathComponent(name))
                let found = diagnostics("x = load(\"\(name)\")\ny = sum(x)\n", options: CompileOptions(baseDirectory: folder.path))
                // Both named as the program writes them, not as resolved against its folder.
                #expect(found.map(\.message) == ["cannot load \(name): \(problem)"])
            }
        }
    }

    @Test func aFileNumPyWroteLoads() throws {
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("a.npy").path
            let script = "import numpy as np; np.save('\(path)', np.arange(6, dtype=np.float64).reshape(2, 3))"
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", "-c", script]
            try python.run()
            python.waitUntilExit()
            try #require(python.terminationStatus == 0)
            let tensor = try Npy.load(path: path)
            #expect(tensor == Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5]))
            #expect(try Npy.readHeader(path: path).dataOffset == 128)
        }
    }

    @Test func hugeWholeNumbersGetTheRightReason() {
        let conv = "x = randn(1, 1, 4, 4)\nw = randn(1, 1, 3, 3)\ny = conv2d(x, w, pad: 9223372036854775807)\n"
        let cases: [(String, String)] = [
            ("y = zeros(9223372036854775807)\n",
             "size 9223372036854775807 of zeros is over the limit of 50000000 elements a tensor may hold (--max-elements)"),
            (conv, "argument 'pad' of conv2d is 9223372036854775807, too large: whole numbers here are below 10^15"),
            ("x = randn(2, 3)\nh = Linear(x, 1e300)\n", "argument 'out' of Linear is 1e300, too large: whole numbers here are below 10^15"),
            ("x = randn(2, 3)\nh = Linear(x, 0)\n", "argument 'out' of Linear must be a whole number from 1"),
            ("x = randn(2, 3)\nh = Linear(x, 2.5)\n", "argument 'out' of Linear must be a whole number from 1"),
            ("y = zeros(2.5)\n", "the sizes of zeros are whole numbers from 1, as zeros(shape…)"),
        ]
        for (source, message) in cases {
            #expect(diagnostics(source).map(\.message) == [message], "\(source)")
        }
    }

    @Test func aHugeKernelIsRefusedNotOverflowed() {
        let found = diagnostics("x = randn(1, 1, 4, 4)\nh = Conv2D(x, filters: 1, kernel: 999999999999999)\n")
        #expect(found.first?.message.hasPrefix("the weight of Conv2D would have shape 1×1×999999999999999×999999999999999, more than") == true)
    }

    // MARK: Messages

    @Test func twoOutputLinesAreAnErrorNamingBoth() {
        let found = diagnostics("a = 1\nb = 2\noutput a\noutput b\n")
        #expect(found.map(\.message) == ["the output is already chosen on line 3, column 8 (output a); a program has one output line: keep one of the two"])
        #expect(found.first?.location.line == 4)
    }

    @Test func aNonFiniteGradientGetsANoteNamingTheNode() throws {
        let result = try evaluate("x = [1, 4]\nr = sqrt(x - 1)\ny = sum(r)\n")
        #expect(result.value.scalar == 3.0.squareRoot())
        #expect(result.notes.contains("a NaN or infinity first appears in the gradients at sub#2 (line 2, column 12), sent back by the backward rule of r (line 2, column 5)"))
    }

    @Test func maxOfTwoTensorsPointsToMaximum() {
        let found = diagnostics("z = [1, 5]\nw = [3, 2]\nm = max(z, w)\n")
        #expect(found.count == 1)
        #expect(found.first?.notes.last?.contains("call maximum(…)") == true)
    }

    @Test func atMostTwentyDiagnosticsAreRendered() {
        let source = (0..<100).map { "y\($0) = nope\($0)" }.joined(separator: "\n")
        let list = DiagnosticList(diagnostics(source))
        #expect(list.diagnostics.count == 100)
        let text = list.rendered(source: source)
        #expect(text.components(separatedBy: ": error: ").count - 1 == 20)
        #expect(text.hasSuffix("… and 80 more errors\n"))
        #expect(list.rendered(source: source, limit: 100).components(separatedBy: ": error: ").count - 1 == 100)
    }

    @Test func thousandsOfUnknownNamesAreReportedInLinearTime() {
        let source = (0..<3_000).map { "x\($0) = nope\($0)" }.joined(separator: "\n")
        var found: [Diagnostic] = []
        // Each "did you mean" compares with every binding: only the first 20 get one.
        let time = seconds { found = diagnostics(source) }
        #expect(found.count == 3_000)
        #expect(found.filter { $0.message.contains("did you mean") }.count <= DiagnosticList.defaultLimit)
        #expect(time < 15)
    }

    @Test func unknownParametersOfALayerAreListedWithoutScanningEveryBinding() {
        let source = "x = randn(2, 3)\nh = Linear(x, 2)\na = 1\n" + (0..<3_000).map { "y\($0) = h.Z + a.W" }.joined(separator: "\n")
        var found: [Diagnostic] = []
        let time = seconds { found = diagnostics(source) }
        #expect(found.count == 3_000)
        #expect(found.first?.message == "unknown name 'h.Z': the parameters of h are h.W, h.b")
        #expect(diagnostics("a = 1\ny = a.W\n").first?.message == "unknown name 'a.W': a is not a layer, so it has no parameters")
        #expect(time < 15)
    }

    @Test func aBoundedEditDistanceStopsEarlyButAgreesWithinTheBound() {
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("kitten", "sitting", stoppingAbove: 3) == 3)
        #expect(Suggestions.editDistance("kitten", "sitting", stoppingAbove: 1) > 1)
        #expect(Suggestions.editDistance("abcd", "badc", stoppingAbove: 2) == 2)
    }

    // MARK: Names

    @Test func greekAndAccentedLettersAreNames() throws {
        let result = try evaluate("α = 2\nθ_1 = 3\nλé = α * θ_1\n")
        #expect(result.outputName == "λé")
        #expect(result.value.scalar == 6)
        #expect(result.gradient("α")?.scalar == 3)
        #expect(result.gradient("θ_1")?.scalar == 2)
    }

    @Test func aByteOrderMarkIsSkipped() throws {
        #expect(try evaluate("\u{FEFF}x = 2\ny = x^2\n").value.scalar == 4)
        let source = "\u{FEFF}y = nope\n"
        let found = diagnostics(source)
        #expect(found.first?.location.column == 5)
        #expect(DiagnosticList(found).rendered(source: source).contains("\ny = nope\n    ^~~~\n"))
    }

    @Test func symbolsThatAreNotLettersStayRefused() {
        #expect(diagnostics("∂ = 1\n").first?.message == "unexpected character '∂' (U+2202)")
        #expect(diagnostics("x = 1\u{200B}\n").first?.message == "unexpected character U+200B")
    }

    // MARK: --at

    @Test func atValuesFollowTheLanguagesNumberRules() throws {
        #expect(try CompileOptions.parseAt(["x=1", "y=-2.5", "z=+.5,w=1e-3"]) == ["x": 1, "y": -2.5, "z": 0.5, "w": 1e-3])
        let refused: [(String, String)] = [
            ("x=1e999", "--at x=1e999: number 1e999 is too large for a Double"),
            ("x=0x10", "--at x=0x10: '0x10' is not a number as a program writes one (2, -0.5, 1e-3)"),
            ("x=inf", "--at x=inf: 'inf' is not a number as a program writes one (2, -0.5, 1e-3)"),
            ("x=--1", "--at x=--1: '--1' is not a number as a program writes one (2, -0.5, 1e-3)"),
        ]
        for (text, message) in refused {
            #expect { try CompileOptions.parseAt([text]) } throws: { ($0 as? CompileOptions.AtSyntaxError)?.description == message }
        }
    }

    @Test func aNameSetTwiceIsRefusedAcrossOptions() {
        #expect { try CompileOptions.parseAt(["x=1", "x=2"]) } throws: {
            ($0 as? CompileOptions.AtSyntaxError)?.description == "--at sets x twice (x=1 and x=2); give it once"
        }
        #expect(throws: CompileOptions.AtSyntaxError.self) { try CompileOptions.parseAt(["x=1,x=2"]) }
    }
}

/// A generated line of a megabyte is not printed whole under its error.
@Suite struct LongLineDiagnosticTests {
    @Test func aLongLineIsShownAroundTheSpotWithTheCaretOnIt() throws {
        let source = "x = 1\ny = " + String(repeating: "x + ", count: 5000) + "nope + " + String(repeating: "x + ", count: 100) + "x\n"
        let text: String
        do {
            _ = try Compiler.compile(source: source, file: "long.grad")
            Issue.record("an unknown name must be refused")
            return
        } catch {
            text = error.rendered(source: source)
        }
        let lines = text.split(separator: "\n").map(String.init)
        let column = 5 + 5000 * 4
        #expect(lines[0].hasPrefix("long.grad:2:\(column): error: unknown name 'nope'"))
        #expect(lines[1].hasPrefix("…") && lines[1].hasSuffix("…"))
        #expect(lines[1].unicodeScalars.count < 200)
        let caret = try #require(lines[2].firstIndex(of: "^"))
        let offset = lines[2].distance(from: lines[2].startIndex, to: caret)
        let under = lines[1].unicodeScalars.dropFirst(offset).prefix(4)
        #expect(String(String.UnicodeScalarView(under)) == "nope")
        #expect(lines[2].hasSuffix("^~~~"))
    }

    @Test func aShortLineIsShownWhole() {
        let (text, column, length) = DiagnosticList.excerpt("y = nope(x)", column: 5, length: 4)
        #expect(text == "y = nope(x)")
        #expect(column == 5 && length == 4)
    }
}
