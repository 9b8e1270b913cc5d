import ChainruleCore
import ChainruleLanguage
import Testing

@Suite struct LayerNamingTests {
    @Test func anOpInsideALayerIsNamedAfterTheLayer() throws {
        let program = try Compiler.compile(source: """
            x = randn(1, 1, 8, 8, seed: 1)
            c1 = relu(Conv2D(x, filters: 2, kernel: 3))
            """, file: "t.grad")
        let names = program.graph.nodes.filter { $0.op != nil }.map(\.displayName)
        #expect(names == ["c1.conv2d", "c1"])
    }

    @Test func aBindingNamesTheLayerItMakes() throws {
        let program = try Compiler.compile(source: """
            x = randn(1, 4, seed: 1)
            h = Linear(x, 3)
            b = (h)
            """, file: "t.grad")
        let op = try #require(program.graph.nodes.first { $0.op != nil })
        #expect(op.displayName == "h")
    }
}
