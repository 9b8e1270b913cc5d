import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

/// The texts of the scene node with `key`, joined by spaces.
private func texts(_ scene: Scene, _ key: String) throws -> String {
    try #require(scene.nodes.first { $0.key == key }).content.texts.joined(separator: " ")
}

@Suite("Gradients add up at forks (CS231n): the total where a value splits, each branch its part")
struct ForkTests {
    @Test("f = x*x + x at x = 3: the wires carry 3, 3 and 1, and every copy of x says the total 7")
    func leafDrawnAsCopies() throws {
        let g = Graph()
        let x = g.input("x", 3)
        let square = x * x
        let f = (square + x).named("f")
        try g.backward(f)
        let scene = try GraphFigure.scene(graph: g, output: f.id, options: FigureOptions())
        let wires = [("w\(square.id.index)_0"), "w\(square.id.index)_1", "w\(f.id.index)_1"]
        #expect(try wires.map { try texts(scene, $0) } == ["3.00 ← 3.00", "3.00 ← 3.00", "3.00 ← 1.00"])
        let copies = scene.nodes.filter { $0.node == x.id }
        #expect(copies.count == 3)
        #expect(copies.allSatisfy { $0.content.texts == ["x", "Σ 7.00"] })
    }

    @Test("A gate's value read by three wires forks: the stem says 5.00 = 2.00 + 2.00 + 1.00")
    func gateFork() throws {
        let g = Graph()
        let x = g.input("x", 1)
        let a = (x + 1).named("a")
        let f = (a * a + a).named("f")
        try g.backward(f)
        let scene = try GraphFigure.scene(graph: g, output: f.id, options: FigureOptions())
        // a = 2: a·a sends 2 along each of its two wires, + sends 1; the total is 2a + 1 = 5.
        let stem = try texts(scene, "w\(a.id.index)_fork")
        #expect(stem == "2.00 ← 5.00 = 2.00 + 2.00 + 1.00")
        #expect(scene.nodes.contains { $0.key == "j\(a.id.index)" && $0.kind == .fork })
        let branches = scene.edges.filter { $0.from == "j\(a.id.index)" }
        #expect(branches.count == 3)
        // The branches carry their parts and no value (the stem shows it once).
        for wire in scene.nodes where branches.contains(where: { $0.to == wire.key }) {
            #expect(wire.content.texts.first?.hasPrefix("←") == true, "\(wire.content.texts)")
        }
    }

    @Test("A sum that rounding would break gets more decimals, or ≈")
    func sumTrueAsDisplayed() throws {
        let g = Graph()
        let x = g.input("x", 1)
        let a = (x * 1).named("a")
        // a read twice with parts 0.125 and 0.125: 0.13 + 0.13 = 0.25 is false as shown.
        let f = (a * g.input("p", 0.125) + a * g.input("q", 0.125)).named("f")
        try g.backward(f)
        let scene = try GraphFigure.scene(graph: g, output: f.id, options: FigureOptions())
        let stem = try texts(scene, "w\(a.id.index)_fork")
        #expect(stem.hasSuffix("= 0.125 + 0.125"), "\(stem)")
    }

    @Test("In the steps, the total appears only when every branch has sent its part")
    func stepsKnowTheTotalLast() throws {
        let g = Graph()
        let x = g.input("x", 1)
        let a = (x + 1).named("a")
        let b = (a * 3).named("b")
        let f = (b + a).named("f")
        try g.backward(f)
        let pages = try BackwardSteps.pages(graph: g, output: f.id, options: FigureOptions())
        let stems = try pages.map { page in
            try #require(page.scene.nodes.first { $0.key == "w\(a.id.index)_fork" }).content.texts.joined(separator: " ")
        }
        #expect(stems.first?.contains("—") == true)
        #expect(stems.last?.contains("= 3.00 + 1.00") == true, "\(stems)")
    }
}
