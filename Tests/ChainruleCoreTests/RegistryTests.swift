import ChainruleCore
import Testing

/// Every op in the registry, whoever added it, must come with samples on
/// which its shape rule, forward and backward agree with each other.
@Suite struct RegistryTests {
    /// One argument per registry op, so a failure names the op.
    static let opNames = Registry.names

    @Test(arguments: opNames)
    func everyOpHasSamples(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        #expect(!spec.samples.isEmpty, "\(name) has no checker samples")
        #expect(!spec.doc.isEmpty, "\(name) has no doc")
        for sample in spec.samples {
            #expect(sample.op.name == name, "sample '\(sample.label)' of \(name) runs op \(sample.op.name)")
        }
    }

    @Test(arguments: opNames)
    func forwardOnEverySampleGivesTheDeclaredShapeAndFiniteValues(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for sample in spec.samples {
            let op = sample.op
            let shape = try op.outputShape(sample.inputs.map(\.shape))
            try op.validate(sample.inputs)
            let output = op.forward(sample.inputs)
            #expect(output.shape == shape, "\(name) '\(sample.label)': forward gives \(output.shape), shape rule says \(shape)")
            #expect(output.allFinite, "\(name) '\(sample.label)': forward gives a non-finite value")
        }
    }

    @Test(arguments: opNames)
    func backwardGivesOneGradientPerInputShapedLikeIt(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for sample in spec.samples {
            let op = sample.op
            let output = op.forward(sample.inputs)
            let seed = Tensor.uniform(output.shape, low: -1, high: 1, seed: 7)
            let gradients = op.backward(sample.inputs, output: output, gradient: seed)
            #expect(gradients.count == sample.inputs.count,
                    "\(name) '\(sample.label)': \(gradients.count) gradients for \(sample.inputs.count) inputs")
            for (index, input) in sample.inputs.enumerated() where index < gradients.count {
                guard let gradient = gradients[index] else {
                    #expect(!op.isDifferentiable(input: index),
                            "\(name) '\(sample.label)': no gradient for differentiable input \(index)")
                    continue
                }
                #expect(gradient.shape == input.shape,
                        "\(name) '\(sample.label)': gradient of input \(index) is \(gradient.shape), the input is \(input.shape)")
                #expect(gradient.allFinite, "\(name) '\(sample.label)': gradient of input \(index) is not finite")
            }
        }
    }

    /// An op that reports branches is piecewise, so its spec says where in words.
    @Test(arguments: opNames)
    func opsWithBranchesDeclareTheirKinks(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for sample in spec.samples where !sample.op.branches(sample.inputs).isEmpty {
            #expect(spec.kinks != nil, "\(name) '\(sample.label)' reports branches but the spec declares no kinks")
        }
    }

    @Test func theSimpleOpFamiliesAreRegistered() {
        let expected = [
            "add", "sub", "mul", "div", "pow", "pow_const", "maximum", "minimum",
            "neg", "exp", "log", "sqrt", "abs", "sin", "cos", "square",
            "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "elu", "softmax", "log_softmax",
            "sum", "mean", "max", "transpose", "reshape", "flatten",
        ]
        for name in expected {
            #expect(Registry.spec(named: name) != nil, "\(name) is not in the registry")
        }
    }
}
