import ChainruleCore
@testable import ChainruleFigures
import ChainruleLanguage
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A program in samples/ as a figure's program, forward pass done.
func sampleProgram(_ name: String) throws -> FigureProgram {
    let (graph, output) = try Samples.load(name)
    return FigureProgram(graph: graph, output: output, name: name)
}

/// The issue's measure: the smallest `font-size` of an SVG, times the scale that fits
/// the SVG's page (its `width` and `height` in pt) inside a slide's 900 × 460 pt content area.
func slideFitTextSize(svg: String) -> Double? {
    func attribute(_ name: String) -> Double? {
        guard let range = svg.range(of: "\(name)=\"") else { return nil }
        return Double(svg[range.upperBound...].prefix { $0 != "p" && $0 != "\"" })
    }
    guard let width = attribute("width"), let height = attribute("height") else { return nil }
    let sizes = svg.components(separatedBy: "font-size=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
    guard let smallest = sizes.min() else { return nil }
    return smallest * min(900 / width, 460 / height)
}

/// A lecture figure drawn with its defaults; network and templates from samples/mlp.grad and digits-classifier.grad.
func ownDrawing(_ name: String, palette: Palette = .default) throws -> LectureDrawing {
    let figure = try #require(LectureFigures.named(name))
    var request = FigureRequest(palette: palette)
    if figure.needsProgram { request.program = try sampleProgram(name == "network" ? "mlp.grad" : "digits-classifier.grad") }
    return try figure.make(request)
}

@Suite("Lecture diagrams")
struct DiagramTests {
    @Test("every chart and diagram reads at least 14 pt fitted into a 16:9 slide's content area")
    func slideFit() throws {
        var table: [String] = []
        for name in LectureFigures.names {
            let drawing = try ownDrawing(name)
            if case .graph = drawing { continue }
            let size = try #require(slideFitTextSize(svg: try drawing.svg()))
            table.append("\(name) \(String(format: "%.1f", size))")
            #expect(size >= 14 - 1e-9, "\(name): smallest text \(size) pt on the slide")
        }
        print("slide-fit text sizes (pt): " + table.joined(separator: ", "))
    }

    @Test("no two texts of a diagram overlap and none leaves the page", arguments: ["neuron", "conv-arithmetic", "pooling", "network", "templates"])
    func textsApart(name: String) throws {
        for palette in Palette.allCases {
            guard case .diagram(let diagram) = try ownDrawing(name, palette: palette) else {
                Issue.record("\(name) is not a diagram")
                return
            }
            let frames = diagram.textFrames
            for (text, frame, _) in frames {
                #expect(frame.x >= 0 && frame.y >= 0 && frame.maxX <= diagram.size.width && frame.maxY <= diagram.size.height, "\(name): '\(text)' leaves the page")
            }
            for i in frames.indices {
                for j in frames.indices where j > i {
                    #expect(!frames[i].frame.overlaps(frames[j].frame), "\(name): '\(frames[i].text)' overlaps '\(frames[j].text)'")
                }
            }
        }
    }

    @Test("a neuron of eight inputs keeps its texts apart")
    func wideNeuron() throws {
        let n = NeuronNumbers(inputs: (1...8).map(Double.init), weights: [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], bias: 0, activation: "tanh", source: nil)
        let frames = try Diagrams.neuron(n).textFrames
        for i in frames.indices {
            for j in frames.indices where j > i {
                #expect(!frames[i].frame.overlaps(frames[j].frame), "'\(frames[i].text)' overlaps '\(frames[j].text)'")
            }
        }
    }

    @Test("every diagram renders to PNG, SVG and PDF", arguments: ["neuron", "conv-arithmetic", "pooling", "network", "templates"])
    func renders(name: String) throws {
        let drawing = try ownDrawing(name)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for format in ["png", "svg", "pdf"] {
            try drawing.write(to: folder.appendingPathComponent("\(name).\(format)").path, scale: 1)
        }
        let png = try #require(pngSize(try Data(contentsOf: folder.appendingPathComponent("\(name).png"))))
        #expect(png.width == 960 && png.height == 540)
        #expect(try Data(contentsOf: folder.appendingPathComponent("\(name).pdf")).prefix(5) == Data("%PDF-".utf8))
        #expect(XMLParser(data: try Data(contentsOf: folder.appendingPathComponent("\(name).svg"))).parse())
    }

    @Test("--fit 4:3 draws a 720 × 540 page; a wider page keeps the drawing centred on it")
    func fits() throws {
        let drawing = try #require(LectureFigures.named("pooling")).make(.default).with(title: nil, fit: .fourThree)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("pooling.png").path
        try drawing.write(to: path, scale: 1)
        let size = try #require(pngSize(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(size.width == 720 && size.height == 540)
        #expect(try ChartPage(parsing: "1200x600") == .points(Size(1200, 600)))
        #expect(throws: FigureError.self) { try ChartPage(parsing: "wide") }
    }

    // MARK: Numbers

    @Test("conv-arithmetic: 7, 3, stride 2, pad 1 gives 4 by conv2d's rule, and the figure says so")
    func convolution() throws {
        let c = try ConvolutionArithmetic(input: 7, kernel: 3, stride: 2, pad: 1)
        #expect(c.output == 4)
        let texts = Diagrams.convolutionArithmetic(c).texts
        #expect(texts.contains("= (7 − 3 + 2·1)/2 + 1 = 4"))
        #expect(texts.contains("output 4×4"))
        #expect(try ConvolutionArithmetic(input: 10, kernel: 5, stride: 1, pad: 2).output == 10)
    }

    @Test("conv-arithmetic refuses a size that is not whole, naming the numbers")
    func convolutionRefused() {
        #expect(throws: FigureError.invalidOption("conv-arithmetic: output width (7 − 4 + 2·0)/2 + 1 = 2.5 is not a whole number; choose stride and padding so that it is")) {
            try ConvolutionArithmetic(input: 7, kernel: 4, stride: 2, pad: 0)
        }
        #expect(throws: FigureError.self) { try ConvolutionArithmetic(input: 7, kernel: 3, stride: 0, pad: 0) }
        #expect(throws: FigureError.self) { try ConvolutionArithmetic(input: 3, kernel: 5, stride: 1, pad: 0) }
    }

    @Test("pooling: the maxima 6, 8, 3, 4, the means, and each rule's routing of the gradient")
    func pooling() {
        let n = Diagrams.poolingNumbers()
        #expect(n.max == [6, 8, 3, 4])
        #expect(n.average == [3.25, 5.25, 2, 2])
        // Max: the whole upstream gradient to the winning cell of each window, 0 elsewhere.
        #expect(n.maxGradient == [0, 0, 0, 0, 0, 1, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4])
        // Average: a quarter of it to each of the window's four cells.
        #expect(n.averageGradient == [0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1])
        let texts = Diagrams.pooling().texts
        #expect(texts.contains("3.25") && texts.contains("0.75"))
    }

    @Test("neuron: CS231n's numbers give z = 1 and σ(1) = 0.73; numbers given are drawn")
    func neuron() throws {
        let defaults = try NeuronNumbers(FigureRequest())
        #expect(defaults.preActivation == 1)
        #expect(abs(defaults.output - 1 / (1 + exp(-1))) < 1e-15)
        var request = FigureRequest()
        (request.inputs, request.weights, request.bias, request.activation) = ([1, 2], [0.5, -1], 0.1, "tanh")
        let given = try NeuronNumbers(request)
        #expect(abs(given.preActivation - (-1.4)) < 1e-12)
        let texts = try Diagrams.neuron(given).texts
        for text in ["w₀ = 0.50", "w₁ = -1.00", "b = 0.10", "z = -1.40", "tanh", "-0.89"] { #expect(texts.contains(text), "lacks \(text)") }
    }

    @Test("neuron: mismatched weights, an unknown or non-elementwise activation are refused")
    func neuronRefused() {
        var request = FigureRequest()
        (request.inputs, request.weights) = ([1, 2], [0.5])
        #expect(throws: FigureError.invalidOption("2 inputs but 1 weight: a neuron has one weight per input")) { try NeuronNumbers(request) }
        request.weights = [1, 1]
        request.activation = "softmax"
        #expect(throws: FigureError.self) { try NeuronNumbers(request) }
    }

    @Test("neuron from a program: the first linear layer's first row and the relu after it")
    func neuronFromProgram() throws {
        var request = FigureRequest()
        request.program = try sampleProgram("mlp.grad")
        let n = try NeuronNumbers(request)
        #expect(n.inputs.count == 2 && n.activation == "relu")
        #expect(n.output == max(0, n.preActivation))
    }

    @Test("network: samples/mlp.grad is 2 → 16 → 16 → 1 with relu, 337 parameters")
    func network() throws {
        let net = try NetworkLayers(try sampleProgram("mlp.grad"))
        #expect(net.widths == [2, 16, 16, 1])
        #expect(net.activations == ["relu", "relu", nil])
        #expect(net.parameters == [48, 272, 17])
        let texts = try Diagrams.network(try sampleProgram("mlp.grad")).texts
        #expect(texts.contains("16 units") && texts.contains("⋮") && texts.contains("272 parameters"))
        #expect(throws: FigureError.self) { try NetworkLayers(try sampleProgram("cs231n-circuit.grad")) }
    }

    @Test("templates: 10×64 rows are ten 8×8 pictures, 10×3072 ten 3×32×32; other lengths are refused")
    func templates() throws {
        let digits = try ClassifierTemplates(try sampleProgram("digits-classifier.grad"))
        #expect(digits.rows.count == 10 && digits.channels == 1 && digits.height == 8)
        let cifar = try ClassifierTemplates(try sampleProgram("linear-classifier.grad"))
        #expect(cifar.rows.count == 10 && cifar.channels == 3 && cifar.height == 32 && cifar.width == 32)
        let g = Graph()
        let x = g.input("x", Tensor.randn([1, 10], seed: 1))
        let s = linear(x, g.param("W", Tensor.randn([3, 10], seed: 2)))
        #expect(throws: FigureError.self) { try ClassifierTemplates(FigureProgram(graph: g, output: s.id, name: "ten")) }
    }
}

@Suite("Charts of the lecture's numbers")
struct LectureChartNumberTests {
    @Test("softmax of CS231n's scores: probabilities from the op sum to 1, cross-entropy is −log p of the label")
    func softmax() throws {
        let steps = LectureFigures.softmaxSteps(logits: LectureFigures.defaultLogits, label: 0)
        #expect(abs(steps.probabilities.reduce(0, +) - 1) < 1e-12)
        #expect(abs(steps.loss + log(steps.probabilities[0])) < 1e-12)
        #expect(abs(steps.probabilities[1] - 0.869) < 5e-4)
        let svg = try LectureFigures.softmax(logits: LectureFigures.defaultLogits, label: 0).svg()
        for label in ["0.869", "0.130", "164", "p sums to 1.000"] { #expect(svg.contains(label), "lacks \(label)") }
        #expect(throws: FigureError.self) { try LectureFigures.softmax(logits: [1, 2], label: 2) }
    }

    @Test("losses at margin 0: cross-entropy log 2, hinge 1, squared error 1")
    func losses() {
        #expect(abs(LectureFigures.lossAtMargin(CrossEntropy(), 0) - log(2)) < 1e-15)
        #expect(LectureFigures.lossAtMargin(Hinge(), 0) == 1)
        #expect(LectureFigures.lossAtMargin(Hinge(), 2) == 0)
    }
}
