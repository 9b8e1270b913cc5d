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
        if let bad = report.nonFinite {
            let location = bad.location.map { " at \($0)" } ?? ""
            let op = bad.op.map { " (\($0))" } ?? " (leaf)"
            lines.append(paint("✗ non-finite", .red) + " \(formatNumber(bad.value)) first produced by node \(bad.name)\(op)\(location), element \(describeIndex(bad.index)); the nodes it reaches are not checked")
        }
        if !report.nodes.isEmpty {
            lines.append(paint("node-local: each node's backward rule at the values it saw", .bold))
            let nameWidth = report.nodes.map { $0.name.count + $0.op.count + 3 }.max() ?? 0
            for node in report.nodes {
                let title = pad("\(node.name) (\(node.op))", nameWidth)
                let location = node.location.map { "  \($0)" } ?? ""
                lines.append("  " + statusLabel(node.status) + "  " + title + "  " + errorColumns(node.status, node.maxRelativeError, node.band, checked: node.elementsChecked, method: node.method) + location)
                if node.status == .fail, let worst = node.worst {
                    lines.append("      " + describe(worst, inputWord: "input"))
                }
                lines += kinkLines(node.kinks, count: node.kinkCount, inputWord: "input")
            }
        }
        if !report.leaves.isEmpty {
            let outputName = report.output.map { id in report.nodes.first { $0.node == id }?.name ?? id.description }
            let output = outputName.map { "d \($0) / d leaf" } ?? "d output / d leaf"
            lines.append(paint("end-to-end: \(output) by backprop against finite differences of the whole graph", .bold))
            let nameWidth = report.leaves.map { $0.name.count + $0.role.rawValue.count + 3 }.max() ?? 0
            for leaf in report.leaves {
                let title = pad("\(leaf.name) (\(leaf.role.rawValue))", nameWidth)
                let sampled = leaf.elementsChecked < leaf.elementCount && leaf.elementsChecked > 0
                    ? "  \(leaf.elementsChecked) of \(leaf.elementCount) elements" : ""
                let fast = leaf.projection.map { p in
                    "  uᵀJv \(p.passed ? "agreed" : "disagreed") (\(formatNumber(p.analytic)) vs \(formatNumber(p.numeric)))"
                } ?? ""
                lines.append("  " + statusLabel(leaf.status) + "  " + title + "  " + errorColumns(leaf.status, leaf.maxRelativeError, leaf.band, checked: leaf.elementsChecked, method: nil) + sampled + fast)
                if leaf.status == .fail, let worst = leaf.worst {
                    lines.append("      " + describe(worst, inputWord: "leaf"))
                }
                lines += kinkLines(leaf.kinks, count: leaf.kinkCount, inputWord: "leaf")
            }
        }
        lines.append(summary(report))
        return lines.joined(separator: "\n")
    }

    private func summary(_ report: CheckReport) -> String {
        let failedNodes = report.nodes.filter { $0.status == .fail }.count
        let failedLeaves = report.leaves.filter { $0.status == .fail }.count
        let kinks = report.nodes.filter { $0.status == .kink }.count + report.leaves.filter { $0.status == .kink }.count
        var parts: [String] = []
        if !report.nodes.isEmpty { parts.append("\(failedNodes) of \(report.nodes.count) nodes failed") }
        if !report.leaves.isEmpty { parts.append("\(failedLeaves) of \(report.leaves.count) leaves failed") }
        if kinks > 0 { parts.append("\(kinks) at kinks") }
        parts.append("\(report.forwardEvaluations) forward evaluations")
        parts.append(formatSeconds(report.seconds))
        let verdict = report.passed ? paint("PASSED", .green) : paint("FAILED", .red)
        return verdict + ": " + parts.joined(separator: " · ")
    }

    // MARK: Rule checks

    /// One line per op (its worst sample), failing samples expanded.
    public func render(_ report: RuleReport) -> String {
        var lines: [String] = []
        var order: [String] = []
        var byOp: [String: [RuleCheck]] = [:]
        for rule in report.rules {
            if byOp[rule.op] == nil { order.append(rule.op) }
            byOp[rule.op, default: []].append(rule)
        }
        let nameWidth = order.map(\.count).max() ?? 0
        for op in order {
            let samples = byOp[op]!
            let status = samples.map(\.status).max { rank($0) < rank($1) } ?? .skipped
            let maxRelative = samples.map(\.maxRelativeError).max() ?? 0
            let checked = samples.reduce(0) { $0 + $1.elementsChecked }
            let count = "\(samples.count) sample\(samples.count == 1 ? "" : "s")"
            lines.append("  " + statusLabel(status) + "  " + pad(op, nameWidth) + "  " + errorColumns(status, maxRelative, ErrorBand(relativeError: maxRelative), checked: checked, method: nil) + "  " + count)
            for sample in samples {
                lines += sampleLines(sample)
            }
        }
        let failed = report.failedOps
        let verdict = failed.isEmpty ? paint("PASSED", .green) : paint("FAILED", .red)
        let failedText = failed.isEmpty ? "" : " (" + failed.joined(separator: ", ") + ")"
        lines.append(verdict + ": \(failed.count) of \(order.count) ops failed\(failedText) · \(report.rules.count) samples · \(report.forwardEvaluations) forward evaluations · \(formatSeconds(report.seconds))")
        return lines.joined(separator: "\n")
    }

    /// One op checked on its own (`GradientCheck.operation`): its line and, if it failed, the worst entry.
    public func render(_ check: RuleCheck) -> String {
        let line = "  " + statusLabel(check.status) + "  " + check.op + "  " + errorColumns(check.status, check.maxRelativeError, check.band, checked: check.elementsChecked, method: check.method)
        return ([line] + sampleLines(check, showLabel: false)).joined(separator: "\n")
    }

    private func sampleLines(_ sample: RuleCheck, showLabel: Bool = true) -> [String] {
        var lines: [String] = []
        let label = showLabel ? "sample \"\(sample.sample)\": " : ""
        if let problem = sample.problem {
            lines.append("      " + label + problem)
        } else if sample.status == .fail, let worst = sample.worst {
            lines.append("      " + label + describe(worst, inputWord: "input"))
        }
        if sample.status == .kink {
            lines += kinkLines(sample.kinks, count: sample.kinkCount, inputWord: "input", prefix: label)
        }
        return lines
    }

    // MARK: Pieces

    /// `input 0 "z" element [1] → output [1]: backward rule 0.2, finite difference 0.105 (abs 9.5e-2, rel 4.7e-1)`
    func describe(_ c: ElementComparison, inputWord: String) -> String {
        let output = c.outputIndex.map { " → output \(describeIndex($0))" } ?? ""
        return "\(inputWord) \(inputLabel(c)) element \(describeIndex(c.index))\(output): backward rule "
            + paint(formatNumber(c.analytic, significant: 8), .red) + ", finite difference "
            + paint(formatNumber(c.numeric, significant: 8), .green)
            + " (abs \(scientific(c.absoluteError)), rel \(scientific(c.relativeError)))"
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

    private func errorColumns(_ status: CheckStatus, _ maxRelative: Double, _ band: ErrorBand, checked: Int, method: ComparisonMethod?) -> String {
        guard status != .skipped else { return paint("not checked", .dim) }
        let bandText = pad(band.rawValue, 10)
        let methodText = method.map { "  \($0.rawValue)" } ?? ""
        return "max rel " + pad(scientific(maxRelative), 8) + "  " + paint(bandText, bandColor(band)) + "  \(checked) compared" + methodText
    }

    private func statusLabel(_ status: CheckStatus) -> String {
        switch status {
        case .pass: paint("✓ pass", .green)
        case .kink: paint("~ kink", .yellow)
        case .fail: paint("✗ FAIL", .red)
        case .skipped: paint("- skip", .dim)
        }
    }

    private func rank(_ status: CheckStatus) -> Int {
        switch status {
        case .skipped: 0
        case .pass: 1
        case .kink: 2
        case .fail: 3
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
