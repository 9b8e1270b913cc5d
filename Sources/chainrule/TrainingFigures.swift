import ArgumentParser
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import ChainruleTraining
import Foundation

/// `chainrule figure optimizers`: the six optimizers' paths on a loss surface.
struct OptimizersFigure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimizers",
        abstract: "Contours of a loss surface with the paths of the six optimizers (or some) from one start, final losses in the legend.",
        discussion: """
            Surfaces: \(OptimizerSurface.Builtin.allCases.map(\.rawValue).joined(separator: ", ")), or a .grad program whose \
            first two scalar leaves are the coordinates (their values are the start) and whose output is the loss.
            Examples:
              chainrule figure optimizers -o optimizers.png
              chainrule figure optimizers --surface saddle -o saddle.svg
              chainrule figure optimizers --surface beale --frames beale.pdf
              chainrule figure optimizers --surface my-loss.grad --steps 200 --lr 0.05 -o mine.pdf
              chainrule figure optimizers --optimizers sgd,momentum -o gd-momentum.png   # the same as figure loss-surface
            """)

    @Option(help: "rosenbrock, beale, saddle, bowl, or FILE.grad.")
    var surface = "rosenbrock"

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf).")
    var output: String?

    @Option(help: "Also (or instead of -o) the paths growing: FOLDER for frame-000.png, frame-001.png, …, or FILE.pdf, one page a frame.")
    var frames: String?

    @Option(name: .customLong("frame-count"), parsing: .unconditional, help: "How many frames --frames draws (default 20).")
    var frameCountOption: Int?

    var frameCount: Int { frameCountOption ?? 20 }

    @Option(parsing: .unconditional, help: "Steps of each optimizer (default: the surface's own).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "One learning rate for every optimizer (default: one tuned per surface; torch's defaults for a FILE).", transform: OptionNumber.read)
    var lr: Double?

    @Option(help: "The optimizers drawn, comma-separated, as sgd,momentum (default: all six).")
    var optimizers: String?

    @OptionGroup var page: PageOption

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(parsing: .unconditional, help: "PNG pixels per point (default 2 = 144 DPI); a PNG's only.", transform: OptionNumber.read)
    var scale: Double?

    /// The optimizers of `--optimizers`, in the order given.
    func kinds() throws -> [OptimizerKind] {
        guard let optimizers else { return OptimizerKind.allCases }
        var kinds: [OptimizerKind] = []
        for name in optimizers.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let kind = OptimizerKind(rawValue: name) else {
                throw ValidationError("--optimizers: unknown optimizer '\(name)'; the optimizers are \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }

    func validate() throws {
        _ = try kinds()
        if let steps, steps < 1 || steps > 100_000 { throw ValidationError("--steps must be from 1 to 100,000, got \(steps)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if OptimizerSurface.Builtin(rawValue: surface) == nil && !surface.hasSuffix(".grad") {
            throw ValidationError("unknown surface '\(surface)': use \(OptimizerSurface.Builtin.allCases.map(\.rawValue).joined(separator: ", ")) or a FILE.grad")
        }
        if output == nil && frames == nil { throw ValidationError("give the output file with -o OUT.png (or .svg, .pdf), or --frames FOLDER|FILE.pdf") }
        if let output { do { try LectureDrawing.checkFormat(of: output) } catch { throw ValidationError(error.description) } }
        if let frames, ["png", "svg", "html", "jpg", "gif"].contains((frames as NSString).pathExtension.lowercased()) {
            throw ValidationError("--frames takes a FOLDER (frame-000.png, frame-001.png, …) or FILE.pdf (one page a frame), not '\(frames)'")
        }
        if frames == nil && frameCountGiven { throw ValidationError("--frame-count sets how many frames --frames draws: give --frames FOLDER|FILE.pdf, or no --frame-count") }
        if frameCount < 2 || frameCount > 1000 { throw ValidationError("--frame-count must be from 2 to 1,000, got \(frameCount)") }
        let framesArePNG = frames.map { !$0.lowercased().hasSuffix(".pdf") } ?? false
        try RasterScale.check(scale, drawsPNG: output.map(RasterScale.isPNG) == true || framesArePNG,
                              outputs: [output, frames].compactMap { $0 }.map { "'\($0)'" }.joined(separator: " and "))
    }

    /// Whether --frame-count was given (its default is 20).
    private var frameCountGiven: Bool { frameCountOption != nil }

    func run() throws {
        var chosen = try OptimizerSurface.Builtin(rawValue: surface).map(OptimizerSurface.builtin) ?? programSurface()
        if let steps { chosen.steps = steps }
        if let lr { chosen.learningRates = Dictionary(uniqueKeysWithValues: OptimizerKind.allCases.map { ($0, lr) }) }
        if OptimizerSurface.Builtin(rawValue: surface) == nil { fitView(&chosen) }
        if let output {
            try FigureFailure.wording { try TrainingPlots.optimizerPaths(chosen, kinds: try kinds(), palette: palette, fit: try page.page).write(to: output, scale: scale ?? RasterScale.standard) }
        }
        if let frames {
            let figures = TrainingPlots.optimizerFrames(chosen, kinds: try kinds(), frames: frameCount, palette: palette, fit: try page.page)
            try FigureFailure.wording { try TrainingPlots.writeFrames(figures, to: frames, scale: scale ?? RasterScale.standard) }
        }
    }

    /// A program's loss over its first two scalar leaves, started at their values.
    private func programSurface() throws -> OptimizerSurface {
        let input = try ProgramInput.parse([surface])
        let program = try input.compile()
        let leaves = program.graph.differentiableLeaves.filter { program.graph[$0].shape.isEmpty }
        guard leaves.count >= 2 else {
            throw ProgramError(description: "error: \(surface): a surface needs two scalar leaves (as x = -1 and y = 2), the program has \(leaves.count)")
        }
        guard program.graph[program.output].shape.isEmpty else {
            throw ProgramError(description: "error: \(surface): the output \(program.outputName) must be a scalar loss, it has shape \(describeShape(program.graph[program.output].shape))")
        }
        let start = Point(program.graph[leaves[0]].value!.scalar, program.graph[leaves[1]].value!.scalar)
        return OptimizerSurface(name: URL(fileURLWithPath: surface).lastPathComponent, graph: program.graph, x: leaves[0], y: leaves[1],
                                loss: program.output, start: start, xRange: (start.x - 2)...(start.x + 2), yRange: (start.y - 2)...(start.y + 2))
    }

    /// Frames a program's surface around the start and every path.
    private func fitView(_ surface: inout OptimizerSurface) {
        let points = [surface.start] + ((try? kinds()) ?? OptimizerKind.allCases).flatMap { surface.path($0).map(\.point) }
        let xs = points.map(\.x), ys = points.map(\.y)
        let width = Swift.max(xs.max()! - xs.min()!, 1), height = Swift.max(ys.max()! - ys.min()!, 1)
        surface.xRange = (xs.min()! - 0.15 * width)...(xs.max()! + 0.15 * width)
        surface.yRange = (ys.min()! - 0.15 * height)...(ys.max()! + 0.15 * height)
    }
}

/// `chainrule figure lr-schedules`: step, exponential and cosine decay side by side.
struct LearningRateSchedulesFigure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-schedules",
        abstract: "The learning-rate schedules of --decay (step, exp, cosine) side by side.",
        discussion: "Example:\n  chainrule figure lr-schedules -o lr-schedules.png")

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf).")
    var output: String

    @Option(parsing: .unconditional, help: "Epochs shown.")
    var epochs = 60

    @OptionGroup var page: PageOption

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(parsing: .unconditional, help: "PNG pixels per point (default 2 = 144 DPI); a PNG's only.", transform: OptionNumber.read)
    var scale: Double?

    func validate() throws {
        if epochs < 2 || epochs > 10_000 { throw ValidationError("--epochs must be from 2 to 10,000, got \(epochs)") }
        do { try LectureDrawing.checkFormat(of: output) } catch { throw ValidationError(error.description) }
        try RasterScale.check(scale, drawsPNG: RasterScale.isPNG(output), outputs: "'\(output)'")
    }

    func run() throws {
        try FigureFailure.wording { try TrainingPlots.learningRateSchedules(epochs: epochs, palette: palette, fit: try page.page).write(to: output, scale: scale ?? RasterScale.standard) }
    }
}

/// `chainrule figure feature-maps`: a layer's output channels for one image.
struct FeatureMapsFigure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feature-maps",
        abstract: "Run one image through a program and draw each channel of a layer's output in a labelled grid.",
        discussion: """
            The image is read as ToTensor() makes it: 1×3×H×W, channels R, G, B scaled to 0…1 (its grey mean, 1×1×H×W, \
            when the program's data(…) has one channel), and bound to the program's data(…).
            Examples:
              chainrule figure feature-maps samples/flower-filters.grad --layer edges --image samples/flower.png -o maps.png
              chainrule figure feature-maps samples/digits-cnn.grad --layer c1 --image samples/digit-3.png --init-from cnn.safetensors -o c1.png
            """)

    @OptionGroup var program: ProgramInput

    @Option(help: "The binding whose output is drawn (an N×C×H×W tensor, as c1 = relu(Conv2D(…))).")
    var layer: String

    @Option(help: "A PNG image.")
    var image: String

    @Option(name: .shortAndLong, help: "Output file; its extension picks the format (.png, .svg, .pdf).")
    var output: String

    @Option(help: "default, or colorblind (Okabe–Ito colours).")
    var palette: Palette = .default

    @Option(parsing: .unconditional, help: "PNG pixels per point (default 2 = 144 DPI); a PNG's only.", transform: OptionNumber.read)
    var scale: Double?

    func validate() throws {
        if !program.isGiven { throw ValidationError("give the program: a FILE, - for standard input, or -e EXPR") }
        if program.data != nil { throw ValidationError("feature-maps binds --image to the program's data(…): give no --data") }
        if program.givenBatch != nil { throw ValidationError("feature-maps runs the one image of --image: give no --batch") }
        do { try LectureDrawing.checkFormat(of: output) } catch { throw ValidationError(error.description) }
        try RasterScale.check(scale, drawsPNG: RasterScale.isPNG(output), outputs: "'\(output)'")
    }

    func run() throws {
        // The channels the program wants decide colour or grey: compile once with a random batch to read them.
        let probe = try program.compile(batch: nil)
        guard let declared = probe.dataInputs.data?.exampleShape else {
            throw ProgramError(description: "error: the program declares no data(…) input to bind the image to; write x = data(3, H, W)")
        }
        let pixels = try FigureFailure.wording { try FeatureMapFigure.image(pngFile: image, grey: declared.first == 1) }
        let batch = DataBatch(features: pixels, labels: Tensor([0]), origin: "the image \(image) (\(describeShape(pixels.shape)))")
        let compiled = try program.compile(batch: batch)
        try program.applyInitFrom(to: compiled)
        guard let node = compiled.graph.nodes.first(where: { $0.name == layer }) else {
            let named = compiled.graph.nodes.filter { $0.op != nil && $0.shape.count == 4 }.compactMap(\.name)
            throw ProgramError(description: "error: the program has no binding named \(layer); its N×C×H×W bindings are \(named.isEmpty ? "none" : named.joined(separator: ", "))")
        }
        guard node.shape.count == 4, let value = node.value else {
            throw ProgramError(description: "error: \(layer) has shape \(describeShape(node.shape)); feature maps are drawn from an N×C×H×W output")
        }
        let figure = FeatureMapFigure(maps: value, title: "\(layer): \(node.shape[1]) channels of \(node.shape[2])×\(node.shape[3]) for \(URL(fileURLWithPath: image).lastPathComponent)", palette: palette)
        try FigureFailure.wording { try figure.write(to: output, scale: scale ?? RasterScale.standard) }
    }
}
