import ChainruleCore
import Foundation
import Testing

@Suite struct ElementwiseTests {
    @Test func powWithATensorExponent() throws {
        let (y, d) = try valueAndGradients([Tensor(2), Tensor(3)]) { pow($0[0], $0[1]) }
        #expect(y.scalar == 8)
        #expect(d[0].scalar == 12)                                   // 3·2²
        #expect(Swift.abs(d[1].scalar - 8 * Foundation.log(2)) < 1e-12)  // 2³·ln 2
    }

    @Test func powBroadcastsAndSumsTheExponentGradient() throws {
        let (y, d) = try valueAndGradients([Tensor([1, 2, 4]), Tensor(2)]) { pow($0[0], $0[1]) }
        #expect(y == Tensor([1, 4, 16]))
        #expect(d[0] == Tensor([2, 4, 8]))
        // Σ xᵢ²·ln xᵢ = 0 + 4 ln 2 + 16 ln 4
        #expect(Swift.abs(d[1].scalar - (4 * Foundation.log(2) + 16 * Foundation.log(4))) < 1e-12)
    }

    @Test func powAtZeroBaseHasAFlatExponentGradient() throws {
        let (y, d) = try valueAndGradients([Tensor(0), Tensor(2)]) { pow($0[0], $0[1]) }
        #expect(y.scalar == 0)
        #expect(d[0].scalar == 0)
        #expect(d[1].scalar == 0)
    }

    @Test func powConstOnNegativeInputsWithWholeExponents() throws {
        let cube = try valueAndGradients([Tensor([-2, 3])]) { pow($0[0], 3) }
        #expect(cube.value == Tensor([-8, 27]))
        #expect(cube.gradients[0] == Tensor([12, 27]))
        let square = try valueAndGradients([Tensor([-3, 0, 5])]) { pow($0[0], 2.0) }
        #expect(square.value == Tensor([9, 0, 25]))
        #expect(square.gradients[0] == Tensor([-6, 0, 10]))
        let reciprocal = try valueAndGradients([Tensor(-2)]) { pow($0[0], -1) }
        #expect(reciprocal.value.scalar == -0.5)
        #expect(reciprocal.gradients[0].scalar == -0.25)
    }

    @Test func powConstWithExponentZeroIsFlatEvenAtZero() throws {
        let (y, d) = try valueAndGradients([Tensor([0, -2])]) { pow($0[0], 0) }
        #expect(y == Tensor([1, 1]))
        #expect(d[0] == Tensor([0, 0]))
    }

    @Test func powConstRecordsItsExponent() {
        let op = Unary.powConst(2)
        #expect(op.name == "pow_const")
        #expect(op.symbol == "^2")
        #expect(op.attributes["p"] == .double(2))
    }

    @Test func powConstBuiltFromTheRegistryNeedsItsExponent() throws {
        let spec = try #require(Registry.spec(named: "pow_const"))
        let cube = try spec.build(OpArguments(attributes: ["p": .double(3)], tensorInputs: ["x"]))
        #expect(cube.forward([Tensor(2)]).scalar == 8)
        #expect(throws: ValueError.self) { try spec.build(OpArguments(tensorInputs: ["x"])) }
        do {
            _ = try spec.build(OpArguments(tensorInputs: ["x"]))
        } catch {
            #expect(error.description == "pow_const: needs the number p, e.g. pow_const(x, p: 2)")
        }
    }

    @Test func maximumRoutesTheGradientToTheLargerInput() throws {
        let (y, d) = try valueAndGradients([Tensor([1, 5, 3]), Tensor([4, 2, 3])]) { maximum($0[0], $0[1]) }
        #expect(y == Tensor([4, 5, 3]))
        #expect(d[0] == Tensor([0, 1, 1]))   // the tie at 3 goes to a
        #expect(d[1] == Tensor([1, 0, 0]))
    }

    @Test func minimumRoutesTheGradientToTheSmallerInput() throws {
        let (y, d) = try valueAndGradients([Tensor([1, 5, 3]), Tensor([4, 2, 3])]) { minimum($0[0], $0[1]) }
        #expect(y == Tensor([1, 2, 3]))
        #expect(d[0] == Tensor([1, 0, 1]))   // the tie at 3 goes to a
        #expect(d[1] == Tensor([0, 1, 0]))
    }

    /// relu(x) written as maximum(x, 0): the scalar 0 collects the gradient
    /// of every negative element.
    @Test func maximumWithABroadcastScalar() throws {
        let (y, d) = try valueAndGradients([Tensor([[-1, 2], [3, -4]]), Tensor(0)]) { maximum($0[0], $0[1]) }
        #expect(y == Tensor([[0, 2], [3, 0]]))
        #expect(d[0] == Tensor([[0, 1], [1, 0]]))
        #expect(d[1].scalar == 2)
    }

    @Test func maximumDeclaresTiesAsAKink() {
        let below = Maximum().branches([Tensor([3 - 1e-6]), Tensor([3])])
        let above = Maximum().branches([Tensor([3 + 1e-6]), Tensor([3])])
        #expect(below != above)
    }

    @Test func unaryValuesAndSlopes() throws {
        let x = Tensor([0.5, 2])
        let cases: [(build: (Var) -> Var, value: (Double) -> Double, slope: (Double) -> Double)] = [
            ({ log($0) }, { Foundation.log($0) }, { 1 / $0 }),
            ({ sqrt($0) }, { $0.squareRoot() }, { 0.5 / $0.squareRoot() }),
            ({ sin($0) }, { Foundation.sin($0) }, { Foundation.cos($0) }),
            ({ cos($0) }, { Foundation.cos($0) }, { -Foundation.sin($0) }),
            ({ square($0) }, { $0 * $0 }, { 2 * $0 }),
            ({ exp($0) }, { Foundation.exp($0) }, { Foundation.exp($0) }),
        ]
        for (build, value, slope) in cases {
            let (y, d) = try valueAndGradients([x]) { build($0[0]) }
            #expect(tensorsAgree(y, x.map(value), 1e-12))
            #expect(tensorsAgree(d[0], x.map(slope), 1e-12))
        }
    }

    @Test func handComputedUnaryValues() throws {
        #expect(try valueAndGradients([Tensor(9)]) { sqrt($0[0]) }.value.scalar == 3)
        #expect(try valueAndGradients([Tensor(9)]) { sqrt($0[0]) }.gradients[0].scalar == 1.0 / 6)
        #expect(try valueAndGradients([Tensor(1)]) { log($0[0]) }.value.scalar == 0)
        #expect(try valueAndGradients([Tensor(-3)]) { square($0[0]) }.value.scalar == 9)
        #expect(try valueAndGradients([Tensor(0)]) { cos($0[0]) }.value.scalar == 1)
    }

    @Test func absHasSlopeSignAndZeroAtTheKink() throws {
        let (y, d) = try valueAndGradients([Tensor([-2, 0, 3])]) { abs($0[0]) }
        #expect(y == Tensor([2, 0, 3]))
        #expect(d[0] == Tensor([-1, 0, 1]))
        #expect(Unary.abs.branches([Tensor([-1e-6])]) != Unary.abs.branches([Tensor([1e-6])]))
    }

    @Test func shapesThatDoNotBroadcastAreRefusedByName() {
        let g = Graph()
        let a = g.input("a", Tensor.zeros([2, 3])), b = g.input("b", Tensor.zeros([2]))
        do {
            try g.apply(Maximum(), [a.id, b.id])
            Issue.record("maximum accepted 2×3 with 2")
        } catch {
            #expect(error.description.hasPrefix("maximum: shapes 2×3 and 2 do not broadcast"))
        }
    }
}
