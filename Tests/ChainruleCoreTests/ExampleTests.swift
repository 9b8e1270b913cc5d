import ChainruleCore
import Foundation
import Testing

/// The gradient a named leaf of `graph` received.
func gradient(of name: String, in graph: Graph) -> Double? {
    graph.nodes.first { $0.name == name }?.gradient?.scalar
}

@Suite struct ExampleTests {
    /// micrograd's README neuron: o = tanh(x1·w1 + x2·w2 + b).
    @Test func microgradTanhNeuron() throws {
        let (g, o) = Examples.microgradNeuron()
        try g.backward(o)
        #expect(Swift.abs(o.value.scalar - 0.7071) < 1e-4)
        #expect(Swift.abs(gradient(of: "x1", in: g)! - -1.5) < 1e-6)
        #expect(Swift.abs(gradient(of: "w1", in: g)! - 1.0) < 1e-6)
        #expect(Swift.abs(gradient(of: "x2", in: g)! - 0.5) < 1e-6)
        #expect(gradient(of: "w2", in: g) == 0)
        #expect(Swift.abs(gradient(of: "b", in: g)! - 0.5) < 1e-6)
        #expect(Swift.abs(gradient(of: "n", in: g)! - 0.5) < 1e-6)
    }

    /// CS231n's sigmoid neuron, from primitive gates.
    @Test func cs231nSigmoidNeuron() throws {
        let (g, f) = Examples.sigmoidNeuron()
        try g.backward(f)
        #expect(Swift.abs(f.value.scalar - 0.7311) < 1e-4)
        #expect(Swift.abs(gradient(of: "w0", in: g)! - -0.196612) < 1e-6)
        #expect(Swift.abs(gradient(of: "x0", in: g)! - 0.393224) < 1e-6)
        #expect(Swift.abs(gradient(of: "w1", in: g)! - -0.393224) < 1e-6)
        #expect(Swift.abs(gradient(of: "x1", in: g)! - -0.589836) < 1e-6)
        #expect(Swift.abs(gradient(of: "w2", in: g)! - 0.196612) < 1e-6)
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
}
