import ChainruleCheck
import ChainruleCore
import Foundation

/// `chainrule check FILE --sweep NODE -o OUT`: the V-curve of the user's own node — the
/// lecture figure `error-vs-h` drawn for one element of their rule.
public enum SweepFigure {
    /// |rule − numeric| against h on log–log axes for central, five-point and Richardson, with
    /// the truncation slopes h² and h⁴ (a decade above the central and five-point curves) and the
    /// rounding line ε·Σ|u f|/h, and the checker's steps marked: central's default h and the h
    /// Richardson chose, labelled above the frame where no slope line can cross them. A 16:9 slide
    /// page, its smallest text 14 pt once fitted into the slide's content area.
    public static func figure(_ sweep: StepSweep, palette: Palette = .default) -> PlotFigure {
        let theme = Theme(palette: palette)
        let floor = 1e-17
        func points(_ stencil: Stencil) -> [Point] {
            zip(sweep.steps, sweep.errors[stencil] ?? []).map { Point($0, Swift.max($1, floor)) }
        }
        let element = sweep.index.isEmpty ? "" : " \(describeIndex(sweep.index))"
        var plot = Plot(
            title: nil, x: Axis("step h", scale: .log),
            y: Axis("|rule − numeric|, \(sweep.inputName)\(element)", scale: .log, range: 1e-16...1))
        plot.lines.append(LineSeries("central", points: points(.central), markerRadius: 2.5))
        plot.lines.append(LineSeries("five-point", points: points(.fivePoint), markerRadius: 2.5))
        plot.lines.append(LineSeries("Richardson (h = widest step)", points: points(.richardson), markerRadius: 2.5))
        // Slopes drawn a decade above the curve they describe, anchored where truncation rules.
        // Each slope in its curve's colour (the plot's series colours, in the order of the curves), thin and dotted.
        for (series, stencil, power, anchorStep, name) in [(0, Stencil.central, 2.0, 1e-2, "slope h² (central truncation)"), (1, .fivePoint, 4.0, 1e-1, "slope h⁴ (five-point truncation)")] {
            guard let k = sweep.steps.indices.min(by: { abs(log10(sweep.steps[$0] / anchorStep)) < abs(log10(sweep.steps[$1] / anchorStep)) }),
                  let error = sweep.errors[stencil]?[k], error > 0
            else { continue }
            let c = 10 * error / Foundation.pow(sweep.steps[k], power)
            plot.lines.append(LineSeries(
                name, points: sweep.steps.map { Point($0, c * Foundation.pow($0, power)) }.filter { $0.y >= 1e-16 && $0.y <= 1 },
                color: theme.series[series], width: 1.4, dash: .dotted))
        }
        if sweep.roundingScale > 0 {
            plot.lines.append(LineSeries(
                "slope 1/h (rounding ε·|f|/h)", points: sweep.steps.map { Point($0, Double.ulpOfOne * sweep.roundingScale / $0) }.filter { $0.y <= 1 },
                color: theme.reference, width: 1.4, dash: .dashed))
        }
        plot.guides = [
            GuideLine(x: Stencil.central.defaultStep, label: "central's h"),
            GuideLine(x: sweep.richardsonChosenStep, label: "Richardson's h"),
        ]
        let chosen = formatNumber(sweep.richardsonChosenStep, significant: 2)
        return PlotFigure(
            title: "Step sweep of \(sweep.node) (\(sweep.op)): Richardson chose h = \(chosen)", panels: [plot],
            palette: palette)
    }

    private static func describeIndex(_ index: [Int]) -> String {
        "[" + index.map(String.init).joined(separator: ", ") + "]"
    }
}
