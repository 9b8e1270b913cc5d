import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation

/// Rendering a 1,000-node generated scalar graph (micrograd-style, fan-in 2)
/// in the record style to SVG and PNG: total time and the share each phase
/// takes. Graphviz's layout is the part we do not control; the aim is our own
/// work (scene with Cairo measuring, drawing) under 20% of the total. PNG
/// encoding (libpng's zlib) is reported apart: at 1,000 nodes the canvas is
/// tens of thousands of points wide and the PNG tens of megapixels.
enum FigureBench {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func run() throws {
        let (graph, output) = FigureExamples.generated(nodes: 1000)
        try graph.backward(output)
        var options = FigureOptions()
        options.style = .record
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-figure-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var scene: Scene!
        var laidOut: LaidOutScene!
        let sceneTime = try seconds { scene = try GraphFigure.scene(graph: graph, output: output.id, options: options) }
        let layoutTime = try seconds { laidOut = try GraphvizLayout.layout(scene) }
        let svgTime = try seconds {
            try Data(GraphFigure.svg(laidOut).utf8).write(to: folder.appendingPathComponent("bench.svg"))
        }
        // Cairo's image surfaces stop at 32,767 px a side: scale down to fit.
        let scale = min(1, 32_000 / max(laidOut.size.width, laidOut.size.height))
        var image: FigureImage!
        let rasterTime = try seconds { image = try GraphFigure.raster(laidOut, scale: scale) }
        let encodeTime = try seconds { try image.writePNG(to: folder.appendingPathComponent("bench.png").path) }
        let total = sceneTime + layoutTime + svgTime + rasterTime + encodeTime
        let ours = sceneTime + svgTime + rasterTime
        func row(_ name: String, _ t: Double) {
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%8.3f s  %5.1f%%", t, 100 * t / total))
        }
        print("graph: \(graph.count) nodes; scene: \(scene.nodes.count) boxes, \(scene.edges.count) edges; canvas \(Int(laidOut.size.width))×\(Int(laidOut.size.height)) pt")
        row("scene (build + Cairo measuring)", sceneTime)
        row("Graphviz dot layout", layoutTime)
        row("SVG (draw + write)", svgTime)
        row(String(format: "PNG at %.2f×: draw (%d×%d px)", scale, image.width, image.height), rasterTime)
        row("PNG: libpng encode", encodeTime)
        row("total", total)
        print(String(format: "our share (scene, measuring, drawing): %.1f%% (aim < 20%%); Graphviz %.1f%%; PNG encoding %.1f%%",
                     100 * ours / total, 100 * layoutTime / total, 100 * encodeTime / total))
        try sharedWeightChain(folder: folder)
        try hugeTensor(folder: folder)
    }

    /// Session 23: one 2048×2048 tensor and a small op on it, drawn in its default style
    /// (records) to the interactive page and to PNG. Every view, twin, step page and
    /// fitting candidate reads the tensors' ranges; read once, the page's
    /// time is its own work on each tensor (the page's pooled heatmaps, the
    /// step pages' backward runs) and Graphviz's, not one pass per view.
    /// `chainrule render` of this program in a release build (with compiling
    /// and the backward pass) took 4.6 s for the page and 9.1 s for the PNG
    /// before the ranges were read once (session 23), 3.0 s and 0.8 s after.
    static func hugeTensor(folder: URL) throws {
        let program = try Compiler.compile(source: "x = randn(2048, 2048, seed: 1)\ny = sum(x * x)\n", file: "huge.grad", options: CompileOptions())
        try program.graph.backward(from: program.output)
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: program.graph, stepByStep: false)
        let pageTime = try seconds {
            try InteractivePage.write(graph: program.graph, output: program.output, options: options, to: folder.appendingPathComponent("huge.html").path)
        }
        var pngOptions = FigureOptions()
        pngOptions.style = options.style
        let pngTime = try seconds {
            _ = try GraphFigure.write(graph: program.graph, output: program.output, options: pngOptions, to: folder.appendingPathComponent("huge.png").path)
        }
        print()
        print("x = randn(2048, 2048), y = sum(x * x), \(options.style) style (4 tensors of 4.2 M elements)")
        for (name, time) in [("interactive page (.html)", pageTime), ("PNG (fitting search + draw)", pngTime)] {
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%8.3f s", time))
        }
    }

    /// Issue 14, item 5: the 2,000-node chain that reads one shared weight at
    /// every step (6,003 boxes in the circuit style, past Graphviz's limit:
    /// `RankLayout`), to SVG. Aim: the whole `chainrule render` ≤ 5 s.
    static func sharedWeightChain(folder: URL) throws {
        let (graph, output) = FigureExamples.sharedWeightChain(steps: 1000)
        try graph.backward(output)
        let options = FigureOptions()
        var scene: Scene!
        var laidOut: LaidOutScene!
        let sceneTime = try seconds { scene = try GraphFigure.scene(graph: graph, output: output.id, options: options) }
        let layoutTime = try seconds { laidOut = try GraphFigure.layout(graph: graph, output: output.id, options: options) }
        let svgTime = try seconds { try Data(GraphFigure.svg(laidOut).utf8).write(to: folder.appendingPathComponent("chain.svg")) }
        print()
        print("2,000-node chain, one shared weight (circuit): \(scene.nodes.count) boxes; canvas \(Int(laidOut.size.width))×\(Int(laidOut.size.height)) pt")
        for (name, time) in [("scene (build + Cairo measuring)", sceneTime), ("scene + rank layout + rows", layoutTime), ("SVG (draw + write)", svgTime)] {
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%8.3f s", time))
        }
        print(String(format: "layout and SVG: %.2f s (aim for the whole process ≤ 5 s)", layoutTime + svgTime))
    }
}
