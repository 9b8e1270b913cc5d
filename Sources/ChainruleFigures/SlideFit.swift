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
/// in snake order to fill a target's aspect: the strip is cut in the gaps
/// between its ranks, every second piece is mirrored so that the flow turns
/// around at the ends like a snake, and the edges that cross a cut run
/// outside the rows in lanes of their own, clear of every box.
enum SnakeWrap {
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

    /// The arrangement of `laidOut` in 1…`maxRows` rows whose slide-fit scale
    /// on `target` is largest; unchanged unless that gains `minimumGain`.
    static func wrap(_ laidOut: LaidOutScene, into target: FitTarget) -> LaidOutScene {
        let lr = laidOut.scene.direction == .LR
        let flow = lr ? laidOut : transposed(laidOut)
        let goal = lr ? target : FitTarget(width: target.height, height: target.width)
        let candidates = cutCandidates(flow), crossing = crossings(flow, candidates)
        var best: LaidOutScene?, bestScale = scale(flow.size, goal)
        for rows in stride(from: 2, through: min(maxRows, candidates.count + 1), by: 1) {
            // Cuts that few edges cross first: on a tie they win.
            for penalty in crossingPenalties {
                let wrapped = arrange(flow, cuts: chooseCuts(flow, candidates, crossing, rows: rows, penalty: penalty))
                let s = scale(wrapped.size, goal)
                if s > bestScale * minimumGain {
                    best = wrapped
                    bestScale = s
                }
            }
        }
        guard let best else { return laidOut }
        var out = lr ? best : transposed(best)
        if let title = laidOut.titleFrame {
            let margin = laidOut.scene.theme.margin
            out.size.width = max(out.size.width, title.width + 2 * margin)
            out.titleFrame = Rect(x: margin, y: margin, width: title.width, height: title.height)
        }
        return out
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

    /// The pieces between `cuts` stacked in snake order: even pieces run left
    /// to right from the left edge, odd ones mirrored from the right edge.
    static func arrange(_ flow: LaidOutScene, cuts: [Double]) -> LaidOutScene {
        let theme = flow.scene.theme, rowGap = flow.scene.rowSeparation
        let piece = { (x: Double) in cuts.filter { $0 < x }.count }
        let count = cuts.count + 1
        var low = [Double](repeating: .infinity, count: count), high = [Double](repeating: -.infinity, count: count)
        var top = low, bottom = high
        for frame in flow.nodes.map(\.frame) + flow.clusters.map(\.frame) {
            let i = piece(frame.center.x)
            low[i] = min(low[i], frame.x); high[i] = max(high[i], frame.maxX)
            top[i] = min(top[i], frame.y); bottom[i] = max(bottom[i], frame.maxY)
        }
        for i in 0..<count where !low[i].isFinite { low[i] = 0; high[i] = 0; top[i] = 0; bottom[i] = 0 }
        let width = zip(low, high).map { $1 - $0 }.max() ?? 0
        let titleHeight = flow.titleFrame.map { $0.height + theme.padding * 2 } ?? 0
        // Each edge between rows takes the next of three lanes, on the side it leaves its row
        // (right for a row that flows right) and the side it enters the next; each side is
        // as wide as its outermost lane needs, and no wider where no edge runs.
        let centres = Dictionary(flow.nodes.map { ($0.node.key, $0.frame.center.x) }, uniquingKeysWith: { first, _ in first })
        var laneOffset: [Int: Double] = [:]
        var room = (left: 0.0, right: 0.0)
        for (k, edge) in flow.edges.enumerated() {
            guard let a = centres[edge.edge.from], let b = centres[edge.edge.to], piece(a) != piece(b) else { continue }
            let offset = laneGap / 2 + laneStep * Double(laneOffset.count % 3)
            laneOffset[k] = offset
            for right in [piece(a) % 2 == 0, piece(b) % 2 == 1] {
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
            return Point(i % 2 == 0 ? left + along : left + width - along, p.y - top[i] + rowTop[i])
        }
        func move(_ r: Rect, _ i: Int) -> Rect {
            let a = move(Point(r.x, r.y), i), b = move(Point(r.maxX, r.maxY), i)
            return Rect(x: min(a.x, b.x), y: a.y, width: r.width, height: r.height)
        }
        var out = flow
        var pieceOf: [String: Int] = [:]
        for k in out.nodes.indices {
            let i = piece(flow.nodes[k].frame.center.x)
            pieceOf[flow.nodes[k].node.key] = i
            out.nodes[k].frame = move(flow.nodes[k].frame, i)
        }
        for k in out.clusters.indices { out.clusters[k].frame = move(flow.clusters[k].frame, piece(flow.clusters[k].frame.center.x)) }
        let frames = Dictionary(out.nodes.map { ($0.node.key, $0.frame) }, uniquingKeysWith: { first, _ in first })
        var rowFrames = [[Rect]](repeating: [], count: count)
        for node in out.nodes { if let i = pieceOf[node.node.key] { rowFrames[i].append(node.frame) } }
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
            let exitRight = from % 2 == 0, enterRight = to % 2 == 1
            let exitClear = isClear(source, right: exitRight, among: rowFrames[from])
            let entryClear = isClear(target, right: enterRight, among: rowFrames[to])
            let exitLane = exitRight ? laneRight : laneLeft, entryLane = enterRight ? laneRight : laneLeft
            let below = rowTop[from + 1] - rowGap / 2, above = rowTop[to] - rowGap / 2
            var path = exitClear ? [Point(exitRight ? source.maxX : source.x, source.center.y), Point(exitLane, source.center.y)]
                : [Point(source.center.x, source.maxY), Point(source.center.x, below)]
            if !exitClear && !entryClear && to == from + 1 {
                path.append(Point(target.center.x, below))
            } else {
                if !exitClear { path.append(Point(exitLane, below)) }
                if entryClear {
                    if exitLane != entryLane { path += [Point(exitLane, above), Point(entryLane, above)] }
                    path.append(Point(entryLane, target.center.y))
                } else {
                    path += [Point(exitLane, above), Point(target.center.x, above)]
                }
            }
            let tip = entryClear ? Point(enterRight ? target.maxX : target.x, target.center.y) : Point(target.center.x, target.y)
            let base = entryClear ? Point(tip.x + (enterRight ? arrowLength : -arrowLength), tip.y) : Point(tip.x, tip.y - arrowLength)
            path.append(edge.edge.arrow ? base : tip)
            out.edges[k].points = straightCurve(path)
            out.edges[k].arrowTip = edge.edge.arrow ? tip : nil
        }
        out.size = Size(left + width + room.right + theme.margin, y - rowGap + theme.margin)
        return out
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
