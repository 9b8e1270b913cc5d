/// Which layout a scene gets: Graphviz's `dot` for the figures it places well
/// (up to `GraphvizLayout.maxBoxes` boxes, and any scene with layer frames),
/// `RankLayout` past that, where `dot` slows super-linearly or crashes.
enum SceneLayout {
    static func layout(_ scene: Scene, limits: LayoutLimits, advice: [FigureAdvice]) throws(FigureError) -> LaidOutScene {
        if RankLayout.takesOver(scene) { return try RankLayout.layout(scene) }
        return try GraphvizLayout.layout(scene, limits: limits, advice: advice)
    }
}

/// A layered layout of our own, in time near linear in the boxes, for
/// scenes too big for `dot` (a 6,000-box chain: `dot` crashed or took
/// minutes). The steps of Sugiyama's method, each in its cheapest form:
///
/// - **ranks** by longest path from the sources, then every box with at
///   least as many outgoing as incoming edges moved up to just before its
///   nearest successor (a copy of a shared weight sits beside the op it feeds);
/// - **dummy points** on every rank an edge spans, so a long edge is routed
///   between the boxes instead of through them;
/// - **order** within each rank by barycentre sweeps, ties broken by the
///   order of a node's inputs (first operand first, as `ordering=in`);
/// - **positions** across the flow by the priority method: each box goes to
///   the weighted median of its neighbours, boxes on heavier wires first, so
///   a chain's main wire (weight `SceneBuilder.mainWireWeight`) stays on one
///   straight line over thousands of steps;
/// - **edges** leave a box on its downstream side and enter the next on its
///   upstream side, straight inside a rank's column and bent only in the
///   gap between columns, where no box lies: no edge crosses a box.
///
/// Boxes never overlap: within a rank they are kept `nodeSeparation` apart,
/// and ranks are columns side by side.
enum RankLayout {
    /// Whether `scene` is laid out here: more boxes than `dot` takes
    /// (`GraphvizLayout.maxBoxes`), and no layer frames (`dot` keeps a
    /// frame's boxes together; this layout does not).
    static func takesOver(_ scene: Scene) -> Bool {
        scene.nodes.count > GraphvizLayout.maxBoxes && scene.clusters.isEmpty
    }

    /// Barycentre sweeps (down and up) that order the ranks, and priority
    /// sweeps that place them: enough for chains and trees to settle.
    static let orderingSweeps = 3
    static let placingSweeps = 3
    /// Along the flow, the gap between two columns grows by this share of
    /// the largest sideways step an edge takes in it, up to `maxBend`
    /// points, so that a bend reads as a curve rather than a wall.
    static let bendShare = 0.3
    static let maxBend = 48.0
    /// How many row counts either side of the computed one `wrap` tries.
    static let rowSearch = 2
    /// How much harder a wire's dummy points hold their line than a box:
    /// a long edge stays straight and the boxes move aside.
    static let dummyWeight = 8
    /// The length of an arrowhead (Graphviz's 10 pt at `arrowsize` 0.8).
    static let arrowLength = RowWrap.arrowLength

    /// One box or dummy point of the layered graph.
    private struct Item {
        var rank: Int
        /// Extent along the flow (width left to right) and across it; a dummy has none.
        var along: Double
        var across: Double
        var isDummy: Bool
        /// Neighbours in the rank before and after, with the wire's weight.
        var up: [(item: Int, weight: Int)] = []
        var down: [(item: Int, weight: Int)] = []
    }

    /// Lays `scene` out: positions, edge paths and the canvas size, in the
    /// figure's coordinates (points, y down, margins and title band added).
    static func layout(_ scene: Scene) throws(FigureError) -> LaidOutScene {
        let count = scene.nodes.count
        let position = Dictionary(scene.nodes.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        var ends: [(from: Int, to: Int)] = []
        for edge in scene.edges {
            guard let from = position[edge.from], let to = position[edge.to] else {
                throw .layoutFailed("an edge names a box the scene does not have")
            }
            ends.append((from, to))
        }
        let rank = try ranks(count: count, ends: ends)
        let lr = scene.direction == .LR

        // The layered graph: the boxes, then a dummy on every rank an edge spans.
        var items = scene.nodes.indices.map { k in
            Item(rank: rank[k], along: lr ? scene.nodes[k].size.width : scene.nodes[k].size.height,
                 across: lr ? scene.nodes[k].size.height : scene.nodes[k].size.width, isDummy: false)
        }
        var chains: [[Int]] = []
        for (k, end) in ends.enumerated() {
            var chain = [end.from]
            for r in (rank[end.from] + 1)..<max(rank[end.to], rank[end.from] + 1) {
                chain.append(items.count)
                items.append(Item(rank: r, along: 0, across: 0, isDummy: true))
            }
            chain.append(end.to)
            for (a, b) in zip(chain, chain.dropFirst()) {
                let weight = scene.edges[k].weight * (items[a].isDummy || items[b].isDummy ? dummyWeight : 1)
                items[a].down.append((b, weight))
                items[b].up.append((a, weight))
            }
            chains.append(chain)
        }
        let rankCount = (rank.max() ?? 0) + 1
        var layers = [[Int]](repeating: [], count: rankCount)
        for i in items.indices { layers[items[i].rank].append(i) }

        order(&layers, items)
        let across = place(layers, items, separation: scene.nodeSeparation)
        return assemble(scene, items: items, layers: layers, across: across, chains: chains)
    }

    // MARK: Ranks

    /// Longest-path ranks, then boxes with no more incoming than outgoing
    /// edges pulled forward to just before their nearest successor (in
    /// reverse topological order, so a chain of such boxes follows along).
    private static func ranks(count: Int, ends: [(from: Int, to: Int)]) throws(FigureError) -> [Int] {
        var successors = [[Int]](repeating: [], count: count)
        var incoming = [Int](repeating: 0, count: count)
        for end in ends {
            successors[end.from].append(end.to)
            incoming[end.to] += 1
        }
        var pending = incoming
        var topological = (0..<count).filter { pending[$0] == 0 }
        var next = 0
        while next < topological.count {
            for s in successors[topological[next]] {
                pending[s] -= 1
                if pending[s] == 0 { topological.append(s) }
            }
            next += 1
        }
        guard topological.count == count else { throw .layoutFailed("the scene's edges form a cycle") }
        var rank = [Int](repeating: 0, count: count)
        for v in topological { for s in successors[v] { rank[s] = max(rank[s], rank[v] + 1) } }
        for v in topological.reversed() where !successors[v].isEmpty && successors[v].count >= incoming[v] {
            rank[v] = successors[v].map { rank[$0] }.min()! - 1
        }
        let lowest = rank.min() ?? 0
        return rank.map { $0 - lowest }
    }

    // MARK: Order within ranks

    /// Barycentre sweeps: each item's key is the mean place of its
    /// neighbours in the rank just ordered, nudged by which of their wires
    /// it is (an op's first input before its second); items without such
    /// neighbours keep their place.
    private static func order(_ layers: inout [[Int]], _ items: [Item]) {
        var place = [Int](repeating: 0, count: items.count)
        func number(_ layer: [Int]) { for (k, i) in layer.enumerated() { place[i] = k } }
        for layer in layers { number(layer) }
        func sort(_ r: Int, byNeighbours: KeyPath<Item, [(item: Int, weight: Int)]>, back: KeyPath<Item, [(item: Int, weight: Int)]>) {
            let keyed = layers[r].map { i -> (item: Int, key: Double) in
                let neighbours = items[i][keyPath: byNeighbours]
                guard !neighbours.isEmpty else { return (i, Double(place[i])) }
                let sum = neighbours.reduce(0.0) { total, n in
                    let siblings = items[n.item][keyPath: back]
                    let slot = siblings.firstIndex { $0.item == i } ?? 0
                    return total + Double(place[n.item]) + (Double(slot) + 0.5) / Double(siblings.count + 1) - 0.5
                }
                return (i, sum / Double(neighbours.count))
            }
            layers[r] = keyed.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element.item)
            number(layers[r])
        }
        for _ in 0..<orderingSweeps {
            for r in layers.indices.dropFirst() { sort(r, byNeighbours: \.up, back: \.down) }
            for r in layers.indices.reversed().dropFirst() { sort(r, byNeighbours: \.down, back: \.up) }
        }
    }

    // MARK: Positions across the flow

    /// The centre of every item across the flow. Ranks start packed; each
    /// sweep then moves every item, heaviest first, to the weighted median
    /// of its neighbours in the rank before (down) or after (up), as far as
    /// the items already placed in this sweep allow, pushing lighter ones.
    private static func place(_ layers: [[Int]], _ items: [Item], separation: Double) -> [Double] {
        var center = [Double](repeating: 0, count: items.count)
        func gap(_ a: Int, _ b: Int) -> Double {
            (items[a].across + items[b].across) / 2 + (items[a].isDummy && items[b].isDummy ? separation / 2 : separation)
        }
        for layer in layers {
            for (k, i) in layer.enumerated() where k > 0 { center[i] = center[layer[k - 1]] + gap(layer[k - 1], i) }
        }
        func settle(_ layer: [Int], neighbours: KeyPath<Item, [(item: Int, weight: Int)]>) {
            let n = layer.count
            var wanted = [Double?](repeating: nil, count: n)
            var priority = [Int](repeating: 0, count: n)
            for (k, i) in layer.enumerated() {
                let list = items[i][keyPath: neighbours]
                guard !list.isEmpty else { continue }
                wanted[k] = weightedMedian(list.map { (center[$0.item], $0.weight) })
                priority[k] = list.reduce(0) { $0 + $1.weight } * (items[i].isDummy ? dummyWeight : 1)
            }
            var placed = [Bool](repeating: false, count: n)
            for k in (0..<n).sorted(by: { (priority[$0], -$0) > (priority[$1], -$1) }) {
                defer { placed[k] = true }
                guard let target = wanted[k] else { continue }
                var p = center[layer[k]]
                if target > p {
                    var limit = Double.infinity, reach = 0.0
                    for j in (k + 1)..<max(n, k + 1) {
                        reach += gap(layer[j - 1], layer[j])
                        if placed[j] { limit = center[layer[j]] - reach; break }
                    }
                    p = max(p, min(target, limit))
                    center[layer[k]] = p
                    for j in (k + 1)..<max(n, k + 1) {
                        let need = center[layer[j - 1]] + gap(layer[j - 1], layer[j])
                        if center[layer[j]] >= need { break }
                        center[layer[j]] = need
                    }
                } else if target < p {
                    var limit = -Double.infinity, reach = 0.0
                    for j in stride(from: k - 1, through: 0, by: -1) {
                        reach += gap(layer[j], layer[j + 1])
                        if placed[j] { limit = center[layer[j]] + reach; break }
                    }
                    p = min(p, max(target, limit))
                    center[layer[k]] = p
                    for j in stride(from: k - 1, through: 0, by: -1) {
                        let need = center[layer[j + 1]] - gap(layer[j], layer[j + 1])
                        if center[layer[j]] <= need { break }
                        center[layer[j]] = need
                    }
                }
            }
        }
        for _ in 0..<placingSweeps {
            for layer in layers.dropFirst() { settle(layer, neighbours: \.up) }
            for layer in layers.reversed().dropFirst() { settle(layer, neighbours: \.down) }
        }
        return center
    }

    /// The weighted median of `values`: the value at which half the weight
    /// lies on either side (the mean of the two middle values on a tie). A
    /// median, not a mean: an op with a heavy main wire and a light side
    /// input stays on its main wire's line. A weight below 1 (`Edge.weight`
    /// is public) counts as 1: a zero total has no middle.
    static func weightedMedian(_ values: [(value: Double, weight: Int)]) -> Double {
        let sorted = values.sorted { $0.value < $1.value }
        let total = sorted.reduce(0) { $0 + max($1.weight, 1) }
        var below = 0
        for (k, entry) in sorted.enumerated() {
            below += max(entry.weight, 1)
            if 2 * below > total { return entry.value }
            if 2 * below == total { return (entry.value + sorted[k + 1].value) / 2 }
        }
        return sorted.last?.value ?? 0
    }

    // MARK: Into figure coordinates

    private static func assemble(_ scene: Scene, items: [Item], layers: [[Int]], across: [Double], chains: [[Int]]) -> LaidOutScene {
        let lr = scene.direction == .LR
        // Column widths, and the gaps between columns sized for their bends.
        let width = layers.map { layer in layer.map { items[$0].along }.max() ?? 0 }
        var bend = [Double](repeating: 0, count: layers.count)
        for chain in chains {
            for (a, b) in zip(chain, chain.dropFirst()) { bend[items[a].rank] = max(bend[items[a].rank], abs(across[b] - across[a])) }
        }
        var columnStart = [Double](repeating: 0, count: layers.count)
        for r in layers.indices.dropFirst() {
            let gapBefore = scene.rankSeparation + arrowLength + min(bendShare * bend[r - 1], maxBend)
            columnStart[r] = columnStart[r - 1] + width[r - 1] + gapBefore
        }
        let lowest = zip(across, items).map { $0 - $1.across / 2 }.min() ?? 0
        let highest = zip(across, items).map { $0 + $1.across / 2 }.max() ?? 0
        let length = (columnStart.last ?? 0) + (width.last ?? 0)

        let margin = scene.theme.margin
        let titleHeight = scene.titleBlock.map { $0.size.height + scene.theme.padding * 2 } ?? 0
        // Flow coordinates (along, across) to the figure's.
        func point(_ along: Double, _ side: Double) -> Point {
            lr ? Point(along + margin, side - lowest + margin + titleHeight) : Point(side - lowest + margin, along + margin + titleHeight)
        }
        func center(_ i: Int) -> Double { columnStart[items[i].rank] + width[items[i].rank] / 2 }

        let nodes = scene.nodes.enumerated().map { k, node in
            PlacedNode(node: node, frame: Rect(center: point(center(k), across[k]), size: node.size))
        }
        let edges = zip(scene.edges, chains).map { edge, chain -> PlacedEdge in
            var path = [(along: center(chain[0]) + items[chain[0]].along / 2, side: across[chain[0]])]
            for (a, b) in zip(chain, chain.dropFirst()) {
                let columnEnd = columnStart[items[a].rank] + width[items[a].rank]
                if path[path.count - 1].along < columnEnd { path.append((columnEnd, across[a])) }
                let last = b == chain.last!
                let entry = last ? center(b) - items[b].along / 2 - (edge.arrow ? arrowLength : 0) : columnStart[items[b].rank]
                let bendEnd = min(columnStart[items[b].rank], entry)
                path.append((bendEnd, across[b]))
                if entry > bendEnd { path.append((entry, across[b])) }
                // A dummy's wire runs straight across its column.
                if !last { path.append((columnStart[items[b].rank] + width[items[b].rank], across[b])) }
            }
            // Straight pieces where the side stays, an S-bend where it changes.
            var curve = [point(path[0].along, path[0].side)]
            for (p, q) in zip(path, path.dropFirst()) {
                let middle = (p.along + q.along) / 2
                let controls = p.side == q.side
                    ? [point(p.along + (q.along - p.along) / 3, p.side), point(p.along + 2 * (q.along - p.along) / 3, q.side)]
                    : [point(middle, p.side), point(middle, q.side)]
                curve += controls + [point(q.along, q.side)]
            }
            let last = chain.last!
            let tip = edge.arrow ? point(center(last) - items[last].along / 2, across[last]) : nil
            return PlacedEdge(edge: edge, points: curve, arrowTip: tip)
        }
        let side = highest - lowest
        let graphSize = lr ? Size(length, side) : Size(side, length)
        let canvasWidth = max(graphSize.width, scene.titleBlock?.size.width ?? 0) + 2 * margin
        let size = Size(canvasWidth, graphSize.height + 2 * margin + titleHeight)
        let titleFrame = scene.titleBlock.map { Rect(x: (canvasWidth - $0.size.width) / 2, y: margin, width: $0.size.width, height: $0.size.height) }
        return LaidOutScene(scene: scene, size: size, nodes: nodes, edges: edges, clusters: [], titleFrame: titleFrame)
    }

    // MARK: Rows

    /// `laidOut` wrapped in snake order into as many rows (columns, top to
    /// bottom) as bring it nearest `target`'s aspect, so that a chain of
    /// thousands of boxes fills a page instead of a strip a hundred thousand
    /// points long. `RowWrap`'s cuts, lanes and arrangement; only the row
    /// count is not capped at `RowWrap.maxRows`, and it is searched near
    /// where it should be rather than from 2 up: n rows of a strip L long
    /// stand L/n wide and n·H high for rows H high, which matches the aspect
    /// a at n = √(L / (a·H)); H is measured on a first try with the strip's
    /// height.
    static func wrap(_ laidOut: LaidOutScene, into target: FitTarget) -> LaidOutScene {
        let lr = laidOut.scene.direction == .LR
        let flow = lr ? laidOut : RowWrap.transposed(laidOut)
        let goal = lr ? target : FitTarget(width: target.height, height: target.width)
        let candidates = RowWrap.cutCandidates(flow), crossing = RowWrap.crossings(flow, candidates)
        let frames = flow.nodes.map(\.frame)
        let length = (frames.map(\.maxX).max() ?? 0) - (frames.map(\.x).min() ?? 0)
        func rowCount(rowHeight: Double) -> Int { Int((length / (rowHeight * goal.width / goal.height)).squareRoot().rounded()) }
        // A row is as high as the strip at most; the rows of one trial tell how high they are.
        let first = max(rowCount(rowHeight: (frames.map(\.maxY).max() ?? 0) - (frames.map(\.y).min() ?? 0) + flow.scene.rowSeparation), 2)
        let trial = RowWrap.arrange(flow, cuts: RowWrap.chooseCuts(flow, candidates, crossing, rows: first, penalty: 0), order: .snake, rowGap: flow.scene.rowSeparation)
        let nearest = rowCount(rowHeight: trial.size.height / Double(first))
        var best: LaidOutScene?, bestScale = RowWrap.scale(flow.size, goal)
        for rows in max(nearest - rowSearch, 2)...max(min(nearest + rowSearch, candidates.count + 1), 2) {
            for penalty in RowWrap.crossingPenalties {
                let wrapped = RowWrap.arrange(flow, cuts: RowWrap.chooseCuts(flow, candidates, crossing, rows: rows, penalty: penalty), order: .snake, rowGap: flow.scene.rowSeparation)
                let scale = RowWrap.scale(wrapped.size, goal)
                if scale > bestScale * (best == nil ? RowWrap.minimumGain : 1) {
                    best = wrapped
                    bestScale = scale
                }
            }
        }
        guard let best else { return laidOut }
        return RowWrap.titled(lr ? best : RowWrap.transposed(best), like: laidOut)
    }
}
