import ChainruleCheck
import ChainruleCore
import Foundation

/// Gathers what the interactive page shows: the views (laid out and drawn by
/// the static figures' code), the nodes' tensors, the backward steps and the
/// check results. Reads the graph, never changes it.
struct PageBuilder {
    let graph: Graph
    let output: NodeID
    let options: FigureOptions
    let source: PageSource
    var notes: [String] = []
    /// Source files read for their lines, by path.
    var files: [String: [Substring]] = [:]

    init(graph: Graph, output: NodeID, options: FigureOptions, source: PageSource) {
        self.graph = graph
        self.output = output
        self.options = options
        self.source = source
    }

    mutating func build(snapshots: [TrainingSnapshot]) throws(FigureError) -> PageData {
        let fitted = try GraphFigure.fittedOptions(graph: graph, options: options)
        notes += fitted.notes
        let plans = plannedViews(fitted.options)
        var views = try plans.map { (plan) throws(FigureError) in try view(plan) }
        let combined = try combinedPlans(plans, views: views.map(\.view)).map { (plan) throws(FigureError) in try view(plan) }
        // After the single layers, before the ops view.
        views.insert(contentsOf: combined, at: views.lastIndex { $0.view.key.hasPrefix("layer-") }.map { $0 + 1 } ?? views.count)
        let scene = SceneBuilder(graph: graph, output: output, options: fitted.options)
        let steps = steps(scene)
        let theme = Theme(palette: options.palette)
        var alternate = views.reduce(into: [:]) { $0.merge($1.alternate) { first, _ in first } }
        let pages = stepPages(fitted.options, steps: steps.count, alternate: &alternate)
        let hex = { (c: RGB) in c.hexString }
        let colors = Dictionary(uniqueKeysWithValues: Palette.allCases.map { palette -> (String, PageColors) in
            let t = Theme(palette: palette)
            return (palette.rawValue, PageColors(highlight: hex(t.highlight), value: hex(t.value), gradient: hex(t.gradient), local: hex(t.local),
                                                 good: hex(t.checkGood), warning: hex(t.checkWarning), failed: hex(t.checkFailed)))
        })
        return PageData(
            title: options.title ?? ((source.file as NSString?)?.lastPathComponent ?? "graph"),
            output: output.index,
            nodes: graph.nodes.map { pageNode($0, scene: scene) },
            layers: graph.layers.enumerated().map { PageLayer(name: $0.element.name, kind: $0.element.kind, nodes: graph.nodes(inLayer: $0.offset).map(\.index)) },
            views: views.map(\.view), steps: steps, stepPages: pages, snapshots: snapshots.map(PageSnapshot.init),
            palette: options.palette.rawValue, alternate: alternate,
            colors: colors,
            diverging: (0...40).map { hex(theme.diverging(Double($0) / 20 - 1)) },
            nonFinite: PageNonFiniteColors(nan: hex(theme.notANumber), positive: hex(theme.positiveInfinity), negative: hex(theme.negativeInfinity)))
    }

    // MARK: Views

    struct ViewPlan {
        var key: String
        var title: String
        var options: FigureOptions
        var expanded: [Int]
    }

    /// A graph drawn in the model style with layers gets its layers view, a
    /// view per layer with that one expanded, and the ops view (each when it
    /// fits the box limit); any other graph one view in its style.
    func plannedViews(_ given: FigureOptions) -> [ViewPlan] {
        // Each tensor is drawn in several views here and in full in its panel:
        // the drawings sample it more coarsely (LeNet's page stays under 2 MB).
        var fitted = given
        fitted.heatmapSide = min(given.heatmapSide, InteractivePage.heatmapSide)
        guard fitted.style == .model, !graph.layers.isEmpty else { return [ViewPlan(key: "figure", title: fitted.style.rawValue, options: fitted, expanded: [])] }
        var layers = fitted
        layers.view = .layers
        var ops = fitted
        ops.view = .ops
        let opsFit = GraphFigure.estimatedBoxes(graph: graph, options: ops) <= GraphFigure.boxLimit(graph: graph, options: ops)
        var plans = [ViewPlan(key: "layers", title: "layers", options: layers, expanded: [])]
        if opsFit && graph.layers.count <= InteractivePage.maxExpandedViews {
            for (index, layer) in graph.layers.enumerated() {
                var one = layers
                one.expandedLayers = [index]
                plans.append(ViewPlan(key: "layer-\(index)", title: "\(layer.kind) \(layer.name) expanded", options: one, expanded: [index]))
            }
        }
        if opsFit {
            plans.append(ViewPlan(key: "ops", title: "ops", options: ops, expanded: Array(graph.layers.indices)))
        }
        // The view asked for comes first.
        if fitted.view == .ops, opsFit { plans.insert(plans.removeLast(), at: 0) }
        return plans
    }

    /// Views with two or more layers expanded (and not all), so that layers
    /// open one at a time and stay open: the sets of layers whose drawings,
    /// estimated from the single-layer views, cost least first, while they add
    /// at most `InteractivePage.combinedViewBytes` and number at most
    /// `InteractivePage.maxCombinedViews`. A set left out is shown by the
    /// smallest view that expands it (the ops view at worst).
    func combinedPlans(_ plans: [ViewPlan], views: [PageView]) -> [ViewPlan] {
        guard let layersView = views.first(where: { $0.key == "layers" }) else { return [] }
        var single: [Int: Int] = [:]
        for view in views where view.key.hasPrefix("layer-") && view.expanded.count == 1 { single[view.expanded[0]] = view.svg.utf8.count - layersView.svg.utf8.count }
        let layers = single.keys.sorted()
        guard layers.count >= 3, let template = plans.first(where: { $0.key == "layers" })?.options else { return [] }
        let sets = (2..<layers.count).flatMap { Self.subsets(of: layers, size: $0) }
            .map { (set: $0, cost: layersView.svg.utf8.count + $0.reduce(0) { $0 + single[$1]! }) }
            .sorted { ($0.cost, $0.set.count) < ($1.cost, $1.set.count) }
        var chosen: [ViewPlan] = [], bytes = 0
        for (set, cost) in sets {
            guard chosen.count < InteractivePage.maxCombinedViews, bytes + cost <= InteractivePage.combinedViewBytes else { break }
            var options = template
            options.expandedLayers = Set(set)
            chosen.append(ViewPlan(key: "layers-" + set.map(String.init).joined(separator: "-"),
                                   title: set.map { graph.layers[$0].name }.joined(separator: ", ") + " expanded", options: options, expanded: set))
            bytes += cost
        }
        // In the View menu: fewer layers first, then in the layers' order.
        return chosen.sorted { a, b in
            a.expanded.count != b.expanded.count ? a.expanded.count < b.expanded.count : a.expanded.lexicographicallyPrecedes(b.expanded)
        }
    }

    /// The sets of `size` elements of `items`, in lexicographic order.
    static func subsets(of items: [Int], size: Int) -> [[Int]] {
        guard size > 0 else { return [[]] }
        guard items.count >= size else { return [] }
        let first = items[0], rest = Array(items.dropFirst())
        return subsets(of: rest, size: size - 1).map { [first] + $0 } + subsets(of: rest, size: size)
    }

    /// One view laid out and drawn, and the colours the other palette draws differently.
    func view(_ plan: ViewPlan) throws(FigureError) -> (view: PageView, alternate: [String: String]) {
        let scene = Self.withoutEmptyClusters(try GraphFigure.scene(graph: graph, output: output, options: plan.options))
        let laidOut = try SceneLayout.layout(scene, limits: plan.options.layout, advice: GraphFigure.layoutAdvice(graph: graph, options: plan.options))
        let svg = GraphFigure.svg(laidOut)
        var other = plan.options
        other.palette = plan.options.palette == .default ? .colorblind : .default
        let alternate = Self.colorChanges(from: svg, to: GraphFigure.svg(Self.relaid(try GraphFigure.scene(graph: graph, output: output, options: other), like: laidOut)))
        let hits = PageHits(graph: graph, laidOut: laidOut)
        let view = PageView(key: plan.key, title: plan.title, expanded: plan.expanded, width: laidOut.size.width, height: laidOut.size.height,
                            svg: svg, boxes: hits.boxes(), wires: hits.wires(), clusters: hits.frames())
        return (view, alternate)
    }

    /// A layers view with one layer expanded has frames only for the expanded layer: the others are dropped.
    static func withoutEmptyClusters(_ scene: Scene) -> Scene {
        let used = Set(scene.nodes.compactMap(\.cluster))
        guard used.count < scene.clusters.count else { return scene }
        var scene = scene
        var renumbered: [Int: Int] = [:]
        scene.clusters = scene.clusters.enumerated().filter { used.contains($0.offset) }.enumerated().map { new, old in
            renumbered[old.offset] = new
            return old.element
        }
        for i in scene.nodes.indices { scene.nodes[i].cluster = scene.nodes[i].cluster.flatMap { renumbered[$0] } }
        return scene
    }

    /// `scene` (the same graph in another palette: the same boxes, sizes and
    /// edges) placed where `laidOut` placed its twin.
    static func relaid(_ scene: Scene, like laidOut: LaidOutScene) -> LaidOutScene {
        let scene = withoutEmptyClusters(scene)
        var relaid = laidOut
        relaid.scene = scene
        for i in relaid.nodes.indices where i < scene.nodes.count { relaid.nodes[i].node = scene.nodes[i] }
        for i in relaid.edges.indices where i < scene.edges.count { relaid.edges[i].edge = scene.edges[i] }
        for i in relaid.clusters.indices where i < scene.clusters.count { relaid.clusters[i].cluster = scene.clusters[i] }
        return relaid
    }

    /// The colours of one drawing replaced in its twin in the other palette,
    /// read off the two SVG texts colour by colour (the drawings differ in
    /// nothing else). A colour the twin replaces in two ways is left alone.
    static func colorChanges(from svg: String, to twin: String) -> [String: String] {
        func colors(_ s: String) -> [Substring] {
            var found: [Substring] = []
            var rest = Substring(s)
            while let hash = rest.firstIndex(of: "#") {
                let end = rest.index(hash, offsetBy: 7, limitedBy: rest.endIndex) ?? rest.endIndex
                let token = rest[hash..<end]
                if token.count == 7 && token.dropFirst().allSatisfy(\.isHexDigit) { found.append(token) }
                rest = rest[rest.index(after: hash)...]
            }
            return found
        }
        let a = colors(svg), b = colors(twin)
        guard a.count == b.count else { return [:] }
        var map: [String: String] = [:], conflicting: Set<String> = []
        for (x, y) in zip(a, b) where x != y {
            if let known = map[String(x)], known != String(y) { conflicting.insert(String(x)) }
            map[String(x)] = String(y)
        }
        for c in conflicting { map[c] = nil }
        return map
    }

    // MARK: Nodes

    func pageNode(_ node: Node, scene: SceneBuilder) -> PageNode {
        let uses = scene.consumers
        let locals = scene.localGradients(consumer: node.id).map { $0.map(scene.localGradientText) }
        // A wire's gradient is its source's when the source has one consumer: sent only for shared inputs.
        let sent = node.op == nil ? [] : scene.wireGradients(consumer: node.id).enumerated().map { k, tensor in
            uses[node.inputs[k].index].count > 1 ? tensor.map { PageTensor($0) } : nil
        }
        let gradient = options.showGradients && node.role != .constant ? node.gradient : nil
        return PageNode(
            id: node.id.index, name: node.displayName, op: node.op?.name, symbol: node.op?.symbol, role: node.role.rawValue,
            layer: node.layer, inputs: node.inputs.map(\.index), shape: node.shape,
            location: node.location.map(\.description), sourceLine: node.location.flatMap(sourceLine),
            value: node.value.map { PageTensor($0, statistics: scene.statistics($0)) },
            gradient: gradient.map { PageTensor($0, statistics: scene.statistics($0)) },
            locals: locals, sent: sent, check: options.check?.node(node.id).map(pageCheck))
    }

    func sourceLine(_ location: SourceLocation) -> String? {
        let lines: [Substring]
        if location.file == source.file || location.file == nil, let text = source.text {
            lines = text.sourceLines()
        } else if let file = location.file, let text = try? String(contentsOfFile: file, encoding: .utf8) {
            lines = text.sourceLines()
        } else {
            return nil
        }
        guard location.line >= 1, location.line <= lines.count else { return nil }
        return lines[location.line - 1].trimmingCharacters(in: .whitespaces)
    }

    func pageCheck(_ check: NodeCheck) -> PageCheck {
        let comparison = { (c: ElementComparison) in
            PageComparison(input: c.inputName, index: c.index, outputIndex: c.outputIndex, analytic: c.analytic, numeric: c.numeric,
                           absoluteError: c.absoluteError, relativeError: c.relativeError, atKink: c.atKink, left: c.leftDerivative, right: c.rightDerivative)
        }
        let rule = check.worst.flatMap { worst in
            source.ruleLocations[check.op].flatMap { worst.input < $0.count ? $0[worst.input] : nil }
        }
        return PageCheck(
            status: check.status.rawValue, band: check.band.rawValue, maxRelativeError: check.maxRelativeError, method: check.method.rawValue,
            elementsChecked: check.elementsChecked, failedElements: check.failedElements, worst: check.worst.map(comparison),
            kinks: check.kinks.prefix(4).map(comparison), kinkCount: check.kinkCount, problem: check.problem,
            rule: rule?.description, ruleLine: rule.flatMap(sourceLine))
    }

    // MARK: Steps and snapshots

    /// The `--steps` sequence with each step's written-out terms; none
    /// without a backward pass, or past `maxSteps` (with a note).
    mutating func steps(_ scene: SceneBuilder) -> [PageStep] {
        guard options.showGradients, let steps = try? BackwardSteps.steps(graph: graph, output: output) else { return [] }
        guard steps.count <= InteractivePage.maxSteps else {
            notes.append("the backward pass has \(steps.count - 1) steps, more than the page walks (\(InteractivePage.maxSteps)): no step slider")
            return []
        }
        var known: Set<NodeID> = []
        return steps.map { step in
            let new = step.known.subtracting(known).map(\.index).sorted()
            known = step.known
            let terms = step.active.map { active in
                scene.stepTerms(active).map { PageTerm(input: $0.input.index, position: $0.position, upstream: $0.upstream, local: $0.local, downstream: $0.downstream) }
            } ?? []
            return PageStep(active: step.active?.index, known: new, terms: terms)
        }
    }

    /// The most bytes of SVG the step pages may add to the page.
    static let maxStepBytes = 1_500_000

    /// The pages of `render --steps` for a circuit or record figure, with the
    /// colours the other palette's pages draw differently (added to `alternate`).
    func stepPages(_ fitted: FigureOptions, steps count: Int, alternate: inout [String: String]) -> PageStepPages? {
        guard count > 1, fitted.style != .model, let pages = try? BackwardSteps.pages(graph: graph, output: output, options: fitted) else { return nil }
        let svgs = pages.map(GraphFigure.svg)
        guard svgs.count == count, svgs.reduce(0, { $0 + $1.utf8.count }) <= Self.maxStepBytes else { return nil }
        var other = fitted
        other.palette = fitted.palette == .default ? .colorblind : .default
        if let twins = try? BackwardSteps.pages(graph: graph, output: output, options: other) {
            for (svg, twin) in zip(svgs, twins) { alternate.merge(Self.colorChanges(from: svg, to: GraphFigure.svg(twin))) { first, _ in first } }
        }
        let hits = PageHits(graph: graph, laidOut: pages[0])
        let view = PageView(key: "steps", title: "steps", expanded: [], width: pages[0].size.width, height: pages[0].size.height,
                            svg: "", boxes: hits.boxes(), wires: hits.wires(), clusters: hits.frames())
        return PageStepPages(base: "figure", view: view, svgs: svgs)
    }
}

extension PageSnapshot {
    init(_ snapshot: TrainingSnapshot) {
        epoch = snapshot.epoch
        loss = snapshot.loss
        values = Dictionary(uniqueKeysWithValues: snapshot.values.map { (String($0.key.index), PageTensor($0.value)) })
        gradients = Dictionary(uniqueKeysWithValues: snapshot.gradients.map { (String($0.key.index), PageTensor($0.value)) })
    }
}
