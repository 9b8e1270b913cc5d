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

    init(_ scene: Scene, plugins: GraphvizPlugins) {
        self.plugins = plugins
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
        edges = scene.edges.map { edge in
            var list: [(String, String)] = [("arrowhead", edge.arrow ? "normal" : "none"), ("arrowsize", "0.8")]
            if edge.weight != 1 { list.append(("weight", String(edge.weight))) }
            // A wire runs through its label's middle: enter on one side, leave on the other,
            // and a node's wires leave from its downstream side, as in a circuit diagram.
            let from = position[edge.from], to = position[edge.to]
            if let to, scene.nodes[to].shape == .wireLabel { list += [("headport", lr ? "w" : "n"), ("tailport", lr ? "e" : "s")] }
            if let from, scene.nodes[from].shape == .wireLabel { list.append(("tailport", lr ? "e" : "s")) }
            return Edge(from: from ?? -1, to: to ?? -1, attributes: pairs(list))
        }
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
