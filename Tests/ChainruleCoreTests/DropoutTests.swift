import ChainruleCore
import Testing

@Suite struct DropoutTests {
    @Test func theSameSeedGivesTheSameMask() {
        let x = Tensor.ones([1000])
        let a = try! Dropout(p: 0.3, seed: 42).forward([x])
        let b = try! Dropout(p: 0.3, seed: 42).forward([x])
        let c = try! Dropout(p: 0.3, seed: 43).forward([x])
        #expect(a == b)
        #expect(a != c)
    }

    @Test func keptElementsAreScaledSoTheMeanIsKept() {
        let out = try! Dropout(p: 0.5, seed: 1).forward([Tensor.ones([10_000])])
        // Every element is 0 or 1/(1 − p) = 2; about half are kept.
        #expect(out.data.allSatisfy { $0 == 0 || $0 == 2 })
        #expect(abs(out.mean - 1) < 0.05)
    }

    @Test func backwardUsesTheSameMask() throws {
        let g = Graph()
        let x = g.input("x", Tensor.randn([4, 5], seed: 2))
        let y = dropout(x, p: 0.4, seed: 9)
        try g.backward(y)
        let mask = try Dropout(p: 0.4, seed: 9).mask(count: 20)
        #expect(x.gradient?.data == mask)
        #expect(y.value.data == zip(x.value.data, mask).map(*))
    }

    @Test func pOutsideZeroToOneIsAValueError() {
        #expect(throws: ValueError.self) { try Dropout(p: 1) }
        #expect(throws: ValueError.self) { try Dropout(p: -0.1) }
    }
}
