import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

/// Every sample in its default style, measured on a 16:9 slide: the figure
/// scaled to fill 900×460 pt, and the size of its smallest text there.
enum SlideFitTable {
    struct Row: Sendable {
        var sample: String
        var style: FigureStyle
        var nodes: Int
        var layers: Int
        var fit: SlideFit
    }

    static func row(_ name: String, target: FitTarget = .slide) throws -> Row {
        let (graph, output) = try Samples.load(name)
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: graph)
        options.direction = FigureOptions.defaultDirection(for: options.style)
        options.fit = target
        let svg = GraphFigure.svg(try GraphFigure.layout(graph: graph, output: output, options: options))
        let fit = try #require(SlideFit(svg: svg, target: target), "\(name): no size or no text in its SVG")
        return Row(sample: name, style: options.style, nodes: graph.count, layers: graph.layers.count, fit: fit)
    }

    /// The table as Markdown (`scripts/slide-fit.sh` prints it).
    static func markdown(_ rows: [Row]) -> String {
        var text = "| sample | style | nodes | figure (pt) | smallest font | on the slide |\n| --- | --- | --- | --- | --- | --- |\n"
        for row in rows {
            let size = "\(Int(row.fit.figureSize.width.rounded()))×\(Int(row.fit.figureSize.height.rounded()))"
            text += "| \(row.sample) | \(row.style) | \(row.nodes) | \(size) | \(formatNumber(row.fit.smallestFont)) | "
                + String(format: "%.1f pt", row.fit.textSize) + " |\n"
        }
        return text
    }
}

@Suite("Slide fit: figures read from the back row on a 16:9 slide")
struct SlideFitTests {
    @Test("Every sample's smallest text is at least 14 pt on a slide (graphs up to 60 nodes, models up to 20 layers)")
    func everySampleReadsOnASlide() throws {
        let rows = try Samples.names.map { try SlideFitTable.row($0) }
        print(SlideFitTable.markdown(rows))
        for row in rows where row.nodes <= 60 && row.layers <= 20 {
            let check = {
                #expect(row.fit.textSize >= FitTarget.readableTextSize,
                        "\(row.sample) (\(row.style)): \(String(format: "%.1f", row.fit.textSize)) pt on a slide")
            }
            if let reason = Self.notYetReadable[row.sample] {
                withKnownIssue(Comment(rawValue: reason), isIntermittent: true, check)
            } else {
                check()
            }
        }
    }

    /// The samples still below 14 pt, and why (issue 10 stays open for them).
    static let notYetReadable = [
        "flower-filters.grad": "record style, 1177×669 pt (7.6 pt): five boxes of 2×2 grids of 64×96 channels, value and gradient side by side, each panel's range line as wide as its grid; at 14 pt the figure must fit 707×361 pt, less than the boxes' own area with any layout; drawn for a slide by `figure feature-maps`",
    ]

    @Test("The SVG measure and the scene's agree")
    func svgAndSceneAgree() throws {
        let (graph, output) = try Samples.load("lenet.grad")
        var options = FigureOptions()
        options.style = .model
        let laidOut = try GraphFigure.layout(graph: graph, output: output, options: options)
        let fromSVG = try #require(SlideFit(svg: GraphFigure.svg(laidOut), target: .slide))
        let fromScene = SlideFit(laidOut, target: .slide)
        #expect(abs(fromSVG.textSize - fromScene.textSize) < 0.05)
        #expect(abs(fromSVG.figureSize.width - laidOut.size.width) < 0.01)
    }

    @Test("A tall strip of 11 pt text shrinks on a slide; a small figure grows")
    func theMeasureScalesBothWays() {
        let strip = SlideFit(figureSize: Size(412, 3120), smallestFont: 11, target: .slide)
        #expect(abs(strip.textSize - 11 * 460 / 3120) < 1e-9)
        #expect(!strip.isReadable)
        let small = SlideFit(figureSize: Size(300, 150), smallestFont: 12, target: .slide)
        #expect(abs(small.textSize - 36) < 1e-9)
    }

    @Test("--fit takes slide, 16:9, 4:3 and WxH in points")
    func parsesTargets() {
        #expect((try? FitTarget(validating: "slide")) == .slide)
        #expect((try? FitTarget(validating: "16:9")) == .slide)
        #expect((try? FitTarget(validating: "4:3")) == .fourByThree)
        #expect((try? FitTarget(validating: "800x450")) == FitTarget(width: 800, height: 450))
        #expect((try? FitTarget(validating: "wide")) == nil)
        #expect((try? FitTarget(validating: "0x450")) == nil)
        #expect((try? FitTarget(validating: "800x")) == nil)
    }

    @Test("--fit sides are 100…5000 pt for graph targets and chart pages alike, refused with one message")
    func oneRange() {
        let tooWide = FigureError.invalidOption("--fit 6000x500: each side must be between 100 and 5000 points")
        #expect(throws: tooWide) { try FitTarget(validating: "6000x500") }
        #expect(throws: tooWide) { try ChartPage(parsing: "6000x500") }
        #expect((try? FitTarget(validating: "60x60")) == nil && (try? FitTarget(validating: "100x5000")) == FitTarget(width: 100, height: 5000))
        #expect(throws: FigureError.invalidOption("--fit takes slide (16:9), 4:3 or WxH in points such as 1200x600, got 'wide'")) {
            try FitTarget(validating: "wide")
        }
    }

    /// The CS231n circuit with `title`, laid out for a slide.
    func circuit(title: String?) throws -> LaidOutScene {
        let (graph, output) = try Samples.load("cs231n-circuit.grad")
        var options = FigureOptions()
        options.title = title
        return try GraphFigure.layout(graph: graph, output: output, options: options)
    }

    @Test("A long title adds lines, not width: the circuit still reads at 14 pt on a slide, and a word longer than the figure is broken")
    func longTitle() throws {
        let plain = try circuit(title: nil)
        let sentence = "The CS231n circuit f = (x + y) · z with its forward values in green above each wire and its gradients in red below, by backpropagation"
        let url = "https://cs231n.github.io/optimization-2/#backprop-in-practice-staged-computation-and-the-sigmoid-example"
        for title in [sentence, url] {
            let titled = try circuit(title: title)
            let block = try #require(titled.scene.titleBlock)
            #expect(block.texts.count > 1, "broken into lines")
            #expect(block.texts.joined(separator: title == url ? "" : " ") == title)
            let frame = try #require(titled.titleFrame)
            #expect(frame.maxX <= titled.size.width - titled.scene.theme.margin + 1e-9)
            // No wider than the slide's shape allows at the figure's height and one line more: the height bounds the fit.
            let line = TextMeasurer(theme: titled.scene.theme).lineMetrics(FigureTitle.style(theme: titled.scene.theme, bodySize: 12)).height
            #expect(titled.size.width <= max(plain.size.width, (titled.size.height + line + 2) * 900 / 460) + 1e-9)
            #expect(SlideFit(titled, target: .slide).isReadable)
            #expect(SlideFit(svg: GraphFigure.svg(titled), target: .slide)?.isReadable == true)
        }
    }

    /// LeNet laid out for `target` in the model style.
    func lenet(_ target: FitTarget, direction: Direction = .LR) throws -> LaidOutScene {
        let (graph, output) = try Samples.load("lenet.grad")
        var options = FigureOptions()
        options.style = .model
        options.direction = direction
        options.fit = target
        return try GraphFigure.layout(graph: graph, output: output, options: options)
    }

    @Test("LeNet wraps into rows that fill a slide, boxes apart and inside the figure", arguments: [Direction.LR, .TB])
    func lenetWrapsIntoRows(_ direction: Direction) throws {
        let laidOut = try lenet(.slide, direction: direction)
        let frames = laidOut.nodes.map(\.frame)
        for (i, a) in frames.enumerated() {
            #expect(Rect(x: 0, y: 0, width: laidOut.size.width, height: laidOut.size.height).contains(a))
            for b in frames[(i + 1)...] { #expect(!a.overlaps(b)) }
        }
        // Every edge ends at its target box's outline (the arrow tip touches it).
        let byKey = Dictionary(uniqueKeysWithValues: laidOut.nodes.map { ($0.node.key, $0.frame) })
        for edge in laidOut.edges {
            let tip = try #require(edge.arrowTip ?? edge.points.last)
            let target = try #require(byKey[edge.edge.to])
            let grown = Rect(x: target.x - 3, y: target.y - 3, width: target.width + 6, height: target.height + 6)
            #expect(grown.contains(Rect(x: tip.x, y: tip.y, width: 0, height: 0)))
        }
        #expect(SlideFit(laidOut, target: .slide).textSize >= FitTarget.readableTextSize)
    }

    @Test("A portrait target wraps into a taller figure than a 16:9 one")
    func portraitIsTaller() throws {
        let wide = try lenet(.slide).size, narrow = try lenet(FitTarget(width: 400, height: 700)).size
        #expect(narrow.width / narrow.height < wide.width / wide.height)
    }
}
