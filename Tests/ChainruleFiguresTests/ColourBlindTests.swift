import ChainruleCheck
import ChainruleCore
@testable import ChainruleFigures
import Foundation
import Testing

/// Deuteranopia as Machado, Oliveira and Fernandes (2009) simulate it
/// (severity 1), on linear RGB, and CIELAB distances to compare the result.
enum Deuteranopia {
    static let matrix: [[Double]] = [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]

    static func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
    static func encoded(_ c: Double) -> Double {
        let c = min(max(c, 0), 1)
        return c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1 / 2.4) - 0.055
    }

    /// What a deuteranope sees of `color`.
    static func simulate(_ color: RGB) -> RGB {
        let l = [linear(color.red), linear(color.green), linear(color.blue)]
        let s = matrix.map { row in zip(row, l).reduce(0) { $0 + $1.0 * $1.1 } }
        return RGB(encoded(s[0]), encoded(s[1]), encoded(s[2]))
    }

    /// CIELAB (D65) of an sRGB colour.
    static func lab(_ color: RGB) -> (Double, Double, Double) {
        let r = linear(color.red), g = linear(color.green), b = linear(color.blue)
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116 }
        return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))
    }

    /// The CIE76 distance ΔE between two colours.
    static func distance(_ a: RGB, _ b: RGB) -> Double {
        let p = lab(a), q = lab(b)
        return ((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1) + (p.2 - q.2) * (p.2 - q.2)).squareRoot()
    }

    /// How many of `classes` a deuteranope finds in `image`: a class counts
    /// when at least `minimum` pixels, simulated, lie within ΔE 6 of the
    /// class colour (simulated) and at least ΔE 12 from every other class,
    /// so that they could only be that class.
    static func distinctClasses(in image: RasterImage, _ classes: [RGB], minimum: Int = 40) -> Int {
        let targets = classes.map(simulate)
        var counts = [Int](repeating: 0, count: classes.count)
        var seen: [RGB: RGB] = [:]
        for pixel in image.pixels {
            // Only coloured pixels: greys (text, lines, white) are no class.
            guard max(pixel.red, pixel.green, pixel.blue) - min(pixel.red, pixel.green, pixel.blue) > 0.12 else { continue }
            let simulated = seen[pixel] ?? simulate(pixel)
            seen[pixel] = simulated
            let distances = targets.map { distance(simulated, $0) }
            guard let nearest = distances.indices.min(by: { distances[$0] < distances[$1] }), distances[nearest] < 6 else { continue }
            if distances.indices.allSatisfy({ $0 == nearest || distances[$0] >= 12 }) { counts[nearest] += 1 }
        }
        return counts.filter { $0 >= minimum }.count
    }
}

@Suite("Colour that does not rely on colour: a deuteranope tells the classes apart")
struct ColourBlindTests {
    @Test("The simulation merges CS231n's classic green and red, and keeps black and white apart")
    func simulationWorks() {
        let classicGreen = RGB(hex: 0x1B7F1B), classicRed = RGB(hex: 0xC8102E)
        #expect(Deuteranopia.distance(Deuteranopia.simulate(classicGreen), Deuteranopia.simulate(classicRed)) < 6)
        #expect(Deuteranopia.distance(Deuteranopia.simulate(.black), Deuteranopia.simulate(.white)) > 99)
    }

    @Test("Values, gradients and local derivatives; pass, kink and fail: ΔE ≥ 20 apart when simulated", arguments: Palette.allCases)
    func themeSeparates(_ palette: Palette) {
        let theme = Theme(palette: palette)
        for group in [[theme.value, theme.gradient, theme.local], [theme.checkGood, theme.checkKink, theme.checkFailed]] {
            for i in group.indices {
                for j in group.indices where j > i {
                    let d = Deuteranopia.distance(Deuteranopia.simulate(group[i]), Deuteranopia.simulate(group[j]))
                    #expect(d >= 20, "\(group[i].hexString) and \(group[j].hexString) are ΔE \(d) apart to a deuteranope")
                }
            }
        }
    }

    @Test("In the colour-blind palette fail and kink are different colours")
    func failAndKinkDiffer() {
        let theme = Theme(palette: .colorblind)
        #expect(theme.checkKink != theme.checkFailed)
        #expect(theme.checkKink != theme.checkWarning)
    }

    @Test("The rendered circuit: value, gradient and local text are three classes to a deuteranope", arguments: Palette.allCases)
    func circuitPNG(_ palette: Palette) throws {
        let (graph, output) = try #require(FigureExamples.named("sigmoid"))
        var options = FigureOptions()
        options.palette = palette
        options.labels = [.value, .local, .grad]
        let theme = Theme(palette: palette)
        let image = try render(graph, output, options)
        #expect(Deuteranopia.distinctClasses(in: image, [theme.value, theme.gradient, theme.local]) == 3)
    }

    @Test("The rendered check overlay: pass, kink and fail are three classes to a deuteranope", arguments: Palette.allCases)
    func overlayPNG(_ palette: Palette) throws {
        let g = Graph()
        let x = g.input("x", 1.5)
        let wrong = g.build(WrongSquare(), [x]).named("sq")
        let kink = relu(g.input("k", 0)).named("r")
        let y = (wrong * 2 + kink).named("y")
        try g.backward(y)
        var options = FigureOptions()
        options.palette = palette
        options.check = try GradientCheck.graph(g, output: y.id)
        #expect(options.check?.node(wrong.id)?.status == .fail)
        #expect(options.check?.node(kink.id)?.status == .kink)
        let theme = Theme(palette: palette)
        let image = try render(g, y.id, options)
        #expect(Deuteranopia.distinctClasses(in: image, [theme.checkGood, theme.checkKink, theme.checkFailed]) == 3)
    }

    func render(_ graph: Graph, _ output: NodeID, _ options: FigureOptions) throws -> RasterImage {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("figure.png").path
        try GraphFigure.write(graph: graph, output: output, options: options, to: path)
        return try #require(RasterImage(pngFile: path))
    }
}
