import CGraphviz
import Foundation
import Synchronization

/// Where a Graphviz context gets its plugins from.
public enum GraphvizPlugins: String, Sendable, Codable {
    /// `gvContext()` with Debian's plugin config for a graph with text to
    /// measure (its frames' titles); if that context has no `dot` layout (a
    /// user's `GVBINDIR`, a stripped container), the linked-in plugins. A graph
    /// without text gets the linked-in plugins: `gvContext()` loads every
    /// plugin the config names, Pango's text layout with its libraries among
    /// them (11.7 million instructions under callgrind, half a small figure's
    /// own work), and a figure whose boxes have fixed sizes and no labels needs
    /// none of them.
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
    /// A box with more outgoing edges than this also gets the bounded search:
    /// its edges are long (measured: 120 ops reading one intermediate value,
    /// 243 boxes, did not finish in 20 s).
    public static let boundedFanOut = 8
    /// `LayoutRunner.processUnlessSmall` lays out up to this many boxes in
    /// this process (when no box has a wide fan-out): the figures of a lecture
    /// or a small model, which `dot` places in milliseconds.
    public static let inProcessLimit = 200
    /// The most boxes handed to `dot`; a bigger scene goes to `RankLayout`
    /// (`SceneLayout`). Measured on this kind of machine: 1,000 nodes lay out
    /// in 0.7 s, 2,000 in 3.7 s, 5,000 in 26 s; a 2,400-box chain in 2 s.
    public static let maxBoxes = 2500

    /// Lays out `scene` with `dot`: fixed node sizes in, positions and splines
    /// out. The call runs where `limits.runner` says, and is given up at
    /// `limits.timeout`; `advice` goes into the error if it fails that way.
    /// `spreadsInputs`: an op's operand a rank before its side inputs (`LayoutRequest.spreadEdges`).
    public static func layout(_ scene: Scene, limits: LayoutLimits = LayoutLimits(), advice: [FigureAdvice] = [.writeDot],
                              spreadsInputs: Bool = false) throws(FigureError) -> LaidOutScene {
        let request = LayoutRequest(scene, plugins: limits.plugins, spreadsInputs: spreadsInputs)
        let response = try limits.runner.run(request, timeout: limits.timeout, advice: advice)
        if let failure = response.failure { throw .layoutFailed(failure) }
        guard response.centers.count == scene.nodes.count, response.edges.count == scene.edges.count,
              response.clusters.count == scene.clusters.count else {
            throw .layoutFailed("the layout returned \(response.centers.count) positions for \(scene.nodes.count) boxes")
        }
        return place(scene, response)
    }

    /// Runs `request` in this thread, under the process-wide Graphviz lock.
    /// Deep recursion in `dot` needs a big stack: call it from `BigStackThread`.
    static func compute(_ request: LayoutRequest) -> LayoutResponse {
        graphviz.withLock { contexts in
            let plugins = request.plugins == .automatic && request.clusters.isEmpty ? .linked : request.plugins
            guard let context = Self.context(&contexts, plugins) else {
                return .failed("Graphviz has no `dot` layout: neither its plugin config nor the plugin libraries beside libgvc could be loaded")
            }
            return runLayout(request, context)
        }
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
    /// The maps are scanned line by line in C (`getline`, `strstr`): as one
    /// Swift string split into lines they cost 2.8 million instructions,
    /// a twentieth of a small figure's whole process.
    static func pluginFolders() -> [String] {
        var folders: [String] = []
        if let maps = fopen("/proc/self/maps", "r") {
            defer { fclose(maps) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, maps) > 0 {
                guard let line, strstr(line, "libgvc.so") != nil, let slash = strchr(line, Int32(UInt8(ascii: "/"))),
                      let lastSlash = strrchr(slash, Int32(UInt8(ascii: "/"))) else { continue }
                lastSlash.pointee = 0
                let folder = String(cString: slash) + "/graphviz"
                if !folders.contains(folder) { folders.append(folder) }
            }
        }
        for folder in ["/usr/lib/x86_64-linux-gnu/graphviz", "/usr/lib/aarch64-linux-gnu/graphviz", "/usr/lib/graphviz", "/usr/local/lib/graphviz"]
        where !folders.contains(folder) {
            folders.append(folder)
        }
        return folders
    }

    // MARK: The layout call (under the lock)

    private static func runLayout(_ request: LayoutRequest, _ context: OpaquePointer) -> LayoutResponse {
        cr_quiet_errors()
        guard let g = cr_open_directed("scene") else { return .failed("agopen failed") }
        defer { agclose(g) }
        for a in request.attributes { cr_set(g, a.name, a.value) }
        let subgraphs = request.clusters.map { cluster -> UnsafeMutablePointer<Agraph_t>? in
            let sub = cr_subgraph(g, "cluster_" + cluster.key)
            if let sub { for a in cluster.attributes { cr_set(sub, a.name, a.value) } }
            return sub
        }
        guard request.creationOrder.sorted() == Array(request.nodes.indices) else { return .failed("the node order names a box the scene does not have") }
        var made = [UnsafeMutablePointer<Agnode_t>?](repeating: nil, count: request.nodes.count)
        for index in request.creationOrder {
            let node = request.nodes[index]
            guard let n = cr_node(g, node.key) else { return .failed("agnode failed for \(node.key)") }
            for a in node.attributes { cr_set(n, a.name, a.value) }
            if let cluster = node.cluster, subgraphs.indices.contains(cluster), let sub = subgraphs[cluster] { cr_subgraph_add_node(sub, n) }
            made[index] = n
        }
        let handles = made.compactMap { $0 }
        var edgeHandles: [UnsafeMutablePointer<Agedge_t>] = []
        for edge in request.edges {
            guard handles.indices.contains(edge.from), handles.indices.contains(edge.to),
                  let e = cr_edge(g, handles[edge.from], handles[edge.to]) else {
                return .failed("an edge names a box the scene does not have")
            }
            for a in edge.attributes { cr_set(e, a.name, a.value) }
            edgeHandles.append(e)
        }
        guard cr_layout_dot(context, g) == 0 else {
            let message = cr_last_error().map { String(cString: $0) } ?? "unknown error"
            return .failed(message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        defer { gvFreeLayout(context, g) }
        let centers = handles.map { LayoutResponse.Point(cr_node_x($0), cr_node_y($0)) }
        let edges = edgeHandles.map { e -> LayoutResponse.Spline in
            let count = Int(cr_edge_point_count(e))
            let points = (0..<count).map { LayoutResponse.Point(cr_edge_point_x(e, Int32($0)), cr_edge_point_y(e, Int32($0))) }
            let arrow = cr_edge_has_arrow(e) != 0 ? LayoutResponse.Point(cr_edge_arrow_x(e), cr_edge_arrow_y(e)) : nil
            return LayoutResponse.Spline(points: points, arrow: arrow)
        }
        let clusters = subgraphs.map { sub in
            sub.map { LayoutResponse.Box(llx: cr_bb_llx($0), lly: cr_bb_lly($0), urx: cr_bb_urx($0), ury: cr_bb_ury($0)) }
                ?? LayoutResponse.Box(llx: 0, lly: 0, urx: 0, ury: 0)
        }
        return LayoutResponse(
            boundingBox: LayoutResponse.Box(llx: cr_bb_llx(g), lly: cr_bb_lly(g), urx: cr_bb_urx(g), ury: cr_bb_ury(g)),
            centers: centers, edges: edges, clusters: clusters, failure: nil)
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

    private static func place(_ scene: Scene, _ result: LayoutResponse) -> LaidOutScene {
        let margin = scene.theme.margin
        let titleHeight = scene.titleBlock.map { $0.size.height + scene.theme.padding * 2 } ?? 0
        let bb = result.boundingBox
        let flip = Flip(left: bb.llx, top: bb.ury, margin: margin, titleHeight: titleHeight)
        let graphWidth = bb.urx - bb.llx
        let width = max(graphWidth, scene.titleBlock?.size.width ?? 0) + 2 * margin
        let height = bb.ury - bb.lly + 2 * margin + titleHeight
        let nodes = zip(scene.nodes, result.centers).map { node, center in
            PlacedNode(node: node, frame: Rect(center: flip(center.x, center.y), size: node.size))
        }
        let edges = zip(scene.edges, result.edges).map { edge, laid in
            PlacedEdge(edge: edge, points: laid.points.map { flip($0.x, $0.y) }, arrowTip: laid.arrow.map { flip($0.x, $0.y) })
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
