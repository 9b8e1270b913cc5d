import CCairo
@testable import ChainruleFigures
import Foundation
import Testing

@Suite("Small figures are fast: no worker, no font set-up for SVG, big PNGs refused first", .serialized)
struct RenderSpeedTests {
    @Test("A small figure is laid out in this process; a big one goes to the worker")
    func smallInProcess() throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        let scene = try GraphFigure.scene(graph: graph, output: output, options: FigureOptions())
        #expect(LayoutRequest(scene, plugins: .automatic).isSmall)
        // A worker that crashes at once: a small figure never reaches it.
        let crashing = LayoutRunner.processUnlessSmall(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"])
        let laidOut = try GraphvizLayout.layout(scene, limits: LayoutLimits(runner: crashing))
        #expect(laidOut.nodes.count == scene.nodes.count)

        // 150 steps drawn as records: more boxes than a small figure has; the worker gets them, and crashes here.
        let (chain, chainOutput) = try compiled((["x0 = 0.5"] + (0..<150).map { "x\($0 + 1) = tanh(x\($0))" }).joined(separator: "\n"))
        var options = FigureOptions()
        options.style = .record
        let wide = try GraphFigure.scene(graph: chain, output: chainOutput, options: options)
        #expect(wide.nodes.count > GraphvizLayout.inProcessLimit)
        #expect(!LayoutRequest(wide, plugins: .automatic).isSmall)
        let error = figureError { _ = try GraphvizLayout.layout(wide, limits: LayoutLimits(runner: crashing)) }
        guard case .layoutCrashed = error else {
            Issue.record("expected the worker's crash, got \(String(describing: error))")
            return
        }
    }

    @Test("Widths from the font table are Cairo's own, to the last bit, for any text")
    func exactWidths() {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
        let cairo = cairo_create(surface)!
        defer {
            cairo_destroy(cairo)
            cairo_surface_destroy(surface)
        }
        let family = Theme(palette: .default).fontFamily
        for (size, bold) in [(13.0, false), (11.0, true), (9.5, false)] {
            applyFont(cairo, family: family, size: size, bold: bold)
            for text in ["f = (x + y)·z", "−12.00", "∂L/∂w₁ ✓ rel err 1.2e-09", "conv 3→6 5×5", "日本", ""] {
                var extents = cairo_text_extents_t()
                cairo_text_extents(cairo, text, &extents)
                #expect(FontMetrics.width(text, family: family, size: size, bold: bold) == extents.x_advance, "\(text) at \(size)")
            }
            var font = cairo_font_extents_t()
            cairo_font_extents(cairo, &font)
            let metrics = FontMetrics.lineMetrics(family: family, size: size, bold: bold)
            #expect(metrics.ascent == font.ascent && metrics.height == font.ascent + font.descent)
        }
    }

    @Test("The font table's file reads back exactly, and is dropped under another font configuration")
    func tableFile() {
        let key = FontMetrics.Key(family: "DejaVu Sans", size: 13, bold: true)
        let font = FontMetrics.Measured(ascent: 12.0703125, height: 15.12451171875, advances: ["a": 7.9521484375, "→": 10.9, "\t": 0.1 + 0.2])
        let text = FontMetrics.encode([key: font], signature: "cairo 1.16.0 1.5")
        #expect(FontMetrics.decode(text, signature: "cairo 1.16.0 1.5") == [key: font])
        #expect(FontMetrics.decode(text, signature: "cairo 1.16.0 2.5") == nil)
        #expect(FontMetrics.decode(Data("cairo 1.16.0 1.5\nfont\tDejaVu Sans\tbig\n".utf8), signature: "cairo 1.16.0 1.5") == nil)
        #expect(FontMetrics.decode(text.dropLast(3), signature: "cairo 1.16.0 1.5") == nil)
    }

    @Test("The font table's file is written once, by save, and a corrupt or unwritable cache is measured again and left alone")
    func tableFileSaved() throws {
        let folder = temporaryFolder()
        defer {
            FontMetrics.useFile(nil)
            try? FileManager.default.removeItem(at: folder)
        }
        let family = Theme(palette: .default).fontFamily
        let file = folder.appendingPathComponent("chainrule/font-metrics").path
        // A corrupt file: read as no table, and replaced by save.
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("not a table\nfont\t\u{0}".utf8).write(to: URL(fileURLWithPath: file))
        FontMetrics.useFile(file)
        let width = FontMetrics.width("ẞ ☃ 12.5", family: family, size: 10.25, bold: false)
        #expect(width > 0)
        #expect(FileManager.default.contents(atPath: file) == Data("not a table\nfont\t\u{0}".utf8), "measuring alone writes nothing")
        FontMetrics.save()
        let saved = try #require(FileManager.default.contents(atPath: file))
        let fonts = try #require(FontMetrics.decode(saved, signature: FontMetrics.configurationSignature()))
        #expect(fonts[FontMetrics.Key(family: family, size: 10.25, bold: false)]?.advances["☃"] != nil)

        // A cache folder that is a file: measuring and saving go on, and leave nothing behind.
        let blocker = folder.appendingPathComponent("blocker").path
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        FontMetrics.useFile(blocker + "/font-metrics")
        #expect(FontMetrics.width("ẞ ☃ 12.5", family: family, size: 10.75, bold: true) > 0)
        FontMetrics.save()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["blocker", "chainrule"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: (file as NSString).deletingLastPathComponent) == ["font-metrics"])
    }

    @Test("A PNG whose boxes alone hold more than 64 million pixels is refused before layout")
    func areaRefusedFirst() throws {
        let (graph, output) = try compiled((["x0 = 0.5"] + (0..<120).map { "x\($0 + 1) = tanh(x\($0))" }).joined(separator: "\n"))
        var options = FigureOptions()
        options.style = .record
        let scene = try GraphFigure.scene(graph: graph, output: output, options: options)
        let area = scene.nodes.reduce(0) { $0 + $1.size.width * $1.size.height }
        options.scale = min((Double(FigureError.maxImagePixels) / area).squareRoot() * 1.1, 16)
        options.layout.timeout = 1e-6  // any layout would time out: the refusal must come first
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = figureError { try GraphFigure.write(graph: graph, output: output, options: options, to: folder.appendingPathComponent("chain.png").path) }
        guard case .imageTooLarge(let width, let height, let predicted, let advice) = error else {
            Issue.record("expected imageTooLarge, got \(String(describing: error))")
            return
        }
        #expect(predicted)
        #expect(width * height > FigureError.maxImagePixels)
        #expect(advice.contains(.vectorFormat))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}
