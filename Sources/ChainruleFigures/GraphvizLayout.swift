import CGraphviz
import Foundation
import Synchronization

/// Where a Graphviz context gets its plugins from.
public enum GraphvizPlugins: Sendable {
    /// `gvContext()` with Debian's plugin config; if that context has no `dot`
    /// layout (a user's `GVBINDIR`, a stripped container), the linked-in plugins.
    case automatic
    /// Always the dlopened plugin libraries handed to `gvContextPlugins`.
    case linked
}

/// The one process-wide lock around every Graphviz call: Graphviz is not
/// thread-safe, not even with one context per thread (measured: 4 threads
/// crashed 3 runs of 3; with this lock, none). Only Sendable values leave it.
private let graphviz = Mutex<GraphvizContexts>(GraphvizContexts())

/// The contexts made so far, one per plugin source; they live as long as the process.
private struct GraphvizContexts: @unchecked Sendable {
    var automatic: OpaquePointer?
    var linked: OpaquePointer?
}

/// Layout by Graphviz's `dot` through libgvc's C API.
public enum GraphvizLayout {
    /// Above this many scene nodes `dot` gets `nslimit`/`mclimit`, which bound
    /// its network-simplex passes (measured: an unbounded 1,000-node graph with
    /// long edges did not finish in 300 s; bounded it took 2.7 s).
    public static let boundedSearchThreshold = 400

    /// Lays out `scene` with `dot`: fixed node sizes in, positions and splines out.
    public static func layout(_ scene: Scene, plugins: GraphvizPlugins = .automatic) throws(FigureError) -> LaidOutScene {
        let result: Result<GraphvizResult, FigureError> = graphviz.withLock { contexts in
            guard let context = Self.context(&contexts, plugins) else {
                return .failure(.layoutFailed("Graphviz has no `dot` layout: neither its plugin config nor the plugin libraries beside libgvc could be loaded"))
            }
            return runLayout(scene, context)
        }
        return place(scene, try result.get())
    }

    // MARK: Contexts (under the lock)

    private static func context(_ contexts: inout GraphvizContexts, _ plugins: GraphvizPlugins) -> OpaquePointer? {
        switch plugins {
        case .linked:
            if contexts.linked == nil { contexts.linked = makeLinkedContext() }
            return contexts.linked
        case .automatic:
            if let context = contexts.automatic { return context }
            cr_quiet_errors()
            let plain = gvContext()
            if let plain, cr_has_dot_layout(plain) != 0 {
                contexts.automatic = plain
            } else {
                if let plain { gvFreeContext(plain) }
                if contexts.linked == nil { contexts.linked = makeLinkedContext() }
                contexts.automatic = contexts.linked
            }
            return contexts.automatic
        }
    }

    private static func makeLinkedContext() -> OpaquePointer? {
        cr_quiet_errors()
        for folder in pluginFolders() {
            guard let context = cr_context_with_linked_plugins(folder) else { continue }
            if cr_has_dot_layout(context) != 0 { return context }
            gvFreeContext(context)
        }
        return nil
    }

    /// The `graphviz/` folder beside the libgvc this process loaded (read from
    /// /proc/self/maps: `dladdr` is not visible from Swift), then the usual places.
    static func pluginFolders() -> [String] {
        var folders: [String] = []
        if let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) {
            for line in maps.split(separator: "\n") where line.contains("libgvc.so") {
                if let slash = line.firstIndex(of: "/") {
                    let path = String(line[slash...])
                    let folder = (path as NSString).deletingLastPathComponent + "/graphviz"
                    if !folders.contains(folder) { folders.append(folder) }
                }
            }
        }
        for folder in ["/usr/lib/x86_64-linux-gnu/graphviz", "/usr/lib/aarch64-linux-gnu/graphviz", "/usr/lib/graphviz", "/usr/local/lib/graphviz"]
        where !folders.contains(folder) {
            folders.append(folder)
        }
        return folders
    }

    // MARK: The layout call (under the lock)

    /// Layout output in Graphviz's own coordinates (points, y up); plain values only.
    private struct GraphvizResult: Sendable {
        var boundingBox: (llx: Double, lly: Double, urx: Double, ury: Double)
        var centers: [(Double, Double)]
        var edges: [(points: [(Double, Double)], arrow: (Double, Double)?)]
        var clusters: [(llx: Double, lly: Double, urx: Double, ury: Double)]
    }

    private static func inches(_ points: Double) -> String { String(format: "%.4f", points / 72) }

    private static func runLayout(_ scene: Scene, _ context: OpaquePointer) -> Result<GraphvizResult, FigureError> {
        cr_quiet_errors()
        guard let g = cr_open_directed("scene") else { return .failure(.layoutFailed("agopen failed")) }
        defer { agclose(g) }
        let lr = scene.direction == .LR
        cr_set(g, "rankdir", scene.direction.rawValue)
        cr_set(g, "nodesep", inches(scene.nodeSeparation))
        cr_set(g, "ranksep", inches(scene.rankSeparation))
        cr_set(g, "splines", "spline")
        cr_set(g, "outputorder", "edgesfirst")
        if scene.nodes.count > boundedSearchThreshold {
            cr_set(g, "nslimit", "1")
            cr_set(g, "nslimit1", "1")
            cr_set(g, "mclimit", "0.5")
        }
        let subgraphs = scene.clusters.map { cluster -> UnsafeMutablePointer<Agraph_t>? in
            let sub = cr_subgraph(g, "cluster_" + cluster.key)
            if let sub {
                // Graphviz reserves room for the label at the top; the painter draws it there.
                cr_set(sub, "label", cluster.title)
                cr_set(sub, "fontsize", String(format: "%.1f", scene.theme.fontSize))
                cr_set(sub, "fontname", scene.theme.fontFamily)
                cr_set(sub, "labeljust", "l")
                cr_set(sub, "labelloc", "t")
                cr_set(sub, "margin", "10")
            }
            return sub
        }
        var index: [String: UnsafeMutablePointer<Agnode_t>] = [:]
        var handles: [UnsafeMutablePointer<Agnode_t>] = []
        for node in scene.nodes {
            guard let n = cr_node(g, node.key) else { return .failure(.layoutFailed("agnode failed for \(node.key)")) }
            cr_set(n, "shape", node.shape == .circle ? "circle" : "box")
            cr_set(n, "fixedsize", "true")
            cr_set(n, "label", "")
            cr_set(n, "width", inches(node.size.width))
            cr_set(n, "height", inches(node.size.height))
            if let cluster = node.cluster, let sub = subgraphs[cluster] { cr_subgraph_add_node(sub, n) }
            index[node.key] = n
            handles.append(n)
        }
        var edgeHandles: [UnsafeMutablePointer<Agedge_t>] = []
        let keyed = Dictionary(uniqueKeysWithValues: scene.nodes.map { ($0.key, $0) })
        for edge in scene.edges {
            guard let tail = index[edge.from], let head = index[edge.to], let e = cr_edge(g, tail, head) else {
                return .failure(.layoutFailed("edge \(edge.from) → \(edge.to) names a node the scene does not have"))
            }
            cr_set(e, "arrowhead", edge.arrow ? "normal" : "none")
            cr_set(e, "arrowsize", "0.8")
            // A wire runs through its label's middle: enter on one side, leave on the other.
            // and a node's wires leave from its downstream side, as in a circuit diagram.
            if keyed[edge.to]?.shape == .wireLabel {
                cr_set(e, "headport", lr ? "w" : "n")
                cr_set(e, "tailport", lr ? "e" : "s")
            }
            if keyed[edge.from]?.shape == .wireLabel { cr_set(e, "tailport", lr ? "e" : "s") }
            edgeHandles.append(e)
        }
        guard cr_layout_dot(context, g) == 0 else {
            let message = cr_last_error().map { String(cString: $0) } ?? "unknown error"
            return .failure(.layoutFailed(message.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        defer { gvFreeLayout(context, g) }
        let centers = handles.map { (cr_node_x($0), cr_node_y($0)) }
        let edges = edgeHandles.map { e -> (points: [(Double, Double)], arrow: (Double, Double)?) in
            let count = Int(cr_edge_point_count(e))
            let points = (0..<count).map { (cr_edge_point_x(e, Int32($0)), cr_edge_point_y(e, Int32($0))) }
            let arrow = cr_edge_has_arrow(e) != 0 ? (cr_edge_arrow_x(e), cr_edge_arrow_y(e)) : nil
            return (points, arrow)
        }
        let clusters = subgraphs.map { sub in
            sub.map { (cr_bb_llx($0), cr_bb_lly($0), cr_bb_urx($0), cr_bb_ury($0)) } ?? (0, 0, 0, 0)
        }
        return .success(GraphvizResult(
            boundingBox: (cr_bb_llx(g), cr_bb_lly(g), cr_bb_urx(g), cr_bb_ury(g)),
            centers: centers, edges: edges, clusters: clusters))
    }

    // MARK: Into figure coordinates

    /// Graphviz's points (y up) to the figure's (y down, origin top-left,
    /// margin and title band added). The one place coordinates are converted.
    private struct Flip {
        var left: Double
        var top: Double
        var margin: Double
        var titleHeight: Double
        func callAsFunction(_ x: Double, _ y: Double) -> Point {
            Point(x - left + margin, top - y + margin + titleHeight)
        }
    }

    private static func place(_ scene: Scene, _ result: GraphvizResult) -> LaidOutScene {
        let margin = scene.theme.margin
        let titleHeight = scene.titleBlock.map { $0.size.height + scene.theme.padding * 2 } ?? 0
        let bb = result.boundingBox
        let flip = Flip(left: bb.llx, top: bb.ury, margin: margin, titleHeight: titleHeight)
        let graphWidth = bb.urx - bb.llx
        let width = max(graphWidth, scene.titleBlock?.size.width ?? 0) + 2 * margin
        let height = bb.ury - bb.lly + 2 * margin + titleHeight
        let nodes = zip(scene.nodes, result.centers).map { node, center in
            PlacedNode(node: node, frame: Rect(center: flip(center.0, center.1), size: node.size))
        }
        let edges = zip(scene.edges, result.edges).map { edge, laid in
            PlacedEdge(edge: edge, points: laid.points.map { flip($0.0, $0.1) }, arrowTip: laid.arrow.map { flip($0.0, $0.1) })
        }
        let clusters = zip(scene.clusters, result.clusters).map { cluster, box in
            let topLeft = flip(box.llx, box.ury)
            return PlacedCluster(cluster: cluster, frame: Rect(x: topLeft.x, y: topLeft.y, width: box.urx - box.llx, height: box.ury - box.lly))
        }
        let titleFrame = scene.titleBlock.map {
            Rect(x: (width - $0.size.width) / 2, y: margin, width: $0.size.width, height: $0.size.height)
        }
        return LaidOutScene(scene: scene, size: Size(width, height), nodes: nodes, edges: edges, clusters: clusters, titleFrame: titleFrame)
    }
}
