import CCairo
import ChainruleCheck
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

/// The sample programs, compiled and run backward, with what the page needs of their source.
enum Samples {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples")

    static func load(_ name: String) throws -> (graph: Graph, output: NodeID, source: PageSource) {
        let url = folder.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        let program = try Compiler.compile(source: text, file: url.path, options: CompileOptions(baseDirectory: folder.path))
        try program.graph.backward(from: program.output)
        let rules = program.customOperations.mapValues(\.backwardLocations)
        return (program.graph, program.output, PageSource(text: text, file: url.path, ruleLocations: rules))
    }
}

/// A page written to a fresh folder, removed with it.
struct PageFile {
    let folder: URL
    let url: URL

    init(graph: Graph, output: NodeID, options: FigureOptions = FigureOptions(), source: PageSource = PageSource(),
         snapshots: [TrainingSnapshot] = []) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        url = folder.appendingPathComponent("graph.html")
        try InteractivePage.write(graph: graph, output: output, options: options, source: source, snapshots: snapshots, to: url.path)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// An image decoded by Cairo: is each pixel ink (darker than light grey) on the white page?
struct Ink {
    let width: Int, height: Int
    let dark: [Bool]

    init(png: Data) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-ink-\(UUID().uuidString).png").path
        try png.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let surface = cairo_image_surface_create_from_png(path)
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let pixels = cairo_image_surface_get_data(surface) else {
            throw BrowserError(description: "not a PNG")
        }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        var dark = [Bool](repeating: false, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let p = pixels + y * stride + x * 4
                dark[y * width + x] = min(p[0], p[1], p[2]) < 170
            }
        }
        self.dark = dark
    }

    var inkFraction: Double { Double(dark.filter { $0 }.count) / Double(max(dark.count, 1)) }

    /// The `cell`-pixel squares of the top-left `width × height` that hold ink.
    func cells(_ cell: Int, width w: Int, height h: Int) -> Set<Int> {
        var found = Set<Int>()
        for y in 0..<min(h, height) {
            for x in 0..<min(w, width) where dark[y * width + x] { found.insert((y / cell) * 10_000 + x / cell) }
        }
        return found
    }
}

@Suite("The interactive page in headless Chromium", .serialized)
struct InteractivePageTests {
    /// Where on screen the overlay element `selector` has its centre (a wire: its middle point).
    func centre(_ browser: Browser, _ selector: String) throws -> (Double, Double) {
        let point = try browser.evaluate("""
            (() => { const el = document.querySelector(`\(selector)`); if (!el) return null;
              if (el.getTotalLength) { const p = el.getPointAtLength(el.getTotalLength() / 2), m = el.getScreenCTM();
                return [p.x * m.a + m.e, p.y * m.d + m.f]; }
              const r = el.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()
            """) as? [Double]
        let found = try #require(point, "no \(selector) on the page")
        return (found[0], found[1])
    }

    @Test("The CS231n circuit: no console errors, a wire's tooltip, the step slider's highlight, the static PNG's layout")
    func circuit() throws {
        let (graph, output, source) = try Samples.load("cs231n-circuit.grad")
        let page = try PageFile(graph: graph, output: output, source: source)
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        #expect(try browser.number("window.chainrule.readyAt") < 1000)

        // Hovering the wire from q into the * gate shows q's value, 3, and the gradient it carries back, -4.
        let q = try #require(graph.nodes.first { $0.name == "q" }).id.index
        let f = try #require(graph.nodes.first { $0.name == "f" }).id.index
        let (wx, wy) = try centre(browser, ".wire[data-source='\(q)'][data-consumer='\(f)']")
        try browser.moveMouse(to: wx, wy)
        let tip = try browser.string("document.getElementById('tooltip').hidden ? '' : document.getElementById('tooltip').innerText")
        #expect(tip.contains("q → f"))
        #expect(tip.contains("value\t3"))
        #expect(tip.contains("gradient\t−4"))
        #expect(tip.contains("local\t-4.00"))

        // → walks the steps: step 1 is f's * gate, step 2 q's + gate, each with its numbers.
        try browser.moveMouse(to: 2, 2)
        try browser.press("ArrowRight", code: 39)
        #expect(try browser.string("document.getElementById('step-number').textContent") == "step 0 of 2")
        try browser.press("ArrowRight", code: 39)
        let active = "Array.from(document.querySelectorAll('.box.active')).map(b => b.dataset.node).join(',')"
        #expect(try browser.string(active) == "\(f)")
        #expect(try browser.string("document.getElementById('caption').innerText").contains("q: 1.00 × -4.00 = -4.00"))
        // The drawing is the `--steps` page: gradients not yet computed read "—".
        let drawing = try browser.string("document.querySelector('svg.drawing').textContent")
        #expect(drawing.contains("Step 1 of 2") && drawing.contains("—"))
        // The slider itself, moved with its own keys, goes on to q.
        let (sx, sy) = try centre(browser, "#step")
        try browser.click(sx, sy)
        try browser.evaluate("document.getElementById('step').focus()")
        let stepNow = try browser.number("Number(document.getElementById('step').value)")
        try browser.press(stepNow < 2 ? "ArrowRight" : "ArrowLeft", code: stepNow < 2 ? 39 : 37)
        let expected = stepNow < 2 ? Int(stepNow) + 1 : 1
        let expectedNode = expected == 2 ? q : f
        #expect(try browser.string(active) == "\(expectedNode)")
        #expect(try browser.string("document.getElementById('step-number').textContent") == "step \(expected) of 2")

        // The colour-blind toggle redraws the values in Okabe–Ito's green.
        try browser.press("Escape", code: 27)
        let (px, py) = try centre(browser, "#palette")
        try browser.click(px, py)
        let fills = try browser.string("Array.from(document.querySelectorAll('svg.drawing [fill]')).map(e => e.getAttribute('fill')).join(' ')")
        #expect(fills.contains(Theme(palette: .colorblind).value.hexString) && !fills.contains(Theme().value.hexString))
        try browser.click(px, py)

        // At one pixel per point, the page shows what the static PNG shows, where the PNG shows it.
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: FigureOptions())
        try browser.evaluate("window.chainrule.setCamera(1, 0, 0)")
        let stage = try #require(try browser.evaluate("(() => { const r = document.getElementById('stage').getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()") as? [Double])
        let boxes = try #require(try browser.evaluate("Array.from(document.querySelectorAll('.box')).map(b => { const r = b.getBoundingClientRect(); return [b.dataset.index, r.x, r.y, r.width, r.height]; })") as? [[Any]])
        let drawn = laidOut.nodes.filter { $0.node.node != nil && $0.node.shape != .wireLabel }
        #expect(boxes.count == drawn.count)
        for (box, placed) in zip(boxes, drawn) {
            let r = box.dropFirst().compactMap { $0 as? Double }
            #expect(abs(r[0] - stage[0] - placed.frame.x) < 1 && abs(r[1] - stage[1] - placed.frame.y) < 1, "\(placed.node.key) is not where the PNG has it")
            #expect(abs(r[2] - placed.frame.width) < 1 && abs(r[3] - placed.frame.height) < 1)
        }
        let shot = try browser.call("Page.captureScreenshot", ["format": "png", "clip": ["x": stage[0], "y": stage[1], "width": laidOut.size.width.rounded(.up), "height": laidOut.size.height.rounded(.up), "scale": 1]])
        let screen = try Ink(png: try #require(Data(base64Encoded: shot["data"] as? String ?? "")))
        let pngPath = page.folder.appendingPathComponent("static.png").path
        try GraphFigure.png(laidOut, scale: 1, to: pngPath)
        let still = try Ink(png: try Data(contentsOf: URL(fileURLWithPath: pngPath)))
        #expect(screen.inkFraction > 0.01, "the screenshot is blank")
        let a = screen.cells(8, width: still.width, height: still.height), b = still.cells(8, width: still.width, height: still.height)
        let overlap = Double(a.intersection(b).count) / Double(max(a.union(b).count, 1))
        #expect(overlap > 0.85, "the page's drawing and the PNG share only \(Int(overlap * 100))% of their inked 8-pixel cells")
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    @Test("LeNet: a layer box expands into its ops and collapses back; the page is under 2 MB and ready within 1 s")
    func expandLayer() throws {
        let (graph, output, source) = try Samples.load("lenet.grad")
        var options = FigureOptions()
        options.style = .model
        options.direction = .TB
        let page = try PageFile(graph: graph, output: output, options: options, source: source)
        defer { page.remove() }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: page.url.path)[.size] as? Int)
        #expect(size <= 2_000_000, "the LeNet page is \(size) bytes")
        let browser = try Browser()
        defer { browser.quit() }
        // Ready: navigation start to the script's end. The best of three loads, so that other jobs on the machine do not count.
        var ready: [Double] = []
        for _ in 0..<3 {
            try browser.open(page.url)
            ready.append(try browser.number("window.chainrule.readyAt"))
        }
        #expect(ready.min()! < 1000, "the LeNet page was ready after \(ready) ms")
        #expect(try browser.string("document.getElementById('stage').dataset.view") == "layers")

        let conv = try #require(graph.layers.firstIndex { $0.kind == "Conv2D" })
        let ops = graph.nodes(inLayer: conv).filter { graph[$0].op != nil }.map(\.index)
        let shown = "Array.from(document.querySelectorAll('.box')).map(b => Number(b.dataset.node))"
        let before = try #require(try browser.evaluate(shown) as? [Double]).map { Int($0) }
        #expect(ops.allSatisfy { !before.contains($0) } || ops.count == 1)
        let (lx, ly) = try centre(browser, ".box[data-layer='\(conv)']")
        try browser.click(lx, ly)
        #expect(try browser.string("document.getElementById('stage').dataset.view") == "layer-\(conv)")
        let after = try #require(try browser.evaluate(shown) as? [Double]).map { Int($0) }
        #expect(ops.allSatisfy(after.contains), "the expanded layer shows its ops \(ops), the page shows \(after)")
        #expect(try browser.number("document.querySelectorAll('.box[data-layer]').length") == Double(graph.layers.count - 1))

        // Its frame's title collapses it again.
        let frame = try #require(try browser.evaluate("(() => { const r = document.querySelector('.frame').getBoundingClientRect(); return [r.x + 30, r.y + 8]; })()") as? [Double])
        try browser.click(frame[0], frame[1])
        #expect(try browser.string("document.getElementById('stage').dataset.view") == "layers")
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    @Test("A failed check: the node is drawn in the failure colour; clicking it shows both numbers and the rule's line")
    func checkOverlay() throws {
        let (graph, output, source) = try Samples.load("custom-op-wrong.grad")
        var options = FigureOptions()
        options.style = .record
        options.check = try GradientCheck.graph(graph, output: output)
        let page = try PageFile(graph: graph, output: output, options: options, source: source)
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        #expect(try browser.string("document.querySelector('svg.drawing').outerHTML").contains(Theme().checkFailed.hexString))
        #expect(try browser.string("document.getElementById('failures').innerText") == "✗ 1 failed")
        let failed = try #require(options.check?.nodes.first { $0.status == .fail })
        let (x, y) = try centre(browser, ".box[data-node='\(failed.node.index)']")
        try browser.click(x, y)
        let panel = try browser.string("document.getElementById('panel').hidden ? '' : document.getElementById('panel').innerText")
        let worst = try #require(failed.worst)
        #expect(panel.contains("Gradient check: fail"))
        #expect(panel.contains("rule (analytic)"))
        #expect(panel.contains("finite difference"))
        #expect(panel.contains("custom-op-wrong.grad:7"))
        #expect(panel.contains("backward: grad * out"))
        #expect(panel.contains(String(format: "%.4g", worst.analytic).replacingOccurrences(of: "-", with: "−")))
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    @Test("Training snapshots: the epoch slider replays a weight's values beside the loss curve")
    func trainingSnapshots() throws {
        let (graph, output, source) = try Samples.load("cs231n-circuit.grad")
        let x = try #require(graph.nodes.first { $0.name == "x" }).id
        let snapshots = (0..<3).map { epoch in
            TrainingSnapshot(epoch: epoch + 1, loss: 10 - 3 * Double(epoch), values: [x: Tensor(Double(epoch) + 0.5)], gradients: [x: Tensor(-1)])
        }
        let page = try PageFile(graph: graph, output: output, source: source, snapshots: snapshots)
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        #expect(try browser.string("document.getElementById('epoch-text').textContent") == "epoch 3 · loss 4")
        let (ex, ey) = try centre(browser, "#epoch")
        try browser.click(ex, ey)
        try browser.evaluate("document.getElementById('epoch').focus()")
        try browser.press("Home", code: 36)
        #expect(try browser.string("document.getElementById('epoch-text').textContent") == "epoch 1 · loss 10")
        #expect(try browser.string("Array.from(document.querySelectorAll('.epoch-badge')).map(t => t.textContent).join('|')") == "0.5 −1")
        let (bx, by) = try centre(browser, ".wire[data-source='\(x.index)']")
        try browser.moveMouse(to: bx, by)
        #expect(try browser.string("document.getElementById('tooltip').innerText").contains("value\t0.5"))
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }
}

extension InteractivePageTests {
    /// The JSON the page's script reads.
    func data(_ html: String) throws -> [String: Any] {
        let start = try #require(html.range(of: "<script type=\"application/json\" id=\"chainrule-data\">"))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return try #require(try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8)) as? [String: Any])
    }

    @Test("One file that fetches nothing: no external script, style, font or image")
    func selfContained() throws {
        let (graph, output, source) = try Samples.load("maxpool-routing.grad")
        let html = try InteractivePage.html(graph: graph, output: output, options: FigureOptions(), source: source).html
        for needle in ["src=", "href=", "@import", "url(", "<link", "https:"] { #expect(!html.contains(needle), "the page holds \(needle)") }
        // The only address is the SVG namespace's, a name (also as the JSON writes it, `\/` for `/`).
        let names = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").replacingOccurrences(of: #"http:\/\/www.w3.org\/2000\/svg"#, with: "")
        #expect(!names.contains("http:"))
    }

    @Test("x * x: the two wires into the product are its inputs 1 and 2, both carrying x")
    func valueReadTwice() throws {
        let program = try Compiler.compile(source: "x = 3\ny = x * x\n", file: nil, options: CompileOptions())
        try program.graph.backward(from: program.output)
        let html = try InteractivePage.html(graph: program.graph, output: program.output, options: FigureOptions()).html
        let view = try #require((try data(html)["views"] as? [[String: Any]])?.first)
        let wires = try #require(view["wires"] as? [[String: Any]])
        let x = try #require(program.graph.nodes.first { $0.name == "x" }).id.index
        let into = wires.filter { $0["consumer"] as? Int == program.output.index }
        #expect(into.count == 2)
        #expect(Set(into.compactMap { $0["input"] as? Int }) == [0, 1])
        #expect(into.allSatisfy { $0["source"] as? Int == x })
    }
}
