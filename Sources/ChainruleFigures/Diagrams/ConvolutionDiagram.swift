import ChainruleCore
import Foundation

/// The sizes of one convolution along an axis: input N, kernel F, stride S, padding P,
/// and the output (N − F + 2P)/S + 1 that conv2d's own shape rule computes.
public struct ConvolutionArithmetic: Sendable, Equatable {
    public var input: Int
    public var kernel: Int
    public var stride: Int
    public var pad: Int
    public var output: Int

    /// The largest padded input drawn: past it the cells get too small to read.
    public static let maxPaddedInput = 24

    /// CS231n's example: a 7×7 input, 3×3 kernel, stride 2, pad 1 → 4×4.
    public init(_ request: FigureRequest) throws(FigureError) {
        try self.init(input: request.convolutionInput ?? 7, kernel: request.kernel ?? 3, stride: request.stride ?? 2, pad: request.pad ?? 1)
    }

    /// Refuses what conv2d refuses, with its message: a stride below 1, a negative pad,
    /// a kernel larger than the padded input, an output size that is not a whole number.
    public init(input: Int, kernel: Int, stride: Int, pad: Int) throws(FigureError) {
        guard input >= 1, kernel >= 1 else { throw .invalidOption("the input size and the kernel size must be at least 1, got input \(input), kernel \(kernel)") }
        let op: Conv2D
        do { op = try Conv2D(stride: stride, pad: pad) } catch { throw .invalidOption(error.description) }
        // The figure's own bound first: past it conv2d's rule would be asked of sizes too large to draw (or to add up).
        guard input <= Self.maxPaddedInput, pad <= Self.maxPaddedInput, input + 2 * pad <= Self.maxPaddedInput else {
            let total = input <= Self.maxPaddedInput && pad <= Self.maxPaddedInput ? " = \(input + 2 * pad)" : ""
            throw .invalidOption("the padded input \(input) + 2·\(pad)\(total) is more cells than the figure draws (at most \(Self.maxPaddedInput))")
        }
        let shape: [Int]
        do { shape = try op.outputShape([[1, 1, input, input], [1, 1, kernel, kernel], [1]]) } catch { throw .invalidOption("conv-arithmetic: \(error.message)") }
        (self.input, self.kernel, self.stride, self.pad, output) = (input, kernel, stride, pad, shape[2])
    }

    /// `(7 − 3 + 2·1)/2 + 1 = 4`.
    public var formula: String { "(\(input) − \(kernel) + 2·\(pad))/\(stride) + 1 = \(output)" }
}

extension Diagrams {
    /// The padded input grid with its padding shaded and marked 0, a dot at the centre of every
    /// kernel position, the first two positions outlined (the second dashed, one stride along),
    /// the output grid with the matching cells filled, and the formula.
    public static func convolutionArithmetic(_ c: ConvolutionArithmetic, palette: Palette = .default) -> Diagram {
        let pen = DiagramPen(palette: palette)
        let theme = pen.theme, u = pen.unit
        let padded = c.input + 2 * c.pad
        let cell = min(32 * u, 288 * u / Double(padded))
        let left = 0.0, top = 40 * u
        let first = theme.series[0], second = theme.series[1]
        let body = pen.style(16), bold = pen.style(17, bold: true), small = pen.style(14, color: theme.muted)
        pen.text("input \(c.input)×\(c.input)" + (c.pad > 0 ? ", padded by \(c.pad) → \(padded)×\(padded)" : ""), x: left, y: top - 22 * u, bold, anchor: .left)
        for row in 0..<padded {
            for column in 0..<padded {
                let r = Rect(x: left + Double(column) * cell, y: top + Double(row) * cell, width: cell, height: cell)
                let isPad = row < c.pad || column < c.pad || row >= c.pad + c.input || column >= c.pad + c.input
                pen.rect(r, fill: isPad ? theme.clusterFill : theme.background, stroke: theme.clusterStroke, width: 0.8)
                if isPad, cell >= 18 * u { pen.text("0", x: r.center.x, y: r.center.y, pen.style(14, color: theme.muted)) }
            }
        }
        pen.rect(Rect(x: left + Double(c.pad) * cell, y: top + Double(c.pad) * cell, width: Double(c.input) * cell, height: Double(c.input) * cell),
                 stroke: theme.stroke, width: 2)
        // Every kernel position's centre.
        for i in 0..<c.output {
            for j in 0..<c.output {
                let centre = Point(left + (Double(j * c.stride) + Double(c.kernel) / 2) * cell, top + (Double(i * c.stride) + Double(c.kernel) / 2) * cell)
                pen.circle(centre, radius: 4 * u, fill: i == 0 && j == 0 ? first : i == 0 && j == 1 ? second : theme.stroke)
            }
        }
        let window = Double(c.kernel) * cell
        pen.rect(Rect(x: left, y: top, width: window, height: window), stroke: first, width: 3.5)
        if c.output > 1 {
            let x = left + Double(c.stride) * cell
            pen.line([Point(x, top), Point(x + window, top), Point(x + window, top + window), Point(x, top + window), Point(x, top)], color: second, width: 3, dash: .dashed)
            // The stride as an arrow between the two windows' centres, below the grid.
            let y = top + Double(padded) * cell + 22 * u
            pen.arrow(Point(left + window / 2, y), Point(x + window / 2, y), color: theme.stroke, width: 1.6)
            pen.text("stride \(c.stride)", x: x + window / 2 + 10 * u, y: y, body, anchor: .left)
        }
        // The output grid.
        let gridRight = left + Double(padded) * cell
        let outputCell = min(46 * u, 240 * u / Double(c.output))
        let outputLeft = gridRight + 170 * u, outputTop = top + (Double(padded) * cell - Double(c.output) * outputCell) / 2
        pen.arrow(Point(gridRight + 24 * u, top + Double(padded) * cell / 2), Point(outputLeft - 24 * u, top + Double(padded) * cell / 2), width: 2)
        pen.text("kernel \(c.kernel)×\(c.kernel)", x: (gridRight + outputLeft) / 2, y: top + Double(padded) * cell / 2 - 22 * u, body)
        pen.text("output \(c.output)×\(c.output)", x: outputLeft, y: outputTop - 22 * u, bold, anchor: .left)
        for i in 0..<c.output {
            for j in 0..<c.output {
                let r = Rect(x: outputLeft + Double(j) * outputCell, y: outputTop + Double(i) * outputCell, width: outputCell, height: outputCell)
                let fill = i == 0 && j == 0 ? first.mixed(with: .white, 0.55) : i == 0 && j == 1 ? second.mixed(with: .white, 0.55) : theme.valueFill
                pen.rect(r, fill: fill, stroke: theme.stroke, width: 1)
            }
        }
        // Under the input grid, and under the formula beside the output grid when that grid reaches lower.
        let formulaY = max(top + Double(padded) * cell + 50 * u, outputTop + Double(c.output) * outputCell + 96 * u)
        pen.text("output = (N − F + 2P)/S + 1", x: outputLeft, y: outputTop + Double(c.output) * outputCell + 36 * u, small, anchor: .left)
        pen.text("= \(c.formula)", x: outputLeft, y: outputTop + Double(c.output) * outputCell + 66 * u, pen.style(18, bold: true), anchor: .left)
        pen.text("N = \(c.input), F = \(c.kernel), S = \(c.stride), P = \(c.pad): \(c.output * c.output == 1 ? "1 kernel position, one output" : "\(c.output * c.output) kernel positions, one output each")",
                 x: left, y: formulaY, body, anchor: .left)
        return pen.diagram(title: "Convolution arithmetic: \(c.input)×\(c.input) input, \(c.kernel)×\(c.kernel) kernel, stride \(c.stride), pad \(c.pad)", palette: palette)
    }
}
