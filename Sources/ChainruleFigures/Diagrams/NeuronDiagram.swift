import ChainruleCore
import Foundation

/// The numbers of one neuron: a = f(Σᵢ wᵢxᵢ + b), with f a registry op of one input.
public struct NeuronNumbers: Sendable {
    public var inputs: [Double]
    public var weights: [Double]
    public var bias: Double
    /// The registry name of f.
    public var activation: String
    /// Where the numbers came from, for the figure's title ("layer h of net.grad", or nil for numbers given directly).
    public var source: String?

    /// CS231n's neuron: x = (−1, −2), w = (2, −3), b = −3, sigmoid, which gives a = σ(1) = 0.73.
    public static let cs231n = NeuronNumbers(inputs: [-1, -2], weights: [2, -3], bias: -3, activation: "sigmoid", source: nil)

    /// The most inputs drawn: more edges than this stop reading as a neuron.
    public static let maxInputs = 8

    public init(inputs: [Double], weights: [Double], bias: Double, activation: String, source: String?) {
        self.inputs = inputs
        self.weights = weights
        self.bias = bias
        self.activation = activation
        self.source = source
    }

    /// From a request: its program's first linear op (row 0 of x and of W, b[0],
    /// and the op applied to the linear's output, if it has one input), or its
    /// numbers, each missing one taken from `cs231n` (weights default to as many 1s as inputs).
    public init(_ request: FigureRequest) throws(FigureError) {
        if let program = request.program {
            if !request.given.isDisjoint(with: [.inputs, .weights, .bias]) {
                throw .invalidOption("the neuron comes from the program or from numbers, not both")
            }
            self = try Self.fromProgram(program, activation: request.activation)
            return
        }
        let inputs = request.inputs ?? (request.weights == nil ? Self.cs231n.inputs : request.weights!.map { _ in 1 })
        let weights = request.weights ?? (request.inputs == nil ? Self.cs231n.weights : inputs.map { _ in 1 })
        self.init(inputs: inputs, weights: weights, bias: request.bias ?? (request.given.isDisjoint(with: [.inputs, .weights]) ? Self.cs231n.bias : 0),
                  activation: request.activation ?? Self.cs231n.activation, source: nil)
        try validate()
    }

    func validate() throws(FigureError) {
        guard (1...Self.maxInputs).contains(inputs.count) else {
            throw .invalidOption("a neuron is drawn with 1 to \(Self.maxInputs) inputs, got \(inputs.count)")
        }
        guard inputs.count == weights.count else {
            throw .invalidOption("\(inputs.count) input\(inputs.count == 1 ? "" : "s") but \(weights.count) weight\(weights.count == 1 ? "" : "s"): a neuron has one weight per input")
        }
        guard (inputs + weights + [bias]).allSatisfy(\.isFinite) else { throw .invalidOption("a neuron's inputs, weights and bias must be finite numbers") }
        let op = try Self.activationOp(activation)
        guard preActivation.isFinite else {
            throw .invalidOption("z = Σ wᵢxᵢ + b overflows a Float64 for these inputs and weights: nothing finite to draw")
        }
        guard let op else { return }
        let a = op.forward([Tensor([preActivation])]).data[0]
        guard a.isFinite else {
            throw .invalidOption("a = \(activation)(\(formatNumber(preActivation))) is \(formatNumber(a)): the neuron's output must be a finite number")
        }
    }

    /// The activation of a linear neuron, a = z: the name a program without an activation after its layer gets.
    public static let identity = "identity"

    /// The elementwise ops an activation may be: the registry's activations and elementwise ops of
    /// one input that act on each element alone (softmax, which mixes them, is not one).
    static let activationNames: [String] = {
        let probe = [-1.5, 0.25, 2.0]
        return Registry.names.filter { candidate in
            guard let spec = Registry.spec(named: candidate), ["activations", "elementwise"].contains(spec.family),
                  spec.parameters.filter(\.isTensorInput).count == 1,
                  let op = try? spec.make(tensorInputs: spec.parameters.filter(\.isTensorInput).map(\.name)),
                  (try? op.outputShape([[3]])) == [3] else { return false }
            let together = op.forward([Tensor(shape: [3], data: probe)]).data
            let apart = probe.map { op.forward([Tensor(shape: [1], data: [$0])]).data[0] }
            return zip(together, apart).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        }
    }()

    /// The registry op called `name` (nil for `identity`), if it is one of `activationNames`.
    static func activationOp(_ name: String) throws(FigureError) -> (any ChainruleCore.Operation)? {
        if name == identity { return nil }
        let candidates = activationNames
        guard candidates.contains(name), let spec = Registry.spec(named: name),
              let op = try? spec.make(tensorInputs: spec.parameters.filter(\.isTensorInput).map(\.name)) else {
            let hint = Suggestions.closest(to: name, among: candidates + [identity]).map { "did you mean '\($0)'? " } ?? ""
            throw .invalidOption("unknown activation '\(name)': \(hint)use \(identity) (a = z) or an elementwise op of one input: \(candidates.joined(separator: ", "))")
        }
        return op
    }

    static func fromProgram(_ program: FigureProgram, activation: String?) throws(FigureError) -> NeuronNumbers {
        let graph = program.graph
        guard let linear = graph.nodes.first(where: { $0.op?.name == "linear" }) else {
            throw .invalidOption("\(program.name) has no linear layer to draw a neuron of: write Linear(x, 1) or linear(x, W, b)")
        }
        guard let x = graph[linear.inputs[0]].value, let w = graph[linear.inputs[1]].value else {
            throw .invalidOption("\(program.name): the linear layer has no values (run the program forward first)")
        }
        let features = w.shape[1]
        let bias = linear.inputs.count > 2 ? graph[linear.inputs[2]].value?.data.first ?? 0 : 0
        // The activation is the elementwise op that reads the layer alone; softmax, which mixes the
        // layer's neurons, or any other op, leaves neuron 0 linear.
        let consumer = graph.nodes.first { $0.inputs == [linear.id] && $0.op.map { activationNames.contains($0.name) } == true }
        let name = activation ?? consumer?.op?.name ?? identity
        let layer = linear.layer.map { graph.layers[$0].name } ?? linear.displayName
        let numbers = NeuronNumbers(inputs: Array(x.data.prefix(features)), weights: Array(w.data.prefix(features)), bias: bias,
                                    activation: name, source: "neuron 0 of \(layer) in \((program.name as NSString).lastPathComponent)")
        _ = try activationOp(name)
        guard features <= maxInputs else {
            throw .invalidOption("\(program.name): the linear layer has \(features) inputs; a neuron is drawn with at most \(maxInputs)")
        }
        return numbers
    }

    /// z = Σ wᵢxᵢ + b.
    public var preActivation: Double { zip(inputs, weights).reduce(bias) { $0 + $1.0 * $1.1 } }

    /// a = f(z), by the registry op's forward rule (z itself for "identity").
    public var output: Double {
        guard let op = (try? Self.activationOp(activation)) ?? nil else { return preActivation }
        return op.forward([Tensor([preActivation])]).data[0]
    }
}

/// `x₀`: a name with its index in subscript digits.
func subscripted(_ name: String, _ index: Int) -> String {
    let digits: [Character] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
    return name + String(String(index).map { digits[Int(String($0))!] })
}

/// The lecture's diagrams, built as marks for a 16:9 slide.
public enum Diagrams {
    /// Two decimals as CS231n writes them (`formatFixed`).
    static func number(_ v: Double) -> String { formatFixed(v, precision: 2) }

    /// The classic neuron: input circles with their values, an edge per weight
    /// labelled wᵢ, the sum node Σ with b coming in from below and z beside it,
    /// the activation's box, and the output a.
    public static func neuron(_ n: NeuronNumbers, palette: Palette = .default) throws(FigureError) -> Diagram {
        try n.validate()
        let pen = DiagramPen(palette: palette)
        let theme = pen.theme, u = pen.unit
        let count = n.inputs.count
        let spacing = min(96 * u, 400 * u / Double(max(count, 1)))
        let height = max(Double(count - 1) * spacing, 200 * u)
        let mid = height / 2
        let inputX = 100 * u, sumX = 400 * u, activationX = 630 * u, outputX = 780 * u
        let body = pen.style(16), small = pen.style(14, color: theme.muted), big = pen.style(20, bold: true)
        let weightStyle = pen.style(16, color: theme.local, bold: true), valueStyle = pen.style(16, color: theme.value, bold: true)
        // Inputs are rounded boxes wide enough for "-10.00" (or the widest input, as -1.0e+20) and at most 80 % of a row tall.
        let widestInput = n.inputs.map { pen.width(number($0), valueStyle) }.max() ?? 0
        let inputHalfWidth = max(38 * u, widestInput / 2 + 6 * u), inputHalfHeight = min(26 * u, spacing * 0.4), sumRadius = 56 * u
        let headingY = mid - Double(count - 1) * spacing / 2 - inputHalfHeight - 30 * u
        pen.text("inputs", x: inputX, y: headingY, small)
        pen.text("weights", x: (inputX + sumX) / 2, y: headingY, small)
        for k in 0..<count {
            let y = mid - Double(count - 1) * spacing / 2 + Double(k) * spacing
            // The edge first, so the boxes and labels sit on top of it.
            let end = Point(sumX - sumRadius * (sumX - inputX) / hypot(sumX - inputX, mid - y), mid - sumRadius * (mid - y) / hypot(sumX - inputX, mid - y))
            let start = Point(inputX + inputHalfWidth, y)
            pen.arrow(start, end, color: theme.stroke, width: 1.2 + 2.4 * min(abs(n.weights[k]), 2) / 2)
            // The label a fixed way along from its input, where the edges are still a row apart.
            let t = 80 * u / (end.x - start.x)
            let label = "\(subscripted("w", k)) = \(number(n.weights[k]))"
            let labelPoint = Point(start.x + (end.x - start.x) * t, start.y + (end.y - start.y) * t)
            let w = pen.width(label, weightStyle)
            pen.rect(Rect(x: labelPoint.x - w / 2 - 4 * u, y: labelPoint.y - 11 * u, width: w + 8 * u, height: 22 * u), fill: theme.background, radius: 3)
            pen.text(label, x: labelPoint.x, y: labelPoint.y, weightStyle)
            pen.rect(Rect(x: inputX - inputHalfWidth, y: y - inputHalfHeight, width: 2 * inputHalfWidth, height: 2 * inputHalfHeight),
                     fill: theme.leafFill, stroke: theme.stroke, width: 1.5, radius: 8)
            pen.text(number(n.inputs[k]), x: inputX, y: y, valueStyle)
            pen.text(subscripted("x", k), x: inputX - inputHalfWidth - 10 * u, y: y, body, anchor: .right)
        }
        // Σ with the bias entering from below.
        let sum = Point(sumX, mid)
        pen.circle(sum, radius: sumRadius, fill: theme.opFill, stroke: theme.stroke, width: 2)
        pen.text("Σ wᵢxᵢ + b", x: sumX, y: mid, pen.style(15, bold: true))
        let biasY = mid + sumRadius + 70 * u
        pen.arrow(Point(sumX, biasY - 14 * u), Point(sumX, mid + sumRadius), width: 1.6)
        pen.text("b = \(number(n.bias))", x: sumX, y: biasY, weightStyle)
        // z on the wire to the activation.
        let boxWidth = 140 * u, boxHeight = 84 * u
        let box = Rect(x: activationX - boxWidth / 2, y: mid - boxHeight / 2, width: boxWidth, height: boxHeight)
        pen.arrow(Point(sumX + sumRadius, mid), Point(box.x, mid), width: 2)
        pen.text("z = \(number(n.preActivation))", x: (sumX + sumRadius + box.x) / 2, y: mid - 22 * u, valueStyle)
        pen.rect(box, fill: theme.valueFill, stroke: theme.stroke, width: 2, radius: 8)
        pen.text(n.activation, x: activationX, y: mid - 14 * u, pen.style(18, bold: true))
        pen.text("a = f(z)", x: activationX, y: mid + 18 * u, small)
        pen.arrow(Point(box.maxX, mid), Point(outputX - 56 * u, mid), width: 2)
        pen.text("output", x: outputX, y: mid - 26 * u, small)
        pen.text(number(n.output), x: outputX, y: mid + 4 * u, pen.style(22, color: theme.value, bold: true))
        pen.text("a = \(n.activation)(\(number(n.preActivation))) = \(number(n.output))", x: sumX, y: biasY + 48 * u, big)
        return pen.diagram(title: n.source.map { "A neuron: \($0)" } ?? "A neuron: a = f(Σ wᵢxᵢ + b)", palette: palette)
    }
}
