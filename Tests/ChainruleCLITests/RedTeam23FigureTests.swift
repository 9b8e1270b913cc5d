import Foundation
import Testing

/// Session 23's red team of `chainrule figure NAME`, through the built binary:
/// hostile numbers, options a figure does not read, programs and logs the
/// figures drew wrong. Each exits 2 with the reason, or draws what is right.
@Suite("Red team 23: the lecture figures", .serialized)
struct RedTeam23FigureTests {
    func check(_ hostile: HostileCase) throws { try hostile.expectHandled() }

    static func log(_ text: String) -> [String: HostileEntry] { ["log.csv": .text(text)] }

    /// Before: each hung (killed after 20 s): a span past the largest Double made the tick step 1
    /// and the ticks a stride of 10³⁰⁸ steps; subnormal ticks all rounded to 0, and the loop that
    /// thins the y labels never ended on two ticks at one height.
    static let hangs: [HostileCase] = [
        HostileCase(description: "softmax of 1e308 and -1e308 is refused: the scores' span is past a Double",
                    arguments: ["figure", "softmax", "--logits", "1e308,-1e308", "-o", "s.png"],
                    expect: .refuses("the axis 's' cannot place values from -1e+308 to 1e+308"), seconds: 20),
        HostileCase(description: "softmax of a subnormal score draws",
                    arguments: ["figure", "softmax", "--logits", "1e-320,0", "-o", "s.png"],
                    expect: .succeeds(writes: ["s.png"]), seconds: 20),
        HostileCase(description: "a log of ±1.7e308 is refused",
                    arguments: ["figure", "loss-curve", "--log", "log.csv", "-o", "l.png"], inputs: log("epoch,loss\n1,1.7e308\n2,-1.7e308\n"),
                    expect: .refuses("the axis 'loss' cannot place values"), seconds: 20),
        HostileCase(description: "a log of a subnormal loss draws",
                    arguments: ["figure", "loss-curve", "--log", "log.csv", "-o", "l.png"], inputs: log("epoch,loss\n1,1e-320\n2,0\n"),
                    expect: .succeeds(writes: ["l.png"]), seconds: 20),
    ]

    @Test("numbers at the ends of a Double neither hang a chart nor misplace it", arguments: hangs)
    func hang(_ hostile: HostileCase) throws { try check(hostile) }

    /// Before: each was accepted and dropped, the figure drawn as without it (exit 0;
    /// feature-maps, whose image is missing here, went on to refuse the image instead).
    static let ignoredOptions: [HostileCase] = [
        HostileCase(description: "--at without a program", arguments: ["figure", "softmax", "--at", "x=1", "-o", "s.png"],
                    expect: .refuses("--at applies to a program (FILE or -e EXPR); the figure softmax reads no program")),
        HostileCase(description: "--data without a program", arguments: ["figure", "pooling", "--data", "moons", "-o", "p.png"],
                    expect: .refuses("--data applies to a program")),
        HostileCase(description: "--batch for a neuron of numbers", arguments: ["figure", "neuron", "--batch", "5", "-o", "n.png"],
                    expect: .refuses("--batch applies to a program (FILE or -e EXPR); the figure neuron is drawn from its numbers here")),
        HostileCase(description: "--max-elements without a program", arguments: ["figure", "relu", "--max-elements", "5", "-o", "r.png"],
                    expect: .refuses("--max-elements applies to a program")),
        HostileCase(description: "--list with a name", arguments: ["figure", "--list", "softmax"],
                    expect: .refuses("--list prints the figures and draws none: give it alone, without a figure's name")),
        HostileCase(description: "--list with -o and --logits", arguments: ["figure", "--list", "-o", "x.png", "--logits", "1,2"],
                    expect: .refuses("without -o, --logits")),
        HostileCase(description: "--scale for an SVG", arguments: ["figure", "pooling", "-o", "p.svg", "--scale", "3"],
                    expect: .refuses("--scale sets a PNG's pixels per point; 'p.svg' is drawn in vectors")),
        HostileCase(description: "--scale for lr-schedules as PDF", arguments: ["figure", "lr-schedules", "-o", "l.pdf", "--scale", "4"],
                    expect: .refuses("--scale sets a PNG's pixels per point; 'l.pdf'")),
        HostileCase(description: "--frame-count without --frames", arguments: ["figure", "optimizers", "--frame-count", "5", "-o", "o.png"],
                    expect: .refuses("--frame-count sets how many frames --frames draws")),
        HostileCase(description: "--frames named like an SVG", arguments: ["figure", "optimizers", "--frames", "o.svg"],
                    expect: .refuses("--frames takes a FOLDER (frame-000.png, frame-001.png, …) or FILE.pdf (one page a frame), not 'o.svg'")),
        HostileCase(description: "--batch for feature-maps", arguments: ["figure", "feature-maps", "-e", "x = data(3, 4, 4)\nc = relu(Conv2D(x, filters: 2, kernel: 3))",
                                                                         "--layer", "c", "--image", "i.png", "--batch", "4", "-o", "f.png"],
                    expect: .refuses("feature-maps runs the one image of --image: give no --batch")),
        // Before: --batch 100, the default's own value, passed as if not given.
        HostileCase(description: "--batch 100 for feature-maps", arguments: ["figure", "feature-maps", "-e", "x = data(3, 4, 4)\nc = relu(Conv2D(x, filters: 2, kernel: 3))",
                                                                             "--layer", "c", "--image", "i.png", "--batch", "100", "-o", "f.png"],
                    expect: .refuses("feature-maps runs the one image of --image: give no --batch")),
    ]

    @Test("an option the figure does not read is refused, naming why", arguments: ignoredOptions)
    func ignoredOption(_ hostile: HostileCase) throws { try check(hostile) }

    static let twoBranches = "x = randn(1, 2, seed: 1)\na = Linear(x, 3)\nb = Linear(x, 5)\ny = sum(a) + sum(b)\n"

    /// Before: noted in each case.
    static let wrongDrawings: [HostileCase] = [
        // Before: exit 0, z = inf and a = sigmoid(inf) = 1.00 drawn.
        HostileCase(description: "a neuron whose z overflows", arguments: ["figure", "neuron", "--inputs", "1e308,1e308", "--weights", "10,10", "-o", "n.png"],
                    expect: .refuses("z = Σ wᵢxᵢ + b overflows a Float64")),
        // Before: exit 0, a = inf drawn.
        HostileCase(description: "a neuron whose output overflows", arguments: ["figure", "neuron", "--activation", "exp", "--inputs", "1000", "--weights", "1", "-o", "n.png"],
                    expect: .refuses("a = exp(1000) is inf")),
        // Before: exit 2, "unknown activation 'identity'", though identity is what a layer without an activation gets.
        HostileCase(description: "a neuron of a program whose linear layer has no activation",
                    arguments: ["figure", "neuron", "-e", "x = [1, 2]\nW = [[1, 2]]\ny = linear(x, W)", "-o", "n.png"],
                    expect: .succeeds(writes: ["n.png"])),
        // Before: exit 2, "unknown activation 'softmax'", an activation nobody asked for.
        HostileCase(description: "a neuron of a program whose linear layer feeds softmax",
                    arguments: ["figure", "neuron", "-e", "x = [1, 2]\nW = [[1, 2]]\ny = softmax(linear(x, W))", "-o", "n.png"],
                    expect: .succeeds(writes: ["n.png"])),
        // Before: exit 2 here too.
        HostileCase(description: "--activation identity draws a linear neuron", arguments: ["figure", "neuron", "--activation", "identity", "-o", "n.png"],
                    expect: .succeeds(writes: ["n.png"])),
        // Before: exit 0, drawn as 2 → 3 → 5 with 3×5 connections that no layer has.
        HostileCase(description: "a network of two layers side by side", arguments: ["figure", "network", "net.grad", "-o", "n.png"],
                    inputs: ["net.grad": .text(twoBranches)],
                    expect: .refuses("the linear layer b (2 inputs) does not read the layer before it, a (3 outputs)")),
        // Before: exit 0, thirty columns whose labels ran into one another.
        HostileCase(description: "a network of 30 layers", arguments: ["figure", "network", "deep.grad", "-o", "n.png"],
                    inputs: ["deep.grad": .text((["x = randn(1, 2, seed: 1)", "h0 = x"] + (1...30).map { "h\($0) = relu(Linear(h\($0 - 1), 4))" } + ["y = sum(h30)"]).joined(separator: "\n"))],
                    expect: .refuses("deep.grad has 30 linear layers; network draws at most 8")),
        // Before: exit 0, 30,000 cells drawn per class (and 3×1000×1000 pictures ran past a minute).
        HostileCase(description: "templates of 3×100×100 pictures", arguments: ["figure", "templates", "-e", "x = randn(1, 30000)\ns = Linear(x, 2)\ny = sum(s)", "-o", "t.png"],
                    expect: .refuses("templates draws pictures of at most 96×96")),
        // Before: exit 2 with conv2d's "(1000000 − 3 + 2·1)/2 + 1 = 500000 is not a whole number".
        HostileCase(description: "a conv input of a million", arguments: ["figure", "conv-arithmetic", "--input", "1000000", "-o", "c.png"],
                    expect: .refuses("the padded input 1000000 + 2·1 is more cells than the figure draws (at most 24)", never: "500000 is not")),
        // Before: exit 2 with conv2d's "pad 1 is too large: the padded input width would overflow".
        HostileCase(description: "a conv input of Int.max", arguments: ["figure", "conv-arithmetic", "--input", "9223372036854775807", "-o", "c.png"],
                    expect: .refuses("is more cells than the figure draws", never: "pad 1 is too large")),
        // Before: exit 0, an empty frame.
        HostileCase(description: "a log of nothing but empty cells", arguments: ["figure", "loss-curve", "--log", "log.csv", "-o", "l.png"],
                    inputs: log("epoch,loss\n1,\n2,\n"), expect: .refuses("log.csv: no finite number in loss to draw")),
        // Before: exit 0, a legend of 500 entries running off the page.
        HostileCase(description: "a log of 500 loss columns", arguments: ["figure", "loss-curve", "--log", "log.csv", "-o", "l.png"],
                    inputs: log((["epoch," + (0..<500).map { "loss\($0)" }.joined(separator: ",")] + (0..<3).map { r in "\(r)," + (0..<500).map { "\($0 + r + 1)" }.joined(separator: ",") }).joined(separator: "\n") + "\n"),
                    expect: .refuses("500 loss columns (loss0, loss1, loss2, loss3, …); loss-curve draws at most 12 curves in a panel")),
        // Before: killed at its time bound: Cairo's read of the image waited on the pipe for ever.
        HostileCase(description: "feature-maps of an image that is a FIFO",
                    arguments: ["figure", "feature-maps", "-e", "x = data(3, 8, 8)\nc = relu(Conv2D(x, filters: 2, kernel: 3))", "--layer", "c", "--image", "i.png", "-o", "f.png"],
                    inputs: ["i.png": .fifo], expect: .refuses("cannot read i.png as a PNG image: it is not a regular file"), seconds: 20),
        // Before: "'1;2' in column epoch;loss is not a number", no word of the separator.
        HostileCase(description: "a log separated by semicolons", arguments: ["figure", "loss-curve", "--log", "log.csv", "-o", "l.png"],
                    inputs: log("epoch;loss\n1;2\n2;1\n"), expect: .refuses("(fields are separated by commas, not ';')")),
    ]

    @Test("what a figure would draw wrong is refused, what it drew as wrong is drawn", arguments: wrongDrawings)
    func wrongDrawing(_ hostile: HostileCase) throws { try check(hostile) }

    /// The SVG `arguments` write to `figure.svg` in a new folder, with `files` beside it.
    func svg(_ arguments: [String], files: [String: String] = [:]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam23-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: false, encoding: .utf8) }
        let path = folder.appendingPathComponent("figure.svg").path
        let run = try CLIRun(["figure"] + arguments.map { $0.replacingOccurrences(of: "FOLDER", with: folder.path) } + ["-o", path])
        #expect(run.status == 0, "\(run.stderr)")
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The texts of an SVG, in order.
    func texts(_ svg: String) -> [String] {
        svg.components(separatedBy: "<text").dropFirst().compactMap { $0.split(separator: ">", maxSplits: 1).last?.components(separatedBy: "</text").first }
    }

    /// Before: e¹⁰⁰⁰ overflowed: the label's bar was missing from the middle panel and it read "÷ Σeˢ = inf".
    @Test func softmaxOfAThousandDrawsTheShiftedExponentials() throws {
        let drawn = texts(try svg(["softmax", "--logits", "1000,0,1"]))
        #expect(drawn.contains { $0.contains("e^(s − 1000)") }, "\(drawn)")
        #expect(drawn.contains { $0.contains("Σe^(s − 1000) = 1") }, "\(drawn)")
        #expect(!drawn.contains { $0.contains("inf") || $0.contains("NaN") }, "\(drawn)")
    }

    /// Before: scores of −1000 and −1001 drew two bars of e^s = 0 and "÷ Σeˢ = 0".
    @Test func softmaxOfMinusAThousandDrawsTheShiftedExponentials() throws {
        let drawn = texts(try svg(["softmax", "--logits", "-1000,-1001"]))
        #expect(drawn.contains { $0.contains("e^(s + 1000)") }, "\(drawn)")
        #expect(drawn.contains("0.368"), "\(drawn)")
        #expect(!drawn.contains { $0.hasPrefix("÷ Σeˢ = 0") }, "\(drawn)")
    }

    /// Before: twelve classes' bar labels ("0.632", "0.233", … "0.000") overprinted one another in every panel;
    /// now a panel whose labels do not fit over their bars writes none (its y axis reads the heights).
    @Test func barLabelsThatWouldOverprintAreLeftOut() throws {
        let drawn = texts(try svg(["softmax", "--logits", "1,2,3,4,5,6,7,8,9,10,11,12"]))
        #expect(!drawn.contains("0.632") && !drawn.contains("0.000"), "\(drawn)")
        let three = texts(try svg(["softmax"]))
        #expect(three.contains("0.869") && three.contains("164"), "\(three)")
    }

    /// Before: a log of one row drew an empty frame (a line of one point is nothing) titled "1 rows".
    @Test func aLogOfOneRowDrawsItsPoint() throws {
        let svg = try svg(["loss-curve", "--log", "FOLDER/log.csv"], files: ["log.csv": "epoch,loss\n1,0.5\n"])
        #expect(texts(svg).contains("Training log log.csv: 1 row"), "\(texts(svg))")
        #expect(svg.contains("<circle"), "no dot for the one point")
    }

    /// Before: an infinite loss was kept as a point no axis could place, and the line of the other points vanished with it, unsaid.
    @Test func anInfiniteLossIsCountedNotDrawn() throws {
        let svg = try svg(["loss-curve", "--log", "FOLDER/log.csv"], files: ["log.csv": "epoch,loss\n1,inf\n2,1\n3,0.5\n"])
        #expect(texts(svg).contains("loss (1 infinite, not drawn)"), "\(texts(svg))")
    }

    /// Before: the line break was drawn as a missing glyph inside one line, "a\nb c" (the tab another).
    @Test func aLineBreakInATitleStartsALine() throws {
        let drawn = texts(try svg(["pooling", "--title", "a\nb\tc"]))
        #expect(drawn.prefix(2) == ["a", "b c"], "\(drawn.prefix(3))")
    }

    /// Before: a 24×24 output grid put its formula over the line below the input grid.
    @Test func theConvolutionFormulaClearsTheLastLine() throws {
        let svg = try svg(["conv-arithmetic", "--input", "24", "--kernel", "1", "--stride", "1", "--pad", "0"])
        func baseline(_ prefix: String) -> Double? {
            guard let text = svg.components(separatedBy: "<text").first(where: { $0.contains(">" + prefix) }),
                  let y = text.components(separatedBy: "y=\"").dropFirst().first?.split(separator: "\"").first else { return nil }
            return Double(y)
        }
        let formula = try #require(baseline("= (24 − 1 + 2·0)/1 + 1 = 24")), last = try #require(baseline("N = 24, F = 1"))
        #expect(last - formula > 20, "the formula at y \(formula), the last line at \(last)")
    }
}
