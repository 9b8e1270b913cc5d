import Foundation
import Testing
@testable import ChainruleCore
@testable import ChainruleFigures
@testable import ChainruleLanguage

/// A value read twice by one op (`z * z`, `edges * edges`): its two wires
/// must stay two wires, each with its own arrowhead, in every place a
/// layout puts them — Graphviz's rows and the lanes between wrapped rows.
@Suite("Session 23: parallel wires stay apart")
struct Session23WireTests {
    static func laidOut(_ source: String, style: FigureStyle) throws -> LaidOutScene {
        let program = try Compiler.compile(source: source, file: "-e")
        try program.graph.backward(from: program.output)
        var options = FigureOptions()
        options.style = style
        return try GraphFigure.layout(graph: program.graph, output: program.output, options: options)
    }

    /// The wires of each (source, op) pair drawn more than once, with their tips.
    static func parallelTips(_ laidOut: LaidOutScene) -> [[Point]] {
        var groups = [String: [Point]]()
        for edge in laidOut.edges { if let tip = edge.arrowTip { groups[edge.edge.from + "→" + edge.edge.to, default: []].append(tip) } }
        return groups.values.filter { $0.count >= 2 }
    }

    static func distance(_ a: Point, _ b: Point) -> Double { ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot() }

    /// Before: both wires ended at the circle's middle, one double arrowhead
    /// (Graphviz's multi-edge, and the wrapped rows' lanes alike: 0 pt apart).
    @Test("the two wires of z * z end apart, on the op's circle", arguments: [
        "x = 3\nz = x + 1\ny = z * z",
        "x = randn(2, 2)\nz = x + 1\ny = sum(z * z)",
        "x = randn(3, 3)\nz = tanh(x + 1)\nw = z * z\ny = sum(w * w)",
    ])
    func twoWiresOfZTimesZEndApart(_ source: String) throws {
        let laidOut = try Self.laidOut(source, style: .record)
        let groups = Self.parallelTips(laidOut)
        #expect(!groups.isEmpty, "no value is drawn read twice")
        let circles = Dictionary(laidOut.nodes.map { ($0.node.key, $0) }, uniquingKeysWith: { a, _ in a })
        for tips in groups {
            #expect(Self.distance(tips[0], tips[1]) >= 8, "tips \(tips) meet")
        }
        for edge in laidOut.edges where edge.arrowTip != nil {
            guard let tip = edge.arrowTip, let target = circles[edge.edge.to], target.node.shape == .circle else { continue }
            // On the circle (within the arrowhead's drawing tolerance), not inside it.
            let r = target.frame.width / 2
            #expect(abs(Self.distance(tip, target.frame.center) - r) < 3, "tip \(tip) is \(Self.distance(tip, target.frame.center)) from the centre of a circle of radius \(r)")
        }
    }

    @Test func wiresBetweenRowsLeaveASharedSideInLaneOrderWithoutCrossing() throws {
        let laidOut = try Self.laidOut("x = randn(2, 2)\nz = x + 1\ny = sum(z * z)", style: .record)
        let twins = try #require(Dictionary(grouping: laidOut.edges, by: { $0.edge.from + "→" + $0.edge.to }).values.first { $0.count == 2 })
        // Each wire a polyline of straight pieces: no piece of one crosses a piece of the other.
        func segments(_ e: PlacedEdge) -> [(Point, Point)] {
            stride(from: 0, to: e.points.count - 3, by: 3).map { (e.points[$0], e.points[$0 + 3]) }
        }
        func cross(_ a: (Point, Point), _ b: (Point, Point)) -> Bool {
            func side(_ p: Point, _ q: Point, _ r: Point) -> Double { (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x) }
            let d1 = side(b.0, b.1, a.0), d2 = side(b.0, b.1, a.1), d3 = side(a.0, a.1, b.0), d4 = side(a.0, a.1, b.1)
            return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
        }
        let a = segments(twins[0]), b = segments(twins[1])
        #expect(!a.contains { s in b.contains { cross(s, $0) } }, "the two wires of z cross")
        #expect(Self.distance(twins[0].points[0], twins[1].points[0]) >= 8, "they leave z at one point")
    }
}
