import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

/// The pairs of `frames` whose interiors meet, found by a sweep along x:
/// frames sorted by their left edge, each compared only with those still
/// open (not yet ended) when it starts.
func overlappingPairs(_ frames: [Rect]) -> [(Int, Int)] {
    let sorted = frames.indices.sorted { frames[$0].x < frames[$1].x }
    var open: [Int] = [], pairs: [(Int, Int)] = []
    for i in sorted {
        open.removeAll { frames[$0].maxX <= frames[i].x }
        pairs += open.filter { frames[$0].overlaps(frames[i]) }.map { ($0, i) }
        open.append(i)
    }
    return pairs
}

/// Points along every edge (each cubic piece sampled at eight places) that
/// lie inside a box other than the edge's own two ends, 1 pt in from its outline.
func edgeCrossings(_ laidOut: LaidOutScene) -> [(edge: Int, box: String)] {
    let cell = 200.0
    var grid: [Int: [Int]] = [:]
    func key(_ x: Int, _ y: Int) -> Int { x &* 1_000_003 &+ y }
    for (k, node) in laidOut.nodes.enumerated() {
        let f = node.frame
        for x in Int(f.x / cell)...Int(f.maxX / cell) { for y in Int(f.y / cell)...Int(f.maxY / cell) { grid[key(x, y), default: []].append(k) } }
    }
    var found: [(edge: Int, box: String)] = []
    for (e, edge) in laidOut.edges.enumerated() {
        let ends: Set<String> = [edge.edge.from, edge.edge.to]
        for start in stride(from: 0, to: edge.points.count - 3, by: 3) {
            let p = Array(edge.points[start...(start + 3)])
            for step in 0...8 {
                let t = Double(step) / 8, u = 1 - t
                let a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t
                let x = a * p[0].x + b * p[1].x + c * p[2].x + d * p[3].x
                let y = a * p[0].y + b * p[1].y + c * p[2].y + d * p[3].y
                for k in grid[key(Int(x / cell), Int(y / cell))] ?? [] where !ends.contains(laidOut.nodes[k].node.key) {
                    let f = laidOut.nodes[k].frame
                    if x > f.x + 1 && x < f.maxX - 1 && y > f.y + 1 && y < f.maxY - 1 { found.append((e, laidOut.nodes[k].node.key)) }
                }
            }
        }
    }
    return found
}

@Suite("Scenes too big for Graphviz get a rank layout of their own")
struct RankLayoutTests {
    @Test("The 2,000-node chain reading one shared weight is laid out, wrapped to the slide, with no box over another or under a wire")
    func sharedWeightChain() throws {
        let (graph, output) = FigureExamples.sharedWeightChain(steps: 1000)
        try graph.backward(output)
        let laidOut = try GraphFigure.layout(graph: graph, output: output.id, options: FigureOptions())
        #expect(laidOut.nodes.count > GraphvizLayout.maxBoxes)
        #expect(RankLayout.takesOver(laidOut.scene))
        let frames = laidOut.nodes.map(\.frame)
        let pairs = overlappingPairs(frames)
        #expect(pairs.isEmpty, "\(pairs.count) pairs overlap, the first \(pairs.first.map { "\(laidOut.nodes[$0.0].node.key) and \(laidOut.nodes[$0.1].node.key)" } ?? "")")
        let crossings = edgeCrossings(laidOut)
        #expect(crossings.isEmpty, "\(crossings.count) wire points inside boxes, the first under \(crossings.first?.box ?? "")")
        let canvas = Rect(x: 0, y: 0, width: laidOut.size.width, height: laidOut.size.height)
        #expect(frames.allSatisfy(canvas.contains))
        // Rows fill the slide's shape: not a strip a hundred thousand points long.
        let aspect = laidOut.size.width / laidOut.size.height
        #expect(aspect > FitTarget.slide.width / FitTarget.slide.height / 2 && aspect < FitTarget.slide.width / FitTarget.slide.height * 2)
        // Every one of the thousand reads of w is drawn as a copy beside its op.
        #expect(laidOut.nodes.filter { $0.node.node == NodeID(0) }.count == 1000)
    }

    @Test("Before wrapping, a chain's ops stand on one straight line however long it is")
    func mainWireStraight() throws {
        let (graph, output) = FigureExamples.sharedWeightChain(steps: 1000)
        try graph.backward(output)
        let scene = try GraphFigure.scene(graph: graph, output: output.id, options: FigureOptions())
        let laidOut = try RankLayout.layout(scene)
        let gates = laidOut.nodes.filter { $0.node.kind == .op }.map(\.frame.center.y)
        #expect(gates.count == 2000)
        #expect((gates.max() ?? 0) - (gates.min() ?? 0) < 0.5)
        #expect(overlappingPairs(laidOut.nodes.map(\.frame)).isEmpty)
        #expect(edgeCrossings(laidOut).isEmpty)
    }

    @Test("A random DAG of long edges lays out, top to bottom too, with no overlaps and no wire through a box", arguments: Direction.allCases)
    func longEdges(direction: Direction) throws {
        let (graph, output) = FigureExamples.generated(nodes: 1500)
        try graph.backward(output)
        var options = FigureOptions()
        options.style = .record
        options.direction = direction
        let scene = try GraphFigure.scene(graph: graph, output: output.id, options: options)
        let laidOut = try RankLayout.layout(scene)
        #expect(overlappingPairs(laidOut.nodes.map(\.frame)).isEmpty)
        #expect(edgeCrossings(laidOut).isEmpty)
        for edge in laidOut.edges {
            // Arrows point down the flow: into the box's upstream side.
            guard let tip = edge.arrowTip, let target = laidOut.nodes.first(where: { $0.node.key == edge.edge.to })?.frame else { continue }
            #expect(direction == .LR ? abs(tip.x - target.x) < 1e-9 : abs(tip.y - target.y) < 1e-9)
        }
    }

    @Test("Graphviz keeps the figures it lays out well: small scenes and scenes with layer frames")
    func graphvizKept() throws {
        let (graph, output) = try #require(FigureExamples.named("convnet"))
        var options = FigureOptions()
        options.style = .model
        options.view = .ops
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        #expect(!RankLayout.takesOver(scene))
        #expect(GraphFigure.boxLimit(graph: graph, options: options) == GraphvizLayout.maxBoxes)
        options.view = .layers
        #expect(GraphFigure.boxLimit(graph: graph, options: options) == FigureOptions().maxBoxes)
    }

    @Test("A hopeless size is still refused before any layout, with the limit in the message")
    func hopelessRefused() throws {
        let (graph, output) = FigureExamples.sharedWeightChain(steps: 10_000)
        let start = Date()
        let error = figureError { _ = try GraphFigure.layout(graph: graph, output: output.id, options: FigureOptions()) }
        guard case .tooLarge(let boxes, let limit, _) = error else {
            Issue.record("expected a refusal, got \(String(describing: error))")
            return
        }
        #expect(limit == FigureOptions().maxBoxes)
        #expect(boxes > limit)
        #expect(error?.description.contains("more than the \(limit) that are laid out and drawn in reasonable time") == true)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("The weighted median follows the heavier side", arguments: [
        ([(0.0, 4), (50.0, 1)], 0.0), ([(0.0, 1), (10.0, 1)], 5.0), ([(3.0, 1)], 3.0), ([(0.0, 1), (5.0, 1), (9.0, 1)], 5.0),
        ([(2.0, 0)], 2.0), ([(0.0, 0), (10.0, 0)], 5.0), ([(0.0, -3), (4.0, 1), (8.0, 1)], 4.0),
    ] as [([(Double, Int)], Double)])
    func median(values: [(Double, Int)], expected: Double) {
        #expect(RankLayout.weightedMedian(values.map { (value: $0.0, weight: $0.1) }) == expected)
    }
}
