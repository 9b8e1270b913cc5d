import ChainruleCore
import Foundation
import Testing

@Suite struct ActivationTests {
    @Test func reluAndLeakyReLU() throws {
        let x = Tensor([-2, 3])
        let plain = try valueAndGradients([x]) { relu($0[0]) }
        #expect(plain.value == Tensor([0, 3]))
        #expect(plain.gradients[0] == Tensor([0, 1]))
        let leaky = try valueAndGradients([x]) { leakyRelu($0[0], slope: 0.1) }
        #expect(tensorsAgree(leaky.value, Tensor([-0.2, 3]), 1e-15))
        #expect(leaky.gradients[0] == Tensor([0.1, 1]))
        let defaultSlope = try valueAndGradients([x]) { leakyRelu($0[0]) }
        #expect(defaultSlope.gradients[0] == Tensor([0.01, 1]))
    }

    @Test func leakyReLUTakesItsSlopeFromTheRegistry() throws {
        let spec = try #require(Registry.spec(named: "leaky_relu"))
        #expect(spec.signature == "leaky_relu(x, slope: 0.01)")
        let op = try spec.build(OpArguments(attributes: ["slope": .double(0.2)], tensorInputs: ["x"]))
        #expect(op.forward([Tensor(-5)]).scalar == -1)
        #expect(throws: ValueError.self) {
            try spec.build(OpArguments(attributes: ["slope": .ints([1, 2])], tensorInputs: ["x"]))
        }
    }

    @Test func tanhAndItsSlope() throws {
        let (y, d) = try valueAndGradients([Tensor([0, 1])]) { tanh($0[0]) }
        #expect(y.data[0] == 0)
        #expect(Swift.abs(y.data[1] - 0.761594155955765) < 1e-12)
        #expect(d[0].data[0] == 1)
        #expect(Swift.abs(d[0].data[1] - (1 - 0.761594155955765 * 0.761594155955765)) < 1e-12)
    }

    @Test func softplusIsStableForLargeInputs() throws {
        let (y, d) = try valueAndGradients([Tensor([0, 1000, -1000])]) { softplus($0[0]) }
        #expect(Swift.abs(y.data[0] - Foundation.log(2)) < 1e-15)
        #expect(y.data[1] == 1000)
        #expect(y.data[2] >= 0 && y.data[2] < 1e-300)
        #expect(d[0] == Tensor([0.5, 1, 0]))
    }

    @Test func eluValuesAndSlopes() throws {
        let (y, d) = try valueAndGradients([Tensor([-1, 2])]) { elu($0[0]) }
        #expect(Swift.abs(y.data[0] - (Foundation.exp(-1) - 1)) < 1e-15)
        #expect(y.data[1] == 2)
        #expect(Swift.abs(d[0].data[0] - Foundation.exp(-1)) < 1e-15)
        #expect(d[0].data[1] == 1)
        let half = try valueAndGradients([Tensor(-1)]) { elu($0[0], alpha: 0.5) }
        #expect(Swift.abs(half.value.scalar - 0.5 * (Foundation.exp(-1) - 1)) < 1e-15)
        #expect(Swift.abs(half.gradients[0].scalar - 0.5 * Foundation.exp(-1)) < 1e-15)
    }

    /// With alpha = 1 both sides have slope 1 at 0, so there is no kink.
    @Test func eluHasAKinkOnlyWhenAlphaIsNotOne() {
        let around = [Tensor([-1e-6]), Tensor([1e-6])]
        #expect(Activation.elu().branches([around[0]]) == Activation.elu().branches([around[1]]))
        #expect(Activation.elu(alpha: 0.5).branches([around[0]]) != Activation.elu(alpha: 0.5).branches([around[1]]))
    }

    @Test func softmaxRowsSumToOne() throws {
        let y = try valueAndGradients([Tensor([[1, 2, 3], [0, 0, 0]])]) { softmax($0[0]) }.value
        let e = [Foundation.exp(1.0), Foundation.exp(2.0), Foundation.exp(3.0)]
        let total = e.reduce(0, +)
        #expect(tensorsAgree(y, Tensor([[e[0] / total, e[1] / total, e[2] / total], [1.0 / 3, 1.0 / 3, 1.0 / 3]]), 1e-15))
        for row in 0..<2 {
            #expect(Swift.abs(y.data[3 * row..<3 * row + 3].reduce(0, +) - 1) < 1e-15)
        }
    }

    @Test func softmaxSurvivesLogitsOf1000() throws {
        let large = try valueAndGradients([Tensor([1000, 1001, 1002])]) { softmax($0[0]) }.value
        let small = try valueAndGradients([Tensor([0, 1, 2])]) { softmax($0[0]) }.value
        #expect(large.allFinite)
        #expect(tensorsAgree(large, small, 1e-15))
        let logLarge = try valueAndGradients([Tensor([1000, 0])]) { logSoftmax($0[0]) }.value
        #expect(logLarge.allFinite)
        #expect(Swift.abs(logLarge.data[0]) < 1e-300)
        #expect(logLarge.data[1] == -1000)
    }

    /// The vector–Jacobian product of a row: ∂yₖ/∂xⱼ = yₖ(δₖⱼ − yⱼ), so a seed
    /// on y₀ alone gives y₀(1 − y₀) for x₀ and −y₀yⱼ for the others.
    @Test func softmaxBackwardIsTheFullJacobianProduct() throws {
        let (y, d) = try valueAndGradients([Tensor([1, 2, 3])], seed: Tensor([1, 0, 0])) { softmax($0[0]) }
        let p = y.data
        #expect(tensorsAgree(d[0], Tensor([p[0] * (1 - p[0]), -p[0] * p[1], -p[0] * p[2]]), 1e-15))
        // The ones seed differentiates Σ softmax = 1: no gradient at all.
        let ones = try valueAndGradients([Tensor([[1, 2, 3], [4, 0, -1]])]) { softmax($0[0]) }
        #expect(tensorsAgree(ones.gradients[0], Tensor.zeros([2, 3]), 1e-15))
    }

    @Test func logSoftmaxIsTheLogOfSoftmax() throws {
        let x = Tensor([[0.5, -1, 2], [3, 3, 0]])
        let logs = try valueAndGradients([x]) { logSoftmax($0[0]) }
        let probabilities = try valueAndGradients([x]) { softmax($0[0]) }.value
        #expect(tensorsAgree(logs.value.map(Foundation.exp), probabilities, 1e-15))
        // The ones seed: ∂/∂xⱼ Σₖ log softmaxₖ = 1 − n·softmaxⱼ with n = 3.
        #expect(tensorsAgree(logs.gradients[0], probabilities.map { 1 - 3 * $0 }, 1e-14))
    }

    @Test func softmaxRefusesAScalar() {
        let g = Graph()
        let x = g.input("x", 3)
        do {
            try g.apply(Softmax(), [x.id])
            Issue.record("softmax accepted a scalar")
        } catch {
            #expect(error.description.hasPrefix("softmax: normalises along the last axis, and a scalar has no axis"))
        }
    }
}
