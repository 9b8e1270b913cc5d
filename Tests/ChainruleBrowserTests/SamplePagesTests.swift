import ChainruleFigures
import Foundation
import Testing

@Suite("Every sample's page, opened in Chromium", .serialized)
struct SamplePagesTests {
    /// The sample programs, each drawn by its default style.
    static let samples: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: Samples.folder.path)) ?? [])
        .filter { $0.hasSuffix(".grad") }.sorted()

    @Test("There are samples to open")
    func samplesFound() {
        #expect(Self.samples.count >= 15, "samples/ holds \(Self.samples)")
    }

    @Test("Each sample's page loads without console errors, draws a box per node, and a box's tooltip names it")
    func everySample() throws {
        let browser = try Browser()
        defer { browser.quit() }
        for name in Self.samples {
            let (graph, output, source) = try Samples.load(name)
            let page = try PageFile(graph: graph, output: output, source: source)
            defer { page.remove() }
            try browser.open(page.url)
            let boxes = try browser.number("document.querySelectorAll('.box').length")
            #expect(boxes >= 2, "\(name): \(boxes) boxes")
            // The first box, at the centre of its frame (the page opens fitted, so it is on screen).
            let point = try browser.evaluate("""
                (() => { const b = document.querySelector('.box'); const r = b.getBoundingClientRect();
                  return [r.x + r.width / 2, r.y + r.height / 2]; })()
                """) as? [Double]
            let (x, y) = try #require(point.map { ($0[0], $0[1]) }, "\(name): no box to point at")
            try browser.moveMouse(to: x, y)
            let tip = try browser.string("document.getElementById('tooltip').hidden ? '' : document.getElementById('tooltip').innerText")
            #expect(tip.contains("value") || tip.contains("ops"), "\(name): hovering the first box shows «\(tip)»")
            try browser.moveMouse(to: 2, 2)
            #expect(browser.errors.isEmpty, "\(name): \(browser.errors)")
        }
    }
}
