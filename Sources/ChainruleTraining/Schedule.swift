import Foundation

/// A learning-rate schedule, stepped once per epoch as PyTorch's schedulers
/// are: the rate of epoch e (counted from 0) from the initial rate lr₀.
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    /// lr₀ throughout.
    case constant
    /// `step:N:γ` (torch's `StepLR`): lr₀·γ^⌊e / N⌋, the seeds' "½ every n epochs" with γ = 0.5.
    case step(every: Int, factor: Double)
    /// `exp:γ` (torch's `ExponentialLR`): lr₀·γ^e.
    case exponential(factor: Double)
    /// `cosine` (torch's `CosineAnnealingLR`, T_max = the run's epochs, η_min = 0):
    /// lr₀·(1 + cos(π·e / T)) / 2.
    case cosine

    /// The rate of `epoch` (from 0) in a run of `epochs` epochs.
    public func learningRate(_ initial: Double, epoch: Int, of epochs: Int) -> Double {
        switch self {
        case .constant:
            return initial
        case .step(let every, let factor):
            return initial * Foundation.pow(factor, Double(epoch / every))
        case .exponential(let factor):
            return initial * Foundation.pow(factor, Double(epoch))
        case .cosine:
            return initial * (1 + Foundation.cos(Double.pi * Double(epoch) / Double(Swift.max(epochs, 1)))) / 2
        }
    }

    /// As `--decay` writes it: `step:10:0.5`, `exp:0.95`, `cosine`, `none`.
    public var description: String {
        switch self {
        case .constant: return "none"
        case .step(let every, let factor): return "step:\(every):\(factor)"
        case .exponential(let factor): return "exp:\(factor)"
        case .cosine: return "cosine"
        }
    }

    /// A problem with the text of a schedule.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Reads `step:N:γ` (N a whole number from 1, γ in (0, 1]), `exp:γ`, `cosine` or `none`.
    public init(parsing text: String) throws(SyntaxError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func factor(_ word: String) throws(SyntaxError) -> Double {
            guard let value = Double(word), value > 0, value <= 1 else {
                throw SyntaxError(description: "the factor γ of '\(text)' must be a number in (0, 1], as 0.5")
            }
            return value
        }
        switch parts[0] {
        case "none" where parts.count == 1: self = .constant
        case "cosine" where parts.count == 1: self = .cosine
        case "exp" where parts.count == 2: self = .exponential(factor: try factor(parts[1]))
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every >= 1 else {
                throw SyntaxError(description: "the period N of '\(text)' must be a whole number of epochs from 1, as step:10:0.5")
            }
            self = .step(every: every, factor: try factor(parts[2]))
        default:
            throw SyntaxError(description: "unknown schedule '\(text)': use step:N:γ (γ every N epochs, as step:10:0.5), exp:γ (as exp:0.95), cosine or none")
        }
    }
}
