import ChainruleCheck
import ChainruleCore
import Foundation

/// The checker's speed: the end-to-end check of a small CNN against its limit, Richardson's
/// and `--eps auto`'s cost an element against the central difference's, and the rule check of the whole registry.
///
/// The limit is `2 × Σ over leaf elements of one recompute of that leaf's
/// downstream cone` (the central difference's two evaluations per element, on one
/// core); the ratio check time ÷ limit should stay ≤ 1.5 (below 1 when both cores help).
///
/// The CNN is the engine issue's: conv 3→6 5×5, ReLU, max-pool 2, linear → 10,
/// cross-entropy on one 1×3×32×32 image.
enum CheckBench {
    static func run() throws {
        try bench("small CNN: conv 3→6 5×5, relu, maxpool 2, flatten, linear → 10, cross-entropy", smallCNN())
        benchRules()
    }

    /// `Examples.smallCNN()` with its image held constant: the check is
    /// with respect to every parameter.
    static func smallCNN() -> (Graph, NodeID) {
        let (graph, loss) = Examples.smallCNN()
        for leaf in graph.leaves where graph[leaf].name == "x" { graph.setRole(.constant, of: leaf) }
        return (graph, loss.id)
    }

    static func bench(_ title: String, _ built: (Graph, NodeID)) throws {
        let (graph, output) = built
        let cones = try GradientCheck.coneRecomputeSeconds(graph, output: output)
        let limit = 2 * cones.reduce(0) { $0 + Double($1.elements) * $1.seconds }
        let cpuBefore = processCPUSeconds()
        let report = try GradientCheck.graph(graph, output: output, options: CheckOptions(nodeLocal: false))
        let cpu = processCPUSeconds() - cpuBefore
        let elements = report.leaves.reduce(0) { $0 + $1.elementsChecked }
        print(title)
        print("  end-to-end, every parameter (\(elements) elements): \(seconds(report.seconds)) wall, \(seconds(cpu)) CPU, "
              + "\(report.forwardEvaluations) cone recomputes, \(report.passed ? "passed" : "FAILED")")
        print("  limit 2 × Σ elements × cone time = \(seconds(limit)); ratio wall \(String(format: "%.2f", report.seconds / limit)) (aim ≤ 1.5), "
              + "CPU \(String(format: "%.2f", cpu / limit)) (the work done, whatever else the machine runs)")
        let central = (seconds: report.seconds / Double(elements), evaluations: Double(report.forwardEvaluations) / Double(elements))
        for (label, options) in [
            ("Richardson", CheckOptions(stencil: .richardson, nodeLocal: false)),
            ("central, --eps auto", CheckOptions(autoStep: true, nodeLocal: false)),
            ("Richardson, --eps auto", CheckOptions(autoStep: true, stencil: .richardson, nodeLocal: false)),
        ] {
            let other = try GradientCheck.graph(graph, output: output, options: options)
            let n = Double(other.leaves.reduce(0) { $0 + $1.elementsChecked })
            print("  \(label), every parameter: \(seconds(other.seconds)) (\(String(format: "%.1f", other.seconds / limit))× the limit), "
                  + "\(String(format: "%.1f", Double(other.forwardEvaluations) / n)) cone recomputes an element against central's "
                  + "\(String(format: "%.1f", central.evaluations)), \(String(format: "%.1f", other.seconds / n / central.seconds))× central's time an element, "
                  + "\(other.passed ? "passed" : "FAILED")\(other.hasInconclusive ? " (some inconclusive)" : "")")
        }
        // Fast mode, node-local and end-to-end: the median of 21 runs (each a few ms).
        var fastRuns: [CheckReport] = []
        for _ in 0..<21 { fastRuns.append(try GradientCheck.graph(graph, output: output, options: CheckOptions(fast: true))) }
        let fast = fastRuns.sorted { $0.seconds < $1.seconds }[10]
        let settled = fast.nodes.filter { $0.method == .fast }.count
        print("  fast mode, node-local and end-to-end: \(String(format: "%.2f", fast.seconds * 1000)) ms (median of 21; aim ≤ 2 ms), "
              + "\(fast.forwardEvaluations) forward evaluations, \(settled) of \(fast.nodes.count) nodes settled by the whole-graph projection, "
              + "\(fast.passed ? "passed" : "FAILED")")
        let local = try GradientCheck.graph(graph, output: output, options: CheckOptions(endToEnd: false))
        print("  node-local, every node: \(seconds(local.seconds)), \(local.forwardEvaluations) op forwards")
    }

    static func benchRules() {
        let report = GradientCheck.rules()
        print("rule check of the registry (\(Registry.specs.count) ops, \(report.rules.count) samples): "
              + "\(seconds(report.seconds)), \(report.forwardEvaluations) forward evaluations, \(report.passed ? "passed" : "FAILED")")
    }

    /// CPU time of this process over all its threads.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func seconds(_ s: Double) -> String {
        s < 1 ? String(format: "%.1f ms", s * 1000) : String(format: "%.2f s", s)
    }
}
