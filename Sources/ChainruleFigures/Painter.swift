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
            // Each cell overlaps its neighbours by half a point: no hairline seams in SVG viewers.
            for r in 0..<map.rows {
                for c in 0..<map.columns {
                    let overlap = (c < map.columns - 1 ? 0.5 : 0, r < map.rows - 1 ? 0.5 : 0)
                    canvas.fillRect(Rect(x: origin.x + Double(c) * map.cell, y: origin.y + Double(r) * map.cell,
                                         width: map.cell + overlap.0, height: map.cell + overlap.1),
                                    radius: 0, color: map.colors[r * map.columns + c])
                }
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
