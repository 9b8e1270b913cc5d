/// Draws a laid-out scene onto any canvas. Both backends go through here,
/// so what the PNG shows, the SVG shows.
struct Painter {
    let laidOut: LaidOutScene
    var theme: Theme { laidOut.scene.theme }

    func paint(on canvas: some Canvas) {
        for cluster in laidOut.clusters { paintCluster(cluster, canvas) }
        for edge in laidOut.edges { paintEdge(edge, canvas) }
        for node in laidOut.nodes { paintNode(node, canvas) }
        if let frame = laidOut.titleFrame, let block = laidOut.scene.titleBlock {
            paintBlock(block, at: Point(frame.x, frame.y), canvas)
        }
    }

    private func paintCluster(_ cluster: PlacedCluster, _ canvas: some Canvas) {
        canvas.fillRect(cluster.frame, radius: theme.cornerRadius * 2, color: theme.clusterFill)
        canvas.strokeRect(cluster.frame, radius: theme.cornerRadius * 2, color: theme.clusterStroke, width: 1)
        let style = TextStyle(color: theme.muted, size: theme.fontSize, bold: true)
        canvas.text(cluster.cluster.title, at: Point(cluster.frame.x + 8, cluster.frame.y + 6 + style.size), style: style)
    }

    private func paintEdge(_ edge: PlacedEdge, _ canvas: some Canvas) {
        canvas.curve(edge.points, color: edge.edge.color, width: edge.edge.width)
        guard let tip = edge.arrowTip, let base = edge.points.last else { return }
        let dx = tip.x - base.x, dy = tip.y - base.y
        let length = (dx * dx + dy * dy).squareRoot()
        guard length > 0 else { return }
        let half = length * 0.35
        let nx = -dy / length * half, ny = dx / length * half
        canvas.fillPolygon([tip, Point(base.x + nx, base.y + ny), Point(base.x - nx, base.y - ny)], color: edge.edge.color)
    }

    private func paintNode(_ placed: PlacedNode, _ canvas: some Canvas) {
        let node = placed.node, frame = placed.frame
        switch node.shape {
        case .box:
            // Op nodes drawn as boxes (long names, check results) are pills, values plain boxes.
            let radius = node.kind == .op ? min(frame.height / 2, 14) : theme.cornerRadius
            if let fill = node.fill { canvas.fillRect(frame, radius: radius, color: fill) }
            if node.hatched { hatch(frame, inset: radius, canvas) }
            canvas.strokeRect(frame, radius: radius, color: node.stroke, width: node.strokeWidth)
            if node.outline == .double {
                let gap = OutlineStyle.doubleGap
                canvas.strokeRect(Rect(x: frame.x + gap, y: frame.y + gap, width: frame.width - 2 * gap, height: frame.height - 2 * gap),
                                  radius: max(radius - gap, 0), color: node.stroke, width: node.strokeWidth)
            }
        case .circle:
            canvas.circle(center: frame.center, radius: frame.width / 2, fill: node.fill, stroke: node.stroke, width: node.strokeWidth)
            if node.outline == .double {
                canvas.circle(center: frame.center, radius: frame.width / 2 - OutlineStyle.doubleGap, fill: nil, stroke: node.stroke, width: node.strokeWidth)
            }
        case .plain:
            if let fill = node.fill { canvas.fillRect(frame, radius: theme.cornerRadius, color: fill) }
        case .wireLabel:
            let c = frame.center
            if laidOut.scene.direction == .LR {
                canvas.line(from: Point(frame.x, c.y), to: Point(frame.maxX, c.y), color: node.stroke, width: node.strokeWidth)
            } else {
                canvas.line(from: Point(c.x, frame.y), to: Point(c.x, frame.maxY), color: node.stroke, width: node.strokeWidth)
            }
        }
        let size = node.content.size
        paintBlock(node.content, at: Point(frame.center.x - size.width / 2, frame.center.y - size.height / 2), canvas,
                   dividerExtent: (frame.x, frame.maxX, frame.y, frame.maxY), dividerColor: node.stroke)
    }

    /// Diagonal lines 45° apart by `hatchSpacing` across `frame`, kept `inset` inside its corners.
    private func hatch(_ frame: Rect, inset: Double, _ canvas: some Canvas) {
        let r = Rect(x: frame.x + inset / 2, y: frame.y + inset / 2, width: frame.width - inset, height: frame.height - inset)
        let color = theme.clusterStroke
        // Lines x − y = c for c from −height to width: clip each to the rectangle.
        var c = -r.height + Self.hatchSpacing
        while c < r.width {
            let start = Point(r.x + max(c, 0), r.y + max(-c, 0))
            let length = min(r.width - max(c, 0), r.height - max(-c, 0))
            canvas.line(from: start, to: Point(start.x + length, start.y + length), color: color, width: 0.6)
            c += Self.hatchSpacing
        }
    }

    static let hatchSpacing = 7.0

    /// Draws `block` with its top-left corner at `origin`. Dividers of a
    /// record run across the whole node frame.
    private func paintBlock(
        _ block: Block, at origin: Point, _ canvas: some Canvas,
        dividerExtent: (minX: Double, maxX: Double, minY: Double, maxY: Double)? = nil, dividerColor: RGB? = nil
    ) {
        switch block.kind {
        case .text(let string, let style, let ascent):
            canvas.text(string, at: Point(origin.x, origin.y + ascent), style: style)
        case .heatmap(let map):
            let (w, h) = (map.cellWidth, map.cellHeight)
            // Each cell overlaps its neighbours by half a point: no hairline seams in SVG viewers.
            for r in 0..<map.rows {
                for c in 0..<map.columns {
                    let overlap = (c < map.columns - 1 ? 0.5 : 0, r < map.rows - 1 ? 0.5 : 0)
                    canvas.fillRect(Rect(x: origin.x + Double(c) * w, y: origin.y + Double(r) * h, width: w + overlap.0, height: h + overlap.1),
                                    radius: 0, color: map.colors[r * map.columns + c])
                }
            }
            // Pooling windows: a line between each pair; each window's winner ringed.
            if map.windowSide > 0 {
                for k in stride(from: map.windowSide, to: map.columns, by: map.windowSide) {
                    let x = origin.x + Double(k) * w
                    canvas.line(from: Point(x, origin.y), to: Point(x, origin.y + block.size.height), color: theme.text, width: 1.5)
                }
                for k in stride(from: map.windowSide, to: map.rows, by: map.windowSide) {
                    let y = origin.y + Double(k) * h
                    canvas.line(from: Point(origin.x, y), to: Point(origin.x + block.size.width, y), color: theme.text, width: 1.5)
                }
            }
            for i in map.marked {
                let inset = 2.0
                canvas.strokeRect(Rect(x: origin.x + Double(i % map.columns) * w + inset, y: origin.y + Double(i / map.columns) * h + inset,
                                       width: w - 2 * inset, height: h - 2 * inset), radius: 2, color: theme.highlight, width: 2)
            }
            for (i, label) in map.labels.enumerated() {
                let x = origin.x + Double(i % map.columns) * w + (w - label.width) / 2
                let y = origin.y + Double(i / map.columns) * h + (h - label.height) / 2 + label.ascent
                canvas.text(label.text, at: Point(x, y), style: label.style)
            }
            canvas.strokeRect(Rect(x: origin.x, y: origin.y, width: block.size.width, height: block.size.height),
                              radius: 0, color: theme.muted, width: 0.5)
        case .row(let dividers):
            var x = origin.x
            for (i, child) in block.children.enumerated() {
                if dividers {
                    if i > 0, let extent = dividerExtent, let color = dividerColor {
                        canvas.line(from: Point(x, extent.minY), to: Point(x, extent.maxY), color: color, width: 1)
                    }
                    x += theme.padding
                }
                paintBlock(child, at: Point(x, origin.y + (block.size.height - child.size.height) / 2), canvas)
                x += child.size.width + (dividers ? theme.padding : theme.gap)
            }
        case .column(let dividers):
            var y = origin.y
            let spacing = dividers ? theme.gap * 2 : theme.gap / 2
            for (i, child) in block.children.enumerated() {
                if dividers, i > 0, let extent = dividerExtent, let color = dividerColor {
                    canvas.line(from: Point(extent.minX, y - spacing / 2), to: Point(extent.maxX, y - spacing / 2), color: color, width: 1)
                }
                paintBlock(child, at: Point(origin.x + (block.size.width - child.size.width) / 2, y), canvas)
                y += child.size.height + spacing
            }
        case .spacer:
            break
        }
    }
}
