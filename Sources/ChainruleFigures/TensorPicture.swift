import ChainruleCore

/// Tensors drawn so people can read them: a small tensor (up to 8×8) shows
/// its numbers in the cells over the heatmap; larger ones are sampled, never
/// averaged (up to 64×64 cells at full resolution, `FigureOptions.heatmapSide`,
/// then nearest-neighbour,
/// square cells so a wide matrix stays wide, a binary mask stays binary);
/// 3-D and 4-D tensors as a labelled grid of their channels or filters.
/// A max-pool's input and output share one colour scale; each has a small colour bar.
extension SceneBuilder {
    /// Up to this many elements per side (and 64 in all) a plane shows its numbers.
    static let numberedSide = 8
    /// The most channels or filters a grid shows.
    static let maxPlanes = 16
    /// Room around a number in its cell, across and down (points).
    static let numberPadding = 6.0
    /// The same in compact cells (`FitChoice.compactCells`), across and
    /// down: less only down, since across a minus sign would run into the
    /// number before it (`-0.07-0.05` read as one).
    static let compactNumberPadding = (across: numberPadding, down: 3.0)

    /// `v` as a numbered cell writes it: at the figure's decimals
    /// (`number`); in compact cells a number too small (or too large) for
    /// them in scientific notation with one significant digit fewer and a
    /// bare exponent (`-3e-3` for −0.0033 at 2 decimals, not `-3.3e-03`):
    /// still the value rounded, never a false 0.
    func cellNumber(_ v: Double, compact: Bool) -> String {
        let text = number(v)
        guard compact, v.isFinite, text.contains("e") else { return text }
        let digits = max(options.precision - 2, 0)
        let scientific = String(format: "%.\(digits)e", v)
        guard let e = scientific.firstIndex(of: "e"), let exponent = Int(scientific[scientific.index(after: e)...]) else { return text }
        return String(scientific[..<e]) + "e" + String(exponent)
    }

    /// The planes of a tensor of `shape` to draw (`Planes`). A 4-D bank of
    /// `filters` (O×C×KH×KW) is drawn filter by filter, each filter's first
    /// input channel; any other tensor of three or more axes (N×C×H×W) as the
    /// channels of its first image.
    func planes(_ shape: [Int], filters: Bool = false) -> Planes {
        switch shape.count {
        case 0: return Planes(rows: 1, columns: 1)
        case 1: return Planes(rows: 1, columns: shape[0])
        case 2: return Planes(rows: shape[0], columns: shape[1])
        default:
            let rows = shape[shape.count - 2], columns = shape[shape.count - 1], plane = rows * columns
            let byFilter = filters && shape.count == 4
            let count = byFilter ? shape[0] : shape[shape.count - 3]
            let stride = byFilter ? shape[1] * plane : plane
            return Planes(rows: rows, columns: columns, offsets: (0..<min(count, Self.maxPlanes)).map { $0 * stride }, count: count,
                          byFilter: byFilter, images: byFilter ? 1 : shape.dropLast(3).reduce(1, *), inputChannels: byFilter ? shape[1] : 1)
        }
    }

    /// Whether node `id` holds filters (O×C×KH×KW) rather than images
    /// (N×C×H×W): an op reads it as a weight (`layerAttributes.weightInputs`),
    /// or ops that keep its shape make it into one (`W / 9`), up to `depth` ops on.
    func isFilterBank(_ id: NodeID, depth: Int = 4) -> Bool {
        let shape = graph[id].shape
        guard shape.count == 4 else { return false }
        return consumers[id.index].contains { reader in
            let node = graph[reader.node]
            guard let op = node.op else { return false }
            if op.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape }).weightInputs.contains(reader.input) { return true }
            return depth > 0 && node.shape == shape && isFilterBank(reader.node, depth: depth - 1)
        }
    }

    /// The windows of an op that picks one winner per window (max-pool) over
    /// node `id`, when they tile it (stride = kernel): their side and the
    /// winners' flat offsets, from the op's own `branches`.
    func poolWindows(_ id: NodeID) -> PoolWindows? {
        for reader in consumers[id.index] where reader.input == 0 {
            let node = graph[reader.node]
            guard let op = node.op else { continue }
            let attributes = op.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape })
            guard attributes.picksWinners, let kernel = attributes.kernel, kernel.count == 2, kernel[0] == kernel[1],
                  attributes.stride == kernel[0] else { continue }
            let values = node.inputs.compactMap { graph[$0].value }
            guard values.count == node.inputs.count else { continue }
            return PoolWindows(side: kernel[0], winners: Set(op.branches(values)))
        }
        return nil
    }

    /// Whether `shape` is drawn with its numbers in the cells: one plane, up
    /// to 8×8, unless the fitting search chose pictures (`FitChoice.numbersInCells`).
    func showsNumbers(_ shape: [Int]) -> Bool {
        let planes = planes(shape)
        return options.fitChoice.numbersInCells && planes.offsets.count == 1 && planes.rows <= Self.numberedSide && planes.columns <= Self.numberedSide
            && Tensor.elementCount(shape) == planes.rows * planes.columns
    }

    /// A heatmap of `tensor` on the colour scale `low…high` (values, the
    /// sequential map) or `±magnitude` (gradients, the diverging map centred
    /// at 0); the tensor's own range when no scale is given. Numbers in the
    /// cells of a plane up to 8×8; `side` bounds a large plane's size.
    /// `numberWidth`: the widest number of the tensors drawn beside this one
    /// (value and gradient), so their cells line up in columns.
    /// `choice` (the fitting search's, `FitChoice`) may halve the pictures —
    /// the same elements in cells half the size — and give the grid one
    /// caption instead of one per plane; that grid then takes as many planes
    /// per row as fit in `width` (the panel's other lines'), in as few rows;
    /// `caption` false leaves that caption to the caller (shared by a value and its gradient).
    func thumbnail(_ tensor: Tensor, diverging: Bool, side: Double = 84, scale: ClosedRange<Double>? = nil,
                   windows: PoolWindows? = nil, filters: Bool = false, numberWidth: Double = 0,
                   choice: FitChoice = FitChoice(), width: Double = 0, caption: Bool = true) -> Block {
        guard tensor.count > 0 else { return m.text("empty " + describeShape(tensor.shape), color: theme.muted, small: true) }
        let planes = planes(tensor.shape, filters: filters)
        let (rows, columns) = (planes.rows, planes.columns)
        let range = scale ?? Self.finiteRange([statistics(tensor)], magnitude: diverging)
        let sideCells = max(1, options.heatmapSide)
        let step = max(1, (max(rows, columns) + sideCells - 1) / sideCells)
        let shownRows = (rows + step - 1) / step, shownColumns = (columns + step - 1) / step
        let numbered = showsNumbers(tensor.shape)
        let style = TextStyle(color: theme.text, size: theme.smallFontSize)
        let texts = numbered ? tensor.data.map { cellNumber($0, compact: choice.compactCells) } : []
        let widest = max(texts.map { m.width($0, style) }.max() ?? 0, numberWidth)
        // Numbered cells are as wide as the widest number and one line tall; picture cells are square.
        let shrink = choice.pictureScale
        let padding = choice.compactCells ? Self.compactNumberPadding : (across: Self.numberPadding, down: Self.numberPadding)
        let cell = numbered ? widest + padding.across
            : min(theme.thumbnailCell * 2.5 * shrink, max(side * shrink / Double(max(shownRows, shownColumns)), Self.smallestCell * shrink))
        let cellHeight = numbered ? m.lineMetrics(style).height + padding.down : cell
        let labelled = choice.captionEachPlane
        let maps = planes.offsets.enumerated().map { k, offset -> Block in
            var colors: [RGB] = []
            colors.reserveCapacity(shownRows * shownColumns)
            for r in 0..<shownRows {
                for c in 0..<shownColumns { colors.append(color(tensor.data[offset + r * step * columns + c * step], diverging, range)) }
            }
            var map = Heatmap(rows: shownRows, columns: shownColumns, colors: colors, cell: cell, cellHeight: cellHeight)
            if let windows, step == 1, cell >= Self.smallestMarkedCell {
                map.windowSide = windows.side
                map.marked = (0..<(shownRows * shownColumns)).filter { windows.winners.contains(offset + $0) }
            }
            if numbered {
                let metrics = m.lineMetrics(style)
                map.labels = zip(texts, colors).map { text, fill in
                    var cellStyle = style
                    cellStyle.color = fill.luminance > 0.45 ? theme.text : .white
                    return CellLabel(text: text, style: cellStyle, width: m.width(text, style), ascent: metrics.ascent, height: metrics.height)
                }
            }
            let heatmap = m.heatmap(map)
            guard labelled, let label = planes.label(k) else { return heatmap }
            return m.column([heatmap, m.text(label, color: theme.muted, small: true)])
        }
        var footer: [Block] = []
        if labelled {
            if planes.more > 0 { footer.append(m.text("… \(planes.more) more", color: theme.muted, small: true)) }
            if let note = planes.note { footer.append(m.text(note, color: theme.muted, small: true)) }
        } else if caption, let text = planes.caption {
            footer.append(m.text(text, color: theme.muted, small: true))
        }
        var perRow = Int(Double(maps.count).squareRoot().rounded(.up))
        if !labelled, let planeWidth = maps.first?.size.width {
            // As many per row as the panel's widest line holds, then as few per row as keep that row count.
            let room = max(width, footer.map(\.size.width).max() ?? 0)
            let fitting = max(perRow, min(maps.count, Int((room + theme.gap) / (planeWidth + theme.gap))))
            let rowCount = (maps.count + fitting - 1) / fitting
            perRow = (maps.count + rowCount - 1) / rowCount
        }
        let grid = stride(from: 0, to: maps.count, by: perRow).map { m.row(Array(maps[$0..<min($0 + perRow, maps.count)])) } + footer
        return grid.count == 1 ? grid[0] : m.column(grid)
    }

    /// A pool's windows are outlined and its winners ringed in cells at least
    /// this big (points): in smaller ones the rings (2 pt in from the cell's
    /// edge, 2 pt wide) and window lines would cover the picture.
    static let smallestMarkedCell = 6.0

    /// The smallest side of a picture's cell at full size (points): a plane
    /// of `heatmapSide` cells is at least this many times as wide.
    static let smallestCell = 1.5

    /// The colour of one element on a scale (NaN and ±inf have colours of their own).
    func color(_ v: Double, _ diverging: Bool, _ range: ClosedRange<Double>) -> RGB {
        if let special = theme.nonFinite(v) { return special }
        if diverging { return theme.diverging(range.upperBound > 0 ? v / range.upperBound : 0) }
        let span = range.upperBound - range.lowerBound
        return theme.sequential(span > 0 ? (v - range.lowerBound) / span : 0.5)
    }

    /// The finite values' range of `tensors` together, or `0…max |v|` for a
    /// diverging scale; `0…0` when none is finite.
    static func finiteRange(_ tensors: [Tensor], magnitude: Bool) -> ClosedRange<Double> {
        finiteRange(tensors.map(TensorStatistics.init), magnitude: magnitude)
    }

    /// The same from the tensors' statistics (`TensorStatistics`): their
    /// ranges joined in order, so it equals the range of their elements read one after another.
    static func finiteRange(_ statistics: [TensorStatistics], magnitude: Bool) -> ClosedRange<Double> {
        var low = Double.infinity, high = -Double.infinity
        for s in statistics where s.finite > 0 {
            low = min(low, magnitude ? 0 : s.finiteLow)
            high = max(high, magnitude ? s.finiteMagnitude : s.finiteHigh)
        }
        guard low <= high else { return 0...0 }
        return magnitude ? 0...high : low...high
    }

    /// The tensors that share node `id`'s colour scale: its own, and across
    /// an op that passes on winners of its input (max-pool: `picksWinners`)
    /// its input's and output's, so the 6 is one colour in x and in p. Other
    /// ops make new values (softmax's 0…1 from scores) and keep their own scale.
    func scaleNeighbours(_ id: NodeID, _ pick: (Node) -> Tensor?) -> [Tensor] {
        let picksWinners = { (op: NodeID) -> Bool in
            let node = graph[op]
            return node.op?.layerAttributes(inputShapes: node.inputs.map { graph[$0].shape }).picksWinners ?? false
        }
        var near = [id]
        if picksWinners(id) { near += graph[id].inputs.prefix(1) }
        near += consumers[id.index].filter { $0.input == 0 && picksWinners($0.node) }.map(\.node)
        return near.compactMap { pick(graph[$0]) }
    }

    /// A small colour bar of a scale: the map from its low to its high end.
    func colorBar(diverging: Bool) -> Block {
        let steps = 16
        let colors = (0..<steps).map { i -> RGB in
            let t = Double(i) / Double(steps - 1)
            return diverging ? theme.diverging(2 * t - 1) : theme.sequential(t)
        }
        return m.heatmap(Heatmap(rows: 1, columns: steps, colors: colors, cell: 3))
    }

    /// A tensor's value and gradient pictures, each with its label. A
    /// picture has its label, range and colour bar under it; numbered cells
    /// (`showsNumbers`) have the label at their left and no bar, the numbers
    /// saying what a bar would. A vector's numbered rows stack, value over
    /// gradient, as micrograd's `data` and `grad`; other tensors' panels stand
    /// side by side, or stacked when the fitting search chose so
    /// (`FitChoice.panels`; `alone`: the box has its rank to itself). In
    /// compact cells (`FitChoice.compactCells`) panels side by side keep
    /// their own cell widths, and a matrix's label stands above it when the
    /// panels stack or the box is alone. An empty
    /// tensor (a zero in its shape) has no picture: its panel reads `data empty`.
    func tensorPanels(_ id: NodeID, alone: Bool = false) -> Block {
        let node = graph[id]
        let choice = options.fitChoice
        let stacks = choice.panels == .stacked || (choice.panels == .stackedWhereAlone && alone)
        let numbered = node.shape.allSatisfy { $0 > 0 } && showsNumbers(node.shape)
        let labelWidth = ["data", "grad"].map { m.width($0, TextStyle(color: theme.text, size: theme.smallFontSize)) }.max() ?? 0
        /// `text` beside numbered cells, as wide as the widest such label, so the rows' cells line up.
        func rowLabel(_ text: String, color: RGB) -> Block {
            var label = m.text(text, color: color, small: true)
            label.size.width = max(label.size.width, labelWidth)
            return label
        }
        let numberStyle = TextStyle(color: theme.text, size: theme.smallFontSize)
        let isMatrix = planes(node.shape).rows > 1
        // Above a matrix its label costs height and saves width: where the panels stack or the box is alone in its rank.
        let labelsAbove = choice.compactCells && isMatrix && (stacks || alone)
        /// Cells line up in columns across the panels when they stand one over the other.
        let sharesCellWidth = !(choice.compactCells && isMatrix && !stacks)
        let numberWidth = numbered && sharesCellWidth
            ? ([node.value, shownGradient(id)].compactMap { $0 }.flatMap(\.data).map { m.width(cellNumber($0, compact: choice.compactCells), numberStyle) }.max() ?? 0) : 0
        var panels: [Block] = []
        /// The line under a picture: label, range and colour bar; the bar's ends
        /// written when the shared scale is wider than the range written beside it.
        func legend(_ tensor: Tensor, _ label: String, color: RGB, diverging: Bool, scale: ClosedRange<Double>) -> Block {
            let text = m.text(label + " " + summary(tensor), color: color, small: true)
            guard tensor.count > 1 else { return text }
            var parts = [text, colorBar(diverging: diverging)]
            if scale != Self.finiteRange([statistics(tensor)], magnitude: diverging) {
                let ends = diverging ? "±\(number(scale.upperBound))" : "\(number(scale.lowerBound)) … \(number(scale.upperBound))"
                parts.append(m.text(ends, color: theme.muted, small: true))
            }
            return m.row(parts)
        }
        let value = node.value.map { ($0, Self.finiteRange(scaleNeighbours(id) { $0.value }.map(statistics), magnitude: false)) }
        let gradient = options.showGradients && receivesGradient(id)
            ? shownGradient(id).map { ($0, Self.finiteRange(scaleNeighbours(id) { self.shownGradient($0.id) }.map(statistics), magnitude: true)) } : nil
        let pictured = [value?.0, gradient?.0].compactMap { $0 }.filter { $0.count > 1 && !(numbered && !$0.data.contains(where: \.isNaN)) }
        // With one caption per grid, a value and gradient drawn alike share it, under both.
        let sharedCaption = !choice.captionEachPlane && pictured.count == 2 ? planes(node.shape, filters: isFilterBank(id)).caption : nil
        let captionBlock = sharedCaption.map { m.text($0, color: theme.muted, small: true) }
        // Stacked pictures are laid out alike: as wide as the widest line under any of them.
        let stackedWidth = stacks
            ? ([value.map { legend($0.0, "data", color: theme.value, diverging: false, scale: $0.1) },
                gradient.map { legend($0.0, "grad", color: theme.gradient, diverging: true, scale: $0.1) }, captionBlock]
                .compactMap { $0?.size.width }.max() ?? 0) : 0
        func panel(_ tensor: Tensor, _ label: String, color: RGB, diverging: Bool, scale: ClosedRange<Double>) -> Block {
            let picture = { (width: Double) in
                self.thumbnail(tensor, diverging: diverging, scale: scale, windows: self.poolWindows(id), filters: self.isFilterBank(id),
                               numberWidth: numberWidth, choice: choice, width: width, caption: sharedCaption == nil)
            }
            if numbered && !tensor.data.contains(where: \.isNaN) {
                return labelsAbove ? FigureTitle.leftAligned([m.text(label, color: color, small: true), picture(0)], measurer: m)
                    : m.row([rowLabel(label, color: color), picture(0)])
            }
            let line = legend(tensor, label, color: color, diverging: diverging, scale: scale)
            guard tensor.count > 0 else { return m.column([line]) }
            guard tensor.count > 1 else { return m.column([picture(0), line]) }
            return m.column([picture(max(line.size.width, stackedWidth, captionBlock?.size.width ?? 0)), line])
        }
        if let (tensor, scale) = value {
            panels.append(panel(tensor, "data", color: theme.value, diverging: false, scale: scale))
        }
        if options.showGradients && receivesGradient(id) {
            if let (tensor, scale) = gradient {
                panels.append(panel(tensor, "grad", color: theme.gradient, diverging: true, scale: scale))
            } else if let value = node.value, value.count > 1, node.gradient != nil {
                // Not yet known on this step page, shown on a later one: the picture's place, its cells blank, so the box does not stand half empty.
                let picture = unknownCells(thumbnail(value, diverging: true, windows: poolWindows(id), filters: isFilterBank(id),
                                                     numberWidth: numberWidth, choice: choice))
                panels.append(numbered ? m.row([rowLabel("grad", color: theme.gradient), picture])
                    : m.column([picture, m.text("grad —", color: theme.gradient, small: true)]))
            } else {
                panels.append(m.column([m.text("grad —", color: theme.gradient, small: true)]))
            }
        }
        if numbered && planes(node.shape).rows == 1 { return FigureTitle.leftAligned(panels, measurer: m) }
        let block = stacks ? m.column(panels) : m.row(panels)
        return captionBlock.map { m.column([block, $0]) } ?? block
    }
}

extension SceneBuilder {
    /// `picture` with every heatmap's cells blank (the cluster grey) and any
    /// numbers in them read `—`: where a tensor not yet computed will stand.
    func unknownCells(_ picture: Block) -> Block {
        var block = picture
        if case .heatmap(var map) = block.kind {
            map.colors = map.colors.map { _ in theme.clusterFill }
            map.marked = []
            map.labels = map.labels.map { label in
                var blank = label
                blank.text = "—"
                blank.style.color = theme.muted
                blank.width = m.width("—", label.style)
                return blank
            }
            block.kind = .heatmap(map)
        }
        block.children = block.children.map(unknownCells)
        return block
    }
}

/// Pooling windows over a tensor: their side (in cells) and the flat offsets of their winners.
/// What `SceneBuilder.planes` draws of a tensor: one rows × columns matrix
/// per offset, up to `maxPlanes` of `count` channels (or filters).
struct Planes {
    var rows: Int
    var columns: Int
    /// The flat offsets of the planes drawn.
    var offsets = [0]
    /// How many channels (filters) the tensor has; 1 for a matrix or vector.
    var count = 1
    /// A bank of filters (O×C×KH×KW), drawn by filter, rather than channels of images.
    var byFilter = false
    /// The images of a batch (the channels drawn are the first image's).
    var images = 1
    /// A filter's input channels (the planes drawn are each filter's first).
    var inputChannels = 1

    var noun: String { byFilter ? "filter" : "channel" }
    /// The planes not drawn.
    var more: Int { count - offsets.count }
    /// Under plane `k`: `channel 3 of 6`; none for a lone matrix.
    func label(_ k: Int) -> String? { count > 1 ? "\(noun) \(k + 1) of \(count)" : nil }
    /// Under the grid of per-plane labels: which image, or which input channel of each filter.
    var note: String? {
        byFilter ? (inputChannels > 1 ? "input channel 1 of each filter" : nil) : images > 1 ? "image 1 of \(images)" : nil
    }
    /// The grid's one caption when its planes have none of their own, read
    /// row by row: `channels 1–4 · image 1 of 8`, `filters 1–16 of 20 · input channel 1`.
    var caption: String? {
        var parts: [String] = []
        if count > 1 { parts.append("\(noun)s 1–\(offsets.count)" + (more > 0 ? " of \(count)" : "")) }
        if byFilter && inputChannels > 1 { parts.append("input channel 1") }
        if !byFilter && images > 1 { parts.append("image 1 of \(images)") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }
}

struct PoolWindows {
    var side: Int
    var winners: Set<Int>
}

extension RGB {
    /// Relative luminance (sRGB weights on the components as given): picks
    /// dark or white text on a cell.
    var luminance: Double { 0.2126 * red + 0.7152 * green + 0.0722 * blue }
}
