@testable import ChainruleCheck
import ChainruleCore
import Foundation
import Testing

/// A perturbed evaluation recomputes only what the moved elements reach (`PartialForward`): the
/// numbers must be the whole forward's, bit for bit, and a wrong rule must still be caught and named.
@Suite struct PartialForwardCheckTests {
    static func bits(_ t: Tensor) -> [UInt64] { t.data.map(\.bitPattern) }

    /// The inputs moved by `moves`, and the op's part against its whole forward; false when the
    /// op recomputes whole there (nothing compared).
    @discardableResult
    static func expectSameBits(
        _ op: any PartialForward, _ inputs: [Tensor], moving moves: [(input: Int, element: Int, offset: Double)],
        _ label: String
    ) -> Bool {
        let base = op.forward(inputs)
        var perturbed = inputs
        var moved = [[Int]](repeating: [], count: inputs.count)
        for m in moves {
            perturbed[m.input].data[m.element] += m.offset
            moved[m.input].append(m.element)
        }
        let elements = moved.map { MovedElements.elements(Array(Set($0)).sorted()) }
        let whole = op.forward(perturbed)
        guard let part = op.partialForward(perturbed, base: base, moved: elements) else { return false }
        #expect(bits(part.output) == bits(whole), "\(op.name) \(label): the part differs from the whole forward")
        #expect(part.output.shape == whole.shape)
        // Outside the recomputed elements the output is the base's: nothing else may have moved.
        guard case .elements(let recomputed) = part.moved else { return true }
        let inside = Set(recomputed)
        for k in whole.data.indices where !inside.contains(k) {
            #expect(whole.data[k].bitPattern == base.data[k].bitPattern, "\(op.name) \(label): element \(k) moved but was not recomputed")
        }
        let allBranches = op.branches(perturbed)
        if allBranches.count == whole.count {
            #expect(part.branches == recomputed.map { allBranches[$0] }, "\(op.name) \(label): branches")
        }
        return true
    }

    @Test func everyRegistryOpThatRecomputesAPartGivesTheWholeForwardsBits() {
        var checked = Set<String>()
        for spec in Registry.specs {
            for sample in spec.samples {
                guard let op = sample.op as? any PartialForward else { continue }
                for (i, x) in sample.inputs.enumerated() where op.isDifferentiable(input: i) {
                    for e in stride(from: 0, to: x.count, by: Swift.max(1, x.count / 17)) {
                        for offset in [1e-6, -1e-6, 0.37] {
                            let moves = [(i, e, offset * Swift.max(1, abs(x.data[e])))]
                            if Self.expectSameBits(op, sample.inputs, moving: moves, "\(sample.label), input \(i)[\(e)]") {
                                checked.insert(spec.name)
                            }
                        }
                    }
                }
            }
        }
        #expect(checked.isSuperset(of: ["linear", "tanh", "relu", "exp", "sigmoid", "add", "sub", "mul", "div", "pow", "maximum", "minimum"]),
                "checked \(checked.sorted())")
    }

    /// Short rows (below the dot-product kernel's 32) and long ones, output widths not a multiple
    /// of 4, batches of several rows and a single vector, with and without a bias, one element or several.
    @Test(arguments: [(rows: 3, features: 5, outputs: 6), (rows: 5, features: 37, outputs: 7), (rows: 1, features: 40, outputs: 9)], [true, false])
    func aLinearLayersMovedRowsAndColumnsHaveTheWholeForwardsBits(size: (rows: Int, features: Int, outputs: Int), bias: Bool) {
        let op = Linear(hasBias: bias)
        var inputs = [
            Tensor.randn([size.rows, size.features], seed: 1), Tensor.randn([size.outputs, size.features], seed: 2, scale: 0.3),
        ]
        if bias { inputs.append(Tensor.randn([size.outputs], seed: 3)) }
        for (i, x) in inputs.enumerated() {
            for e in [0, x.count / 2, x.count - 1] {
                let compared = Self.expectSameBits(op, inputs, moving: [(i, e, 1e-6)], "input \(i)[\(e)]")
                // A weight or bias moves one column of several; a datum its row, the whole output of a single row.
                #expect(compared == (i > 0 || size.rows > 1), "input \(i)[\(e)] recomputed whole")
            }
        }
        Self.expectSameBits(op, inputs, moving: [(1, 0, 1e-6), (1, inputs[1].count - 1, -2e-6)], "two weights")
        Self.expectSameBits(op, inputs, moving: [(0, 1, 1e-6), (1, 3, 1e-6)], "a datum and a weight")
    }

    /// An empty batch or a layer of no inputs: nothing to cut (no row past the end, no division by
    /// a zero width), so a moved bias recomputes the whole (empty or bias-only) output.
    @Test(arguments: [(x: [0, 4], w: [3, 4]), (x: [2, 0], w: [3, 0])])
    func aLinearLayerWithAnEmptySideRecomputesWhole(shapes: (x: [Int], w: [Int])) {
        let inputs = [Tensor.randn(shapes.x, seed: 1), Tensor.randn(shapes.w, seed: 2), Tensor.randn([3], seed: 3)]
        #expect(!Self.expectSameBits(Linear(), inputs, moving: [(2, 1, 1e-6)], "bias[1]"))
    }

    /// x const → Linear → tanh → Linear → relu → cross-entropy: a perturbed leaf's cone
    /// evaluated part by part gives the whole forward's output bits, element after element and leaf after leaf.
    @Test func theConeGivesTheWholeGraphsBitsLeafAfterLeaf() throws {
        let (g, loss) = Self.network(first: Linear())
        let nodes = g.nodes
        let snapshot = GraphSnapshot(g, output: loss)
        let values = try snapshot.forwardValues()
        let leaves = g.differentiableLeaves
        let evaluator = ConeEvaluator(snapshot: snapshot, values: values, leaves: leaves, cones: snapshot.cones(of: leaves))
        for (n, leaf) in leaves.enumerated() {
            for e in Set([0, 7, values[leaf.index].count - 1]).sorted() where e < values[leaf.index].count {
                for offset in [1e-6, -1e-6] {
                    let evaluated = evaluator.evaluate(input: n, element: e, offset: offset)
                    evaluator.resetElement(input: n, element: e)
                    var moved = nodes
                    moved[leaf.index].value!.data[e] += offset
                    let whole = try Graph.forwardValues(nodes: moved)[loss.index]
                    #expect(Self.bits(evaluated.output) == Self.bits(whole), "\(nodes[leaf.index].displayName)[\(e)] \(offset)")
                }
            }
        }
    }

    /// The same network with every op behind a wrapper that recomputes whole: the same report,
    /// number for number (worst elements, errors, counts), node-local and end-to-end, whether the
    /// nodes compare full Jacobians or (over the limit) `uᵀJ`, summed over the moved outputs only.
    @Test(arguments: [CheckOptions(), CheckOptions(fullJacobianLimit: 1)])
    func aCheckPartByPartReportsTheNumbersOfACheckRecomputingWhole(options: CheckOptions) throws {
        let (parts, loss) = Self.network(first: Linear())
        let (whole, wholeLoss) = Self.network(first: Linear(), wrap: { WholeForward(op: $0) })
        let byParts = try GradientCheck.graph(parts, output: loss, options: options)
        let byWhole = try GradientCheck.graph(whole, output: wholeLoss, options: options)
        #expect(byParts.passed)
        // Every number of every node and leaf (worst elements, errors, projections), not only the verdicts.
        #expect(byParts.nodes == byWhole.nodes)
        #expect(byParts.leaves == byWhole.leaves)
        #expect(byParts.forwardEvaluations == byWhole.forwardEvaluations)
    }

    /// A dense layer whose weight gradient is off at one element, recomputed part by part like
    /// `Linear`: the node-local check fails that node alone and names the element, and so does the
    /// end-to-end check at the weight.
    @Test func aWrongWeightGradientIsStillNamedAtItsNodeAndElement() throws {
        let slip = 2 * 40 + 13
        let (g, loss) = Self.network(first: SlippedLinear(slip: slip))
        let report = try GradientCheck.graph(g, output: loss)
        #expect(!report.passed)
        let failing = report.nodes.filter { $0.status == .fail }
        #expect(failing.map(\.op) == ["slipped_linear"])
        let worst = try #require(failing.first?.worst)
        #expect(worst.inputName == "W1")
        #expect(worst.index == [2, 13])
        let failingLeaves = report.leaves.filter { $0.status == .fail }
        #expect(failingLeaves.map(\.name) == ["W1"])
        #expect(failingLeaves.first?.worst?.index == [2, 13])
        #expect(failingLeaves.first?.failedElements == 1)
    }

    /// x [3, 40] (constant) → `first` to 6 → tanh → Linear to 5 → relu → cross-entropy on 3 labels,
    /// with every op but the loss passed through `wrap`.
    static func network(
        first: any ChainruleCore.Operation, wrap: (any ChainruleCore.Operation) -> any ChainruleCore.Operation = { $0 }
    ) -> (Graph, NodeID) {
        let g = Graph()
        let x = g.constant(Tensor.randn([3, 40], seed: 11), name: "x")
        let w1 = g.param("W1", Tensor.randn([6, 40], seed: 12, scale: 0.2)), b1 = g.param("b1", Tensor.randn([6], seed: 13, scale: 0.1))
        let w2 = g.param("W2", Tensor.randn([5, 6], seed: 14, scale: 0.5)), b2 = g.param("b2", Tensor.randn([5], seed: 15, scale: 0.1))
        let h = g.build(wrap(Activation.tanh), [g.build(wrap(first), [x, w1, b1])])
        let s = g.build(wrap(Activation.relu), [g.build(wrap(Linear()), [h, w2, b2])])
        let loss = crossEntropy(s, labels: [0, 3, 1])
        return (g, loss.id)
    }
}

/// An op recomputed whole: everything of `op` but its `PartialForward` conformance.
struct WholeForward: ChainruleCore.Operation {
    let op: any ChainruleCore.Operation
    var name: String { op.name }
    func isDifferentiable(input index: Int) -> Bool { op.isDifferentiable(input: index) }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try op.outputShape(shapes) }
    func forward(_ inputs: [Tensor]) -> Tensor { op.forward(inputs) }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        op.backward(inputs, output: output, gradient: gradient)
    }
    func branches(_ inputs: [Tensor]) -> [Int] { op.branches(inputs) }
}

/// `linear` whose weight gradient is 0.01 too large at element `slip` of W, recomputing parts as `Linear` does.
struct SlippedLinear: PartialForward {
    let slip: Int
    private let linear = Linear()
    init(slip: Int) { self.slip = slip }
    var name: String { "slipped_linear" }
    func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try linear.outputShape(shapes) }
    func forward(_ inputs: [Tensor]) -> Tensor { linear.forward(inputs) }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        var gradients = linear.backward(inputs, output: output, gradient: gradient)
        gradients[1]?.data[slip] += 0.01
        return gradients
    }
    func partialForward(_ inputs: [Tensor], base: Tensor, moved: [MovedElements]) -> PartialOutput? {
        linear.partialForward(inputs, base: base, moved: moved)
    }
}
