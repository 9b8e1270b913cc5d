import ChainruleCore
import ChainruleFigures
import Foundation
import Testing

/// LeNet in the model style, top to bottom, as `render samples/lenet.grad -o lenet.html --style model` draws it.
func lenetPage() throws -> (graph: Graph, page: PageFile) {
    let (graph, output, source) = try Samples.load("lenet.grad")
    var options = FigureOptions()
    options.style = .model
    options.direction = .TB
    return (graph, try PageFile(graph: graph, output: output, options: options, source: source))
}

extension InteractivePageTests {
    /// The node ids the boxes of the current view draw, and the layers drawn op by op.
    func shownNodes(_ browser: Browser) throws -> [Int] {
        try #require(try browser.evaluate("Array.from(document.querySelectorAll('.box')).map(b => Number(b.dataset.node))") as? [Double]).map { Int($0) }
    }

    func expandedLayers(_ browser: Browser) throws -> [Int] {
        try #require(try browser.evaluate("window.chainrule.data.views[window.chainrule.state.view].expanded") as? [Double]).map { Int($0) }.sorted()
    }

    /// Clicks the title bar of the frame of expanded layer `layer`.
    func clickFrame(_ browser: Browser, layer: Int) throws {
        let frame = try #require(try browser.evaluate("(() => { const r = document.querySelector('.frame[data-layer=\"\(layer)\"]').getBoundingClientRect(); return [r.x + 30, r.y + r.height / 2]; })()") as? [Double])
        try browser.click(frame[0], frame[1])
    }

    @Test("LeNet: layers expand one at a time and stay open; each folds back on its own")
    func expandSeveralLayers() throws {
        let (graph, page) = try lenetPage()
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        // A pair of layers the page holds a view of (the cheapest sets fit its budget; docs/interactive.md).
        let pairs = try #require(try browser.evaluate("window.chainrule.data.views.filter(v => v.expanded.length === 2).map(v => v.expanded)") as? [[Double]])
        try #require(!pairs.isEmpty, "the LeNet page holds no view with two layers expanded")
        let (c1, c3) = (Int(pairs[0][0]), Int(pairs[0][1]))
        let ops = { (layer: Int) in graph.nodes(inLayer: layer).filter { graph[$0].op != nil }.map(\.index) }

        try browser.click(try centre(browser, ".box[data-layer='\(c1)']"))
        #expect(try expandedLayers(browser) == [c1])
        // The second opens beside the first: both show their ops, the other layers stay boxes (fitted first:
        // expanding brought the first's frame into sight, the second's box may be out of it).
        try browser.press("f", code: 70)
        try browser.click(try centre(browser, ".box[data-layer='\(c3)']"))
        #expect(try expandedLayers(browser) == [c1, c3])
        let shown = try shownNodes(browser)
        #expect(ops(c1).allSatisfy(shown.contains) && ops(c3).allSatisfy(shown.contains), "both layers' ops \(ops(c1)) \(ops(c3)) are drawn, the page shows \(shown)")
        #expect(try browser.number("document.querySelectorAll('.box[data-layer]').length") == Double(graph.layers.count - 2))
        #expect(try browser.number("document.querySelectorAll('.frame').length") == 2)
        #expect(try browser.string("document.getElementById('view-note').textContent") == "")

        // Folding the first leaves the second open (fitted first: the second's frame was brought into sight, the first's may be out of it).
        try browser.press("f", code: 70)
        try clickFrame(browser, layer: c1)
        #expect(try expandedLayers(browser) == [c3])
        try clickFrame(browser, layer: c3)
        #expect(try browser.string("document.getElementById('stage').dataset.view") == "layers")

        // Opening every layer one by one: each click keeps the open ones open. A set of layers the page
        // holds no view of (past its byte budget) shows the smallest view that has them, and says so.
        var wanted: [Int] = []
        for layer in graph.layers.indices {
            try browser.press("f", code: 70)
            guard try browser.number("document.querySelectorAll(`.box[data-layer='\(layer)']`).length") == 1 else { continue }
            wanted = (wanted + [layer]).sorted()
            try browser.click(try centre(browser, ".box[data-layer='\(layer)']"))
            let open = try expandedLayers(browser), note = try browser.string("document.getElementById('view-note').textContent")
            #expect(wanted.allSatisfy(open.contains), "asked for \(wanted), the page opened \(open)")
            #expect((open == wanted) == note.isEmpty, "asked for \(wanted), the page opened \(open) and says '\(note)'")
            wanted = open
        }
        #expect(try expandedLayers(browser) == Array(graph.layers.indices))
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    @Test("Search: typing outlines the matching nodes and counts them; Enter centres the next one; Escape clears")
    func search() throws {
        let (graph, page) = try lenetPage()
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        let c3 = try #require(graph.layers.firstIndex { $0.name == "c3" })
        let expected = graph.nodes.filter { $0.displayName.lowercased().contains("c3") }
        try #require(!expected.isEmpty)

        try browser.press("/", code: 191)
        #expect(try browser.string("document.activeElement.id") == "search")
        try browser.type("c3")
        #expect(try browser.string("document.getElementById('search-count').textContent") == "\(expected.count) matches")
        // In the layers view the matches are inside c3: its box is outlined, no other.
        let outlined = try #require(try browser.evaluate("Array.from(document.querySelectorAll('.box.match')).map(b => Number(b.dataset.layer))") as? [Double])
        #expect(outlined == [Double(c3)])

        // Enter centres the first match's box on the stage.
        try browser.evaluate("window.chainrule.setCamera(1, 0, 0)")
        try browser.press("Enter", code: 13)
        let offset = try #require(try browser.evaluate("""
            (() => { const b = document.querySelector('.box.current').getBoundingClientRect(), s = document.getElementById('stage').getBoundingClientRect();
              return [b.x + b.width / 2 - (s.x + s.width / 2), b.y + b.height / 2 - (s.y + s.height / 2)]; })()
            """) as? [Double])
        #expect(abs(offset[0]) < 1.5 && abs(offset[1]) < 1.5, "the current match is \(offset) px from the stage's centre")

        // An op's name finds every node of that op; Escape clears the search.
        try browser.evaluate("document.getElementById('search').select()")
        try browser.type("relu")
        let relus = graph.nodes.filter { $0.op?.name == "relu" || $0.displayName.lowercased().contains("relu") }.count
        #expect(try browser.string("document.getElementById('search-count').textContent") == "\(relus) match\(relus == 1 ? "" : "es")")
        try browser.press("Escape", code: 27)
        #expect(try browser.string("document.getElementById('search-count').textContent") == "")
        #expect(try browser.number("document.querySelectorAll('.box.match').length") == 0)
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    /// The drawing's point (in SVG points) under the stage pixel (x, y) of the window.
    func drawingPoint(_ browser: Browser, _ x: Double, _ y: Double) throws -> (Double, Double) {
        let p = try #require(try browser.evaluate("""
            (() => { const s = document.getElementById('stage').getBoundingClientRect(), st = window.chainrule.state;
              return [(\(x) - s.x - st.x) / st.scale, (\(y) - s.y - st.y) / st.scale]; })()
            """) as? [Double])
        return (p[0], p[1])
    }

    @Test("Zoom and pan: the wheel zooms about the pointer, + and − about the centre, a drag pans, Fit frames the graph")
    func zoomAndPan() throws {
        let (graph, output, source) = try Samples.load("cs231n-circuit.grad")
        let page = try PageFile(graph: graph, output: output, source: source)
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        let stage = try #require(try browser.evaluate("(() => { const r = document.getElementById('stage').getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()") as? [Double])
        let scale = { try browser.number("window.chainrule.state.scale") }

        // The wheel: the point under the pointer stays under it (whole pixels: mouse events carry no fractions).
        let pointer = ((stage[0] + stage[2] * 0.3).rounded(), (stage[1] + stage[3] * 0.6).rounded())
        let before = try scale(), under = try drawingPoint(browser, pointer.0, pointer.1)
        try browser.wheel(at: pointer.0, pointer.1, deltaY: -300)
        #expect(abs(try scale() / before - exp(300 * 0.0015)) < 1e-6)
        let still = try drawingPoint(browser, pointer.0, pointer.1)
        #expect(abs(still.0 - under.0) < 0.01 && abs(still.1 - under.1) < 0.01, "the wheel moved the point under the pointer from \(under) to \(still)")
        try browser.wheel(at: pointer.0, pointer.1, deltaY: 300)
        #expect(abs(try scale() - before) < 1e-9)

        // + and − (buttons and keys) zoom by 1.25 about the stage's centre (its whole-pixel client size halved).
        let client = try #require(try browser.evaluate("[document.getElementById('stage').clientWidth, document.getElementById('stage').clientHeight]") as? [Double])
        let middle = (stage[0] + client[0] / 2, stage[1] + client[1] / 2), centred = try drawingPoint(browser, middle.0, middle.1)
        try browser.click(try centre(browser, "#zoom-in"))
        #expect(abs(try scale() / before - 1.25) < 1e-9)
        let kept = try drawingPoint(browser, middle.0, middle.1)
        #expect(abs(kept.0 - centred.0) < 0.01 && abs(kept.1 - centred.1) < 0.01)
        try browser.moveMouse(to: 2, 2)
        try browser.evaluate("document.getElementById('stage').focus()")
        try browser.press("-", code: 189)
        #expect(abs(try scale() - before) < 1e-9)

        // A drag pans by as much as the pointer moved, and opens no panel.
        let x0 = try browser.number("window.chainrule.state.x"), y0 = try browser.number("window.chainrule.state.y")
        try browser.drag(from: (stage[0] + 20, stage[1] + 20), to: (stage[0] + 140, stage[1] + 70))
        #expect(abs(try browser.number("window.chainrule.state.x") - x0 - 120) < 0.5)
        #expect(abs(try browser.number("window.chainrule.state.y") - y0 - 50) < 0.5)
        #expect(try browser.evaluate("document.getElementById('panel').hidden") as? Bool == true)

        // Fit (F): the whole drawing inside the stage, centred.
        try browser.wheel(at: pointer.0, pointer.1, deltaY: -900)
        try browser.press("f", code: 70)
        let drawn = try #require(try browser.evaluate("(() => { const r = document.querySelector('svg.drawing').getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()") as? [Double])
        #expect(drawn[0] >= stage[0] - 0.5 && drawn[1] >= stage[1] - 0.5)
        #expect(drawn[0] + drawn[2] <= stage[0] + stage[2] + 0.5 && drawn[1] + drawn[3] <= stage[1] + stage[3] + 0.5)
        #expect(abs((drawn[0] + drawn[2] / 2) - middle.0) < 1 && abs((drawn[1] + drawn[3] / 2) - middle.1) < 1, "the fitted drawing \(drawn) is not centred on \(middle)")
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    @Test("Print: the current view alone, zoom and expansion kept, no toolbar, panel or tooltip; one PDF page")
    func print() throws {
        let (graph, page) = try lenetPage()
        defer { page.remove() }
        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(page.url)
        let c1 = try #require(graph.layers.firstIndex { $0.name == "c1" })
        try browser.click(try centre(browser, ".box[data-layer='\(c1)']"))
        let conv = try #require(graph.nodes(inLayer: c1).first { graph[$0].op?.name == "conv2d" })
        try browser.click(try centre(browser, ".box[data-node='\(conv.index)']"))
        #expect(try browser.evaluate("document.getElementById('panel').hidden") as? Bool == false)
        let camera = try #require(try browser.evaluate("[window.chainrule.state.scale, window.chainrule.state.x, window.chainrule.state.y]") as? [Double])

        try browser.emulateMedia("print")
        defer { _ = try? browser.emulateMedia("screen") }
        for id in ["view-picker", "search", "panel", "tooltip", "caption"] {
            let display = try browser.string("getComputedStyle(document.getElementById('\(id)').closest('header') || document.getElementById('\(id)')).display")
            #expect(display == "none", "#\(id) prints (display \(display))")
        }
        #expect(try browser.string("document.getElementById('stage').dataset.view") == "layer-\(c1)")
        let kept = try #require(try browser.evaluate("[window.chainrule.state.scale, window.chainrule.state.x, window.chainrule.state.y]") as? [Double])
        #expect(kept == camera)
        // The overlay's outlines are not printed: the selected box's frame is transparent.
        #expect(try browser.string("getComputedStyle(document.querySelector('.box.selected')).stroke").contains("rgba(0, 0, 0, 0)"))
        let screen = try Ink(png: try browser.screenshot())
        #expect(screen.inkFraction > 0.01, "the print view is blank")

        let pdf = try browser.printToPDF()
        let text = String(decoding: pdf, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-"))
        let pages = text.components(separatedBy: "/Type /Page").dropFirst().filter { !$0.hasPrefix("s") }.count
        #expect(pages == 1, "the print is \(pages) pages")
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }
}
