import ChainruleCore
import Foundation

/// The generated 2-D sets: seeded, no downloads, the same points on every machine.
public enum GeneratedData: String, CaseIterable, Sendable {
    /// Two interleaved half circles (scikit-learn's `make_moons`, noise 0.1), 2 classes.
    case moons
    /// CS231n's spiral: 3 arms, radius 0…1, angle noise 0.2, 3 classes.
    case spirals
    /// Two concentric circles (`make_circles`, factor 0.5, noise 0.05), 2 classes.
    case circles
    /// Three Gaussian blobs of standard deviation 0.6 around fixed centres, 3 classes.
    case blobs
    /// Uniform points in [−1, 1]², class 1 where x·y > 0 (the XOR pattern), 2 classes.
    case xor

    /// Examples when `--data NAME` gives no count (`moons:500` gives one): 200,
    /// and 300 for the three spirals (100 per arm, as CS231n).
    public var defaultCount: Int { self == .spirals ? 300 : 200 }

    /// `count` points (at least 2 per class), drawn from `seed`.
    public func make(count requested: Int? = nil, seed: UInt64 = 0) -> Dataset {
        let count = requested ?? defaultCount
        var rng = SeededGenerator(seed: seed ^ 0x6461_7461)
        var points: [Double] = [], labels: [Int] = []
        func add(_ x: Double, _ y: Double, _ label: Int) {
            points += [x, y]
            labels.append(label)
        }
        switch self {
        case .moons:
            for i in 0..<count {
                let label = i % 2, t = Double.pi * Double(i / 2) / Double(Swift.max((count + 1) / 2 - 1, 1))
                let (x, y) = label == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
                add(x + 0.1 * rng.nextGaussian(), y + 0.1 * rng.nextGaussian(), label)
            }
        case .spirals:
            let perArm = Swift.max(count / 3, 1)
            for i in 0..<count {
                let arm = i % 3, k = i / 3
                let r = Double(k) / Double(Swift.max(perArm - 1, 1))
                let t = Double(arm) * 4 + 4 * r + 0.2 * rng.nextGaussian()
                add(r * sin(t), r * cos(t), arm)
            }
        case .circles:
            for i in 0..<count {
                let label = i % 2, t = 2 * Double.pi * Double(i / 2) / Double(Swift.max((count + 1) / 2, 1))
                let radius = label == 0 ? 1 : 0.5
                add(radius * cos(t) + 0.05 * rng.nextGaussian(), radius * sin(t) + 0.05 * rng.nextGaussian(), label)
            }
        case .blobs:
            let centres = [(-1.5, -1.0), (1.5, -1.0), (0.0, 1.5)]
            for i in 0..<count {
                let label = i % 3
                add(centres[label].0 + 0.6 * rng.nextGaussian(), centres[label].1 + 0.6 * rng.nextGaussian(), label)
            }
        case .xor:
            for _ in 0..<count {
                let x = 2 * rng.nextUnit() - 1, y = 2 * rng.nextUnit() - 1
                add(x, y, x * y > 0 ? 1 : 0)
            }
        }
        // The initialiser accepts every set made here: finite points, one label each.
        return try! Dataset(name: rawValue, features: Tensor(shape: [count, 2], data: points), labels: labels)
    }
}
