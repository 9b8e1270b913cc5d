import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// Every kind of error a program can have, with the message, line and column
/// the person sees.
@Suite struct DiagnosticsTests {
    /// The single diagnostic of `source`, as (line, column, message).
    func only(_ source: String, options: CompileOptions = .init()) -> (Int, Int, String)? {
        let found = diagnostics(source, options: options)
        guard found.count == 1 else {
            Issue.record("expected one diagnostic, got \(found.count): \(found)")
            return nil
        }
        return (found[0].location.line, found[0].location.column, found[0].message)
    }

    @Test func aFailedLayerBindingDoesNotCascadeToItsParameters() {
        let d = only("x = randn(4, 2, seed: 1)\nh = relu(Linera(x, 3))\nr = l2(h.W, lambda: 0.1)\n")
        #expect(d?.0 == 2 && d?.1 == 10)
        #expect(d?.2.hasPrefix("unknown function 'Linera'") == true)
    }

    @Test func aDottedNameWithNoLayer() {
        let d = only("y = q.W * 2\n")
        #expect(d?.0 == 1 && d?.1 == 5)
        #expect(d?.2 == "unknown name 'q.W': a name with a dot is a layer's parameter, and no layer q is bound (as in q = Linear(x, 10))")
    }

    @Test func badCharacter() {
        let d = only("x = 1\nw = 3 $ 4\n")
        #expect(d?.0 == 2 && d?.1 == 7)
        #expect(d?.2 == "unexpected character '$'")
    }

    @Test func unterminatedString() {
        let d = only("w = load(\"weights.npy)\n")
        #expect(d?.0 == 1 && d?.1 == 10)
        #expect(d?.2 == "unterminated string: add a closing \" on the same line")
    }

    @Test func expectedFound() {
        let d = only("x = 1\nz = x +* 2\n")
        #expect(d?.0 == 2 && d?.1 == 8)
        #expect(d?.2 == "expected an expression, found '*'")
    }

    @Test func missingOperatorBetweenValues() {
        let d = only("x = 1\ny = x 2\n")
        #expect(d?.0 == 2 && d?.1 == 7)
        #expect(d?.2 == "expected end of line after the binding of y, found number 2; an operator is missing before it")
    }

    @Test func strayClosingBracket() {
        let d = only("x = 1\ny = exp(x, ]\n")
        #expect(d?.0 == 2 && d?.1 == 12)
        #expect(d?.2 == "expected an expression, found ']'")
    }

    @Test func unclosedParenthesisIsReportedWhereItOpens() {
        // Inside parentheses line ends are spaces, so the parser runs into
        // the next binding; the error points back at the open parenthesis.
        let d = only("x = 1\ny = exp(x\nz = 2\n")
        #expect(d?.0 == 2 && d?.1 == 8)
        #expect(d?.2 == "'(' is never closed: add its ')'")
        let atEnd = only("x = 1\ny = exp((x + 1)\n")
        #expect(atEnd?.0 == 2 && atEnd?.1 == 8)
        #expect(atEnd?.2 == "'(' is never closed: add its ')'")
    }

    @Test func unknownFunctionSuggestsTheClosestOp() {
        let d = only("x = 1\ny = sigmod(x)\n")
        #expect(d?.0 == 2 && d?.1 == 5)
        #expect(d?.2 == "unknown function 'sigmod'; did you mean 'sigmoid'?")
    }

    @Test func unknownNameSuggestsABinding() {
        let d = only("rate = 0.1\nw = 2\ny = w * rat\n")
        #expect(d?.0 == 3 && d?.1 == 9)
        #expect(d?.2 == "unknown name 'rat'; did you mean 'rate'?")
    }

    @Test func unknownNameWithNothingCloseSaysHowToDefineIt() {
        let d = only("y = 2 * banana\n")
        #expect(d?.0 == 1 && d?.1 == 9)
        #expect(d?.2 == "unknown name 'banana': bind it first (banana = 1.5), or give it with --at banana=1.5")
    }

    @Test func tooManyArguments() {
        let d = only("x = 1\ny = relu(x, x)\n")
        #expect(d?.0 == 2 && d?.1 == 13)
        #expect(d?.2 == "relu takes at most 1 argument, got 2: relu(x)")
    }

    @Test func unknownNamedArgumentListsTheValidOnes() {
        let d = only("x = randn(1, 1, 4, 4)\nW = randn(2, 1, 3, 3)\ny = conv2d(x, W, strid: 2)\n")
        #expect(d?.0 == 3 && d?.1 == 18)
        #expect(d?.2 == "conv2d has no argument named 'strid'; did you mean 'stride'? (its arguments are x, W, b, stride, pad, floor)")
    }

    @Test func missingArgument() {
        let d = only("x = 1\ny = mul(x)\n")
        #expect(d?.0 == 2 && d?.1 == 5)
        #expect(d?.2 == "mul is missing argument 'b': mul(a, b)")
    }

    @Test func attributeMustBeAWholeNumber() {
        let d = only("x = randn(1, 1, 4, 4)\nW = randn(2, 1, 3, 3)\ny = conv2d(x, W, stride: 1.5)\n")
        #expect(d?.0 == 3 && d?.1 == 26)
        #expect(d?.2 == "argument 'stride' of conv2d must be a whole number, as stride: 2")
    }

    @Test func redefinition() {
        let d = only("x = 1\ny = x + 1\nx = 2\n")
        #expect(d?.0 == 3 && d?.1 == 1)
        #expect(d?.2 == "x is already defined on line 1; bindings cannot change, choose another name")
    }

    @Test func useBeforeDefinition() {
        let d = only("y = x * 2\nx = 3\n")
        #expect(d?.0 == 1 && d?.1 == 5)
        #expect(d?.2 == "x is used before its definition on line 2; move this line below it")
    }

    @Test func shapeErrorPointsAtTheOperator() {
        let d = only("a = [1, 2, 3]\nb = [1, 2]\nc = a + b\n")
        #expect(d?.0 == 3 && d?.1 == 7)
        #expect(d?.2.hasPrefix("add: shapes 3 and 2 do not broadcast") == true)
    }

    @Test func shapeErrorOfACallPointsAtTheCall() {
        let d = only("x = randn(2, 3)\nW = randn(4, 5)\ny = linear(x, W)\n")
        #expect(d?.0 == 3 && d?.1 == 5)
        #expect(d?.2.hasPrefix("linear:") == true)
    }

    @Test func raggedTensorLiteral() {
        let d = only("x = [[1, 2], [3]]\n")
        #expect(d?.0 == 1 && d?.1 == 14)
        #expect(d?.2 == "rows of a tensor literal must have equal lengths: this one has 1 elements, the first has 2")
    }

    @Test func labelsMustBeClassIndices() {
        let d = only("s = [[1, 2, 3]]\nL = cross_entropy(s, [1.5])\n")
        #expect(d?.0 == 2 && d?.1 == 22)
        #expect(d?.2 == "labels of cross_entropy are class indices: whole numbers from 0")
    }

    @Test func labelOutOfRangeIsReportedAtTheCall() {
        let d = only("s = [[1, 2, 3]]\nL = cross_entropy(s, [3])\n")
        #expect(d?.0 == 2 && d?.1 == 5)
        #expect(d?.2.hasPrefix("cross_entropy:") == true)
    }

    @Test func tensorOverTheLimitIsRefusedBeforeAllocating() {
        // 10¹⁸ elements would take exabytes: the shape alone refuses it.
        let d = only("x = randn(1000000, 1000000, 1000000)\n")
        #expect(d?.0 == 1 && d?.1 == 5)
        #expect(d?.2 == "randn(…) would have shape 1000000×1000000×1000000, 1000000000000000000 elements: over the limit of 50000000 (--max-elements)")
    }

    @Test func opOutputOverTheLimitIsRefused() {
        let d = only("a = randn(1000, 1)\nb = randn(1, 1000)\nc = a * b\n", options: CompileOptions(maxElements: 10_000))
        #expect(d?.0 == 3 && d?.1 == 7)
        #expect(d?.2 == "the result of mul would have shape 1000×1000, 1000000 elements: over the limit of 10000 (--max-elements)")
    }

    @Test func severalErrorsAreReportedTogether() {
        let found = diagnostics("""
            x = 1
            a = x +
            b = exq(x)
            c = a * 2
            d = 3 $ 1
            e = b + 1
            f = y
            """)
        // a's syntax error and b's unknown function are reported; c and e use
        // a and b, which already failed, so they stay quiet.
        #expect(found.map { [$0.location.line, $0.location.column] } == [[2, 8], [3, 5], [5, 7], [7, 5]])
        #expect(found.map(\.message) == [
            "expected an expression, found end of line",
            "unknown function 'exq'; did you mean 'exp'?",
            "unexpected character '$'",
            "unknown name 'y': bind it first (y = 1.5), or give it with --at y=1.5",
        ])
    }

    @Test func renderedWithTheSourceLineAndACaret() {
        let source = "x = 1\ny = exq(x)\n"
        let list = DiagnosticList(diagnostics(source))
        #expect(list.rendered(source: source) == """
            test.grad:2:5: error: unknown function 'exq'; did you mean 'exp'?
            y = exq(x)
                ^~~

            """)
    }

    @Test func dottedNamesCannotBeBound() {
        let d = only("h.W = 1\n")
        #expect(d?.0 == 1 && d?.1 == 1)
        #expect(d?.2 == "'h.W' cannot be bound: names with a dot are a layer's parameters; use a name like h_W")
    }

    @Test func atForANameTheProgramDoesNotHave() {
        let d = only("x = 1\ny = x * 2\n", options: CompileOptions(at: ["z": 3]))
        #expect(d?.0 == 0)
        #expect(d?.2 == "--at z=…: the program has no leaf named z; its scalar leaves are x")
    }

    @Test func atCannotSetATensor() {
        let d = only("x = [1, 2]\ny = x * 2\n", options: CompileOptions(at: ["x": 3]))
        #expect(d?.0 == 1 && d?.1 == 1)
        #expect(d?.2 == "--at x=…: x is a tensor of shape 2; --at sets scalar leaves")
    }

    // MARK: op blocks

    @Test func customOpWithoutBackward() {
        let d = only("op f(a, b) {\n  forward: a * b\n  backward a: grad * b\n}\ny = f(1, 2)\n")
        #expect(d?.0 == 1 && d?.1 == 4)
        #expect(d?.2 == "op f has no backward rule for b; add a line 'backward b: expression'")
    }

    @Test func outIsOnlyKnownInBackward() {
        let d = only("op f(x) {\n  forward: out * 2\n  backward: grad\n}\ny = f(1)\n")
        #expect(d?.0 == 2 && d?.1 == 12)
        #expect(d?.2 == "'out' is only known in backward clauses; forward computes out from the parameters")
    }

    @Test func opBodiesSeeOnlyTheirParameters() {
        let d = only("w = 3\nop f(x) {\n  forward: x * w\n  backward: grad\n}\ny = f(1)\n")
        #expect(d?.0 == 3 && d?.1 == 16)
        #expect(d?.2 == "op f sees only x; w is a binding outside it: pass it in as a parameter")
    }

    @Test func opCannotReuseARegistryName() {
        let d = only("op exp(x) {\n  forward: x\n  backward: grad\n}\n")
        #expect(d?.0 == 1 && d?.1 == 4)
        #expect(d?.2 == "op exp is already in the registry; give your op another name, as my_exp")
    }

    @Test func customOpShapeErrorPointsAtTheUse() {
        let d = only("op f(a, b) {\n  forward: a * b\n  backward a: grad * b\n  backward b: grad * a\n}\ny = f([1, 2], [1, 2, 3])\n")
        #expect(d?.0 == 6 && d?.1 == 5)
        #expect(d?.2.hasPrefix("f: in its forward: mul: shapes 2 and 3 do not broadcast") == true)
    }

    // MARK: .npy

    @Test func npyMissingFile() throws {
        try withTemporaryDirectory { folder in
            let d = only("x = load(\"nothing.npy\")\n", options: CompileOptions(baseDirectory: folder.path))
            #expect(d?.0 == 1 && d?.1 == 10)
            #expect(d?.2 == "cannot load nothing.npy: no such file")
        }
    }

    @Test func npyBadHeader() throws {
        try withTemporaryDirectory { folder in
            try Data("not numpy at all".utf8).write(to: folder.appendingPathComponent("bad.npy"))
            let d = only("x = load(\"bad.npy\")\n", options: CompileOptions(baseDirectory: folder.path))
            #expect(d?.0 == 1 && d?.1 == 10)
            #expect(d?.2 == "cannot load bad.npy: not a NumPy .npy file (it does not start with \\x93NUMPY)")
        }
    }

    @Test func npyUnsupportedDtype() throws {
        try withTemporaryDirectory { folder in
            let bytes = npyBytes(header: "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 16))
            try Data(bytes).write(to: folder.appendingPathComponent("complex.npy"))
            let d = only("x = load(\"complex.npy\")\n", options: CompileOptions(baseDirectory: folder.path))
            #expect(d?.2 == "cannot load complex.npy: unsupported dtype '<c16'; float64, float32, int8–int64, uint8–uint64 and bool are read")
        }
    }

    @Test func npyOverTheLimitIsRefusedFromTheHeader() throws {
        try withTemporaryDirectory { folder in
            // The header claims 10⁹ elements; the file holds none: the limit must refuse it first.
            let bytes = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000, 1000), }", data: [])
            try Data(bytes).write(to: folder.appendingPathComponent("huge.npy"))
            let d = only("x = load(\"huge.npy\")\n", options: CompileOptions(baseDirectory: folder.path))
            #expect(d?.2 == "cannot load huge.npy: its shape 1000×1000×1000 holds 1000000000 elements, over the limit of 50000000 (--max-elements)")
        }
    }
}

extension DiagnosticsTests {
    @Test func theBindingAfterAnUnclosedParenthesisStillCompiles() {
        let found = diagnostics("x = 1\ny = exp(x\nz = 2\nw = z + q\n")
        #expect(found.map(\.location.line) == [2, 4])
        #expect(found.last?.message == "unknown name 'q': bind it first (q = 1.5), or give it with --at q=1.5")
    }
}

extension DiagnosticsTests {
    @Test func deepNestingIsRefusedNotACrash() {
        let source = "x = " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + "\n"
        let found = diagnostics(source)
        #expect(found.count == 1)
        #expect(found.first?.location.line == 1)
        #expect(found.first?.message == "this expression nests more than 200 levels deep; split it into bindings")
    }
}

/// Initialisers, layers and const.
extension DiagnosticsTests {
    @Test func initialiserSizesAreWholeNumbersFromOne() {
        let d = only("w = randn(2, 0)\n")
        #expect(d?.0 == 1 && d?.1 == 14)
        #expect(d?.2 == "the sizes of randn are whole numbers from 1, as randn(shape…, seed: N, scale: 1)")
    }

    @Test func initialiserUnknownNamedArgument() {
        let d = only("w = randn(2, sed: 1)\n")
        #expect(d?.0 == 1 && d?.1 == 14)
        #expect(d?.2 == "randn has no argument named 'sed'; did you mean 'seed'? (its named arguments are seed, scale)")
    }

    @Test func constTakesALiteralOrAnInitialiser() {
        let d = only("x = 2\nc = const(x * 2)\n")
        #expect(d?.0 == 2 && d?.1 == 13)
        #expect(d?.2 == "const(…) takes a literal or an initialiser (randn, uniform, zeros, ones, load): it freezes a leaf")
    }

    @Test func conv2dLayerNeedsNCHWInput() {
        let d = only("x = randn(3, 32, 32)\nh = Conv2D(x, filters: 4, kernel: 3)\n")
        #expect(d?.0 == 2 && d?.1 == 5)
        #expect(d?.2 == "Conv2D takes an NCHW input (batch, channels, height, width), got shape 3×32×32")
    }

    @Test func misspeltLayerSuggestsTheLayer() {
        let d = only("x = randn(2, 3)\nh = Linera(x, 4)\n")
        #expect(d?.0 == 2 && d?.1 == 5)
        #expect(d?.2 == "unknown function 'Linera'; did you mean 'Linear'?")
    }

    @Test func npyFortranOrderAndTruncatedData() throws {
        try withTemporaryDirectory { folder in
            try Data(npyBytes(header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", data: littleEndianBytes([1, 2, 3, 4])))
                .write(to: folder.appendingPathComponent("fortran.npy"))
            try Data(npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data: littleEndianBytes([1, 2])))
                .write(to: folder.appendingPathComponent("short.npy"))
            let options = CompileOptions(baseDirectory: folder.path)
            #expect(only("x = load(\"fortran.npy\")\n", options: options)?.2
                == "cannot load fortran.npy: the array is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(a))")
            #expect(only("x = load(\"short.npy\")\n", options: options)?.2
                == "cannot load short.npy: the file is truncated: shape 3 of <f8 needs 24 bytes of data, found 16")
        }
    }
}

extension DiagnosticsTests {
    @Test func tensorLiteralOverTheLimit() {
        let d = only("x = [[1, 2, 3], [4, 5, 6]]\n", options: CompileOptions(maxElements: 4))
        #expect(d?.0 == 1 && d?.1 == 5)
        #expect(d?.2 == "this tensor literal would have shape 2×3, 6 elements: over the limit of 4 (--max-elements)")
    }
}

extension DiagnosticsTests {
    @Test func customOpIntermediateOverTheLimit() {
        // The outer product inside the op is 100×100, though its sum is a scalar.
        let source = "op outer(a, b) {\n  forward: sum(matmul(reshape(a, shape: [100, 1]), reshape(b, shape: [1, 100])))\n  backward a: grad * sum(b) + 0 * a\n  backward b: grad * sum(a) + 0 * b\n}\nx = ones(100)\ny = outer(x, x)\n"
        let d = only(source, options: CompileOptions(maxElements: 1_000))
        #expect(d?.0 == 7 && d?.1 == 5)
        #expect(d?.2.hasPrefix("outer: in its forward: matmul: its result would have shape 100×100, over the limit of 1000 elements") == true)
    }

    @Test func aLayerUsedAsAValueIsAFunctionToCall() {
        let d = only("x = randn(2, 3, seed: 1)\ny = Linear * x\n")
        #expect(d?.0 == 2 && d?.1 == 5)
        #expect(d?.2 == "Linear is a function; call it with arguments, as Linear(x)")
    }
}
