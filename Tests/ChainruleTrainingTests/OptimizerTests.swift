import ChainruleTraining
import Foundation
import Testing

/// Two steps of each optimizer on p = [1, −2] with the gradients [0.5, −1]
/// then [0.25, 2], lr 0.1, and weight decay 0 or 0.1. The expected values
/// are written out by hand from each update rule (docs/training.md); the
/// same numbers come out of torch 2 in float64 (scripts/check-optimizers-torch.py).
@Suite struct OptimizerTests {
    static let gradients: [[Double]] = [[0.5, -1], [0.25, 2]]

    /// The parameters after each of the two steps.
    func run(_ kind: OptimizerKind, weightDecay: Double = 0) -> [[Double]] {
        var optimizer = Optimizer(OptimizerSettings(kind, learningRate: 0.1, weightDecay: weightDecay), parameterSizes: [2])
        var p: [Double] = [1, -2]
        return Self.gradients.map { g in
            optimizer.beginStep()
            optimizer.update(0, parameter: &p, gradient: g, learningRate: 0.1)
            return p
        }
    }

    func expectClose(_ actual: [[Double]], _ expected: [[Double]], tolerance: Double = 1e-12) {
        for (a, e) in zip(actual.joined(), expected.joined()) {
            #expect(abs(a - e) <= tolerance * Swift.max(1, abs(e)), "got \(actual), expected \(expected)")
        }
    }

    @Test func sgd() {
        // p − lr·g, twice.
        expectClose(run(.sgd), [[1 - 0.05, -2 + 0.1], [0.95 - 0.025, -1.9 - 0.2]])
        // g + λ·p first: [0.5 + 0.1, −1 − 0.2] = [0.6, −1.2]; then [0.25 + 0.094, 2 − 0.188].
        expectClose(run(.sgd, weightDecay: 0.1), [[0.94, -1.88], [0.94 - 0.1 * 0.344, -1.88 - 0.1 * 1.812]])
    }

    @Test func momentum() {
        // b₁ = g₁ = [0.5, −1]; b₂ = 0.9·b₁ + g₂ = [0.7, 1.1].
        expectClose(run(.momentum), [[0.95, -1.9], [0.95 - 0.07, -1.9 - 0.11]])
        // b₁ = [0.6, −1.2]; b₂ = 0.9·b₁ + [0.344, 1.812] = [0.884, 0.732].
        expectClose(run(.momentum, weightDecay: 0.1), [[0.94, -1.88], [0.94 - 0.0884, -1.88 - 0.0732]])
    }

    @Test func nesterov() {
        // Step with g + μ·b: [0.5 + 0.45, −1 − 0.9] = [0.95, −1.9]; then [0.25 + 0.63, 2 + 0.99].
        expectClose(run(.nesterov), [[1 - 0.095, -2 + 0.19], [0.905 - 0.088, -1.81 - 0.299]])
        // g₁ = [0.6, −1.2], b₁ = g₁; g₂ = [0.25 + 0.0886, 2 − 0.1772], b₂ = 0.9·b₁ + g₂.
        let g2 = [0.25 + 0.1 * 0.886, 2 - 0.1 * 1.772], b2 = [0.54 + g2[0], -1.08 + g2[1]]
        expectClose(run(.nesterov, weightDecay: 0.1), [[1 - 0.1 * 1.14, -2 + 0.1 * 2.28],
                                                        [0.886 - 0.1 * (g2[0] + 0.9 * b2[0]), -1.772 - 0.1 * (g2[1] + 0.9 * b2[1])]])
    }

    @Test func adagrad() {
        // s₁ = g₁²: each step is lr·g/(|g| + ε) ≈ lr·sign(g); s₂ = [0.3125, 5].
        let eps = 1e-10
        let p1 = [1 - 0.1 * 0.5 / (0.5 + eps), -2 + 0.1 * 1 / (1 + eps)]
        expectClose(run(.adagrad), [p1, [p1[0] - 0.1 * 0.25 / (0.3125.squareRoot() + eps), p1[1] - 0.1 * 2 / (5.0.squareRoot() + eps)]])
        // With λ = 0.1: g₁ = [0.6, −1.2], then g₂ = g + 0.1·p₁, s₂ = g₁² + g₂².
        let q1 = [1 - 0.1 * 0.6 / (0.6 + eps), -2 + 0.1 * 1.2 / (1.2 + eps)]
        let g2 = [0.25 + 0.1 * q1[0], 2 + 0.1 * q1[1]]
        let s2 = [0.36 + g2[0] * g2[0], 1.44 + g2[1] * g2[1]]
        let decayed = [q1, [q1[0] - 0.1 * g2[0] / (s2[0].squareRoot() + eps), q1[1] - 0.1 * g2[1] / (s2[1].squareRoot() + eps)]]
        expectClose(run(.adagrad, weightDecay: 0.1), decayed)
        expectClose([decayed[1]], [[0.8506987428255446, -1.9833464434223942]])  // torch
    }

    @Test func rmsprop() {
        // v₁ = 0.01·g₁², √v₁ = 0.1·|g₁|: the first step is lr·g/(0.1·|g| + ε) ≈ sign(g).
        let eps = 1e-8
        let v2 = [0.99 * 0.0025 + 0.01 * 0.0625, 0.99 * 0.01 + 0.01 * 4]
        let p1 = [1 - 0.1 * 0.5 / (0.05 + eps), -2 + 0.1 * 1 / (0.1 + eps)]
        expectClose(run(.rmsprop), [p1, [p1[0] - 0.1 * 0.25 / (v2[0].squareRoot() + eps), p1[1] - 0.1 * 2 / (v2[1].squareRoot() + eps)]])
        // With λ = 0.1: g₁ = [0.6, −1.2], v₁ = 0.01·g₁²; g₂ = g + 0.1·p₁.
        let q1 = [1 - 0.1 * 0.6 / (0.06 + eps), -2 + 0.1 * 1.2 / (0.12 + eps)]
        let g2 = [0.25 + 0.1 * q1[0], 2 + 0.1 * q1[1]]
        let w2 = [0.99 * 0.0036 + 0.01 * g2[0] * g2[0], 0.99 * 0.0144 + 0.01 * g2[1] * g2[1]]
        let decayed = [q1, [q1[0] - 0.1 * g2[0] / (w2[0].squareRoot() + eps), q1[1] - 0.1 * g2[1] / (w2[1].squareRoot() + eps)]]
        expectClose(run(.rmsprop, weightDecay: 0.1), decayed)
        expectClose([decayed[1]], [[-0.3862643246928505, -1.8466969812390355]])  // torch
    }

    @Test func adam() {
        // t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε).
        let eps = 1e-8
        let p1 = [1 - 0.1 * 0.5 / (0.5 + eps), -2 + 0.1 / (1 + eps)]
        // t = 2: m = 0.9·0.1·g₁ + 0.1·g₂, v = 0.999·0.001·g₁² + 0.001·g₂².
        let m = [0.09 * 0.5 + 0.1 * 0.25, 0.09 * -1 + 0.1 * 2]
        let v = [0.000999 * 0.25 + 0.001 * 0.0625, 0.000999 + 0.001 * 4]
        let step = { (i: Int) in 0.1 / (1 - 0.81) * m[i] / (v[i].squareRoot() / (1 - 0.998001).squareRoot() + eps) }
        expectClose(run(.adam), [p1, [p1[0] - step(0), p1[1] - step(1)]])
        // With λ = 0.1: g₁ = [0.6, −1.2]; g₂ = g + 0.1·p₁.
        let q1 = [1 - 0.1 * 0.6 / (0.6 + eps), -2 + 0.1 * 1.2 / (1.2 + eps)]
        let g2 = [0.25 + 0.1 * q1[0], 2 + 0.1 * q1[1]]
        let m2 = [0.09 * 0.6 + 0.1 * g2[0], 0.09 * -1.2 + 0.1 * g2[1]]
        let v2 = [0.000999 * 0.36 + 0.001 * g2[0] * g2[0], 0.000999 * 1.44 + 0.001 * g2[1] * g2[1]]
        let decayedStep = { (i: Int) in 0.1 / (1 - 0.81) * m2[i] / (v2[i].squareRoot() / (1 - 0.998001).squareRoot() + eps) }
        let decayed = [q1, [q1[0] - decayedStep(0), q1[1] - decayedStep(1)]]
        expectClose(run(.adam, weightDecay: 0.1), decayed)
        expectClose([decayed[1]], [[0.8050097658613199, -1.9250178784643248]])  // torch
    }

    @Test func torchDefaults() {
        #expect(OptimizerSettings(.adam).learningRate == 1e-3)
        #expect(OptimizerSettings(.adam).beta2 == 0.999)
        #expect(OptimizerSettings(.rmsprop).beta2 == 0.99)
        #expect(OptimizerSettings(.rmsprop).learningRate == 1e-2)
        #expect(OptimizerSettings(.adagrad).epsilon == 1e-10)
    }

    @Test func schedules() throws {
        let half = try LearningRateSchedule(parsing: "step:10:0.5")
        #expect(half.learningRate(0.1, epoch: 9, of: 30) == 0.1)
        #expect(half.learningRate(0.1, epoch: 10, of: 30) == 0.05)
        #expect(half.learningRate(0.1, epoch: 25, of: 30) == 0.025)
        #expect(try LearningRateSchedule(parsing: "exp:0.5").learningRate(1, epoch: 3, of: 10) == 0.125)
        let cosine = try LearningRateSchedule(parsing: "cosine")
        #expect(cosine.learningRate(1, epoch: 0, of: 10) == 1)
        #expect(abs(cosine.learningRate(1, epoch: 5, of: 10) - 0.5) < 1e-15)
        #expect(throws: LearningRateSchedule.SyntaxError.self) { try LearningRateSchedule(parsing: "step:0:0.5") }
        #expect(throws: LearningRateSchedule.SyntaxError.self) { try LearningRateSchedule(parsing: "linear") }
    }
}
