import Foundation
import ChainruleCore

/// Writes check reports for a terminal: one line per node, leaf or op (status,
/// largest relative error, band), failures and kinks expanded underneath with the
/// element, the backward rule's number against the finite difference, the input,
/// and the node's source location when it came from a program.
///
/// Colours (ANSI) only when `colors` is true: pass `isatty(STDOUT_FILENO) != 0`.
public struct TerminalReport: Sendable {
    public var colors: Bool
    /// Kinks listed under a line at most (the count is always given).
    public var kinksShown: Int

    public init(colors: Bool = false, kinksShown: Int = 3) {
        self.colors = colors
        self.kinksShown = kinksShown
    }

    // MARK: Graph checks

    public func render(_ report: CheckReport) -> String {
        var lines: [String] = []
        // With a step per element (--eps auto), each failing element says which h it had.
        let showSteps = report.options?.autoStep ?? false || report.rechosenSteps != nil
        if let options = report.options { lines.append(paint(options.summary, .dim)) }
        if let bad = report.nonFinite {
            let location = bad.location.map { " at \($0)" } ?? ""
            let op = bad.op.map { " (\($0))" } ?? " (leaf)"
            lines.append(paint("✗ non-finite", .red) + " \(spelled(bad.value)) first produced by node \(bad.name)\(op)\(location), element \(describeIndex(bad.index)); the nodes it reaches are not checked")
        }
        if !report.nodes.isEmpty {
            lines.append(paint("node-local: each node's backward rule at the values it saw", .bold))
            let nameWidth = report.nodes.map { $0.name.count + $0.op.count + 3 }.max() ?? 0
            for node in report.nodes {
                let title = pad("\(node.name) (\(node.op))", nameWidth)
                let location = node.location.map { "  \($0)" } ?? ""
                lines.append("  " + statusLabel(node.status) + "  " + title + "  " + errorColumns(node.status, node.maxRelativeError, node.band, checked: node.elementsChecked, method: node.method, worst: node.worst) + location)
                lines += verdictLines(node.verdict, inputWord: "input", function: node.op, showStep: showSteps)
            }
        }
        if !report.leaves.isEmpty {
            let outputName = report.outputName ?? report.output.map { id in report.nodes.first { $0.node == id }?.name ?? id.description }
            let output = outputName.map { "d \($0) / d leaf" } ?? "d output / d leaf"
            lines.append(paint("end-to-end: \(output) by backprop against finite differences of the whole graph", .bold))
            let nameWidth = report.leaves.map { $0.name.count + $0.role.rawValue.count + 3 }.max() ?? 0
            for leaf in report.leaves {
                let title = pad("\(leaf.name) (\(leaf.role.rawValue))", nameWidth)
                let sampled = leaf.elementsChecked < leaf.elementCount && leaf.elementsChecked > 0
                    ? "  \(leaf.elementsChecked) of \(leaf.elementCount) elements" : ""
                let fast = leaf.projection.map { p in
                    "  uᵀJv \(p.passed ? "agreed" : "disagreed") (\(spelled(p.analytic)) vs \(spelled(p.numeric)))"
                } ?? ""
                lines.append("  " + statusLabel(leaf.status) + "  " + title + "  " + errorColumns(leaf.status, leaf.maxRelativeError, leaf.band, checked: leaf.elementsChecked, method: nil, worst: leaf.worst) + sampled + fast)
                lines += verdictLines(leaf.verdict, inputWord: "leaf", function: "a node downstream", showStep: showSteps)
            }
        }
        if let problem = report.endToEndProblem {
            lines.append(paint("end-to-end: not run", .bold) + ": " + problem)
        }
        lines.append(summary(report))
        return lines.joined(separator: "\n")
    }

    /// `PASSED: 4 nodes and 3 leaves`, `FAILED: 1 of 4 nodes, 2 of 3 leaves`, or, after a
    /// NaN in the forward pass, `FAILED: node y (log) at f.grad:1:12 produced NaN at element [0]; …`.
    private func summary(_ report: CheckReport) -> String {
        let checkedNodes = report.nodes.filter { $0.status != .skipped }
        let checkedLeaves = report.leaves.filter { $0.status != .skipped }
        let failedNodes = checkedNodes.filter { $0.status == .fail }.count
        let failedLeaves = checkedLeaves.filter { $0.status == .fail }.count
        let skipped = [
            report.nodes.count - checkedNodes.count == 0 ? nil : counted(report.nodes.count - checkedNodes.count, "node", "nodes"),
            report.leaves.count - checkedLeaves.count == 0 ? nil : counted(report.leaves.count - checkedLeaves.count, "leaf", "leaves"),
        ].compactMap { $0 }
        let notChecked = skipped.isEmpty ? nil : skipped.joined(separator: " and ") + " not checked"
        var parts: [String] = []
        if let bad = report.nonFinite {
            let location = bad.location.map { " at \($0)" } ?? ""
            let what = bad.op.map { "node \(bad.name) (\($0))\(location) produced" } ?? "leaf \(bad.name)\(location) holds"
            parts.append("\(what) \(spelled(bad.value)) at element \(describeIndex(bad.index))" + (notChecked.map { "; \($0)" } ?? ""))
            if failedNodes > 0 { parts.append("\(failedNodes) of \(counted(checkedNodes.count, "checked node", "checked nodes"))") }
        } else if report.passed {
            let passed = [
                report.nodes.isEmpty ? nil : counted(checkedNodes.count, "node", "nodes"),
                report.leaves.isEmpty ? nil : counted(checkedLeaves.count, "leaf", "leaves"),
            ].compactMap { $0 }
            if !passed.isEmpty { parts.append(passed.joined(separator: " and ")) }
            if let notChecked { parts.append(notChecked) }
        } else {
            let failed = [
                report.nodes.isEmpty ? nil : "\(failedNodes) of \(counted(checkedNodes.count, "node", "nodes"))",
                report.leaves.isEmpty ? nil : "\(failedLeaves) of \(counted(checkedLeaves.count, "leaf", "leaves"))",
            ].compactMap { $0 }
            parts.append(failed.joined(separator: ", "))
            if let notChecked { parts.append(notChecked) }
        }
        let kinks = report.nodes.filter { $0.status == .kink }.count + report.leaves.filter { $0.status == .kink }.count
        if kinks > 0 { parts.append("\(kinks) at kinks") }
        let open = report.nodes.filter { $0.status == .inconclusive }.count + report.leaves.filter { $0.status == .inconclusive }.count
        if open > 0 { parts.append("\(open) inconclusive") }
        if let steps = report.steps {
            parts.append("h from \(stepText(steps.smallest)) to \(stepText(steps.largest))")
        }
        if let rechosen = report.rechosenSteps {
            let range = rechosen.range.smallest == rechosen.range.largest
                ? "h = \(stepText(rechosen.range.smallest))"
                : "h from \(stepText(rechosen.range.smallest)) to \(stepText(rechosen.range.largest))"
            parts.append("\(counted(rechosen.elements, "element", "elements")) measured again at a step balancing rounding (\(range))")
        }
        parts.append("\(report.forwardEvaluations) forward evaluations")
        parts.append(formatSeconds(report.seconds))
        let verdict = !report.passed ? paint("FAILED", .red) : (open > 0 ? paint("INCONCLUSIVE", .yellow) : paint("PASSED", .green))
        return verdict + ": " + parts.joined(separator: " · ")
    }

    /// A step in two significant digits, a large whole one as well (`2e+09`, not `2000000000`).
    private func stepText(_ h: Double) -> String {
        abs(h) >= 1e5 && h == h.rounded() ? String(format: "%.2g", h) : formatNumber(h, significant: 2)
    }

    // MARK: Rule checks

    /// One line per op (its worst sample), failing samples expanded.
    public func render(_ report: RuleReport) -> String {
        var lines = [paint(report.options.summary, .dim)]
        var order: [String] = []
        var byOp: [String: [RuleCheck]] = [:]
        for rule in report.rules {
            if byOp[rule.op] == nil { order.append(rule.op) }
            byOp[rule.op, default: []].append(rule)
        }
        let nameWidth = order.map(\.count).max() ?? 0
        for op in order {
            let samples = byOp[op]!
            let status = samples.map(\.status).max() ?? .skipped
            let maxRelative = samples.map(\.maxRelativeError).max() ?? 0
            let checked = samples.reduce(0) { $0 + $1.elementsChecked }
            let count = "\(samples.count) sample\(samples.count == 1 ? "" : "s")"
            lines.append("  " + statusLabel(status) + "  " + pad(op, nameWidth) + "  " + errorColumns(status, maxRelative, ErrorBand(relativeError: maxRelative), checked: checked, method: nil, worst: samples.first { $0.status == status }?.worst) + "  " + count)
            for sample in samples {
                lines += sampleLines(sample)
            }
        }
        let failed = report.failedOps
        let open = report.rules.contains { $0.status == .inconclusive }
        let verdict = !failed.isEmpty ? paint("FAILED", .red) : (open ? paint("INCONCLUSIVE", .yellow) : paint("PASSED", .green))
        let ops = counted(order.count, "op", "ops")
        let verdictText = failed.isEmpty ? ops : "\(failed.count) of \(ops) (" + failed.joined(separator: ", ") + ")"
        lines.append(verdict + ": \(verdictText) · \(counted(report.rules.count, "sample", "samples")) · \(report.forwardEvaluations) forward evaluations · \(formatSeconds(report.seconds))")
        return lines.joined(separator: "\n")
    }

    /// One op checked on its own (`GradientCheck.operation`): its line and, if it failed, the worst entry.
    public func render(_ check: RuleCheck) -> String {
        let line = "  " + statusLabel(check.status) + "  " + check.op + "  " + errorColumns(check.status, check.maxRelativeError, check.band, checked: check.elementsChecked, method: check.method, worst: check.worst)
        return ([line] + sampleLines(check, showLabel: false)).joined(separator: "\n")
    }

    private func sampleLines(_ sample: RuleCheck, showLabel: Bool = true) -> [String] {
        let label = showLabel ? "sample \"\(sample.sample)\": " : ""
        return verdictLines(sample.verdict, inputWord: "input", function: sample.op, prefix: label, showKinks: sample.status == .kink)
    }

    /// The lines under a verdict's own line: why it could not be compared, the probes it
    /// failed, its worst failing element, its kinks and its inconclusive elements.
    private func verdictLines(
        _ verdict: CheckVerdict, inputWord: String, function: String, prefix: String = "", showKinks: Bool = true,
        showStep: Bool = false
    ) -> [String] {
        var lines: [String] = []
        if let problem = verdict.problem { lines.append("      " + prefix + problem) }
        for failure in verdict.probeFailures {
            let element = failure.index.map { " element \(describeIndex($0))" } ?? ""
            lines.append("      " + prefix + paint("probe \(failure.probe.rawValue)", .red) + ": \(inputWord) \(failure.input) \"\(failure.inputName)\"\(element): \(failure.detail)")
        }
        if verdict.failedElements > 0, let worst = verdict.worst {
            let step = showStep && worst.errorEstimate == nil ? worst.step.map { " (h = \(stepText($0)))" } ?? "" : ""
            lines.append("      " + prefix + describe(worst, inputWord: inputWord, function: function) + step)
        }
        for d in verdict.projectionDisagreements ?? [] {
            lines.append("      " + prefix + disagreementLine(d, inputWord: inputWord))
        }
        if showKinks { lines += kinkLines(verdict.kinks, count: verdict.kinkCount, inputWord: inputWord, prefix: prefix) }
        lines += inconclusiveLines(verdict.inconclusive, count: verdict.inconclusiveCount, inputWord: inputWord, prefix: prefix)
        return lines
    }

    /// `input 0 "x" element [3] inconclusive (rounding noise: …): backward rule 0.25, finite difference 0.2501 ± 3e-04`.
    private func inconclusiveLines(_ elements: [ElementComparison], count: Int, inputWord: String, prefix: String) -> [String] {
        guard count > 0 else { return [] }
        var lines = elements.prefix(kinksShown).map { c in
            let output = c.outputIndex.map { " → output \(describeIndex($0))" } ?? ""
            let why = c.inconclusive.map { " (\($0.explanation))" } ?? ""
            let estimate = c.errorEstimate.map { " ± \(scientific($0))" } ?? ""
            let line = "      " + prefix + "\(inputWord) \(inputLabel(c)) element \(describeIndex(c.index))\(output) " + paint("inconclusive", .yellow)
            // A step that resolves nothing was never evaluated: there is no finite difference to show.
            if c.inconclusive == .stepBelowResolution || c.inconclusive == .stepTooWide {
                return line + "\(why): backward rule \(formatNumber(c.analytic, significant: 8)), no finite difference at h = \(c.step.map(shortNumber) ?? "?")"
            }
            return line + "\(why): backward rule \(formatNumber(c.analytic, significant: 8)), finite difference \(formatNumber(c.numeric, significant: 8))\(estimate)"
                + oneSidedNote(c)
        }
        if count > kinksShown { lines.append("      " + prefix + "… \(count - kinksShown) more inconclusive elements") }
        return lines
    }

    // MARK: Pieces

    /// `input 0 "W": 200 of 11760 elements sampled ([0, 3], [0, 17], [1, 2], …), all agreed, but uᵀJv over
    /// all 11760 (u, v seeded random) disagreed: backward rule 1.25, finite difference 1.2 ± 3.0e-10;
    /// bisecting v located element [7, 1043]`.
    func disagreementLine(_ d: ProjectionDisagreement, inputWord: String) -> String {
        let shown = d.sampled.prefix(3).map(describeIndex).joined(separator: ", ") + (d.sampled.count > 3 ? ", …" : "")
        let estimate = d.errorEstimate.map { " ± \(scientific($0))" } ?? ""
        let located = d.located.map { "bisecting v located element \(describeIndex($0))" } ?? "bisecting v did not isolate one element"
        let label = d.inputName == "input \(d.input)" ? "\(d.input)" : "\(d.input) \"\(d.inputName)\""
        return "\(inputWord) \(label): \(d.sampled.count) of \(d.elementCount) elements sampled (\(shown)), but uᵀJv over all "
            + "\(d.elementCount) (u, v seeded random) " + paint("disagreed", .red) + ": backward rule "
            + "\(formatNumber(d.analytic, significant: 8)), finite difference \(formatNumber(d.numeric, significant: 8))\(estimate); \(located)"
    }

    /// `input 0 "z" element [1] → output [1]: backward rule 0.2, finite difference 0.105 (abs 9.5e-2, rel 4.7e-1)`;
    /// at a kink, the interval of one-sided derivatives the rule's value left; with a NaN
    /// or an infinity, both numbers as they are and, for the difference, which step left
    /// the domain of `function`.
    func describe(_ c: ElementComparison, inputWord: String, function: String) -> String {
        let output = c.outputIndex.map { " → output \(describeIndex($0))" } ?? ""
        let projected = c.projected ? " (uᵀJ, u a seeded random cotangent)" : ""
        let element = "\(inputWord) \(inputLabel(c)) element \(describeIndex(c.index))\(output)\(projected)"
        if !c.analytic.isFinite || !c.numeric.isFinite {
            let domain = c.undefinedStep.map { " (\($0) leaves the domain of \(function))" } ?? ""
            return element + ": the rule gives " + paint(spelled(c.analytic), .red)
                + "; the finite difference is " + paint(spelled(c.numeric), .green) + domain
        }
        if c.atKink, let left = c.leftDerivative, let right = c.rightDerivative {
            let good = c.errorEstimate.map { ", each good to \(scientific($0))" } ?? ""
            return element + " at a kink, but the rule's value " + paint(formatNumber(c.analytic, significant: 8), .red)
                + " is outside [\(formatNumber(Swift.min(left, right))), \(formatNumber(Swift.max(left, right)))], "
                + "the one-sided derivatives (extrapolated on each side of the kink\(good))"
        }
        let certainty = c.errorEstimate.map { e in
            let step = c.step.map { " (h = \(stepText($0)))" } ?? ""
            return "; differs by \(scientific(c.absoluteError)); the finite difference\(step) is good to \(scientific(e))"
                + (c.absoluteError > JacobianCheck.certaintyFactor * e ? ", so the rule is wrong" : "")
        } ?? ""
        return element + ": backward rule "
            + paint(formatNumber(c.analytic, significant: 8), .red) + ", finite difference "
            + paint(formatNumber(c.numeric, significant: 8), .green)
            + " (abs \(scientific(c.absoluteError)), rel \(scientific(c.relativeError)))" + certainty + oneSidedNote(c)
    }

    /// ` (one-sided, from x + h: x − h leaves the domain)` for a difference taken on one side only.
    private func oneSidedNote(_ c: ElementComparison) -> String {
        guard c.oneSided == true, let left = c.undefinedStep else { return "" }
        return " (one-sided, from \(left == .minus ? UndefinedStep.plus : .minus): \(left) leaves the domain)"
    }

    /// `0 "z"`, or `1` when the input has no name of its own.
    private func inputLabel(_ c: ElementComparison) -> String {
        c.inputName == "input \(c.input)" ? "\(c.input)" : "\(c.input) \"\(c.inputName)\""
    }

    private func kinkLines(_ kinks: [ElementComparison], count: Int, inputWord: String, prefix: String = "") -> [String] {
        guard count > 0 else { return [] }
        var lines = kinks.prefix(kinksShown).map { k in
            let output = k.outputIndex.map { " → output \(describeIndex($0))" } ?? ""
            return "      " + prefix + "\(inputWord) \(inputLabel(k)) element \(describeIndex(k.index))\(output) at a kink: one-sided derivatives "
                + "left \(k.leftDerivative.map { formatNumber($0) } ?? "?"), right \(k.rightDerivative.map { formatNumber($0) } ?? "?"); backward rule \(formatNumber(k.analytic))"
        }
        if count > kinksShown { lines.append("      " + prefix + "… \(count - kinksShown) more elements at kinks") }
        return lines
    }

    /// `max rel 3.2e-09  good        12 compared  full Jacobian`; when the worst element
    /// has a NaN or an infinity, its two numbers instead of a relative error.
    private func errorColumns(
        _ status: CheckStatus, _ maxRelative: Double, _ band: ErrorBand, checked: Int, method: ComparisonMethod?,
        worst: ElementComparison?
    ) -> String {
        guard status != .skipped else { return paint("not checked", .dim) }
        let methodText = method.map { $0 == .fast ? "  uᵀJv agreed" : "  \($0.rawValue)" } ?? ""
        let checkedText = checked > 0 ? "  \(checked) compared" : ""
        if status == .fail, let worst, !worst.analytic.isFinite || !worst.numeric.isFinite {
            let numbers = "rule \(spelled(worst.analytic)) vs difference \(spelled(worst.numeric))"
            return paint(pad(numbers, 28), .red) + checkedText + methodText
        }
        let bandText = pad(band.rawValue, 10)
        return "max rel " + pad(scientific(maxRelative), 8) + "  " + paint(bandText, bandColor(band)) + checkedText + methodText
    }

    private func statusLabel(_ status: CheckStatus) -> String {
        switch status {
        case .pass: paint("✓ pass", .green)
        case .kink: paint("~ kink", .yellow)
        case .inconclusive: paint("? inconclusive", .yellow)
        case .fail: paint("✗ FAIL", .red)
        case .skipped: paint("- skip", .dim)
        }
    }

    private func bandColor(_ band: ErrorBand) -> Color {
        switch band {
        case .good: .green
        case .acceptable: .yellow
        case .suspicious, .wrong: .red
        }
    }

    enum Color: String {
        case red = "31", green = "32", yellow = "33", bold = "1", dim = "2"
    }

    private func paint(_ text: String, _ color: Color) -> String {
        colors ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// A number for a sentence: `NaN`, `inf`, `-inf`, else up to 8 significant digits.
func spelled(_ value: Double) -> String { formatNumber(value, significant: 8) }

/// `1 leaf`, `3 leaves`.
func counted(_ count: Int, _ singular: String, _ plural: String) -> String {
    "\(count) \(count == 1 ? singular : plural)"
}

func describeIndex(_ index: [Int]) -> String {
    "[" + index.map(String.init).joined(separator: ", ") + "]"
}

/// `3.2e-07`; `0` for zero; `inf`/`nan` as such.
func scientific(_ value: Double) -> String {
    if value == 0 { return "0" }
    if !value.isFinite { return formatNumber(value) }
    return String(format: "%.1e", value)
}

func formatSeconds(_ seconds: Double) -> String {
    seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
}
