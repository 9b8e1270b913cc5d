import ChainruleCore
import Testing

/// The scalar path of the passes (`Operation.scalarForward`/`scalarBackward`) must give the same bits
/// as each op's tensor rule, or a scalar program would get other numbers
/// than the same program written with tensors.
@Suite struct ScalarRuleTests {
    /// The registry ops that have a scalar rule; their samples give inputs in their domain.
    static let scalarOps = Registry.specs.filter { spec in spec.samples.contains { $0.op.scalarForward(0.5, 0.5) != nil } }.map(\.name)

    @Test func theElementwiseFamilyHasScalarRules() {
        for name in ["add", "sub", "mul", "div", "tanh", "relu", "exp", "sigmoid"] {
            #expect(Self.scalarOps.contains(name), "\(name) has no scalar rule")
        }
    }

    @Test(arguments: scalarOps)
    func scalarRuleGivesTheTensorRulesBits(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for sample in spec.samples {
            let op = sample.op
            // Each element of the sample is a point in the op's domain.
            for element in 0..<sample.inputs[0].count {
                let scalars = sample.inputs.map { Tensor($0.data[element % $0.count]) }
                let a = scalars[0].data[0], b = scalars.count > 1 ? scalars[1].data[0] : 0
                let out = op.forward(scalars)
                #expect(out.data[0].bitPattern == op.scalarForward(a, b)?.bitPattern, "\(name) forward at \(scalars)")
                let g = 0.37 + Double(element)
                let tensorGradients = op.backward(scalars, output: out, gradient: Tensor(g))
                let (ga, gb) = try #require(op.scalarBackward(a, b, output: out.data[0], gradient: g))
                #expect(tensorGradients[0]?.data[0].bitPattern == ga.bitPattern, "\(name) ∂a at \(scalars)")
                if scalars.count > 1 {
                    #expect(tensorGradients[1]?.data[0].bitPattern == gb.bitPattern, "\(name) ∂b at \(scalars)")
                }
            }
        }
    }

    /// A graph of scalars gets the same values and gradients through the
    /// scalar path as the same ops on 1-element vectors (the tensor path).
    @Test func aScalarGraphMatchesItsVectorTwin() throws {
        func build(_ shape: [Int]) throws -> (Graph, NodeID) {
            let graph = Graph()
            let x = graph.leaf("x", Tensor(shape: shape, data: [0.7]), role: .input)
            let w = graph.leaf("w", Tensor(shape: shape, data: [-1.3]), role: .input)
            let b = graph.leaf("b", Tensor(shape: shape, data: [0.2]), role: .input)
            var h = try graph.apply(Mul(), [x, w])
            h = try graph.apply(Add(), [h, b])
            h = try graph.apply(try #require(Registry.spec(named: "tanh")).build(OpArguments(attributes: [:], tensorInputs: ["x"])), [h])
            h = try graph.apply(Div(), [h, x])
            h = try graph.apply(Sub(), [h, w])
            let out = try graph.apply(Mul(), [h, h])
            try graph.backward(from: out)
            return (graph, out)
        }
        let (scalar, s) = try build([])
        let (vector, v) = try build([1])
        #expect(scalar[s].value!.data == vector[v].value!.data)
        for i in 0..<scalar.count {
            #expect(scalar.nodes[i].gradient?.data == vector.nodes[i].gradient?.data, "node \(i)")
        }
    }
}
