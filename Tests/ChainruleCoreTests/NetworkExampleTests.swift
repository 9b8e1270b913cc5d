import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

@Suite struct NetworkExampleTests {
    func params(_ graph: Graph) -> [String: Var] {
        Dictionary(uniqueKeysWithValues: graph.nodes.filter { $0.role == .param }.map { ($0.name!, Var(graph, $0.id)) })
    }

    @Test func mlpIsMicrogradsModel() throws {
        let (g, loss) = Examples.mlp()
        let p = params(g)
        #expect(p.keys.sorted() == ["fc1.W", "fc1.b", "fc2.W", "fc2.b", "fc3.W", "fc3.b"])
        #expect(p["fc1.W"]!.shape == [16, 2] && p["fc3.W"]!.shape == [1, 16])
        // 2·16 + 16 + 16·16 + 16 + 16·1 + 1
        #expect(p.values.map { $0.value.count }.reduce(0, +) == 337)
        try g.backward(loss)
        #expect(loss.shape == [] && loss.value.scalar > 0)
        for (name, v) in p { #expect(v.gradient?.shape == v.shape, "\(name) has no gradient of its shape") }
    }

    @Test func gradientDescentLowersTheMLPsLoss() throws {
        let (g, loss) = Examples.mlp(points: 40, seed: 3)
        let p = Array(params(g).values)
        try g.backward(loss)
        let before = loss.value.scalar
        for _ in 0..<30 {
            for v in p { g.setValue(v.value.zipMap(v.gradient!) { $0 - 0.05 * $1 }, of: v.id) }
            try g.backward(loss)
        }
        #expect(loss.value.scalar < 0.8 * before, "loss went from \(before) to \(loss.value.scalar)")
    }

    @Test func smallCNNHasItsLayersAndParameters() throws {
        let (g, loss) = Examples.smallCNN(seed: 1)
        let p = params(g)
        #expect(p["conv.W"]!.shape == [6, 3, 5, 5] && p["conv.b"]!.shape == [6])
        #expect(p["fc.W"]!.shape == [10, 1176] && p["fc.b"]!.shape == [10])
        #expect(g.layers.map(\.name) == ["conv", "fc"])
        try g.backward(loss)
        // An untrained network is unsure: the loss is near log 10.
        #expect(abs(loss.value.scalar - Foundation.log(10)) < 2)
        #expect(p.values.allSatisfy { $0.gradient?.shape == $0.shape })
    }

    @Test func smallCNNsGradientsAgreeWithFiniteDifferences() throws {
        let (g, loss) = Examples.smallCNN(seed: 2)
        let report = try GradientCheck.graph(g, output: loss.id, options: CheckOptions(sample: 20))
        #expect(report.passed)
        #expect(Set(report.leaves.map(\.name)) == ["x", "conv.W", "conv.b", "fc.W", "fc.b"])
    }
}
