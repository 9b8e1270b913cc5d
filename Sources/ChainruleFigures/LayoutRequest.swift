import Foundation

/// What Graphviz is asked to lay out: a scene reduced to `dot` attributes and
/// fixed sizes, plain values only, so it can cross a thread or a pipe to a
/// layout worker (`LayoutRunner.process`) as JSON.
struct LayoutRequest: Codable, Sendable, Equatable {
    struct Attribute: Codable, Sendable, Equatable {
        var name: String
        var value: String
    }
    struct Cluster: Codable, Sendable, Equatable {
        var key: String
        var attributes: [Attribute]
    }
    struct Node: Codable, Sendable, Equatable {
        var key: String
        var cluster: Int?
        var attributes: [Attribute]
    }
    struct Edge: Codable, Sendable, Equatable {
        var from: Int
        var to: Int
        var attributes: [Attribute]
    }

    var plugins: GraphvizPlugins
    var attributes: [Attribute]
    var clusters: [Cluster]
    var nodes: [Node]
    var edges: [Edge]
    /// The order `dot` is given the nodes in (indices into `nodes`): it
    /// orders a rank's boxes first as it meets them (`creationOrder`).
    var creationOrder: [Int]

    /// At most `GraphvizLayout.inProcessLimit` boxes, and no box with more
    /// than `GraphvizLayout.boundedFanOut` outgoing edges (the long edges that
    /// made `dot` crash, overflow its stack or grow its memory).
    var isSmall: Bool {
        guard nodes.count <= GraphvizLayout.inProcessLimit else { return false }
        var fanOut = [Int](repeating: 0, count: nodes.count)
        for edge in edges where fanOut.indices.contains(edge.from) { fanOut[edge.from] += 1 }
        return (fanOut.max() ?? 0) <= GraphvizLayout.boundedFanOut
    }

    private static func inches(_ points: Double) -> String { fixedDecimals(points / 72, places: 4) }

    /// The edges that step one rank further back when side inputs spread
    /// (`FitChoice.spreadsInputs`): into each op with two or more inputs whose
    /// inputs after the first are all boxes nothing leads into (parameters,
    /// constants, labels, copies), the first input's wire, so that the
    /// operand stands in a rank of its own and only the side inputs share
    /// the rank before the op — two short columns instead of one tall one.
    /// An op's inputs are its wires in, in the scene's order.
    static func spreadEdges(_ scene: Scene) -> Set<Int> {
        let side = SideInputs(scene.edges)
        var spread = Set<Int>()
        for node in scene.nodes where node.kind == .op {
            guard let wires = side.into[node.key],
                  SideInputs.readsOperandBesideSides(wires.map { side.fed.contains(scene.edges[$0].from) }) else { continue }
            spread.insert(wires[0])
        }
        return spread
    }

    /// The scene's nodes in order, but each spread operand that nothing leads
    /// into (a leaf read first, as `x` by `linear(x, W, b)`) given just after
    /// its op's first side input: `dot` then puts the side inputs on both
    /// sides of the operand's wire, not all on one, and the two short columns
    /// stay as tall as the taller (measured on the MLP: its first row 218 pt
    /// tall, not 292; wire weights did not move it).
    static func creationOrder(_ scene: Scene, spread: Set<Int>) -> [Int] {
        let position = Dictionary(scene.nodes.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        let fed = Set(scene.edges.map(\.to))
        var after = [Int: [Int]](), moved = Set<Int>()
        for k in spread.sorted() {
            let edge = scene.edges[k]
            guard !fed.contains(edge.from), let operand = position[edge.from],
                  let side = scene.edges.first(where: { $0.to == edge.to && $0.from != edge.from }).flatMap({ position[$0.from] }),
                  side > operand, !moved.contains(operand) else { continue }
            after[side, default: []].append(operand)
            moved.insert(operand)
        }
        return scene.nodes.indices.flatMap { moved.contains($0) ? [] : [$0] + (after[$0] ?? []) }
    }

    /// The head ports of wires that run in parallel — one value read twice or
    /// more by one op's circle, as `z * z` reads `z` — by edge index: each
    /// enters the circle at its own point on the side the flow comes from,
    /// the first input highest (or leftmost top to bottom), so the wires and
    /// their arrowheads stay apart instead of meeting in one double arrow.
    static func parallelPorts(_ scene: Scene, position: [String: Int]) -> [Int: String] {
        var groups = [String: [Int]]()
        for (k, edge) in scene.edges.enumerated() {
            guard let to = position[edge.to], scene.nodes[to].shape == .circle else { continue }
            groups[edge.from + "\u{0}" + edge.to, default: []].append(k)
        }
        let lr = scene.direction == .LR
        // From the first input's side round to the last's: two use the diagonals, three add the middle (a fourth and later, Graphviz's own point).
        let sides = lr ? ["nw", "w", "sw"] : ["nw", "n", "ne"]
        var ports = [Int: String]()
        for wires in groups.values where wires.count >= 2 {
            let chosen = wires.count == 2 ? [sides[0], sides[2]] : sides
            for (i, k) in wires.enumerated() where i < chosen.count { ports[k] = chosen[i] }
        }
        return ports
    }

    /// `spreadsInputs`: the wires of `spreadEdges` span two ranks (`minlen`).
    init(_ scene: Scene, plugins: GraphvizPlugins, spreadsInputs: Bool = false) {
        self.plugins = plugins
        let spread = spreadsInputs ? Self.spreadEdges(scene) : []
        let lr = scene.direction == .LR
        func pairs(_ list: [(String, String)]) -> [Attribute] { list.map { Attribute(name: $0.0, value: $0.1) } }
        var graph: [(String, String)] = [
            ("rankdir", scene.direction.rawValue), ("nodesep", Self.inches(scene.nodeSeparation)),
            ("ranksep", Self.inches(scene.rankSeparation)), ("splines", "spline"), ("outputorder", "edgesfirst"),
        ]
        var fanOut = [String: Int]()
        for edge in scene.edges { fanOut[edge.from, default: 0] += 1 }
        if scene.nodes.count > GraphvizLayout.boundedSearchThreshold || (fanOut.values.max() ?? 0) > GraphvizLayout.boundedFanOut {
            graph += [("nslimit", "1"), ("nslimit1", "1"), ("mclimit", "0.5")]
        }
        attributes = pairs(graph)
        // Graphviz reserves room for a cluster's label at the top; the painter draws it there.
        clusters = scene.clusters.map { cluster in
            Cluster(key: cluster.key, attributes: pairs([
                ("label", cluster.title), ("fontsize", fixedDecimals(scene.theme.fontSize, places: 1)),
                ("fontname", scene.theme.fontFamily), ("labeljust", "l"), ("labelloc", "t"), ("margin", "10"),
            ]))
        }
        nodes = scene.nodes.map { node in
            Node(key: node.key, cluster: node.cluster, attributes: pairs([
                ("shape", node.shape == .circle ? "circle" : "box"), ("fixedsize", "true"), ("label", ""),
                ("width", Self.inches(node.size.width)), ("height", Self.inches(node.size.height)),
            ] + (node.ordersInputs ? [("ordering", "in")] : [])))
        }
        let position = Dictionary(scene.nodes.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        let parallelPorts = Self.parallelPorts(scene, position: position)
        edges = scene.edges.enumerated().map { k, edge in
            var list: [(String, String)] = [("arrowhead", edge.arrow ? "normal" : "none"), ("arrowsize", "0.8")]
            if edge.weight != 1 { list.append(("weight", String(edge.weight))) }
            if spread.contains(k) { list.append(("minlen", "2")) }
            // A wire runs through its label's middle: enter on one side, leave on the other,
            // and a node's wires leave from its downstream side, as in a circuit diagram.
            let from = position[edge.from], to = position[edge.to]
            if let to, scene.nodes[to].shape == .wireLabel { list += [("headport", lr ? "w" : "n"), ("tailport", lr ? "e" : "s")] }
            if let from, scene.nodes[from].shape == .wireLabel { list.append(("tailport", lr ? "e" : "s")) }
            if let port = parallelPorts[k] { list.append(("headport", port)) }
            return Edge(from: from ?? -1, to: to ?? -1, attributes: pairs(list))
        }
        creationOrder = Self.creationOrder(scene, spread: spread)
    }
}

/// What Graphviz answered, in its own coordinates (points, y up), or why it could not.
struct LayoutResponse: Codable, Sendable, Equatable {
    struct Point: Codable, Sendable, Equatable {
        var x: Double
        var y: Double
        init(_ x: Double, _ y: Double) {
            self.x = x
            self.y = y
        }
    }
    struct Box: Codable, Sendable, Equatable {
        var llx: Double, lly: Double, urx: Double, ury: Double
    }
    struct Spline: Codable, Sendable, Equatable {
        var points: [Point]
        var arrow: Point?
    }

    var boundingBox: Box
    var centers: [Point]
    var edges: [Spline]
    var clusters: [Box]
    /// Graphviz's own error, when it refused the graph.
    var failure: String?

    static func failed(_ message: String) -> LayoutResponse {
        LayoutResponse(boundingBox: Box(llx: 0, lly: 0, urx: 0, ury: 0), centers: [], edges: [], clusters: [], failure: message)
    }
}
