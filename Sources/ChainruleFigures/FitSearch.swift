import ChainruleCore

/// How a figure spends its room on a slide: the choices the fitting search
/// (`GraphFigure.fittedLayout`) makes when the figure as first drawn reads
/// below `FitTarget.readableTextSize`. Text never shrinks; pictures, captions
/// and gaps give way instead. The default is the richest drawing.
public struct FitChoice: Sendable, Equatable {
    /// Tensor pictures at full size (1) or half (0.5): the same elements,
    /// sampled as before (never averaged), in cells of this fraction of the size.
    public var pictureScale: Double = 1
    /// A caption under each channel or filter (`channel 2 of 4`), or one
    /// under the whole grid, read row by row (`channels 1–4 · image 1 of 8`).
    public var captionEachPlane = true
    /// Space between ranks and between boxes at the style's own (1) or half of it.
    public var gapScale: Double = 1
    /// How a tensor's value and gradient panels stand (`PanelArrangement`).
    public var panels = PanelArrangement.sideBySide
    /// Numbered cells drawn compactly (`SceneBuilder.cellNumber`): less room
    /// above and below each number, a number too small for the figure's
    /// decimals with one significant digit fewer (`-3e-3`, not `-3.3e-03`),
    /// side-by-side panels' cells each as wide as their own widest number,
    /// and `data`/`grad` written above a matrix, not beside it, where its
    /// panels stack or its box is alone in its rank.
    public var compactCells = false
    /// Small tensors (up to 8×8) with their numbers in the cells, or as
    /// pictures with their range and colour bar, as larger ones: the last
    /// thing given up, when the numbers could not be read on the slide anyway.
    public var numbersInCells = true
    /// How much an op's box holds in the model style's ops view (`BoxDetail`):
    /// given up after everything else, for a figure that reads no other way.
    public var boxDetail = BoxDetail.full
    /// Each op's operand a rank before its side inputs (`LayoutRequest.spreadEdges`):
    /// where an op reads one value and parameters, constants or labels, the
    /// value stands in a rank of its own and only the side inputs share the
    /// rank before the op, so a layout in ranks packs them in two short
    /// columns instead of one tall one (the record style's linear ops: x
    /// alone, then h.W over h.b). Tried last, for the record style only.
    public var spreadsInputs = false

    public init() {}

    /// Every choice in groups, the richest group first: numbers in cells
    /// before pictures; within a group full-size pictures before half-size, a
    /// caption per plane before one per grid, the style's gaps before half of
    /// them, side-by-side and stacked panels tried at each step (either may
    /// read bigger); then the same steps with each box's panels stacked only
    /// where it is alone in its rank (`PanelArrangement.stackedWhereAlone`),
    /// and last, where cells have numbers, with compact cells
    /// (`FitChoice.compactCells`) in every arrangement — so a figure that read
    /// before these existed keeps its choice, and each group's last
    /// `PanelArrangement.allCases.count` are its most compact. For a
    /// figure with op boxes (`detailed`) each such group is followed by the
    /// same with weights folded into their readers' boxes, and the compact
    /// and the ranges-only boxes come last, at the style's gaps and at half
    /// of them (`BoxDetail`). A group is searched only when one of its
    /// most compact choices reads (`GraphFigure.fittedLayout`). With
    /// `spreads` (the record style) each group ends with its last level again
    /// with side inputs spread (`spreadsInputs`), so the plain choices keep their order.
    static func candidateGroups(detailed: Bool, spreads: Bool = false) -> [[FitChoice]] {
        func group(numbers: Bool, detail: BoxDetail) -> [FitChoice] {
            // (compact cells, arrangements) from the richest; compact cells change nothing where no cell has a number.
            let plain: [(Bool, [PanelArrangement], Bool)] = [(false, [.sideBySide, .stacked], false), (false, [.stackedWhereAlone], false)]
                + (numbers ? [(true, PanelArrangement.allCases, false)] : [])
            let levels = plain + (spreads ? plain.suffix(1).map { ($0.0, PanelArrangement.allCases, true) } : [])
            return levels.flatMap { compact, arrangements, spread in
                [1.0, 0.5].flatMap { scale in
                    [true, false].flatMap { each in
                        [1.0, 0.5].flatMap { gaps in
                            arrangements.map { panels in
                                var choice = FitChoice()
                                choice.numbersInCells = numbers
                                choice.pictureScale = scale
                                choice.captionEachPlane = each
                                choice.gapScale = gaps
                                choice.compactCells = compact
                                choice.panels = panels
                                choice.boxDetail = detail
                                choice.spreadsInputs = spread
                                return choice
                            }
                        }
                    }
                }
            }
        }
        guard detailed else { return [group(numbers: true, detail: .full), group(numbers: false, detail: .full)] }
        let small = [BoxDetail.compact, .ranges].map { detail in
            [1.0, 0.5].map { gaps in
                var choice = FitChoice()
                choice.numbersInCells = false
                choice.gapScale = gaps
                choice.boxDetail = detail
                return choice
            }
        }
        return [true, false].flatMap { numbers in [BoxDetail.full, .foldedWeights].map { group(numbers: numbers, detail: $0) } } + small
    }

    /// The choices of `group` laid out first: its most compact, the last
    /// `PanelArrangement.allCases.count` of its plain choices and of those with side inputs spread.
    static func probes(_ group: [FitChoice]) -> [FitChoice] {
        let n = PanelArrangement.allCases.count
        return Array(group.filter { !$0.spreadsInputs }.suffix(n)) + Array(group.filter(\.spreadsInputs).suffix(n))
    }
}

/// How a tensor's value and gradient panels stand in its box.
public enum PanelArrangement: Sendable, Equatable, CaseIterable {
    case sideBySide
    /// Value over gradient.
    case stacked
    /// Stacked in a box that has its rank of a left-to-right layout to
    /// itself, side by side in one that shares it: in a column of boxes the
    /// heights add up, so only a lone box trades width for height at no cost
    /// to the row (the record style's `boxesAloneInRank`; elsewhere side by side).
    case stackedWhereAlone
}

/// What an op's box holds in the model style's ops view, richest first: the
/// fitting search gives detail up level by level when nothing else makes the
/// figure read at 14 pt (`FitChoice.boxDetail`). Text never shrinks.
public enum BoxDetail: Int, Sendable, Comparable, CaseIterable {
    /// The op's tensors in full (`tensorPanels`), each weight a box of its own, each layer a frame.
    case full
    /// Each weight written into the box of the op that reads it (`W 6×1×5×5 · b 6`)
    /// instead of a box of its own; a layer left with one box is no frame but that box's title.
    case foldedWeights
    /// Folded, and each tensor as one small picture (its first plane,
    /// sampled) beside its value's and gradient's ranges with colour bars.
    case compact
    /// Folded, and each tensor as its value's and gradient's ranges alone.
    case ranges

    public static func < (a: BoxDetail, b: BoxDetail) -> Bool { a.rawValue < b.rawValue }
}

extension Scene {
    /// The smallest text of every box, of the cluster titles and of the heading (points).
    var smallestFont: Double {
        var sizes = nodes.flatMap { $0.content.styledTexts.map(\.1.size) }
        if !clusters.isEmpty { sizes.append(theme.fontSize) }
        if let titleBlock { sizes += titleBlock.styledTexts.map(\.1.size) }
        return sizes.min() ?? theme.fontSize
    }

    /// The boxes' total area (points²): boxes never overlap, so no layout is smaller.
    var boxArea: Double { nodes.reduce(0) { $0 + $1.size.width * $1.size.height } }

    /// Whether some layout of the scene could read at 14 pt on `target`: its
    /// boxes fit in the area that reads so (the target shrunk by 14 pt over its smallest text).
    func mayBeReadable(on target: FitTarget) -> Bool {
        let shrink = smallestFont / FitTarget.readableTextSize
        return boxArea <= target.width * shrink * target.height * shrink
    }

    /// What a layout depends on: two scenes alike in it are laid out alike.
    var layoutSignature: [Double] {
        nodes.flatMap { [$0.size.width, $0.size.height] } + [rankSeparation, nodeSeparation, rowSeparation]
    }
}

extension GraphFigure {
    /// Scenes of more boxes than this are laid out once, as first drawn: each choice tried is a layout.
    static let searchedBoxes = 200

    /// The figure of `graph` as drawn with `options` when it reads at 14 pt
    /// on `options.fit` (`SlideFit`). Else, for a scene of up to
    /// `searchedBoxes` boxes, the candidate groups are tried richest first
    /// (`FitChoice.candidateGroups`: numbers in cells, pictures, and for
    /// op boxes folded weights, compact and ranges-only boxes): a group's
    /// most compact choices are laid out first, and when one reads at
    /// 14 pt, the first of the group's that reads so is kept, laying out only
    /// those whose boxes could fit (`mayBeReadable`). When no choice reads at
    /// 14 pt, the one of the first group that reads biggest: numbers are
    /// given up only for a readable figure; but op boxes, whose detail levels
    /// exist to read on a slide, get the biggest-reading of every group's
    /// (a 13 pt figure of compact boxes, not a 4 pt one of full boxes). Each layout once; the most compact few per group
    /// for a figure that cannot be made readable. `check` runs on each scene
    /// before its layout (the PNG size check). A choice the caller made
    /// (`options.fitChoice` not the default) is kept.
    static func fittedLayout(graph: Graph, output: NodeID, options: FigureOptions,
                             check: (Scene) throws(FigureError) -> Void = { _ in }) throws(FigureError) -> (scene: Scene, laidOut: LaidOutScene, options: FigureOptions) {
        typealias Tried = (scene: Scene, laidOut: LaidOutScene, options: FigureOptions, fit: SlideFit)
        func chosen(_ choice: FitChoice) -> FigureOptions {
            var chosen = options
            chosen.fitChoice = choice
            return chosen
        }
        let firstScene = try scene(graph: graph, output: output, options: options)
        try check(firstScene)
        let firstLayout = try layout(firstScene, graph: graph, options: options)
        let first: Tried = (firstScene, firstLayout, options, SlideFit(firstLayout, target: options.fit))
        guard !first.fit.isReadable, options.fitChoice == FitChoice(), firstScene.nodes.count <= searchedBoxes else {
            return (first.scene, first.laidOut, first.options)
        }
        // Each layout once: scenes alike in box sizes and gaps are laid out alike.
        // A layout with side inputs spread is another layout of the same scene.
        func signature(_ scene: Scene, _ choice: FitChoice) -> [Double] { scene.layoutSignature + [choice.spreadsInputs ? 1 : 0] }
        var tried: [[Double]: Tried] = [signature(firstScene, options.fitChoice): first]
        func attempt(_ choice: FitChoice, always: Bool) throws(FigureError) -> Tried? {
            let options = chosen(choice), scene = try scene(graph: graph, output: output, options: options)
            if let known = tried[signature(scene, choice)] { return known }
            guard always || scene.mayBeReadable(on: options.fit) else { return nil }
            try check(scene)
            let laidOut = try layout(scene, graph: graph, options: options)
            let result: Tried = (scene, laidOut, options, SlideFit(laidOut, target: options.fit))
            tried[signature(scene, choice)] = result
            return result
        }
        var best = first
        let detailed = options.style == .model && (options.view == .ops || !options.expandedLayers.isEmpty)
        for (k, group) in FitChoice.candidateGroups(detailed: detailed, spreads: options.style == .record).enumerated() {
            var probes: [Tried] = []
            for choice in FitChoice.probes(group) { if let result = try attempt(choice, always: true) { probes.append(result) } }
            if k == 0 || detailed {
                // The biggest-reading, the richer on a tie.
                best = probes.reduce(best) { $1.fit.textSize > $0.fit.textSize + 1e-9 ? $1 : $0 }
            }
            guard probes.contains(where: \.fit.isReadable) else { continue }
            for choice in group where choice != FitChoice() {
                if let result = try attempt(choice, always: false), result.fit.isReadable { return (result.scene, result.laidOut, result.options) }
            }
        }
        return (best.scene, best.laidOut, best.options)
    }
}
