import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// Programs as a reader writes them, and what they compute.
@Suite struct LanguageTests {
    @Test func cs231nCircuit() throws {
        let result = try evaluate("""
            # CS231n: f = (x + y) * z
            x = -2
            y = 5
            z = -4
            q = x + y
            f = q * z
            """)
        #expect(result.outputName == "f")
        #expect(result.value.scalar == -12)
        #expect(result.gradients.map(\.name) == ["x", "y", "z"])
        #expect(result.gradients.map(\.gradient.scalar) == [-4, -4, 3])
    }

    @Test func graphNodesCarryNamesRolesAndLocations() throws {
        let program = try Compiler.compile(source: "x = -2\ny = 5\nf = (x + y) * 3\n", file: "c.grad")
        let g = program.graph
        let f = g[program.output]
        #expect(f.name == "f" && f.role == .output)
        #expect(f.location == SourceLocation(file: "c.grad", line: 3, column: 13))
        #expect(g[f.inputs[1]].role == .constant)
        let x = g.nodes.first { $0.name == "x" }!
        #expect(x.role == .input && x.location == SourceLocation(file: "c.grad", line: 1, column: 1))
    }

    @Test func precedence() {
        // ^ binds tighter than unary minus and is right-associative.
        #expect(parseTree("-x^2") == "(- (^ x 2))")
        #expect(parseTree("2^3^2") == "(^ 2 (^ 3 2))")
        #expect(parseTree("x^-1") == "(^ x (- 1))")
        #expect(parseTree("a + b * c - d / e") == "(- (+ a (* b c)) (/ d e))")
        #expect(parseTree("-a * b") == "(* (- a) b)")
        #expect(parseTree("x @ W + b") == "(+ (@ x W) b)")
        #expect(parseTree("conv2d(x, W, stride: 2)") == "(conv2d x W stride: 2)")
        #expect(parseTree("[[1, -2], [3e-1, .5]]") == "[[1 (- 2)] [3e-1 .5]]")
    }

    @Test func negativeLiteralsAreLeavesNotNegations() throws {
        let program = try Compiler.compile(source: "x = -2\ny = x * -3\n", file: nil)
        #expect(program.graph.nodes.allSatisfy { $0.op?.name != "neg" })
        #expect(try program.evaluate().gradient("x")?.scalar == -3)
    }

    @Test func matrixProductOperator() throws {
        let result = try evaluate("A = [[1, 2], [3, 4]]\nv = [1, 1]\ny = A @ v\n")
        #expect(result.value == Tensor([3, 7]))
        // The output is a vector, so its gradients are those of sum(y).
        #expect(result.gradient("A") == Tensor([[1, 1], [1, 1]]))
        #expect(result.gradient("v") == Tensor([4, 6]))
        #expect(result.notes == ["the output y has shape 2; gradients are those of sum(y)"])
    }

    @Test func namedArgumentsAndDefaults() throws {
        let program = try Compiler.compile(source: """
            x = randn(1, 1, 6, 6, seed: 3)
            W = randn(2, 1, 3, 3, seed: 4)
            y = conv2d(x, W, pad: 1)
            """, file: nil)
        let conv = program.graph[program.output]
        #expect(conv.shape == [1, 2, 6, 6])
        #expect(conv.inputs.count == 2)
        #expect(conv.op?.attributes["pad"] == .int(1))
        // Left out: stride and floor take their defaults.
        #expect(conv.op?.attributes["stride"] == .int(1))
        #expect(conv.op?.attributes["floor"] == .bool(false))
    }

    @Test func labelsBecomeIntegerConstants() throws {
        let program = try Compiler.compile(source: "s = [[1, 2, 3], [1, 5, 0]]\nL = hinge(s, [2, 0])\n", file: nil)
        let labels = program.graph[program.graph[program.output].inputs[1]]
        #expect(labels.role == .constant && labels.value == Tensor([2, 0]))
        // Row 1: max(0, 1−3+1) + max(0, 2−3+1) = 0; row 2: max(0, 5−1+1) + max(0, 0−1+1) = 5.
        #expect(try program.evaluate().value.scalar == 2.5)
    }

    @Test func initialisersAreReproducible() throws {
        let a = try evaluate("w = randn(3, 4)\nf = w * 2\n")
        let b = try evaluate("v = 1\nw = randn(3, 4)\nf = w * 2\n")
        // The default seed comes from the name w, not the line.
        #expect(a.value == b.value)
        let seeded = try evaluate("w = randn(3, 4, seed: 7, scale: 0.5)\nf = w * 1\n")
        #expect(seeded.value == Tensor.randn([3, 4], seed: 7, scale: 0.5))
        let u = try evaluate("u = uniform([2, 5], low: -1, high: 1, seed: 2)\nf = u * 1\n")
        #expect(u.value == Tensor.uniform([2, 5], low: -1, high: 1, seed: 2))
        #expect(try evaluate("z = zeros(2)\no = ones(2)\nf = z + o\n").value == Tensor([1, 1]))
    }

    @Test func constLeavesGetNoGradient() throws {
        let result = try evaluate("W = const([[1, 2], [3, 4]])\nx = [1, -1]\ny = W @ x\n")
        #expect(result.gradients.map(\.name) == ["x"])
        #expect(result.gradient("x") == Tensor([4, 6]))
    }

    @Test func atSetsAndCreatesScalarLeaves() throws {
        let overridden = try evaluate("x = -2\ny = 5\nf = x * y\n", options: CompileOptions(at: ["x": 3]))
        #expect(overridden.value.scalar == 15)
        let created = try evaluate("(x + y) * z", options: CompileOptions(at: ["x": -2, "y": 5, "z": -4]))
        #expect(created.outputName == "(x + y) * z")
        #expect(created.value.scalar == -12)
        #expect(created.gradients.map(\.name) == ["x", "y", "z"])
    }

    @Test func parseAtOption() throws {
        #expect(try CompileOptions.parseAt(["x=1,y=-2.5, z = 1e-3"]) == ["x": 1, "y": -2.5, "z": 1e-3])
        #expect(throws: CompileOptions.AtSyntaxError.self) { try CompileOptions.parseAt(["x=1,y"]) }
        #expect(throws: CompileOptions.AtSyntaxError.self) { try CompileOptions.parseAt(["x=abc"]) }
        // Names are the language's, as the lexer reads them: letters of any script.
        #expect(try CompileOptions.parseAt(["é=1"]) == ["é": 1])
        #expect(throws: CompileOptions.AtSyntaxError.self) { try CompileOptions.parseAt(["2x=1"]) }
    }

    @Test func outputStatementChoosesTheOutput() throws {
        let result = try evaluate("x = 3\nloss = x * x\noutput loss\nlogged = loss * 10\n")
        #expect(result.outputName == "loss")
        #expect(result.value.scalar == 9)
        #expect(result.gradient("x")?.scalar == 6)
    }

    @Test func leavesTheOutputDoesNotUseGetZeroAndANote() throws {
        let result = try evaluate("x = 3\nunused = [1, 2]\nf = x * 2\n")
        #expect(result.gradient("unused") == Tensor([0, 0]))
        #expect(result.notes == ["f does not depend on unused: its gradient is 0"])
    }

    @Test func semicolonsSeparateStatements() throws {
        #expect(try evaluate("x = 2; y = x * x").value.scalar == 4)
    }

    // MARK: layers

    @Test func linearLayerOwnsHeInitialisedParameters() throws {
        let program = try Compiler.compile(source: "x = randn(4, 3, seed: 1)\nh = Linear(x, 5)\n", file: nil)
        let g = program.graph
        let W = g.nodes.first { $0.name == "h.W" }!
        let b = g.nodes.first { $0.name == "h.b" }!
        #expect(W.role == .param && W.shape == [5, 3] && b.shape == [5])
        #expect(W.value == Tensor.randn([5, 3], seed: defaultSeed(for: "h.W"), scale: (2.0 / 3).squareRoot()))
        #expect(g.layers == [Layer(name: "h", kind: "Linear")])
        #expect(g.nodes(inLayer: 0) == [W.id, b.id, program.output])
        #expect(g[program.output].shape == [4, 5])
    }

    @Test func conv2dLayerOnACIFARImageHas760Parameters() throws {
        let program = try Compiler.compile(source: """
            x = randn(1, 3, 32, 32, seed: 1)
            h = Conv2D(x, filters: 10, kernel: 5, stride: 1, pad: 2)
            """, file: nil)
        let g = program.graph
        // The box's facts come from the op itself: a 5×5 kernel, stride 1, pad 2.
        let conv = try #require(g.nodes(inLayer: 0).first { g[$0].op != nil })
        let attributes = try #require(g[conv].op).layerAttributes(inputShapes: g[conv].inputs.map { g[$0].shape })
        #expect(attributes.kernel == [5, 5] && attributes.stride == 1 && attributes.pad == 2)
        #expect(g[program.output].shape == [1, 10, 32, 32])
        let parameters = g.nodes.filter { $0.role == .param }
        #expect(parameters.map(\.name) == ["h.W", "h.b"])
        #expect(parameters.map { $0.shape.reduce(1, *) }.reduce(0, +) == 760)
    }

    @Test func layerParametersCanBeReferenced() throws {
        let result = try evaluate("x = [[1, 2]]\nh = Linear(x, 3, seed: 5)\nreg = l2(h.W, lambda: 1)\n")
        let W = Tensor.randn([3, 2], seed: 5, scale: 1)
        // ½·Σ W², gradient W.
        #expect(abs(result.value.scalar - 0.5 * W.data.map { $0 * $0 }.reduce(0, +)) < 1e-12)
        #expect(result.gradient("h.W") == W)
    }

    // MARK: op blocks

    @Test func customSigmoidMatchesTheBuiltIn() throws {
        let custom = try evaluate("""
            op mysigmoid(x) {
              forward:  1 / (1 + exp(-x))
              backward: grad * out * (1 - out)
            }
            x = [-1, 0.5, 2]
            y = mysigmoid(x)
            """)
        let builtIn = try evaluate("x = [-1, 0.5, 2]\ny = sigmoid(x)\n")
        for (a, b) in zip(custom.value.data + custom.gradient("x")!.data, builtIn.value.data + builtIn.gradient("x")!.data) {
            #expect(abs(a - b) < 1e-15)
        }
    }

    @Test func customOpWithTwoInputsUsedTwice() throws {
        let program = try Compiler.compile(source: """
            op mymul(a, b) {
              forward: a * b
              backward a: grad * b
              backward b: grad * a
            }
            x = 3
            y = 4
            f = mymul(mymul(x, y), x)
            """, file: nil)
        #expect(program.graph.nodes.filter { $0.op?.name == "mymul" }.count == 2)
        let result = try program.evaluate()
        // f = x²y: df/dx = 2xy = 24, df/dy = x² = 9.
        #expect(result.value.scalar == 36)
        #expect(result.gradient("x")?.scalar == 24)
        #expect(result.gradient("y")?.scalar == 9)
        #expect(program.customOperations["mymul"]?.definition.line == 1)
    }

    @Test func customBackwardIsSummedToABroadcastInput() throws {
        let result = try evaluate("""
            op scale(a, s) {
              forward: a * s
              backward a: grad * s
              backward s: grad * a
            }
            v = [1, 2, 3]
            k = 2
            y = scale(v, k)
            """)
        #expect(result.gradient("k")?.scalar == 6)
        #expect(result.gradient("v") == Tensor([2, 2, 2]))
    }

    // MARK: .npy

    @Test func loadsNpyFilesOfEveryDtype() throws {
        try withTemporaryDirectory { folder in
            let f8 = npyBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", data: littleEndianBytes([1.5, -2, 0.25, 1e-300]))
            try Data(f8).write(to: folder.appendingPathComponent("f8.npy"))
            let f4 = npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                              data: [Float(0.5), -3].flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f.bitPattern >> (8 * UInt32($0))) } })
            try Data(f4).write(to: folder.appendingPathComponent("f4.npy"))
            let i8 = npyBytes(header: "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                              data: [Int64(3), -1, 7].flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * Int64($0))) } })
            try Data(i8).write(to: folder.appendingPathComponent("i8.npy"))
            let bigEndian = npyBytes(header: "{'descr': '>i2', 'fortran_order': False, 'shape': (), }", data: [0xFF, 0xFE])
            try Data(bigEndian).write(to: folder.appendingPathComponent("i2.npy"))

            let options = CompileOptions(baseDirectory: folder.path)
            let program = try Compiler.compile(source: """
                a = load("f8.npy")
                b = load("f4.npy")
                c = load("i8.npy")
                d = load("i2.npy")
                f = a * 1
                """, file: nil, options: options)
            let values = Dictionary(uniqueKeysWithValues: program.graph.nodes.compactMap { node in node.name.map { ($0, node.value!) } })
            #expect(values["a"] == Tensor(shape: [2, 2], data: [1.5, -2, 0.25, 1e-300]))
            #expect(values["b"] == Tensor([0.5, -3]))
            #expect(values["c"] == Tensor([3, -1, 7]))
            #expect(values["d"] == Tensor(-2))
        }
    }

    // MARK: output

    @Test func jsonRoundTripsEveryDouble() throws {
        let values: [Double] = [0.1 + 0.2, 1e-300, -0.0, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 1 / 3]
        let evaluation = Evaluation(outputName: "v", value: Tensor(values), gradients: [("x", Tensor(.nan))], notes: ["a \"quoted\" note"])
        let parsed = try JSONSerialization.jsonObject(with: Data(evaluation.json().utf8)) as! [String: Any]
        let value = parsed["value"] as! [String: Any]
        #expect(value["shape"] as! [Int] == [6])
        // Each number's text parses back to the very same Double.
        let texts = evaluation.json().split(separator: "\"data\": [")[1].split(separator: "]")[0].split(separator: ", ")
        #expect(texts.map { Double(String($0))!.bitPattern } == values.map(\.bitPattern))
        let x = (parsed["gradients"] as! [String: Any])["x"] as! [String: Any]
        #expect(x["data"] as! [String] == ["NaN"])
        #expect(x["shape"] as! [Int] == [])
        #expect(parsed["notes"] as! [String] == ["a \"quoted\" note"])
    }

    @Test func textSummarisesLargeTensors() throws {
        let result = try evaluate("x = -2\ny = 5\nf = x * y\n")
        #expect(result.text() == "f = -10\ngradients of f:\n  x  5\n  y  -2\n")
        let big = Evaluation(outputName: "v", value: Tensor(shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8]), gradients: [], notes: [])
        #expect(big.text() == "v = 2×4 min 1 max 8 mean 4.5 first [1, 2, 3, 4, 5, …]\nno leaf gets a gradient (every leaf is a constant)\n")
        let vector = Evaluation(outputName: "v", value: Tensor([0.5, -1, .nan]), gradients: [], notes: [])
        #expect(vector.text().hasPrefix("v = 3 [0.5, -1, NaN]\n"))
        #expect(big.text(full: true) == "v = 2×4\n    [[1, 2, 3, 4],\n     [5, 6, 7, 8]]\nno leaf gets a gradient (every leaf is a constant)\n")
    }
}

extension LanguageTests {
    @Test func aTenThousandTermSumCompiles() throws {
        let terms = (0..<10_000).map { "a\($0)" }
        let source = terms.map { "\($0) = 1" }.joined(separator: "\n") + "\ns = " + terms.joined(separator: " + ") + "\n"
        let result = try evaluate(source)
        #expect(result.value.scalar == 10_000)
        #expect(result.gradients.count == 10_000 && result.gradients.allSatisfy { $0.gradient.scalar == 1 })
    }
}
