import ChainruleCore
import Foundation

extension Diagrams {
    /// The input of the pooling diagram: CS231n's 4×4 example, its four 2×2 windows each with one clear maximum.
    public static let poolingInput: [Double] = [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]
    /// The gradient arriving at the 2×2 output in the backward row.
    public static let poolingUpstream: [Double] = [1, 2, 3, 4]

    /// 2×2 pooling with stride 2 of `poolingInput` by the registry's ops: each op's output, and the
    /// gradient its backward rule sends to the input for the upstream gradient `poolingUpstream`.
    public static func poolingNumbers() -> (max: [Double], maxGradient: [Double], average: [Double], averageGradient: [Double]) {
        let x = Tensor(shape: [1, 1, 4, 4], data: poolingInput)
        let g = Tensor(shape: [1, 1, 2, 2], data: poolingUpstream)
        let maxPool = try! MaxPool2D(kernel: 2), averagePool = try! AvgPool2D(kernel: 2)
        let m = maxPool.forward([x]), a = averagePool.forward([x])
        return (m.data, maxPool.backward([x], output: m, gradient: g)[0]!.data, a.data, averagePool.backward([x], output: a, gradient: g)[0]!.data)
    }

    /// Max and average pooling side by side: in each, the numbered input with its
    /// four windows tinted, the output, and below them the upstream gradient and where
    /// the backward rule sends it — all to the window's maximum (marked), or a quarter to each cell.
    public static func pooling(palette: Palette = .default) -> Diagram {
        let pen = DiagramPen(palette: palette)
        let theme = pen.theme, u = pen.unit
        let numbers = poolingNumbers()
        let cw = 42 * u, ch = 34 * u
        let tints = [theme.series[0], theme.series[1], theme.series[2], theme.series[3]].map { $0.mixed(with: .white, 0.78) }
        func window(_ row: Int, _ column: Int) -> Int { (row / 2) * 2 + column / 2 }
        let valueStyle = pen.style(14, bold: true), gradientStyle = pen.style(14, color: theme.gradient, bold: true)
        let heading = pen.style(18, bold: true), body = pen.style(15), small = pen.style(14, color: theme.muted)

        /// A grid of numbers; `tinted` colours the 4×4 grid's windows, `marked` outlines cells thickly.
        func grid(_ values: [Double], side: Int, at origin: Point, style: TextStyle, tinted: Bool, marked: Set<Int> = [], format: (Double) -> String) {
            for r in 0..<side {
                for c in 0..<side {
                    let rect = Rect(x: origin.x + Double(c) * cw, y: origin.y + Double(r) * ch, width: cw, height: ch)
                    let fill = tinted ? tints[window(r, c)] : side == 2 ? tints[r * 2 + c] : theme.background
                    pen.rect(rect, fill: fill, stroke: theme.clusterStroke, width: 0.8)
                    pen.text(format(values[r * side + c]), x: rect.center.x, y: rect.center.y, style)
                }
            }
            pen.rect(Rect(x: origin.x, y: origin.y, width: Double(side) * cw, height: Double(side) * ch), stroke: theme.stroke, width: 1.6)
            if side == 4 {
                pen.line([Point(origin.x + 2 * cw, origin.y), Point(origin.x + 2 * cw, origin.y + 4 * ch)], color: theme.stroke, width: 1.6)
                pen.line([Point(origin.x, origin.y + 2 * ch), Point(origin.x + 4 * cw, origin.y + 2 * ch)], color: theme.stroke, width: 1.6)
            }
            for k in marked {
                let rect = Rect(x: origin.x + Double(k % side) * cw + 3 * u, y: origin.y + Double(k / side) * ch + 3 * u, width: cw - 6 * u, height: ch - 6 * u)
                pen.rect(rect, stroke: theme.stroke, width: 3, radius: 4)
            }
        }
        let winners = Set(numbers.maxGradient.indices.filter { numbers.maxGradient[$0] != 0 })
        let halves: [(title: String, x: Double, output: [Double], gradient: [Double], forward: String, backward: String, marked: Set<Int>)] = [
            ("max pooling 2×2, stride 2", 0, numbers.max, numbers.maxGradient, "max", "all to the max", winners),
            ("average pooling 2×2, stride 2", 410 * u, numbers.average, numbers.averageGradient, "mean", "¼ to each cell", []),
        ]
        let forwardTop = 36 * u, backwardTop = forwardTop + 4 * ch + 58 * u
        for half in halves {
            let x = half.x
            pen.text(half.title, x: x, y: forwardTop - 24 * u, heading, anchor: .left)
            grid(poolingInput, side: 4, at: Point(x, forwardTop), style: valueStyle, tinted: true, marked: half.marked) { formatNumber($0) }
            let outputX = x + 4 * cw + 100 * u, outputTop = forwardTop + ch
            pen.arrow(Point(x + 4 * cw + 14 * u, forwardTop + 2 * ch), Point(outputX - 14 * u, forwardTop + 2 * ch), width: 2)
            pen.text(half.forward, x: (x + 4 * cw + outputX) / 2, y: forwardTop + 2 * ch - 20 * u, body)
            grid(half.output, side: 2, at: Point(outputX, outputTop), style: valueStyle, tinted: false) { formatNumber($0) }
            pen.text("output", x: outputX + cw, y: outputTop - 18 * u, small)

            pen.text("backward: the gradient goes \(half.backward)", x: x, y: backwardTop - 24 * u, body, anchor: .left)
            grid(half.gradient, side: 4, at: Point(x, backwardTop), style: gradientStyle, tinted: true, marked: half.marked) { formatNumber($0) }
            pen.arrow(Point(outputX - 14 * u, backwardTop + 2 * ch), Point(x + 4 * cw + 14 * u, backwardTop + 2 * ch), color: theme.gradient, width: 2)
            grid(poolingUpstream, side: 2, at: Point(outputX, backwardTop + ch), style: gradientStyle, tinted: false) { formatNumber($0) }
            pen.text("upstream", x: outputX + cw, y: backwardTop + ch - 18 * u, small)
        }
        return pen.diagram(title: "Pooling: max routes the gradient to the winner, average shares it", palette: palette)
    }
}
