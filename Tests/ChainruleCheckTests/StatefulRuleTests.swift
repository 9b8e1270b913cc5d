import ChainruleCheck
import ChainruleCore
import Synchronization
import Testing

/// 2x, whose backward adds a little more every call: not deterministic.
private final class DriftingDouble: ChainruleCore.Operation, Sendable {
    let calls = Mutex(0)
    var name: String { "drifting_double" }
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] { inputShapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { 2 * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let n = calls.withLock { $0 += 1; return $0 }
        return [gradient.map { 2 * $0 + Double(n) * 1e-15 }]
    }
}

/// 2x, whose backward writes into its input's storage (through a pointer, as C code might).
private struct ScribblingDouble: ChainruleCore.Operation {
    var name: String { "scribbling_double" }
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] { inputShapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor { inputs[0].map { 2 * $0 } }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        inputs[0].data.withUnsafeBufferPointer { UnsafeMutablePointer(mutating: $0.baseAddress!)[0] += 1 }
        return [gradient.map { 2 * $0 }]
    }
}

/// A scale whose forward uses a factor that backward changes: it keeps state.
private final class StatefulScale: ChainruleCore.Operation, Sendable {
    let factor = Mutex(2.0)
    var name: String { "stateful_scale" }
    func outputShape(_ inputShapes: [[Int]]) throws(ShapeError) -> [Int] { inputShapes[0] }
    func forward(_ inputs: [Tensor]) -> Tensor {
        let f = factor.withLock { $0 }
        return inputs[0].map { f * $0 }
    }
    func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let f = factor.withLock { f in defer { f += 1 }; return f }
        return [gradient.map { f * $0 }]
    }
}

/// The probes that need no finite difference: two calls agree, and backward changes
/// neither its inputs nor what forward gives.
@Suite struct StatefulRuleTests {
    @Test func aBackwardThatDriftsBetweenCallsFailsTheDeterminismProbe() {
        let check = GradientCheck.operation(DriftingDouble(), inputs: [Tensor([0.5, -1])])
        #expect(check.status == .fail)
        #expect(check.probeFailures.contains { $0.probe == .determinism })
    }

    @Test func aBackwardThatWritesIntoItsInputFailsTheMutationProbe() {
        let check = GradientCheck.operation(ScribblingDouble(), inputs: [Tensor([0.5, -1])])
        #expect(check.status == .fail)
        #expect(check.probeFailures.contains { $0.probe == .mutation && $0.detail == "backward changed input 0" })
    }

    @Test func aBackwardThatChangesTheForwardFailsTheMutationProbe() {
        let check = GradientCheck.operation(StatefulScale(), inputs: [Tensor([0.5, -1])])
        #expect(check.status == .fail)
        #expect(check.probeFailures.contains { $0.probe == .mutation && $0.detail.contains("the op keeps state that backward changes") })
    }

    @Test func aPureRulePassesEveryProbe() {
        let check = GradientCheck.operation(Activation.tanh, inputs: [Tensor([0.5, -1])])
        #expect(check.status == .pass)
        #expect(check.probeFailures.isEmpty)
    }
}
