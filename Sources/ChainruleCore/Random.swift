import Foundation

/// SplitMix64: a small, fast, seedable generator. Every random tensor in
/// Chainrule comes from one of these, so a seed reproduces it exactly on any
/// machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal by the Box–Muller transform.
    public mutating func nextGaussian() -> Double {
        var u1 = nextUnit()
        while u1 <= 0 { u1 = nextUnit() }
        let u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

extension Tensor {
    /// Normal(0, scale²) entries from `seed`.
    public static func randn(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let data = (0..<Tensor.elementCount(shape)).map { _ in scale * rng.nextGaussian() }
        return Tensor(shape: shape, data: data)
    }

    /// Uniform entries in [low, high) from `seed`.
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let data = (0..<Tensor.elementCount(shape)).map { _ in low + (high - low) * rng.nextUnit() }
        return Tensor(shape: shape, data: data)
    }
}
