import ChainruleCheck
import ChainruleCore
import Foundation

/// The three ways to draw a graph (`--style`).
public enum FigureStyle: String, Sendable, CaseIterable {
    /// CS231n's circuit: gates as small circles, values above each wire in
    /// green, gradients below in red.
    case circuit
    /// micrograd's: a box per value `name | data | grad`, op nodes between.
    case record
    /// One box per layer stage (a layer and the ops folded after it) with its
    /// window, weights, parameter count and output shape; plain edges.
    case model
}

/// How the model style groups nodes (`--view`).
public enum ModelView: String, Sendable, CaseIterable {
    /// One box per layer.
    case layers
    /// One box per op, layers drawn as frames around their ops.
    case ops
}

/// What a wire can carry (`--labels value,local,grad`).
public enum WireLabel: String, Sendable, CaseIterable {
    /// The forward value (green).
    case value
    /// The local derivative ∂out/∂in at the current values (blue).
    case local
    /// The gradient arriving along the wire (red).
    case grad

    /// Parses `value,local,grad` (any subset, any order).
    public static func parseList(_ text: String) throws(FigureError) -> Set<WireLabel> {
        var labels: Set<WireLabel> = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let label = WireLabel(rawValue: part) else {
                throw .invalidOption("unknown label '\(part)' in --labels: use any of value, local, grad, separated by commas")
            }
            labels.insert(label)
        }
        guard !labels.isEmpty else {
            throw .invalidOption("--labels '\(text)' names nothing for the wires to carry: use any of value, local, grad, separated by commas")
        }
        return labels
    }
}

/// Everything that shapes a figure besides the graph itself.
public struct FigureOptions: Sendable {
    public var style: FigureStyle = .circuit
    public var view: ModelView = .layers
    /// Model style, layers view: these layers (by index) are drawn op by op
    /// inside a frame, as in the ops view; the interactive page expands one
    /// layer this way.
    public var expandedLayers: Set<Int> = []
    public var direction: Direction = .LR
    /// What wires carry in the circuit style. Default: value and gradient.
    public var labels: Set<WireLabel> = [.value, .grad]
    /// Decimals of every number shown. Default 2, as in CS231n's figures.
    public var precision: Int = 2
    public var palette: Palette = .default
    public var title: String?
    /// `false` (`--no-grad`) draws the forward pass only.
    public var showGradients = true
    /// The area the figure is made for (`--fit`): the model and record styles
    /// wrap a long chain into rows (columns) in snake order to fill it, and
    /// every figure is measured against it (`SlideFit`). Default: a 16:9 slide.
    public var fit: FitTarget = .slide
    /// How the figure spends its room: set by `GraphFigure.layout`'s fitting
    /// search when the figure as first drawn reads below 14 pt on `fit`.
    public var fitChoice = FitChoice()
    /// Pixels per point of a PNG: 2 gives 144 DPI.
    public var scale: Double = 2
    /// Colours each checked node by its band, with its worst relative error.
    public var check: CheckReport?
    /// For step-by-step figures: only these nodes' gradients are shown, the rest
    /// read "—". `nil` shows every gradient the graph holds.
    public var knownGradients: Set<NodeID>?
    /// For step-by-step figures: the node drawn with a highlight.
    public var highlighted: NodeID?
    /// For step-by-step figures: the nodes whose backward has run. In the
    /// circuit style only the wires into them carry a gradient; the others
    /// read "—". `nil`: every wire into a node whose gradient is shown.
    public var gradientsSent: Set<NodeID>?
    /// For step-by-step figures: the node whose backward step is written out,
    /// `upstream × local = downstream` for each input that gets a gradient,
    /// under each input wire in the circuit style (the record style's pages
    /// write it under their caption, `BackwardSteps.pages`).
    public var writtenStep: NodeID?
    /// The most cells a side of a tensor's heatmap shows at full resolution;
    /// beyond it every k-th element is sampled (nearest-neighbour, never
    /// averaged). The interactive page, which draws each tensor in several
    /// prepared views and shows the full data in its panel, asks for fewer.
    public var heatmapSide: Int = 64
    /// The most boxes a figure may have. Up to `GraphvizLayout.maxBoxes`
    /// Graphviz lays them out; past it `RankLayout`, in time near linear in
    /// the boxes (layer frames stay with Graphviz and its limit).
    public var maxBoxes: Int = 20_000
    /// Where Graphviz runs and for how long (`--layout-timeout`): the box
    /// limit does not predict `dot`'s cost, the deadline bounds it.
    public var layout = LayoutLimits()
    /// The graph's large tensors' statistics, read once for every figure
    /// drawn with a copy of these options (`TensorStatisticsCache`).
    var tensorStatistics = TensorStatisticsCache()

    public init() {}

    public var theme: Theme { Theme(palette: palette) }

    /// Whether the model style draws the ops of layer `index` (nil: no layer) one by one.
    func drawsOps(ofLayer index: Int?) -> Bool { view == .ops || index.map(expandedLayers.contains) ?? false }

    /// Why `scale` is not a usable PNG scale (`--scale`: pixels per point,
    /// above 0 and at most 16, beyond which even small figures pass Cairo's
    /// 32,767-pixel side), or nil if it is.
    public static func scaleProblem(_ scale: Double) -> String? {
        scale > 0 && scale <= 16 ? nil : "--scale must be above 0 and at most 16, got \(formatNumber(scale))"
    }
}

/// `value` with `precision` decimals (CS231n writes -12.00); scientific
/// notation when that would hide the number (below half a unit of the last
/// decimal, or at 1e5 and above). Never "-0.00".
public func formatFixed(_ value: Double, precision: Int) -> String {
    if !value.isFinite { return formatNumber(value) }
    let magnitude = abs(value)
    if value != 0 && (magnitude >= 1e5 || magnitude < 0.5 * pow(10, -Double(precision))) {
        return String(format: "%.\(max(precision - 1, 1))e", value)
    }
    let text = String(format: "%.\(precision)f", value)
    return text.hasPrefix("-") && text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(text.dropFirst()) : text
}

extension FigureOptions {
    /// The style a graph is drawn in when none is asked for: circuit for a
    /// graph of scalars, model for one with layers, record otherwise — and
    /// record for step-by-step pages, which must show every op.
    public static func defaultStyle(for graph: Graph, stepByStep: Bool = false) -> FigureStyle {
        if graph.nodes.allSatisfy({ $0.shape.isEmpty }) { return .circuit }
        return graph.layers.isEmpty || stepByStep ? .record : .model
    }

    /// Left to right for every style (as in CS231n and micrograd): a model's
    /// chain of stages then wraps into rows that fill a 16:9 slide, where a
    /// top-to-bottom strip would shrink to a sliver.
    public static func defaultDirection(for style: FigureStyle) -> Direction {
        .LR
    }
}
