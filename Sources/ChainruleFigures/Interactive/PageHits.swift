import ChainruleCore

/// What a view's drawing can be pointed at: its boxes and its wires, read off
/// the laid-out scene (the same positions the SVG is drawn at).
struct PageHits {
    let graph: Graph
    let laidOut: LaidOutScene
    /// Position of each scene key among the placed nodes.
    let position: [String: Int]

    init(graph: Graph, laidOut: LaidOutScene) {
        self.graph = graph
        self.laidOut = laidOut
        position = Dictionary(laidOut.nodes.enumerated().map { ($1.node.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every box that draws a graph node or a layer (wire labels and the output's name are not boxes).
    func boxes() -> [PageBox] {
        laidOut.nodes.compactMap { placed in
            let node = placed.node
            guard node.shape != .wireLabel, let id = node.node else { return nil }
            let f = placed.frame
            // A stage box of ops outside any layer (relu → pool after a
            // linear written by hand) is drawn like a layer's but expands to nothing.
            let layer = node.kind == .layer ? node.layer ?? graph[id].layer : nil
            let kind = node.kind == .layer && layer == nil ? SceneNodeKind.value.rawValue : node.kind.rawValue
            return PageBox(key: node.key, node: id.index, layer: layer, kind: kind,
                           x: r(f.x), y: r(f.y), width: r(f.width), height: r(f.height), round: node.shape == .circle)
        }
    }

    /// The frame of each expanded layer: the layer of the nodes drawn inside it.
    func frames() -> [PageFrame] {
        laidOut.clusters.enumerated().compactMap { index, placed in
            let inside = laidOut.nodes.first { $0.node.cluster == index && $0.node.node.map { graph[$0].layer != nil } ?? false }
            guard let layer = inside?.node.node.flatMap({ graph[$0].layer }) else { return nil }
            let f = placed.frame
            return PageFrame(layer: layer, x: r(f.x), y: r(f.y), width: r(f.width), height: r(f.height))
        }
    }

    /// The graph nodes a box draws: a layer box all of its layer's, any other its own.
    func members(_ key: String) -> [NodeID] {
        guard let i = position[key], let id = laidOut.nodes[i].node.node else { return [] }
        if laidOut.nodes[i].node.kind == .layer, let layer = laidOut.nodes[i].node.layer ?? graph[id].layer { return graph.nodes(inLayer: layer) }
        return [id]
    }

    /// Every wire from box to box, through its label if it has one: the
    /// input it carries and the node and input position it feeds. A node
    /// read twice by one op (`x * x`) gets its two wires in input order.
    func wires() -> [PageWire] {
        var into: [String: PlacedEdge] = [:]
        for edge in laidOut.edges where isLabel(edge.edge.to) { into[edge.edge.to] = edge }
        var taken: Set<String> = []
        var wires: [PageWire] = []
        for edge in laidOut.edges where !isLabel(edge.edge.to) {
            var runs = [edge.points]
            var tail = edge.edge.from
            if isLabel(tail) {
                guard let first = into[tail] else { continue }
                runs.insert(first.points, at: 0)
                tail = first.edge.from
            }
            let sources = members(tail), consumers = members(edge.edge.to)
            guard let drawn = sources.last else { continue }
            // The first (consumer, input) pair between the two boxes not yet given to a wire.
            var link: (source: NodeID, consumer: NodeID, k: Int)?
            search: for consumer in consumers {
                for (k, input) in graph[consumer].inputs.enumerated() where sources.contains(input) && !taken.contains("\(consumer.index):\(k)") {
                    link = (input, consumer, k)
                    break search
                }
            }
            if let link { taken.insert("\(link.consumer.index):\(link.k)") }
            wires.append(PageWire(path: svgPath(runs, tip: edge.arrowTip), source: (link?.source ?? drawn).index,
                                  consumer: link?.consumer.index, input: link?.k))
        }
        return wires
    }

    func isLabel(_ key: String) -> Bool {
        position[key].map { laidOut.nodes[$0].node.shape == .wireLabel } ?? false
    }

    /// Runs of cubic Bézier pieces (3n+1 points each), each run joined to the
    /// one before by a straight line (across a wire label), then the arrow tip.
    func svgPath(_ runs: [[Point]], tip: Point?) -> String {
        var d = ""
        for run in runs {
            guard let first = run.first else { continue }
            d += (d.isEmpty ? "M" : "L") + "\(r(first.x)) \(r(first.y))"
            var i = 1
            while i + 2 < run.count {
                d += "C\(r(run[i].x)) \(r(run[i].y)) \(r(run[i + 1].x)) \(r(run[i + 1].y)) \(r(run[i + 2].x)) \(r(run[i + 2].y))"
                i += 3
            }
        }
        if let tip, !d.isEmpty { d += "L\(r(tip.x)) \(r(tip.y))" }
        return d
    }

    func r(_ v: Double) -> Double { (v * 10).rounded() / 10 }
}
