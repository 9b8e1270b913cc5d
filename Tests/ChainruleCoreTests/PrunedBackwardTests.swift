import ChainruleCore
import Testing

/// A backward pass with a `BackwardPlan` runs only the rules on a path from a requested leaf
/// to the output, and asks them only for the inputs on such a path; the gradients it keeps
/// must be the same bits as the full pass's.
@Suite struct PrunedBackwardTests {
    /// Both passes on `graph` from `output` at a random cotangent: the requested leaves'
    /// gradients compared bit for bit, and the nodes whose rule ran in each pass.
    func bothPasses(_ graph: Graph, _ output: Var, wrt leaves: [Var]) throws -> (full: [Int], pruned: [Int], plan: BackwardPlan) {
        try graph.forward()
        let nodes = graph.nodes
        let values = nodes.map { $0.value! }
        let seed = Tensor.randn(output.shape, seed: 7)
        var full: [Int] = [], pruned: [Int] = []
        let all = Graph.gradients(nodes: nodes, values: values, output: output.id, seed: seed) { id, _, _ in full.append(id.index) }
        let plan = BackwardPlan(nodes: nodes, output: output.id, leaves: leaves.map(\.id))
        let some = Graph.gradients(nodes: nodes, values: values, output: output.id, seed: seed, plan: plan) { id, _, _ in
            pruned.append(id.index)
        }
        // The observer makes the pass take the tensor rules; without it, scalar rules give the same bits.
        let unobserved = Graph.gradients(nodes: nodes, values: values, output: output.id, seed: seed, plan: plan)
        for leaf in leaves {
            let expected = try #require(all[leaf.id.index], "\(leaf.node.displayName) has a gradient in the full pass")
            for gradients in [some, unobserved] {
                let got = try #require(gradients[leaf.id.index], "\(leaf.node.displayName) has a gradient in the pruned pass")
                #expect(got.shape == expected.shape)
                #expect(got.data.map(\.bitPattern) == expected.data.map(\.bitPattern), "\(leaf.node.displayName)")
            }
        }
        for i in nodes.indices where !plan.onPath[i] {
            #expect(some[i] == nil && unobserved[i] == nil, "\(nodes[i].displayName) is off the paths but has a gradient")
        }
        #expect(Set(pruned).isSubset(of: Set(full)))
        return (full, pruned, plan)
    }

    @Test func theDataImageOfTheSmallCNNGetsNoGradientButEveryParameterTheSameBits() throws {
        let (graph, loss) = Examples.smallCNN()
        let parameters = graph.nodes.filter { $0.role == .param }.map { Var(graph, $0.id) }
        let x = try #require(graph.nodes.first { $0.name == "x" })
        let (full, pruned, plan) = try bothPasses(graph, loss, wrt: parameters)
        // Every op lies on a parameter's path; only the image's own gradient is left out.
        #expect(pruned == full)
        #expect(!plan.onPath[x.id.index])
        let conv = try #require(graph.nodes.first { $0.op is Conv2D })
        #expect(plan.wanted[conv.id.index] == [false, true, true])
    }

    @Test func theMoonsMLPsParametersWithoutItsPoints() throws {
        let (graph, loss) = Examples.mlp(points: 20)
        let parameters = graph.nodes.filter { $0.role == .param }.map { Var(graph, $0.id) }
        let (full, pruned, _) = try bothPasses(graph, loss, wrt: parameters)
        #expect(pruned == full)
    }

    @Test func onlyTheRulesOnAPathFromTheRequestedLeafRun() throws {
        // f = (x + y)·z with only z asked for: q = x + y is off every path to z.
        let (graph, f) = Examples.cs231nCircuit()
        let z = Var(graph, try #require(graph.nodes.first { $0.name == "z" }).id)
        let (full, pruned, _) = try bothPasses(graph, f, wrt: [z])
        #expect(full.count == 2)
        #expect(pruned == [f.id.index])
    }

    @Test func aBranchOfConstantsIsSkipped() throws {
        let g = Graph()
        let x = g.param("x", Tensor.randn([3, 4], seed: 1))
        let c = g.constant(Tensor.randn([3, 4], seed: 2))
        let d = (exp(c) * c).named("d")
        let out = sum(x * d + tanh(x))
        let (full, pruned, plan) = try bothPasses(g, out, wrt: [x])
        #expect(!plan.onPath[d.id.index])
        #expect(!pruned.contains(d.id.index) && full.contains(d.id.index))
        #expect(full.count - pruned.count == 2)
    }

    @Test func aFrozenFirstLayerRunsNoRule() throws {
        let g = Graph()
        let x = g.constant(Tensor.randn([5, 6], seed: 3))
        let w1 = g.param("W1", Tensor.randn([8, 6], seed: 4)), b1 = g.param("b1", Tensor.randn([8], seed: 5))
        let w2 = g.param("W2", Tensor.randn([3, 8], seed: 6)), b2 = g.param("b2", Tensor.randn([3], seed: 7))
        let hidden = relu(linear(x, w1, b1)).named("hidden")
        let loss = crossEntropy(linear(hidden, w2, b2), labels: [0, 1, 2, 0, 1])
        let (full, pruned, plan) = try bothPasses(g, loss, wrt: [w2, b2])
        #expect(!plan.onPath[hidden.id.index])
        #expect(pruned.count == 2 && full.count == 4)
        let head = try #require(g.nodes.last { $0.op is Linear })
        #expect(plan.wanted[head.id.index] == [false, true, true])
    }

    @Test func aScalarProgramTakesTheScalarRulesOnItsPaths() throws {
        // o = tanh(x1·w1 + x2·w2 + b) with only w1 asked for: x2·w2 is off its path.
        let (graph, o) = Examples.microgradNeuron()
        let w1 = Var(graph, try #require(graph.nodes.first { $0.name == "w1" }).id)
        let x2w2 = try #require(graph.nodes.first { $0.name == "x2*w2" })
        let (full, pruned, _) = try bothPasses(graph, o, wrt: [w1])
        #expect(full.contains(x2w2.id.index) && !pruned.contains(x2w2.id.index))
        #expect(full.count - pruned.count == 1)
    }

    @Test func noRequestedLeafMeansNoRuleRuns() throws {
        let (graph, f) = Examples.cs231nCircuit()
        let (_, pruned, plan) = try bothPasses(graph, f, wrt: [])
        #expect(pruned.isEmpty)
        #expect(!plan.onPath.contains(true))
    }
}
