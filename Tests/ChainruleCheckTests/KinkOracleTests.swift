import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// The oracle for kinks: CS231n-style networks with ReLU and max-pool, all of whose rules
/// are right, at random points and at points placed near ties, must pass under every
/// stencil and every documented step.
@Suite struct KinkOracleTests {
    /// Every stencil at its default step, and `--eps auto`.
    static let settings: [CheckOptions] = [
        CheckOptions(stencil: .central), CheckOptions(stencil: .fivePoint), CheckOptions(stencil: .richardson),
        CheckOptions(autoStep: true, stencil: .central), CheckOptions(autoStep: true, stencil: .fivePoint),
    ]

    /// x [4, 3] → linear 5 → relu → linear 3 → cross-entropy.
    static func mlp(seed: UInt64) -> (Graph, NodeID) {
        let g = Graph()
        let x = g.input("x", Tensor.randn([4, 3], seed: seed))
        let w1 = g.param("w1", Tensor.randn([5, 3], seed: seed &+ 1)), b1 = g.param("b1", Tensor.randn([5], seed: seed &+ 2, scale: 0.1))
        let w2 = g.param("w2", Tensor.randn([3, 5], seed: seed &+ 3)), b2 = g.param("b2", Tensor.zeros([3]))
        let loss = crossEntropy(linear(relu(linear(x, w1, b1)), w2, b2), labels: [0, 2, 1, 1]).named("loss")
        return (g, loss.id)
    }

    /// image 1×1×6×6 → conv 1→2 3×3 → relu → max-pool 2 → flatten → linear 8→3 → cross-entropy.
    /// With `nearTies`, the conv bias puts the first pre-activation of channel 1 1e-10 above
    /// zero (a ReLU kink within every step), and channel 0's bias makes it tie, to 1e-12, with
    /// its right neighbour in the first pool window.
    static func cnn(seed: UInt64, nearTies: Bool) -> (Graph, NodeID) {
        let image = Tensor.randn([1, 1, 6, 6], seed: seed)
        let kernel = Tensor.randn([2, 1, 3, 3], seed: seed &+ 1, scale: 0.5)
        var bias = Tensor.randn([2], seed: seed &+ 2, scale: 0.1)
        if nearTies {
            func response(channel: Int, column: Int) -> Double {
                var z = 0.0
                for r in 0..<3 {
                    for c in 0..<3 { z += kernel.data[channel * 9 + r * 3 + c] * image.data[r * 6 + c + column] }
                }
                return z
            }
            bias.data[1] = 1e-10 - response(channel: 1, column: 0)
            // Channel 0 cannot tie two positions by its bias alone; a pool window of channel 1
            // holds the 1e-10 cell next to zeros or positives: ties at zero from the ReLU.
            bias.data[0] = 1e-12 - Swift.min(response(channel: 0, column: 0), response(channel: 0, column: 1))
        }
        let g = Graph()
        let x = g.input("image", image)
        let w = g.param("w", kernel), b = g.param("b", bias)
        let pooled = maxpool2d(relu(conv2d(x, w, b)), kernel: 2)
        let w2 = g.param("w2", Tensor.randn([3, 8], seed: seed &+ 3)), b2 = g.param("b2", Tensor.zeros([3]))
        let loss = crossEntropy(linear(flatten(pooled), w2, b2), labels: [Int(seed % 3)]).named("loss")
        return (g, loss.id)
    }

    /// A max-pool straight on a leaf holding ties, near ties and values near zero, behind a relu.
    static func pooledLeaf() -> (Graph, NodeID) {
        let g = Graph()
        let x = g.input("x", Tensor(shape: [1, 1, 4, 4], data: [
            3, 3 + 1e-12, 1, 0,    0.5, 0.5 + 1e-7, -1e-11, 2,
            -2, 1e-11, 4, 4,       0, 0, 0.25, 0.2495,
        ]))
        let w = g.param("w", Tensor.randn([2, 4], seed: 4))
        let y = sum(tanh(linear(flatten(maxpool2d(relu(x), kernel: 2)), w))).named("y")
        return (g, y.id)
    }

    static func expectNoFailure(_ graph: Graph, _ output: NodeID, _ label: String) throws {
        for options in settings {
            let report = try GradientCheck.graph(graph, output: output, options: options)
            let failed = report.nodes.filter { $0.status == .fail }.map(\.name) + report.leaves.filter { $0.status == .fail }.map(\.name)
            #expect(failed.isEmpty, "\(label), \(options.summary): failed \(failed)\n\(TerminalReport().render(report))")
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func mlpsAtRandomPointsPass(seed: UInt64) throws {
        let (g, loss) = Self.mlp(seed: seed)
        try Self.expectNoFailure(g, loss, "MLP seed \(seed)")
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func cnnsAtRandomPointsPass(seed: UInt64) throws {
        let (g, loss) = Self.cnn(seed: seed, nearTies: false)
        try Self.expectNoFailure(g, loss, "CNN seed \(seed)")
    }

    @Test(arguments: [1, 2] as [UInt64])
    func cnnsNearTiesPass(seed: UInt64) throws {
        let (g, loss) = Self.cnn(seed: seed, nearTies: true)
        try Self.expectNoFailure(g, loss, "CNN near ties, seed \(seed)")
    }

    @Test func aPoolOnTiesAndNearTiesPasses() throws {
        let (g, y) = Self.pooledLeaf()
        try Self.expectNoFailure(g, y, "max-pool on ties")
    }

    @Test func aNearTiePrintsTheTrueOneSidedDerivatives() throws {
        let g = Graph()
        let x = g.input("x", Tensor(shape: [1, 1, 2, 2], data: [3, 3 + 1e-12, 1, 0]))
        let y = sum(maxpool2d(x, kernel: 2)).named("y")
        for options in Self.settings {
            let report = try GradientCheck.graph(g, output: y.id, options: options)
            #expect(report.passed)
            let leaf = try #require(report.leaf(x.id))
            #expect(leaf.status == .kink, "\(options.summary)")
            for kink in leaf.kinks {
                let sides = [kink.leftDerivative ?? .nan, kink.rightDerivative ?? .nan].sorted()
                #expect(abs(sides[0]) < 1e-6 && abs(sides[1] - 1) < 1e-6, "\(options.summary): \(sides)")
            }
        }
        let text = TerminalReport().render(try GradientCheck.graph(g, output: y.id, options: CheckOptions(stencil: .fivePoint)))
        #expect(text.contains("at a kink: one-sided derivatives left 0, right 1"))
    }

    @Test func elementsWhoseTwoSidesAreEqualAreNotAtAKink() throws {
        // The five-point stencil's x ± 2h crosses the tie 5e-4 away, but at x the max is smooth.
        let g = Graph()
        let x = g.input("x", Tensor(shape: [1, 1, 2, 2], data: [3, 2.9995, 1, 0]))
        let y = sum(maxpool2d(x, kernel: 2)).named("y")
        let report = try GradientCheck.graph(g, output: y.id, options: CheckOptions(stencil: .fivePoint))
        #expect(report.leaf(x.id)?.status == .pass)
        #expect(report.leaf(x.id)?.kinkCount == 0)
    }
}
