import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// One wrong program and the single diagnostic it must get.
struct DiagnosticCase: CustomTestStringConvertible, Sendable {
    var source: String
    var line: Int
    var column: Int
    var message: String
    var testDescription: String { message }

    init(_ source: String, _ line: Int, _ column: Int, _ message: String) {
        (self.source, self.line, self.column, self.message) = (source, line, column, message)
    }
}

/// Error paths not covered one by one in DiagnosticsTests, as a table:
/// the program, then where the caret goes and what the person reads.
@Suite struct DiagnosticsTableTests {
    static let calls: [DiagnosticCase] = [
        .init("x = 1\ny = x(2)\n", 2, 5, "x is a value, not a function; multiply with *, as x * (…)"),
        .init("y = exp * 2\n", 1, 5, "exp is a function; call it with arguments, as exp(x)"),
        .init("x = 1\ny = leaky_relu(x, slope: 0.1, slope: 0.2)\n", 2, 31, "argument 'slope' of leaky_relu is given twice"),
        .init("x = 1\ny = leaky_relu(slope: 0.1, x)\n", 2, 28, "a positional argument cannot follow a named one in a call of leaky_relu"),
        .init("x = [1, 2]\ny = sum(x, keepdims: 1)\n", 2, 22, "argument 'keepdims' of sum must be true or false"),
        .init("x = 1\ny = leaky_relu(x, slope: x)\n", 2, 26, "argument 'slope' of leaky_relu must be a number, as slope: 0.5"),
        .init("x = [[1, 2]]\ny = transpose(x, axes: [0, 1.5])\n", 2, 28, "argument 'axes' of transpose must be a list of whole numbers, as axes: [0, 2, 1]"),
    ]

    static let bindings: [DiagnosticCase] = [
        .init("x = x + 1\n", 1, 5, "x is used in its own definition; bind it to a value first"),
        .init("a = 1\nb = a.W\n", 2, 5, "unknown name 'a.W': a is not a layer, so it has no parameters"),
        .init("x = 1\n", 0, 0, "--at y=…: the program has no leaf named y; its scalar leaves are x"),
        .init("x = 1\ny = x * 2\n", 2, 1, "--at y=…: y is not bound to a number here, so --at cannot set it"),
        .init("# only a comment\n", 1, 1, "the program has no bindings: write one per line, as f = (x + y) * z"),
    ]

    static let opBlocks: [DiagnosticCase] = [
        .init("op exp(x) {\n  forward: x\n  backward: grad\n}\ny = 1\n", 1, 4, "op exp is already in the registry; give your op another name, as my_exp"),
        .init("op randn(x) {\n  forward: x\n  backward: grad\n}\ny = 1\n", 1, 4, "randn is a built-in function; give your op another name"),
        .init("op f(x, x) {\n  forward: x\n  backward x: grad\n}\ny = 1\n", 1, 9, "op f has two parameters named x"),
        .init("op f() {\n  forward: 1\n}\ny = 1\n", 1, 4, "op f needs at least one parameter"),
        .init("op f(x) {\n  backward: grad\n}\ny = 1\n", 1, 4, "op f has no forward clause; add a line 'forward: expression'"),
        .init("op f(x) {\n  forward: x\n  backward: grad\n  backward z: grad\n}\ny = 1\n", 4, 3, "op f has no parameter z (its parameters are x)"),
        .init("op f(x) {\n  forward: x\n  backward: grad\n  backward x: grad\n}\ny = 1\n", 4, 3, "op f has two backward clauses for x"),
        .init("op f(x) {\n  forward: x\n  forward: x\n  backward: grad\n}\ny = 1\n", 3, 3, "op f has two forward clauses"),
        .init("op f(a, b) {\n  forward: a * b\n  backward: grad\n}\ny = 1\n", 3, 3, "op f has 2 parameters: say which one this backward is for, e.g. 'backward a:'"),
    ]

    static let values: [DiagnosticCase] = [
        .init("y = Linear(2, 3)\n", 1, 5, "Linear needs an input with a feature axis, got a scalar"),
        .init("u = uniform(2, low: 1, high: 0)\n", 1, 24, "uniform needs low < high, got low 1 and high 0"),
        .init("x = []\n", 1, 5, "an empty tensor literal: a tensor needs at least one element"),
        .init("x = [[1, 2], [3]]\n", 1, 14, "rows of a tensor literal must have equal lengths: this one has 1 elements, the first has 2"),
        .init("x = 1e999\n", 1, 5, "number 1e999 is too large for a Double"),
    ]

    func expectOnly(_ c: DiagnosticCase, options: CompileOptions = .init()) {
        let found = diagnostics(c.source, options: options)
        #expect(found.count == 1, "\(found)")
        guard let d = found.first else { return }
        #expect(d.message == c.message)
        #expect((d.location.line, d.location.column) == (c.line, c.column), "\(d)")
    }

    @Test(arguments: calls) func call(_ c: DiagnosticCase) { expectOnly(c) }
    @Test(arguments: opBlocks) func opBlock(_ c: DiagnosticCase) { expectOnly(c) }
    @Test(arguments: values) func value(_ c: DiagnosticCase) { expectOnly(c) }

    @Test(arguments: bindings) func binding(_ c: DiagnosticCase) {
        expectOnly(c, options: CompileOptions(at: c.message.hasPrefix("--at") ? ["y": 2] : [:]))
    }

    @Test func anUnclosedOpBody() {
        let found = diagnostics("op f(x) {\n  forward: x\n  backward: grad\n")
        #expect(found.count == 1)
        #expect(found.first?.location.line == 4)
        #expect(found.first?.message == "expected '}' to close the body of op f opened at line 1")
    }

    // MARK: .npy headers

    static let npyHeaders: [(bytes: [UInt8], problem: String)] = [
        ([0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], "unsupported .npy format version 9 (versions 1, 2 and 3 are read)"),
        (npyBytes(header: "{'fortran_order': False, 'shape': (1,), }", data: []), "bad header: no 'descr' entry"),
        (npyBytes(header: "{'descr': '<f8', 'shape': (1,), }", data: []), "bad header: no 'fortran_order' entry"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, }", data: []), "bad header: no 'shape' entry"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", data: []),
         "bad header: shape 4294967296×4294967296×4294967296 has more elements than can be counted"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }", data: []),
         "bad header: shape 0×4294967296×4294967296 has more elements than can be counted"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", data: []),
         "bad header: shape 4611686018427387904 of <f8 has more bytes than can be counted"),
        // What NumPy refuses is refused: an unknown key, a missing '}',
        // a doubled comma, a key given twice, a wrong type, text after '}'.
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1, }", data: littleEndianBytes([1])),
         "bad header: unknown key 'extra' (NumPy's keys are 'descr', 'fortran_order' and 'shape'), in {'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1, }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), ", data: littleEndianBytes([1])),
         "bad header: expected '}', found the end of the header, in {'descr': '<f8', 'fortran_order': False, 'shape': (1,),"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3,,), }", data: []),
         "bad header: expected a size, found ',', in {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3,,), }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }", data: littleEndianBytes([1, 2])),
         "bad header: 'shape' is given twice, in {'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", data: littleEndianBytes([1])),
         "bad header: expected a value, found '0', in {'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1), }", data: littleEndianBytes([1])),
         "bad header: a one-element shape is written (n,), with a comma, in {'descr': '<f8', 'fortran_order': False, 'shape': (1), }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", data: littleEndianBytes([1])),
         "bad header: expected a size, found '-', in {'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), } x", data: littleEndianBytes([1])),
         "bad header: text after the closing '}', in {'descr': '<f8', 'fortran_order': False, 'shape': (1,), } x"),
        (npyBytes(header: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", data: littleEndianBytes([1])),
         "bad header: expected a value, found '[', in {'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }"),
        (npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data: littleEndianBytes([1])),
         "the file is truncated: shape 2 of <f8 needs 16 bytes of data, found 8"),
    ]

    @Test func npyHeaderErrors() {
        for (bytes, problem) in Self.npyHeaders {
            #expect {
                try Npy.decode(bytes, path: "w.npy")
            } throws: { error in
                (error as? Npy.LoadError)?.description == "cannot load w.npy: \(problem)"
            }
        }
    }
}
