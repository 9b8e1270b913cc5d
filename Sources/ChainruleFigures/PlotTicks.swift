import ChainruleCore
import Foundation

/// Where an axis puts its ticks, and how it writes their labels.
public enum Ticks {
    /// The "nice" step for about `target` intervals across `span`: 1, 2 or 5
    /// times a power of ten, the smallest of those at least `span / target`.
    /// `niceStep(span: 7, target: 5)` is 2; `niceStep(span: 0.3, target: 5)` is 0.1.
    public static func niceStep(span: Double, target: Int = 5) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(target, 1))
        let power = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    /// The range widened outward to whole steps, and the ticks inside it:
    /// `linear(0.13, 0.92)` gives 0…1 with ticks every 0.2. A degenerate range
    /// (lo = hi) is widened by one unit (or 10 % of |lo|) each side first.
    public static func linear(_ lo: Double, _ hi: Double, target: Int = 5) -> (range: ClosedRange<Double>, ticks: [Double], step: Double) {
        var (lo, hi) = (min(lo, hi), max(lo, hi))
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let step = niceStep(span: hi - lo, target: target)
        // A span past the largest Double (−1e308 to 1e308) has no step to tick it by:
        // the range is returned bare, and `PlotFigure.unplottable` refuses such an axis.
        guard (hi - lo).isFinite else { return (lo...hi, [], step) }
        let first = Foundation.floor(lo / step + 1e-9), last = Foundation.ceil(hi / step - 1e-9)
        guard last - first <= maxTicks else { return (lo...hi, [], step) }
        let ticks = stride(from: first, through: last, by: 1).map { clean($0 * step, step: step) }.filter(\.isFinite)
        // Widened to a whole step past the largest Double, an end stays at the data's.
        let (low, high) = (first * step, last * step)
        return ((low.isFinite ? low : lo)...(high.isFinite ? high : hi), ticks, step)
    }

    /// The most ticks an axis is given: past it the step did not divide the span
    /// (a span of subnormal numbers, where a step loses its digits).
    static let maxTicks = 1000.0

    /// Ticks of a fixed range, at whole steps inside it (the ends need not be ticks).
    public static func linear(inside range: ClosedRange<Double>, target: Int = 5) -> (ticks: [Double], step: Double) {
        let step = niceStep(span: range.upperBound - range.lowerBound, target: target)
        let first = Foundation.ceil(range.lowerBound / step - 1e-9), last = Foundation.floor(range.upperBound / step + 1e-9)
        guard first <= last, last - first <= maxTicks else { return ([], step) }
        return (stride(from: first, through: last, by: 1).map { clean($0 * step, step: step) }, step)
    }

    /// `3 * 0.1` is 0.30000000000000004: round a tick to its step's precision.
    private static func clean(_ value: Double, step: Double) -> Double {
        let decimals = max(0, -Int(Foundation.floor(Foundation.log10(step))) + 1)
        // Past 15 decimals the rounding would take every tick to 0 (a step of 1e-321).
        guard decimals <= 15 else { return value }
        let scale = Foundation.pow(10, Double(decimals))
        let rounded = (value * scale).rounded() / scale
        return rounded == 0 ? 0 : rounded
    }

    /// A logarithmic range widened outward to whole decades, with a major tick
    /// at every decade (at every second or third, the multiples of 2 or 3, when
    /// there would be more than `maxLabels`) and minor ticks at 2…9 × 10ᵏ when there are few decades.
    /// Both ends must be positive.
    public static func log(_ lo: Double, _ hi: Double, maxLabels: Int = 8) -> (range: ClosedRange<Double>, major: [Double], minor: [Double]) {
        let lo = min(max(min(lo, hi), Double.leastNormalMagnitude), Double.greatestFiniteMagnitude), hi = min(max(lo, hi), Double.greatestFiniteMagnitude)
        var first = Int(Foundation.floor(Foundation.log10(lo) + 1e-9)), last = Int(Foundation.ceil(Foundation.log10(hi) - 1e-9))
        if first == last { (first, last) = (first - 1, last + 1) }
        let decades = last - first
        let every = max(1, Int((Double(decades) / Double(maxLabels)).rounded(.up)))
        // Labelled decades are multiples of `every` (10⁻¹², 10⁻⁹, … rather than 10⁻¹¹, 10⁻⁸, …).
        func labelled(_ k: Int) -> Bool { k % every == 0 }
        let major = stride(from: first, through: last, by: 1).filter(labelled).map { Foundation.pow(10, Double($0)) }
        var minor: [Double] = []
        if decades <= 6 {
            for k in first..<last { for m in 2...9 { minor.append(Double(m) * Foundation.pow(10, Double(k))) } }
        } else if every > 1 {
            minor = stride(from: first, through: last, by: 1).filter { !labelled($0) }.map { Foundation.pow(10, Double($0)) }
        }
        // 10³⁰⁹ is past the largest Double: the range then ends at the data.
        let top = Foundation.pow(10, Double(last))
        return (Foundation.pow(10, Double(first))...(top.isFinite ? top : hi), major.filter(\.isFinite), minor.filter(\.isFinite))
    }

    /// The label of a linear tick: as many decimals as the step needs, no "-0".
    /// `label(0.5, step: 0.5)` is "0.5"; `label(2000, step: 500)` is "2000".
    /// A step under 10⁻¹² or from 10¹⁵ up is written with an exponent (`2e-321`, `1.5e+300`):
    /// fixed decimals would write every tick as 0, or print three hundred digits.
    public static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, -Int(Foundation.floor(Foundation.log10(step) + 1e-9)))
        let text = decimals > 12 || step >= 1e15 ? (value == 0 ? "0" : formatNumber(value, significant: 3))
            : String(format: "%.\(decimals)f", value)
        if Double(text) == 0 { return "0" }
        return text.replacingOccurrences(of: "-", with: "−")
    }

    /// The label of a log tick: `10⁻⁶`, `10⁰`, `10³` (1 and 10 written as 1 and 10).
    public static func logLabel(_ value: Double) -> String {
        let exponent = Int(Foundation.log10(value).rounded())
        if exponent == 0 { return "1" }
        if exponent == 1 { return "10" }
        let superscripts: [Character: Character] = [
            "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻",
        ]
        return "10" + String(String(exponent).map { superscripts[$0] ?? $0 })
    }
}
