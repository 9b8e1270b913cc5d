import ChainruleCore
import Foundation

/// The area a figure is laid out for and measured against (`--fit`), in points.
public struct FitTarget: Sendable, Equatable, CustomStringConvertible {
    public var width: Double
    public var height: Double

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// A 16:9 slide's content area: 900×460 pt of a 960×540 pt slide, a
    /// title band and the margins taken off.
    public static let slide = FitTarget(width: 900, height: 460)
    /// A 4:3 slide's content area: 660×460 pt of a 720×540 pt slide.
    public static let fourByThree = FitTarget(width: 660, height: 460)

    /// Width over height of the page a figure made for this target goes on
    /// (step-by-step pages): 16:9 for a slide, 4:3 for a 4:3 slide, else the area's own.
    public var pageAspect: Double {
        self == .slide ? 16.0 / 9.0 : self == .fourByThree ? 4.0 / 3.0 : width / height
    }

    /// Text at least this big once fitted reads from the back row of a lecture hall (points).
    public static let readableTextSize = 14.0

    /// Each side of a `WxH` target or page, in points: 100 (a thumbnail) to
    /// 5000 (69 inches). One range for graph targets and chart pages alike.
    public static let sideRange: ClosedRange<Double> = 100...5000

    /// `slide` (or `16:9`), `4:3`, or `WxH` in points (`800x450`), each side
    /// in `sideRange`; refused with what `--fit` takes otherwise.
    public init(validating text: String) throws(FigureError) {
        switch text.lowercased() {
        case "slide", "16:9": self = .slide
        case "4:3": self = .fourByThree
        default:
            let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2, let width = Double(parts[0]), let height = Double(parts[1]), width.isFinite, height.isFinite else {
                throw .invalidOption("--fit takes slide (16:9), 4:3 or WxH in points such as 1200x600, got '\(text)'")
            }
            guard Self.sideRange.contains(width), Self.sideRange.contains(height) else {
                throw .invalidOption("--fit \(text): each side must be between \(formatNumber(Self.sideRange.lowerBound)) and \(formatNumber(Self.sideRange.upperBound)) points")
            }
            self.init(width: width, height: height)
        }
    }

    public var description: String {
        self == .slide ? "a 16:9 slide (900×460 pt)" : self == .fourByThree ? "a 4:3 slide (660×460 pt)"
            : "\(formatNumber(width))×\(formatNumber(height)) pt"
    }
}

/// The slide-fit text size: scale the figure to fill `target` (up or down,
/// aspect kept) and take the size its smallest text has there. A figure at
/// its natural size says little: a 412×3120 strip of 11 pt text shrinks to
/// 3.8 pt on a slide.
public struct SlideFit: Sendable, Equatable {
    /// The figure's natural size (points).
    public var figureSize: Size
    /// Its smallest font size at natural size (points).
    public var smallestFont: Double
    public var target: FitTarget

    public init(figureSize: Size, smallestFont: Double, target: FitTarget) {
        self.figureSize = figureSize
        self.smallestFont = smallestFont
        self.target = target
    }

    /// `min(target width / width, target height / height)`.
    public var scale: Double { min(target.width / figureSize.width, target.height / figureSize.height) }
    /// The smallest text's size on the target, in points.
    public var textSize: Double { smallestFont * scale }
    /// At least `FitTarget.readableTextSize` (14 pt).
    public var isReadable: Bool { textSize >= FitTarget.readableTextSize - 1e-9 }

    /// Measured from an SVG document alone: the root's `width`/`height` in pt
    /// and every `font-size`. Nil when the document has no size or no text.
    public init?(svg: String, target: FitTarget) {
        guard let root = svg.range(of: "<svg"), let end = svg[root.upperBound...].firstIndex(of: ">") else { return nil }
        let tag = svg[root.upperBound..<end]
        func attribute(_ name: String, in text: Substring) -> [Double] {
            text.components(separatedBy: " \(name)=\"").dropFirst().compactMap { rest in
                Double(rest.prefix { $0 != "\"" }.replacingOccurrences(of: "pt", with: ""))
            }
        }
        guard let width = attribute("width", in: tag).first, let height = attribute("height", in: tag).first,
              let smallest = attribute("font-size", in: svg[end...]).min(), width > 0, height > 0 else { return nil }
        self.init(figureSize: Size(width, height), smallestFont: smallest, target: target)
    }

    /// Measured from a laid-out scene: every text of every box, the cluster titles and the title.
    init(_ laidOut: LaidOutScene, target: FitTarget) {
        self.init(figureSize: laidOut.size, smallestFont: laidOut.scene.smallestFont, target: target)
    }
}

extension LaidOutScene {
    /// The heading at the left margin, where every figure has it
    /// (`FigureTitle`), its title broken again now that the drawing's size is
    /// known: no wider than the drawing, or than `target`'s shape allows at
    /// the figure's height — so a long title adds lines, not width, and the
    /// figure reads on `target` as big as its graph lets it. Before layout
    /// the title was broken at the target's whole width.
    func fittingTitle(to target: FitTarget) -> LaidOutScene {
        var out = self
        guard let frame = titleFrame else { return out }
        let theme = scene.theme, margin = theme.margin
        out.titleFrame?.x = margin
        guard let title = scene.title else { return out }
        let measurer = TextMeasurer(theme: theme)
        // The drawing alone: its own width, or where the title set the width, its extent and a margin.
        let rights = nodes.map(\.frame.maxX) + clusters.map(\.frame.maxX) + edges.flatMap { $0.points.map(\.x) }
        let drawingWidth = frame.width + 2 * margin < size.width - 0.5 ? size.width : (rights.max() ?? 0) + margin
        let oldBand = frame.height + theme.padding * 2
        let drawingHeight = size.height - oldBand
        let aspect = target.width / target.height
        // The heading's height with the title in n lines (lines and the note stacked gap/2 apart, padded).
        let style = FigureTitle.style(theme: theme, bodySize: theme.fontSize)
        let line = measurer.lineMetrics(style).height, spacing = theme.gap / 2
        let note = scene.titleNote.map { $0.size.height + spacing } ?? 0
        func band(_ n: Int) -> Double { Double(n) * line + Double(n - 1) * spacing + note + theme.padding * 2 }
        // The fewest lines n for which the title, broken at the width the figure may have at the
        // height of n lines (the target's shape), takes no more than n: no other breaking reads bigger.
        // The width grows with n and the line count falls with the width, so n is found by bisection.
        func width(_ n: Int) -> Double { max(drawingWidth, aspect * (drawingHeight + band(n))) - 2 * margin }
        var (low, high) = (1, max(1, title.count))
        while low < high {
            let n = (low + high) / 2
            if FigureTitle.lines(title, width: width(n), style: style, measurer: measurer).count <= n { high = n } else { low = n + 1 }
        }
        guard let block = FigureTitle.heading(title, note: scene.titleNote, width: width(low), measurer: measurer) else { return out }
        let shift = block.size.height + theme.padding * 2 - oldBand
        for k in out.nodes.indices { out.nodes[k].frame.y += shift }
        for k in out.clusters.indices { out.clusters[k].frame.y += shift }
        for k in out.edges.indices {
            out.edges[k].points = out.edges[k].points.map { Point($0.x, $0.y + shift) }
            out.edges[k].arrowTip = out.edges[k].arrowTip.map { Point($0.x, $0.y + shift) }
        }
        out.scene.titleBlock = block
        out.titleFrame = Rect(x: margin, y: margin, width: block.size.width, height: block.size.height)
        out.size = Size(max(drawingWidth, block.size.width + 2 * margin), size.height + shift)
        return out
    }
}

/// Wraps a long left-to-right (or top-to-bottom) layout into rows (columns)
/// to fill a target's aspect: the strip is cut in the gaps between its
/// ranks, the pieces are stacked, and the edges that cross a cut run
/// outside the rows in lanes of their own, clear of every box. The rows
/// follow each other in one of two orders (`Order`): as a snake, every
/// second piece mirrored so that the flow turns around at the ends (the
/// model and record styles), or as lines of text, every row left to right
/// (a circuit, `CircuitWrap`, whose `←` must point the way gradients flow).
enum RowWrap {
    /// How the rows of a wrapped layout follow each other.
    enum Order {
        /// Even rows run left to right, odd ones mirrored from the right edge.
        case snake
        /// Every row runs left to right; a wire into a later row is a carriage return.
        case lines

        /// Whether row `i` runs right to left.
        func mirrors(_ i: Int) -> Bool { self == .snake && i % 2 == 1 }
        /// Whether a wire leaves row `i` on its right (the side the row flows to).
        func exitsRight(_ i: Int) -> Bool { !mirrors(i) }
        /// Whether a wire enters row `i` on its right (the side the row flows from).
        func entersRight(_ i: Int) -> Bool { mirrors(i) }
    }

    /// Space between rows at the styles' own gaps (`Scene.rowSeparation`), and between the rows and a lane (points).
    static let rowGap = 34.0
    static let laneGap = 18.0
    /// Lanes of several crossing edges lie this far apart.
    static let laneStep = 6.0
    /// The length of an arrowhead (Graphviz's 10 pt at `arrowsize` 0.8).
    static let arrowLength = 8.0
    static let maxRows = 8
    /// A wrap must make the figure read this much bigger to be worth its
    /// turns (cutting one small box off a wide figure gains a few percent).
    static let minimumGain = 1.05
    /// What each edge crossing a cut (beyond the one a chain needs) costs, in
    /// piece lengths of distance from the ideal cut: each is tried, and the
    /// arrangement that reads biggest kept.
    static let crossingPenalties = [0.5, 0.15, 0]

    /// The snake: the arrangement of `laidOut` in 1…`maxRows` rows whose
    /// slide-fit scale on `target` is largest, unchanged unless that gains
    /// `minimumGain`; with its side inputs beside their readers
    /// (`sideInputsBeside`) where that reads bigger still.
    static func wrap(_ laidOut: LaidOutScene, into target: FitTarget) -> LaidOutScene {
        let lr = laidOut.scene.direction == .LR
        let flow = lr ? laidOut : transposed(laidOut)
        let goal = lr ? target : FitTarget(width: target.height, height: target.width)
        var chosen = rows(flow, into: goal, order: .snake, rowGap: flow.scene.rowSeparation)
        if let moved = sideInputsBeside(flow) {
            let alternative = rows(moved.flow, into: goal, order: .snake, rowGap: flow.scene.rowSeparation, unbroken: moved.unbroken) ?? moved.flow
            // Kept where it reads bigger by more than the sizes' rounding.
            if scale(alternative.size, goal) > scale((chosen ?? flow).size, goal) * (1 + 1e-3) { chosen = alternative }
        }
        guard let chosen else { return laidOut }
        return titled(lr ? chosen : transposed(chosen), like: laidOut)
    }

    /// The arrangement of `flow` (left to right) in 2…`maxRows` rows of
    /// `order`, `rowGap` apart, cut nowhere in `unbroken`, whose slide-fit scale on `goal` is largest,
    /// each arrangement kept only when it gains `minimumGain` over the best
    /// before it (the one line first); nil when none does.
    static func rows(_ flow: LaidOutScene, into goal: FitTarget, order: Order, rowGap: Double,
                     unbroken: [ClosedRange<Double>] = []) -> LaidOutScene? {
        let candidates = cutCandidates(flow).filter { cut in !unbroken.contains { $0.contains(cut) } }
        let crossing = crossings(flow, candidates)
        var best: LaidOutScene?, bestScale = scale(flow.size, goal)
        for rows in stride(from: 2, through: min(maxRows, candidates.count + 1), by: 1) {
            // Cuts that few edges cross first: on a tie they win.
            for penalty in crossingPenalties {
                let wrapped = arrange(flow, cuts: chooseCuts(flow, candidates, crossing, rows: rows, penalty: penalty), order: order, rowGap: rowGap)
                let s = scale(wrapped.size, goal)
                if s > bestScale * minimumGain {
                    best = wrapped
                    bestScale = s
                }
            }
        }
        return best
    }

    /// `wrapped` with `original`'s title at the margin, and as wide as the title needs.
    static func titled(_ wrapped: LaidOutScene, like original: LaidOutScene) -> LaidOutScene {
        var out = wrapped
        if let title = original.titleFrame {
            let margin = original.scene.theme.margin
            out.size.width = max(out.size.width, title.width + 2 * margin)
            out.titleFrame = Rect(x: margin, y: margin, width: title.width, height: title.height)
        }
        return out
    }

    /// `flow` with each side input beside its reader: a box that nothing
    /// feeds, whose one wire goes into a box that reads another wire first
    /// (the scores a matmul multiplies its chain's value with, a loss's
    /// target), moved from where `dot` ranked it — a column before its
    /// reader, below that column's boxes — to its reader's side on a short
    /// straight wire: after the reader at the end of a chain (where nothing
    /// else goes), else just under it or over it, a reader's side inputs
    /// side by side. They move only where they meet no box, frame or other
    /// wire, and none inside a frame. Also the spans along the flow that a
    /// cut must not split (a reader and the input after it); nil when none moves.
    static func sideInputsBeside(_ flow: LaidOutScene) -> (flow: LaidOutScene, unbroken: [ClosedRange<Double>])? {
        let sideInputs = SideInputs(flow.edges.map(\.edge))
        let incoming = sideInputs.into
        var outgoing: [String: [Int]] = [:]
        for (k, edge) in flow.edges.enumerated() { outgoing[edge.edge.from, default: []].append(k) }
        let index = Dictionary(flow.nodes.indices.map { (flow.nodes[$0].node.key, $0) }, uniquingKeysWith: { first, _ in first })
        // The side inputs of each reader (`SideInputs`) that read nothing else and stand in no frame, in the order of its wires.
        var sides: [(reader: Int, inputs: [Int], wires: [Int])] = []
        for key in incoming.keys {
            guard let reader = index[key], flow.nodes[reader].node.cluster == nil else { continue }
            var inputs: [Int] = [], used: [Int] = []
            for k in sideInputs.sides(of: key) {
                let from = flow.edges[k].edge.from
                guard let input = index[from], outgoing[from]?.count == 1, flow.nodes[input].node.cluster == nil else { continue }
                inputs.append(input)
                used.append(k)
            }
            if !inputs.isEmpty { sides.append((reader, inputs, used)) }
        }
        guard !sides.isEmpty else { return nil }
        let across = max(flow.scene.nodeSeparation, laneGap), along = max(flow.scene.rankSeparation, laneGap)
        let top = flow.nodes.map(\.frame.y).min() ?? 0
        var out = flow, unbroken: [ClosedRange<Double>] = []
        // Each wire's points along its curve and their bounds, kept up to date as wires are redrawn.
        var samples = flow.edges.map { curveSamples($0.points) }
        var bounds = samples.map(Self.bounds)
        func redraw(_ k: Int, _ path: [Point], base: Point, tip: Point) {
            let arrow = out.edges[k].edge.arrow
            out.edges[k].points = straightCurve(path + [arrow ? base : tip])
            out.edges[k].arrowTip = arrow ? tip : nil
            samples[k] = curveSamples(out.edges[k].points)
            bounds[k] = Self.bounds(samples[k])
        }
        for side in sides.sorted(by: { $0.reader < $1.reader }) {
            let reader = out.nodes[side.reader].frame
            let sizes = side.inputs.map { Size(out.nodes[$0].frame.width, out.nodes[$0].frame.height) }
            let movedKeys = Set(side.inputs.map { out.nodes[$0].node.key } + [out.nodes[side.reader].node.key])
            let obstacles = out.nodes.filter { !movedKeys.contains($0.node.key) }.map(\.frame) + out.clusters.map(\.frame)
            func isClear(_ band: Rect, redrawn: [Int]) -> Bool {
                !obstacles.contains { $0.overlaps(band) } && !samples.indices.contains { k in
                    !redrawn.contains(k) && bounds[k].overlaps(band) && samples[k].contains { band.contains(Rect(x: $0.x, y: $0.y, width: 0, height: 0)) }
                }
            }
            // After the end of a chain: one input, on the reader's line, its wire coming back into the
            // reader's far side; the reader on its chain's line too, when nothing else pulled it off.
            let readerKey = out.nodes[side.reader].node.key
            if outgoing[readerKey] == nil, sizes.count == 1, let wires = incoming[readerKey] {
                let chain = wires[0]
                var lines: [(y: Double, from: Double?)] = [(reader.center.y, nil)]
                if wires.count == 2, let source = index[out.edges[chain].edge.from].map({ out.nodes[$0].frame }), source.maxX < reader.x {
                    lines.insert((source.center.y, source.maxX), at: 0)
                }
                var placed = false
                for line in lines {
                    let moved = Rect(x: reader.x, y: line.y - reader.height / 2, width: reader.width, height: reader.height)
                    let frame = Rect(x: reader.maxX + along, y: line.y - sizes[0].height / 2, width: sizes[0].width, height: sizes[0].height)
                    let start = line.from ?? reader.maxX, low = min(moved.y, frame.y)
                    let band = Rect(x: start, y: low, width: frame.maxX - start, height: max(moved.maxY, frame.maxY) - low)
                    guard low >= top, isClear(band, redrawn: side.wires + (line.from == nil ? [] : [chain])) else { continue }
                    out.nodes[side.reader].frame = moved
                    out.nodes[side.inputs[0]].frame = frame
                    redraw(side.wires[0], [Point(frame.x, line.y)], base: Point(moved.maxX + arrowLength, line.y), tip: Point(moved.maxX, line.y))
                    if let from = line.from { redraw(chain, [Point(from, line.y)], base: Point(moved.x - arrowLength, line.y), tip: Point(moved.x, line.y)) }
                    unbroken.append(reader.x...frame.maxX)
                    placed = true
                    break
                }
                if placed { continue }
            }
            let width = sizes.map(\.width).reduce(0, +) + across * Double(sizes.count - 1)
            let height = sizes.map(\.height).max() ?? 0
            for below in [true, false] {
                let y = below ? reader.maxY + across : reader.y - across - height
                var x = reader.center.x - width / 2
                let frames = sizes.map { size -> Rect in
                    defer { x += size.width + across }
                    return Rect(x: x, y: below ? y : y + height - size.height, width: size.width, height: size.height)
                }
                guard y >= top, isClear(Rect(x: frames[0].x, y: below ? reader.maxY : y, width: width, height: height + across), redrawn: side.wires) else { continue }
                for (n, input) in side.inputs.enumerated() {
                    out.nodes[input].frame = frames[n]
                    // Straight up (or down) into the reader, where the input and the reader overlap across the flow.
                    let entry = min(max(frames[n].center.x, reader.x + 4), reader.maxX - 4)
                    let start = Point(frames[n].center.x, below ? frames[n].y : frames[n].maxY)
                    let tip = Point(entry, below ? reader.maxY : reader.y), middle = (start.y + tip.y) / 2
                    let path = abs(start.x - tip.x) < 1e-9 ? [start] : [start, Point(start.x, middle), Point(tip.x, middle)]
                    redraw(side.wires[n], path, base: Point(tip.x, tip.y + (below ? arrowLength : -arrowLength)), tip: tip)
                }
                unbroken.append(min(reader.x, frames[0].x)...max(reader.maxX, frames[frames.count - 1].maxX))
                break
            }
        }
        guard !unbroken.isEmpty else { return nil }
        let margin = flow.scene.theme.margin
        let extent = out.nodes.map(\.frame) + out.clusters.map(\.frame)
        let points = out.edges.flatMap(\.points)
        out.size = Size(max((extent.map(\.maxX) + points.map(\.x)).max() ?? 0, flow.titleFrame.map { $0.maxX } ?? 0) + margin,
                        ((extent.map(\.maxY) + points.map(\.y)).max() ?? 0) + margin)
        return (out, unbroken)
    }

    /// The fit scale of `size` on `goal`.
    static func scale(_ size: Size, _ goal: FitTarget) -> Double {
        min(goal.width / size.width, goal.height / size.height)
    }

    /// The along-flow positions between ranks where nothing (no box, no frame) lies: cut candidates.
    static func cutCandidates(_ flow: LaidOutScene) -> [Double] {
        let intervals = (flow.nodes.map(\.frame) + flow.clusters.map(\.frame)).map { ($0.x, $0.maxX) }.sorted { $0.0 < $1.0 }
        guard var reach = intervals.first?.1 else { return [] }
        var cuts: [Double] = []
        for (start, end) in intervals.dropFirst() {
            if start > reach + 1 { cuts.append((reach + start) / 2) }
            reach = max(reach, end)
        }
        return cuts
    }

    /// How many edges cross each candidate cut (an edge spans the centres of its two boxes).
    static func crossings(_ flow: LaidOutScene, _ candidates: [Double]) -> [Int] {
        let frames = Dictionary(flow.nodes.map { ($0.node.key, $0.frame) }, uniquingKeysWith: { first, _ in first })
        var starts: [Double] = [], ends: [Double] = []
        for edge in flow.edges {
            guard let a = frames[edge.edge.from], let b = frames[edge.edge.to] else { continue }
            starts.append(min(a.center.x, b.center.x))
            ends.append(max(a.center.x, b.center.x))
        }
        starts.sort()
        ends.sort()
        // Candidates are sorted: walk both lists once.
        var open = 0, closed = 0
        return candidates.map { cut in
            while open < starts.count && starts[open] < cut { open += 1 }
            while closed < ends.count && ends[closed] <= cut { closed += 1 }
            return open - closed
        }
    }

    /// `rows − 1` cuts near equal piece lengths, preferring cuts few edges
    /// cross: distance from the ideal place in piece lengths, plus `penalty`
    /// for each crossing edge beyond the first.
    static func chooseCuts(_ flow: LaidOutScene, _ candidates: [Double], _ crossing: [Int], rows: Int, penalty: Double) -> [Double] {
        let low = flow.nodes.map(\.frame.x).min() ?? 0, high = flow.nodes.map(\.frame.maxX).max() ?? 0
        let length = max((high - low) / Double(rows), 1)
        var cuts: [Double] = []
        for i in 1..<rows {
            let ideal = low + Double(i) * length
            var best: (cut: Double, cost: Double)?
            for (cut, count) in zip(candidates, crossing) where cut > (cuts.last ?? -.infinity) {
                let cost = abs(cut - ideal) / length + penalty * Double(max(count - 1, 0))
                if cost < best?.cost ?? .infinity { best = (cut, cost) }
            }
            guard let best else { break }
            cuts.append(best.cut)
        }
        return cuts
    }

    /// The pieces of `flow` between `cuts` stacked `rowGap` apart in
    /// `order`: a row that runs left to right from the left edge, a mirrored
    /// one from the right edge. A row is as tall as its boxes, frames and the
    /// wires inside it (a leaf's wire may bow past its boxes). Each edge
    /// between rows takes the next of three lanes, `laneStep` apart, on the
    /// side it leaves its row and the side it enters the next.
    static func arrange(_ flow: LaidOutScene, cuts: [Double], order: Order, rowGap: Double) -> LaidOutScene {
        let theme = flow.scene.theme
        let piece = { (x: Double) in cuts.filter { $0 < x }.count }
        let count = cuts.count + 1
        var pieceOf: [String: Int] = [:]
        for placed in flow.nodes { pieceOf[placed.node.key] = piece(placed.frame.center.x) }
        var low = [Double](repeating: .infinity, count: count), high = [Double](repeating: -.infinity, count: count)
        var top = low, bottom = high
        func extend(_ i: Int, _ r: Rect) {
            low[i] = min(low[i], r.x); high[i] = max(high[i], r.maxX)
            top[i] = min(top[i], r.y); bottom[i] = max(bottom[i], r.maxY)
        }
        for frame in flow.nodes.map(\.frame) + flow.clusters.map(\.frame) { extend(piece(frame.center.x), frame) }
        for edge in flow.edges {
            guard let from = pieceOf[edge.edge.from], from == pieceOf[edge.edge.to] else { continue }
            for p in edge.points { extend(from, Rect(x: p.x, y: p.y, width: 0, height: 0)) }
        }
        for i in 0..<count where !low[i].isFinite { low[i] = 0; high[i] = 0; top[i] = 0; bottom[i] = 0 }
        let width = zip(low, high).map { $1 - $0 }.max() ?? 0
        let titleHeight = flow.titleFrame.map { $0.height + theme.padding * 2 } ?? 0
        // Each side is as wide as its outermost lane needs, and no wider where no edge runs.
        var laneOffset: [Int: Double] = [:]
        var room = (left: 0.0, right: 0.0)
        for (k, edge) in flow.edges.enumerated() {
            guard let from = pieceOf[edge.edge.from], let to = pieceOf[edge.edge.to], from != to else { continue }
            let offset = laneGap / 2 + laneStep * Double(laneOffset.count % 3)
            laneOffset[k] = offset
            for right in [order.exitsRight(from), order.entersRight(to)] {
                if right { room.right = max(room.right, offset + laneGap / 2) } else { room.left = max(room.left, offset + laneGap / 2) }
            }
        }
        let left = theme.margin + room.left
        var rowTop = [Double](), y = theme.margin + titleHeight
        for i in 0..<count {
            rowTop.append(y)
            y += bottom[i] - top[i] + rowGap
        }
        func move(_ p: Point, _ i: Int) -> Point {
            let along = p.x - low[i]
            return Point(order.mirrors(i) ? left + width - along : left + along, p.y - top[i] + rowTop[i])
        }
        func move(_ r: Rect, _ i: Int) -> Rect {
            let a = move(Point(r.x, r.y), i), b = move(Point(r.maxX, r.maxY), i)
            return Rect(x: min(a.x, b.x), y: a.y, width: r.width, height: r.height)
        }
        var out = flow
        for k in out.nodes.indices { out.nodes[k].frame = move(flow.nodes[k].frame, piece(flow.nodes[k].frame.center.x)) }
        for k in out.clusters.indices { out.clusters[k].frame = move(flow.clusters[k].frame, piece(flow.clusters[k].frame.center.x)) }
        let frames = Dictionary(out.nodes.map { ($0.node.key, $0.frame) }, uniquingKeysWith: { first, _ in first })
        var rowFrames = [[Rect]](repeating: [], count: count)
        for node in out.nodes { if let i = pieceOf[node.node.key] { rowFrames[i].append(node.frame) } }
        let shapes = Dictionary(out.nodes.map { ($0.node.key, $0.node.shape) }, uniquingKeysWith: { first, _ in first })
        let (exitHeights, entryHeights) = sharedSideHeights(flow, pieceOf: pieceOf, frames: frames, rowFrames: rowFrames,
                                                            laneOffset: laneOffset, order: order)
        for k in out.edges.indices {
            let edge = flow.edges[k]
            guard let from = pieceOf[edge.edge.from], let to = pieceOf[edge.edge.to],
                  let source = frames[edge.edge.from], let target = frames[edge.edge.to] else { continue }
            if from == to {
                out.edges[k].points = edge.points.map { move($0, from) }
                out.edges[k].arrowTip = edge.arrowTip.map { move($0, from) }
                continue
            }
            // Leave on the side the row flows to, enter on the side the target's row flows from,
            // when no box of the row stands in the way (the row's last box, the next row's first);
            // else leave from the bottom into the gap below the row, and enter from the top out of
            // the gap above the target's row (a wire that skips ahead, as a residual's).
            let offset = laneOffset[k] ?? laneGap / 2
            let laneRight = left + width + offset, laneLeft = left - offset
            let exitRight = order.exitsRight(from), enterRight = order.entersRight(to)
            let exitClear = isClear(source, right: exitRight, among: rowFrames[from])
            let entryClear = isClear(target, right: enterRight, among: rowFrames[to])
            let exitLane = exitRight ? laneRight : laneLeft, entryLane = enterRight ? laneRight : laneLeft
            let below = rowTop[from + 1] - rowGap / 2, above = rowTop[to] - rowGap / 2
            let exitY = exitHeights[k] ?? source.center.y, entryY = entryHeights[k] ?? target.center.y
            let exitX = sideX(source, shapes[edge.edge.from], y: exitY, right: exitRight)
            var path = exitClear ? [Point(exitX, exitY), Point(exitLane, exitY)]
                : [Point(source.center.x, source.maxY), Point(source.center.x, below)]
            if !exitClear && !entryClear && to == from + 1 {
                path.append(Point(target.center.x, below))
            } else {
                if !exitClear { path.append(Point(exitLane, below)) }
                if entryClear {
                    if exitLane != entryLane { path += [Point(exitLane, above), Point(entryLane, above)] }
                    path.append(Point(entryLane, entryY))
                } else {
                    path += [Point(exitLane, above), Point(target.center.x, above)]
                }
            }
            let tip = entryClear ? Point(sideX(target, shapes[edge.edge.to], y: entryY, right: enterRight), entryY) : Point(target.center.x, target.y)
            let base = entryClear ? Point(tip.x + (enterRight ? arrowLength : -arrowLength), tip.y) : Point(tip.x, tip.y - arrowLength)
            path.append(edge.edge.arrow ? base : tip)
            out.edges[k].points = straightCurve(path)
            out.edges[k].arrowTip = edge.edge.arrow ? tip : nil
        }
        out.size = Size(left + width + room.right + theme.margin, y - rowGap + theme.margin)
        return out
    }

    /// The heights at which wires between rows leave or enter a box sideways
    /// where two or more share that box's side (a value read twice by one
    /// op, as `z * z` reads `z`), by edge index: spread over the middle of
    /// the box, in the order of their lanes so that none crosses another —
    /// wires running down leave lowest and enter highest from the innermost
    /// lane (up, the other way round). A side that one wire uses keeps its middle.
    static func sharedSideHeights(_ flow: LaidOutScene, pieceOf: [String: Int], frames: [String: Rect], rowFrames: [[Rect]],
                                  laneOffset: [Int: Double], order: Order) -> (exits: [Int: Double], entries: [Int: Double]) {
        var exits = [String: [Int]](), entries = [String: [Int]]()
        for (k, edge) in flow.edges.enumerated() {
            guard let from = pieceOf[edge.edge.from], let to = pieceOf[edge.edge.to], from != to,
                  let source = frames[edge.edge.from], let target = frames[edge.edge.to] else { continue }
            if isClear(source, right: order.exitsRight(from), among: rowFrames[from]) { exits[edge.edge.from, default: []].append(k) }
            if isClear(target, right: order.entersRight(to), among: rowFrames[to]) { entries[edge.edge.to, default: []].append(k) }
        }
        func spread(_ groups: [String: [Int]], innermostHighestGoingDown: Bool) -> [Int: Double] {
            var heights = [Int: Double]()
            for (key, wires) in groups where wires.count >= 2 {
                guard let frame = frames[key] else { continue }
                let down = pieceOf[flow.edges[wires[0]].edge.to]! > pieceOf[flow.edges[wires[0]].edge.from]!
                let inward = wires.sorted { (laneOffset[$0] ?? 0, $0) < (laneOffset[$1] ?? 0, $1) }
                let ordered = down == innermostHighestGoingDown ? inward : inward.reversed()
                let step = min(laneStep * 2, frame.height * 0.6 / Double(wires.count - 1))
                for (i, k) in ordered.enumerated() { heights[k] = frame.center.y + (Double(i) - Double(wires.count - 1) / 2) * step }
            }
            return heights
        }
        return (spread(exits, innermostHighestGoingDown: false), spread(entries, innermostHighestGoingDown: true))
    }

    /// Where a wire at height `y` meets `frame`'s right or left side: its
    /// edge for a box, the point of the circle at that height for a circle.
    static func sideX(_ frame: Rect, _ shape: NodeShape?, y: Double, right: Bool) -> Double {
        guard shape == .circle else { return right ? frame.maxX : frame.x }
        let r = frame.width / 2, dy = y - frame.center.y
        let half = (max(0, r * r - dy * dy)).squareRoot()
        return right ? frame.center.x + half : frame.center.x - half
    }

    /// Whether a wire leaving (or entering) `frame` sideways at its middle,
    /// to the right or left, meets none of the boxes `row`.
    static func isClear(_ frame: Rect, right: Bool, among row: [Rect]) -> Bool {
        let y = frame.center.y
        return !row.contains { other in
            other != frame && other.y < y && y < other.maxY && (right ? other.x >= frame.maxX - 1e-9 : other.maxX <= frame.x + 1e-9)
        }
    }

    /// A polyline as a cubic Bézier path (3n+1 points) of straight segments.
    static func straightCurve(_ points: [Point]) -> [Point] {
        guard var previous = points.first else { return [] }
        var curve = [previous]
        for p in points.dropFirst() {
            curve += [Point(previous.x + (p.x - previous.x) / 3, previous.y + (p.y - previous.y) / 3),
                      Point(previous.x + 2 * (p.x - previous.x) / 3, previous.y + 2 * (p.y - previous.y) / 3), p]
            previous = p
        }
        return curve
    }

    /// The smallest rectangle around `points` (empty at the origin for none).
    static func bounds(_ points: [Point]) -> Rect {
        guard let first = points.first else { return Rect(x: 0, y: 0, width: 0, height: 0) }
        var (low, high) = (first, first)
        for p in points.dropFirst() {
            low = Point(min(low.x, p.x), min(low.y, p.y))
            high = Point(max(high.x, p.x), max(high.y, p.y))
        }
        return Rect(x: low.x, y: low.y, width: high.x - low.x, height: high.y - low.y)
    }

    /// Points along a cubic Bézier path (3n+1 points), `steps` + 1 on each piece.
    static func curveSamples(_ p: [Point], steps: Int = 8) -> [Point] {
        stride(from: 0, to: p.count - 3, by: 3).flatMap { start in
            (0...steps).map { step in
                let t = Double(step) / Double(steps), u = 1 - t
                let (a, b, c, d) = (u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t)
                return Point(a * p[start].x + b * p[start + 1].x + c * p[start + 2].x + d * p[start + 3].x,
                             a * p[start].y + b * p[start + 1].y + c * p[start + 2].y + d * p[start + 3].y)
            }
        }
    }

    /// The scene with x and y swapped: a top-to-bottom layout becomes left to
    /// right, so one algorithm wraps both; the title stays on top.
    static func transposed(_ laidOut: LaidOutScene) -> LaidOutScene {
        let titleHeight = laidOut.titleFrame.map { $0.height + laidOut.scene.theme.padding * 2 } ?? 0
        let flip = { (p: Point) in Point(p.y - titleHeight, p.x + titleHeight) }
        let rect = { (r: Rect) in
            let corner = flip(Point(r.x, r.y))
            return Rect(x: corner.x, y: corner.y, width: r.height, height: r.width)
        }
        var out = laidOut
        out.size = Size(laidOut.size.height - titleHeight, laidOut.size.width + titleHeight)
        for k in out.nodes.indices { out.nodes[k].frame = rect(laidOut.nodes[k].frame) }
        for k in out.clusters.indices { out.clusters[k].frame = rect(laidOut.clusters[k].frame) }
        for k in out.edges.indices {
            out.edges[k].points = laidOut.edges[k].points.map(flip)
            out.edges[k].arrowTip = laidOut.edges[k].arrowTip.map(flip)
        }
        return out
    }
}
