import ChainruleCheck
import ChainruleCore
import Foundation

/// What the interactive page knows, as the JSON its script reads
/// (`<script type="application/json" id="chainrule-data">`). Every number the
/// page shows comes from here; the drawings are the static figures' SVG.
struct PageData: Encodable {
    /// The page's title: the figure's, else the program's file name.
    var title: String
    var output: Int
    var nodes: [PageNode]
    var layers: [PageLayer]
    /// The drawings: the first is shown first. A graph with layers has its
    /// layers view, one view per layer with that layer expanded, and the ops view.
    var views: [PageView]
    /// The `--steps` sequence: step 0 is the forward pass.
    var steps: [PageStep]
    /// The view `base` drawn once per step, as `render --steps` draws it (gradients
    /// filled in as they are computed); nil for the model style and past `maxStepBytes`.
    var stepPages: PageStepPages?
    /// Per-epoch snapshots (`train --html`); empty for `render` and `check`.
    var snapshots: [PageSnapshot]
    /// The palette the drawings are in, and each of their colours that the
    /// other palette (the page's palette toggle) draws differently, with its replacement.
    var palette: String
    var alternate: [String: String]
    /// The overlay's colours in both palettes.
    var colors: [String: PageColors]
    /// The diverging map of the panel's heatmaps, −1 … 1 in equal steps.
    var diverging: [String]
    var nonFinite: PageNonFiniteColors
}

struct PageColors: Encodable {
    var highlight: String, value: String, gradient: String, local: String, good: String, warning: String, failed: String
}

struct PageNonFiniteColors: Encodable {
    var nan: String, positive: String, negative: String
}

struct PageNode: Encodable {
    var id: Int
    var name: String
    var op: String?
    var symbol: String?
    var role: String
    var layer: Int?
    var inputs: [Int]
    var shape: [Int]
    /// `file:line:column` and the line itself, when the program says where the node was made.
    var location: String?
    var sourceLine: String?
    var value: PageTensor?
    var gradient: PageTensor?
    /// ∂out/∂in for each input, as the figures write it (`local -4.00`), nil where none.
    var locals: [String?]
    /// What the node's backward sends to each input (upstream × local), nil where nothing.
    var sent: [PageTensor?]
    var check: PageCheck?
}

struct PageLayer: Encodable {
    var name: String
    var kind: String
    var nodes: [Int]
}

/// A tensor as the page shows it: exact statistics always; every number when
/// small; a heatmap quantised to a byte per cell, pooled down when large.
struct PageTensor: Encodable {
    var shape: [Int]
    var count: Int
    /// Over the finite elements; nil when there are none.
    var min: Double?
    var max: Double?
    var mean: Double?
    var nans: Int
    var infinities: Int
    /// Every element, row-major, for tensors of at most `PageTensor.fullLimit` elements.
    var data: [Double]?
    var heatmap: PageHeatmap?
}

/// Planes of `rows × columns` cells, row-major, base64 of one byte per cell:
/// 0…250 spans the finite min…max linearly, 251 NaN, 252 +∞, 253 −∞.
struct PageHeatmap: Encodable {
    var planes: Int
    /// Planes of the tensor not shown (only the first `maxPlanes` are).
    var hiddenPlanes: Int
    var rows: Int
    var columns: Int
    /// Tensor elements averaged into one cell along each side (1: exact).
    var pooling: [Int]
    var cells: String
}

/// One view: an SVG drawing of the static figures' backend and, on top, what
/// the page can point at: boxes (nodes, layers) and wires, in the SVG's points.
struct PageView: Encodable {
    var key: String
    var title: String
    /// Layers drawn op by op in this view.
    var expanded: [Int]
    var width: Double
    var height: Double
    var svg: String
    var boxes: [PageBox]
    var wires: [PageWire]
    /// The frames of expanded layers (clicking a frame's title collapses it).
    var clusters: [PageFrame]
}

struct PageFrame: Encodable {
    var layer: Int
    var x: Double, y: Double, width: Double, height: Double
}

struct PageBox: Encodable {
    var key: String
    /// The graph node drawn, if any (a layer box: its output node).
    var node: Int?
    /// For a layer box: the layer.
    var layer: Int?
    var kind: String
    var x: Double, y: Double, width: Double, height: Double
    var round: Bool
}

/// A wire: where it runs (an SVG path), the value it carries and where it goes.
struct PageWire: Encodable {
    var path: String
    var source: Int
    /// The node it feeds and at which input; nil for the output's own wire.
    var consumer: Int?
    var input: Int?
}

struct PageStepPages: Encodable {
    /// The key of the view the pages replace while stepping.
    var base: String
    /// The pages' common layout: its boxes and wires (its `svg` is empty: each step draws `svgs[step]`).
    var view: PageView
    var svgs: [String]
}

struct PageStep: Encodable {
    /// nil at step 0.
    var active: Int?
    /// Nodes whose gradient became complete at this step.
    var known: [Int]
    /// `upstream × local = downstream` for each input that gets a gradient.
    var terms: [PageTerm]
}

struct PageTerm: Encodable {
    var input: Int
    var position: Int
    var upstream: String
    var local: String
    var downstream: String
}

struct PageCheck: Encodable {
    var status: String
    var band: String
    var maxRelativeError: Double
    var method: String
    var elementsChecked: Int
    var failedElements: Int
    var worst: PageComparison?
    /// The first few elements at kinks, with both one-sided derivatives.
    var kinks: [PageComparison]
    var kinkCount: Int
    var problem: String?
    /// Where the rule of the worst input is written (an `op` block's backward clause), with the line.
    var rule: String?
    var ruleLine: String?
}

struct PageComparison: Encodable {
    var input: String
    var index: [Int]
    var outputIndex: [Int]?
    var analytic: Double
    var numeric: Double
    var absoluteError: Double
    var relativeError: Double
    var atKink: Bool
    var left: Double?
    var right: Double?
}

struct PageSnapshot: Encodable {
    var epoch: Int
    var loss: Double
    var values: [String: PageTensor]
    var gradients: [String: PageTensor]
}
