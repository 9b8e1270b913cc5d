import ChainruleCheck
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation

/// What both fuzz targets run on a program: everything `chainrule eval`,
/// `check` and `render … -o out.svg` do, in memory and bounded.
///
/// Compile (with `limits`), or render the diagnostics; evaluate and print the
/// result as text and JSON; check the graph (node-local, and end-to-end on a
/// few sampled elements) and print the report as text and JSON; then build the
/// scene coloured by that report, lay it out with Graphviz and draw it as SVG
/// (and sometimes as a PNG raster, or one page of the step-by-step figure).
/// The input's own bytes choose the variant (stencil, fast mode, figure style,
/// view, wire labels, steps, raster), so one input always takes the same path.
public enum Pipeline {
    /// Bounds that keep one input to a fraction of a second and a few MB,
    /// far inside libFuzzer's default `-rss_limit_mb=2048` and `-timeout`.
    public struct Limits: Sendable {
        /// Passed to `CompileOptions.maxElements`: the largest tensor a program
        /// may make (literal, initialiser, loaded file, op output), 10,000
        /// Float64s = 80 kB, so `randn(9999, 9999)` is refused, not allocated.
        public var maxElements = 10_000
        /// Passed to `CompileOptions.maxOpNodes`: how many ops `op` blocks may
        /// expand to, so an op calling the previous one twice, 40 deep, is
        /// refused instead of doubling per level.
        public var maxOpNodes = 20_000
        /// Passed to `CompileOptions.maxMemory`: all tensors of a program
        /// together, 64 MB (the default, a quarter of the machine, would let
        /// many 10,000-element tensors pass libFuzzer's 2 GB limit).
        public var maxMemory = 64 << 20
        /// `FigureOptions.layout.timeout`, in seconds: under libFuzzer's
        /// `-timeout=10`, so a slow layout is refused by the figure code
        /// (which is what is tested) before libFuzzer calls it a hang.
        public var layoutTimeout = 5.0
        /// Graphs with more nodes skip the check: its cost is a few forward
        /// passes per node, and long generated chains would dominate the run.
        public var maxCheckedNodes = 400
        /// Graphs with more nodes skip the figure: Graphviz's cost grows faster
        /// than the node count (see issue 8), so only small graphs are laid out.
        public var maxDrawnNodes = 60
        /// Graphs with more nodes skip the step-by-step figure, which builds
        /// one scene per backward step (`render --steps`).
        public var maxStepNodes = 30
        /// Elements checked per leaf or op input (`CheckOptions.sample`).
        public var checkSample = 2
        /// `CheckOptions.fullJacobianLimit`: above it the check compares uᵀJ.
        public var fullJacobianLimit = 256

        public init() {}
    }

    /// Runs the whole pipeline on `source`; `variant` picks the options.
    /// Never throws: every error is the program's, rendered as the CLI would.
    public static func run(source: String, file: String, variant: Variant, limits: Limits, baseDirectory: String? = nil) {
        let program: Program
        do {
            program = try Compiler.compile(
                source: source, file: file,
                options: CompileOptions(
                    maxElements: limits.maxElements, maxOpNodes: limits.maxOpNodes, maxMemory: limits.maxMemory,
                    baseDirectory: baseDirectory))
        } catch {
            _ = error.rendered(source: source)
            return
        }
        do {
            let evaluation = try program.evaluate()
            _ = evaluation.text(full: variant.bit(0))
            _ = evaluation.json()
        } catch {
            _ = error.rendered(source: source)
            return
        }
        let graph = program.graph
        var report: CheckReport?
        if graph.count <= limits.maxCheckedNodes {
            report = check(program, variant: variant, limits: limits)
        }
        if graph.count <= limits.maxDrawnNodes {
            draw(program, report: report, variant: variant, limits: limits)
        }
    }

    /// The graph check with bounded options, and both of its printed forms.
    static func check(_ program: Program, variant: Variant, limits: Limits) -> CheckReport? {
        let options = CheckOptions(
            stencil: variant.bit(1) ? .fivePoint : .central, fast: variant.bit(2), sample: limits.checkSample,
            seed: UInt64(variant.hash & 0xff), nodeLocal: true, endToEnd: variant.bit(3),
            fullJacobianLimit: limits.fullJacobianLimit, parallel: false, progress: false)
        do {
            let report = try GradientCheck.graph(program.graph, output: program.output, options: options)
            _ = TerminalReport(colors: variant.bit(4)).render(report)
            _ = try? report.jsonData()
            return report
        } catch {
            _ = error.description
            return nil
        }
    }

    /// The figure as `chainrule render --check -o out.svg` makes it, in memory:
    /// for some inputs one page of `render --steps` instead, and for some also
    /// the PNG raster (Cairo's image surface, at half a pixel per point).
    static func draw(_ program: Program, report: CheckReport?, variant: Variant, limits: Limits) {
        var options = FigureOptions()
        let styles = FigureStyle.allCases
        options.style = variant.bit(5) ? styles[variant.pick(styles.count, at: 8)] : FigureOptions.defaultStyle(for: program.graph)
        options.view = ModelView.allCases[variant.pick(ModelView.allCases.count, at: 12)]
        options.direction = FigureOptions.defaultDirection(for: options.style)
        let labelSets: [Set<WireLabel>] = [[.value, .grad], Set(WireLabel.allCases), [], [WireLabel.allCases[variant.pick(WireLabel.allCases.count, at: 16)]]]
        options.labels = labelSets[variant.pick(labelSets.count, at: 20)]
        options.precision = variant.pick(5, at: 24)
        options.showGradients = !variant.bit(6)
        options.check = variant.bit(7) ? nil : report
        options.layout.timeout = limits.layoutTimeout
        do {
            let laidOut: LaidOutScene
            if variant.bit(40) && program.graph.count <= limits.maxStepNodes {
                let pages = try BackwardSteps.pages(graph: program.graph, output: program.output, options: options)
                laidOut = pages[variant.pick(pages.count, at: 28)]
            } else {
                laidOut = try GraphFigure.layout(graph: program.graph, output: program.output, options: options)
            }
            _ = GraphFigure.svg(laidOut)
            if variant.bit(41) { _ = try GraphFigure.raster(laidOut, scale: 0.5) }
        } catch {
            _ = error.description
        }
    }
}

/// Deterministic choices derived from an input's bytes (their FNV-1a hash),
/// so options vary across the corpus without taking bytes away from the program.
public struct Variant: Sendable {
    public let hash: UInt64

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        self.hash = hash
    }

    /// Bit `n` of the hash.
    func bit(_ n: Int) -> Bool { (hash >> UInt64(n)) & 1 == 1 }

    /// One of `count` choices, read from the hash's bits starting at `at`.
    func pick(_ count: Int, at: Int) -> Int { Int((hash >> UInt64(at)) % UInt64(count)) }
}
