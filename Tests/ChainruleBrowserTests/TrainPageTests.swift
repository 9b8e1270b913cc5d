import ChainruleCore
import ChainruleLanguage
import Foundation
import Testing

/// Runs the built `chainrule` (beside this test bundle) in the repository's folder.
func chainrule(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    var folder = Bundle.main.bundleURL
    while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("chainrule").path), folder.path != "/" {
        folder.deleteLastPathComponent()
    }
    let process = Process()
    process.executableURL = folder.appendingPathComponent("chainrule")
    process.arguments = arguments
    process.currentDirectoryURL = Samples.folder.deletingLastPathComponent()
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

extension InteractivePageTests {
    @Test("train --html: the epoch slider replays the weights from their initial values to the trained ones, beside the loss curve")
    func trainPage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-train-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("run.html").path
        let run = try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "4", "--optimizer", "adam", "--lr", "0.01", "--html", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("page: \(path) (5 snapshots, epochs 0–4)"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size < 2_000_000, "the page is \(size) bytes")

        let browser = try Browser()
        defer { browser.quit() }
        try browser.open(URL(fileURLWithPath: path))
        #expect(try browser.evaluate("document.getElementById('training').hidden") as? Bool == false)
        #expect(try browser.string("document.getElementById('epoch').max") == "4")
        let epochs = try #require(try browser.evaluate("window.chainrule.data.snapshots.map(s => s.epoch)") as? [Double])
        #expect(epochs == [0, 1, 2, 3, 4])
        let losses = try #require(try browser.evaluate("window.chainrule.data.snapshots.map(s => s.loss)") as? [Double])
        #expect(losses.last! < losses.first!, "training lowered the loss: \(losses)")
        #expect(try browser.string("document.getElementById('epoch-text').textContent").hasPrefix("epoch 4 · loss "))

        // Epoch 0 holds the program's initial weights; the last epoch the trained ones the drawing shows.
        let program = try Compiler.compile(source: try String(contentsOf: Samples.folder.appendingPathComponent("moons-mlp.grad"), encoding: .utf8),
                                           file: nil, options: CompileOptions())
        let weights = try #require(program.graph.nodes.first { $0.name == "h1.W" }).id.index
        let initial = try #require(program.graph.nodes[weights].value).data
        let first = try #require(try browser.evaluate("window.chainrule.data.snapshots[0].values['\(weights)'].data") as? [Double])
        let last = try #require(try browser.evaluate("window.chainrule.data.snapshots[4].values['\(weights)'].data") as? [Double])
        let drawn = try #require(try browser.evaluate("window.chainrule.data.nodes[\(weights)].value.data") as? [Double])
        #expect(zip(first, initial).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        #expect(last == drawn)
        #expect(last != first)
        #expect(try browser.evaluate("window.chainrule.data.snapshots[2].gradients['\(weights)'].count") as? Double == 32)

        // The slider, moved by its own keys, replays epoch 0 in the tooltips and the boxes' badges.
        let h1 = try #require(program.graph.layers.firstIndex { $0.name == "h1" })
        let tip = { () throws -> String in
            try browser.moveMouse(to: 2, 2)
            let (x, y) = try self.centre(browser, ".box[data-layer='\(h1)']")
            try browser.moveMouse(to: x, y)
            return try browser.string("document.getElementById('tooltip').innerText")
        }
        let trainedTip = try tip()
        let badges = try browser.string("Array.from(document.querySelectorAll('.epoch-badge')).map(t => t.textContent).join('|')")
        try browser.click(try centre(browser, "#epoch"))
        try browser.evaluate("document.getElementById('epoch').focus()")
        try browser.press("Home", code: 36)
        #expect(try browser.string("document.getElementById('epoch-text').textContent").hasPrefix("epoch 0 · loss "))
        #expect(try tip() != trainedTip)
        #expect(try browser.string("Array.from(document.querySelectorAll('.epoch-badge')).map(t => t.textContent).join('|')") != badges)
        // The loss curve marks the selected epoch at its first point.
        let mark = try #require(try browser.evaluate("[Number(document.querySelector('#loss .mark').getAttribute('cx')), Number(document.querySelector('#loss polyline').getAttribute('points').split(' ')[0].split(',')[0])]") as? [Double])
        #expect(abs(mark[0] - mark[1]) < 0.1)
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }
}
