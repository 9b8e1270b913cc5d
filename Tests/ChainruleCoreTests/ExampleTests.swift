import ChainruleCore
import Foundation
import Testing

@Suite struct ExampleTests {
    /// micrograd's README neuron: o = tanh(x1·w1 + x2·w2 + b).
    @Test func microgradTanhNeuron() throws {
        let (g, o) = Examples.microgradNeuron()
        try g.backward(o)
        #expect(Swift.abs(o.value.scalar - 0.7071) < 1e-4)
        #expect(Swift.abs(leafGradient("x1", in: g)! - -1.5) < 1e-6)
        #expect(Swift.abs(leafGradient("w1", in: g)! - 1.0) < 1e-6)
        #expect(Swift.abs(leafGradient("x2", in: g)! - 0.5) < 1e-6)
        #expect(leafGradient("w2", in: g) == 0)
        #expect(Swift.abs(leafGradient("b", in: g)! - 0.5) < 1e-6)
        #expect(Swift.abs(leafGradient("n", in: g)! - 0.5) < 1e-6)
    }

    /// CS231n's sigmoid neuron, from primitive gates.
    @Test func cs231nSigmoidNeuron() throws {
        let (g, f) = Examples.sigmoidNeuron()
        try g.backward(f)
        #expect(Swift.abs(f.value.scalar - 0.7311) < 1e-4)
        #expect(Swift.abs(leafGradient("w0", in: g)! - -0.196612) < 1e-6)
        #expect(Swift.abs(leafGradient("x0", in: g)! - 0.393224) < 1e-6)
        #expect(Swift.abs(leafGradient("w1", in: g)! - -0.393224) < 1e-6)
        #expect(Swift.abs(leafGradient("x1", in: g)! - -0.589836) < 1e-6)
        #expect(Swift.abs(leafGradient("w2", in: g)! - 0.196612) < 1e-6)
    }

    /// The same neuron with the sigmoid op gives the gates' gradients: σ' = σ(1 − σ).
    @Test func sigmoidOpAgreesWithTheGates() throws {
        let g = Graph()
        let w0 = g.input("w0", 2), x0 = g.input("x0", -1)
        let w1 = g.input("w1", -3), x1 = g.input("x1", -2)
        let w2 = g.input("w2", -3)
        let f = sigmoid(w0 * x0 + w1 * x1 + w2)
        try g.backward(f)
        #expect(Swift.abs(w0.gradient!.scalar - -0.196612) < 1e-6)
        #expect(Swift.abs(x1.gradient!.scalar - -0.589836) < 1e-6)
    }

    /// Mean squared error from primitives: mean((p − t)²) has gradient 2(p − t)/n.
    @Test func meanSquaredErrorFromPrimitives() throws {
        let g = Graph()
        let p = g.input("p", Tensor([[1, 2], [3, 4]]))
        let t = g.constant(Tensor([[0, 2], [5, 3]]))
        let loss = mean(square(p - t))
        try g.backward(loss)
        #expect(loss.value.scalar == (1 + 0 + 4 + 1) / 4.0)
        #expect(p.gradient == Tensor([[0.5, 0], [-1, 0.5]]))
    }

    /// softmax written out as exp(x − max) / Σ exp(x − max), with keepdims
    /// so the row statistics broadcast back, agrees with the softmax op in
    /// value and gradient (the max path contributes nothing: softmax does
    /// not change when a row is shifted).
    @Test func softmaxFromPrimitivesAgreesWithTheOp() throws {
        let logits = Tensor([[2, -1, 0.5], [1000, 1001, 999]])
        let seed = Tensor([[1, 0, -2], [0.5, 3, 1]])
        let byHand = try valueAndGradients([logits], seed: seed) { x in
            let shifted = exp(x[0] - max(x[0], axis: -1, keepdims: true))
            return shifted / sum(shifted, axis: -1, keepdims: true)
        }
        let op = try valueAndGradients([logits], seed: seed) { softmax($0[0]) }
        #expect(tensorsAgree(byHand.value, op.value, 1e-15))
        #expect(tensorsAgree(byHand.gradients[0], op.gradients[0], 1e-12))
    }

    /// Cross-entropy from log_softmax: −mean over the batch of the true
    /// class's log-probability has gradient (softmax − one-hot) / N.
    @Test func crossEntropyFromLogSoftmax() throws {
        let g = Graph()
        let scores = g.input("scores", Tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0]]))
        let oneHot = g.constant(Tensor([[1, 0, 0], [0, 1, 0]]))
        let loss = -mean(sum(logSoftmax(scores) * oneHot, axis: 1))
        try g.backward(loss)
        let probabilities = Softmax().forward([scores.value])
        let expected = probabilities.zipMap(oneHot.value) { ($0 - $1) / 2 }
        #expect(tensorsAgree(scores.gradient!, expected, 1e-15))
        // CS231n's first example: the cat score 3.2 gives a loss of 2.04 on its own.
        #expect(Swift.abs(-Foundation.log(probabilities[0, 0]) - 2.04) < 0.01)
    }
}
