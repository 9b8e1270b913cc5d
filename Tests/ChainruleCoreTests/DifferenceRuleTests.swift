import ChainruleCore
import Foundation
import Testing

/// Every op's difference rule (`Operation.difference`, what the checker's Richardson extrapolation
/// propagates) gives `forward(x + Δ) − forward(x)`, and gives it without the cancellation of
/// subtracting the two forwards.
@Suite struct DifferenceRuleTests {
    static let names = Registry.names

    /// Seeded deltas for the differentiable inputs of a sample: each alone, then all together.
    static func deltaSets(_ sample: OpSample, scale: Double, seed: UInt64) -> [[Tensor?]] {
        let moving = sample.inputs.indices.filter { sample.op.isDifferentiable(input: $0) }
        let deltas = moving.map { Tensor.randn(sample.inputs[$0].shape, seed: seed &+ UInt64($0), scale: scale) }
        func set(_ chosen: [Int]) -> [Tensor?] {
            sample.inputs.indices.map { i in chosen.contains(i) ? deltas[moving.firstIndex(of: i)!] : nil }
        }
        return moving.map { set([$0]) } + (moving.count > 1 ? [set(moving)] : [])
    }

    static func perturbed(_ inputs: [Tensor], _ deltas: [Tensor?]) -> [Tensor] {
        inputs.indices.map { i in deltas[i].map { inputs[i].zipMap($0, +) } ?? inputs[i] }
    }

    @Test func everyOpInTheRegistryHasADifferenceRule() {
        #expect(Registry.specs.filter { !$0.hasDifferenceRule }.map(\.name) == [])
    }

    /// Small moves and moves that cross kinks (relu, max, max-pool, hinge pick their branch at
    /// x + Δ as `forward` does): the rule against the two forwards subtracted, within the
    /// latter's own rounding.
    @Test(arguments: names)
    func theRuleAgreesWithTheForwardsSubtracted(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for (s, sample) in spec.samples.enumerated() {
            let y = sample.op.forward(sample.inputs)
            for scale in [1e-3, 0.3] {
                for deltas in Self.deltaSets(sample, scale: scale, seed: UInt64(17 * s + 3)) {
                    let moved = Self.perturbed(sample.inputs, deltas)
                    let rule = try #require(sample.op.difference(sample.inputs, output: y, deltas: deltas))
                    let y2 = sample.op.forward(moved)
                    #expect(rule.shape == y.shape, "\(name) \(sample.label)")
                    // The forwards round at their inputs' size too (log-softmax's shift by the row's
                    // maximum: ε·1000 for logits near 1000).
                    let inputSize = sample.inputs.map { $0.data.reduce(0) { Swift.max($0, abs($1)) } }.max() ?? 0
                    for k in 0..<y.count {
                        let fallback = y2.data[k] - y.data[k], r = rule.data[k]
                        if !fallback.isFinite || !r.isFinite {
                            #expect(fallback.isNaN == r.isNaN, "\(name) \(sample.label) [\(k)]: \(r) against \(fallback)")
                            continue
                        }
                        let rounding = 1e-14 * (abs(y.data[k]) + abs(y2.data[k]) + abs(fallback) + inputSize) + 1e-300
                        #expect(abs(r - fallback) <= rounding,
                                "\(name) \(sample.label) Δ ~\(scale) [\(k)]: rule \(r), forwards \(fallback)")
                    }
                }
            }
        }
    }

    /// An input that is given a delta of zeros does not change the output.
    @Test(arguments: names)
    func aZeroDeltaIsNoChange(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for sample in spec.samples {
            let y = sample.op.forward(sample.inputs)
            let zeros = sample.inputs.indices.map { sample.op.isDifferentiable(input: $0) ? Tensor.zeros(sample.inputs[$0].shape) : nil }
            let rule = try #require(sample.op.difference(sample.inputs, output: y, deltas: zeros))
            #expect(rule.data.allSatisfy { $0 == 0 }, "\(name) \(sample.label): \(rule.data)")
        }
    }

    @Test func sqrtOfAnUnmovedZeroDoesNotChange() throws {
        let x = Tensor([0, 4])
        let change = try #require(Unary.sqrt.difference([x], output: Unary.sqrt.forward([x]), deltas: [Tensor([0, 1e-3])]))
        #expect(change.data[0] == 0)
        // √(4 + 1e-3) − 2 to 40 digits: 2.49984376952819882818e-4; the forwards subtracted give 2.4998437695300524e-4.
        #expect(abs(change.data[1] / 2.49984376952819882818e-4 - 1) < 4e-16)
    }

    /// For Δ of 1e-11 the rule is exact to first order, `uᵀΔ = backward(u)·Δx` to 1e-8, where
    /// subtracting the forwards (rounded at ε·|y|, 1e-5 of the change) is not.
    @Test(arguments: names)
    func theRuleKeepsTheDigitsOfATinyChange(name: String) throws {
        let spec = try #require(Registry.spec(named: name))
        for (s, sample) in spec.samples.enumerated() {
            let y = sample.op.forward(sample.inputs)
            let u = Tensor.randn(y.shape, seed: UInt64(s) &+ 41)
            let gradients = sample.op.backward(sample.inputs, output: y, gradient: u)
            for deltas in Self.deltaSets(sample, scale: 1e-11, seed: UInt64(29 * s + 5)) {
                let rule = try #require(sample.op.difference(sample.inputs, output: y, deltas: deltas))
                var predicted = 0.0, size = 0.0
                for (i, d) in deltas.enumerated() {
                    guard let d, let g = gradients[i] else { continue }
                    for j in 0..<d.count {
                        predicted += g.data[j] * d.data[j]
                        size += abs(g.data[j] * d.data[j])
                    }
                }
                var actual = 0.0
                for k in 0..<y.count { actual += u.data[k] * rule.data[k] }
                #expect(abs(actual - predicted) <= 1e-8 * size + 1e-300,
                        "\(name) \(sample.label): uᵀΔ \(actual), backward(u)·Δx \(predicted)")
            }
        }
    }
}
