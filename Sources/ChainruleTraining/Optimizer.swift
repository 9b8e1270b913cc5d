import Foundation

/// The six optimizers, each with PyTorch's update equations (`torch.optim`,
/// single-tensor path) so that a run here and there take the same steps.
/// docs/training.md writes every formula out.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    /// `torch.optim.SGD(momentum=0)`: p ← p − lr·g.
    case sgd
    /// `torch.optim.SGD(momentum=μ)`: b ← μ·b + g (b = g on the first step); p ← p − lr·b.
    case momentum
    /// `torch.optim.SGD(momentum=μ, nesterov=True)`: b as momentum; p ← p − lr·(g + μ·b).
    case nesterov
    /// `torch.optim.Adagrad`: s ← s + g²; p ← p − lr·g / (√s + ε).
    case adagrad
    /// `torch.optim.RMSprop`: v ← α·v + (1 − α)·g²; p ← p − lr·g / (√v + ε).
    case rmsprop
    /// `torch.optim.Adam`: m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g²;
    /// p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε): bias-corrected, ε outside the root.
    case adam

    /// PyTorch's default learning rate for this optimizer (SGD's is 1e-3 since torch 2.0).
    public var defaultLearningRate: Double {
        switch self {
        case .sgd, .momentum, .nesterov, .adam: return 1e-3
        case .adagrad, .rmsprop: return 1e-2
        }
    }

    /// PyTorch's default ε: 1e-10 for Adagrad, 1e-8 for RMSprop and Adam.
    public var defaultEpsilon: Double { self == .adagrad ? 1e-10 : 1e-8 }

    /// The buffers the optimizer keeps per parameter, by PyTorch's state names.
    public var stateNames: [String] {
        switch self {
        case .sgd: return []
        case .momentum, .nesterov: return ["momentum_buffer"]
        case .adagrad: return ["sum"]
        case .rmsprop: return ["square_avg"]
        case .adam: return ["exp_avg", "exp_avg_sq"]
        }
    }

    /// How people write its name in a legend.
    public var displayName: String {
        switch self {
        case .sgd: return "SGD"
        case .momentum: return "Momentum"
        case .nesterov: return "Nesterov"
        case .adagrad: return "Adagrad"
        case .rmsprop: return "RMSprop"
        case .adam: return "Adam"
        }
    }
}

/// An optimizer's hyper-parameters. Unset ones take PyTorch's defaults.
public struct OptimizerSettings: Sendable, Equatable {
    public var kind: OptimizerKind
    /// Default: `kind.defaultLearningRate`.
    public var learningRate: Double
    /// μ of momentum and Nesterov. Default 0.9 (torch's SGD has 0, which is plain SGD).
    public var momentum: Double
    /// β₁ of Adam, default 0.9.
    public var beta1: Double
    /// β₂ of Adam, default 0.999; also RMSprop's α (default 0.99, as torch).
    public var beta2: Double
    /// Default: `kind.defaultEpsilon`.
    public var epsilon: Double
    /// λ of PyTorch's L2 form: g ← g + λ·p before the update. Default 0.
    public var weightDecay: Double

    public init(_ kind: OptimizerKind, learningRate: Double? = nil, momentum: Double = 0.9, beta1: Double = 0.9,
                beta2: Double? = nil, epsilon: Double? = nil, weightDecay: Double = 0) {
        self.kind = kind
        self.learningRate = learningRate ?? kind.defaultLearningRate
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2 ?? (kind == .rmsprop ? 0.99 : 0.999)
        self.epsilon = epsilon ?? kind.defaultEpsilon
        self.weightDecay = weightDecay
    }

    /// Each setting by name, as a checkpoint's metadata stores them (numbers
    /// as Swift's shortest round-trip text, so they read back exactly).
    public var fields: [(String, String)] {
        [("optimizer", kind.rawValue), ("lr", "\(learningRate)"), ("momentum", "\(momentum)"), ("beta1", "\(beta1)"),
         ("beta2", "\(beta2)"), ("eps", "\(epsilon)"), ("weight_decay", "\(weightDecay)")]
    }
}

/// An optimizer with its state: the step count and, per parameter, the
/// buffers of `kind.stateNames`, created on the first step as torch does.
public struct Optimizer: Sendable {
    public var settings: OptimizerSettings
    /// Steps taken (torch's `state['step']`), the t of Adam's bias correction.
    public private(set) var steps = 0
    /// `buffers[parameter][k]` is the k-th buffer of `settings.kind.stateNames`.
    public private(set) var buffers: [[[Double]]]

    public init(_ settings: OptimizerSettings, parameterSizes: [Int]) {
        self.settings = settings
        buffers = parameterSizes.map { size in settings.kind.stateNames.map { _ in [Double](repeating: 0, count: size) } }
    }

    /// Restores a state saved by a checkpoint.
    public init(_ settings: OptimizerSettings, steps: Int, buffers: [[[Double]]]) {
        self.settings = settings
        self.steps = steps
        self.buffers = buffers
    }

    /// Counts one step; call once per iteration, before `update` of its parameters.
    public mutating func beginStep() { steps += 1 }

    /// Updates parameter `index` in place from its gradient, at learning rate `lr`
    /// (the schedule's value for this epoch), in the order of torch's kernels.
    ///
    /// One loop per kind, its constants (Adam's bias corrections) computed once a step,
    /// over the buffers' own storage: the same bits as the formulas element by element.
    public mutating func update(_ index: Int, parameter p: inout [Double], gradient: [Double], learningRate lr: Double) {
        let s = settings
        let first = steps == 1
        let count = p.count
        precondition(gradient.count == count && steps >= 1, "Optimizer.update: \(gradient.count) gradients for \(count) values, step \(steps)")
        // The buffers leave the state while they are written, so each is uniquely held.
        var a = buffers[index].first ?? [], b = buffers[index].dropFirst().first ?? []
        buffers[index] = []
        defer { buffers[index] = Array([a, b].prefix(s.kind.stateNames.count)) }
        let decay = s.weightDecay
        p.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { gradient in
                a.withUnsafeMutableBufferPointer { a in
                    b.withUnsafeMutableBufferPointer { b in
                        /// The gradient, with torch's L2 weight decay: g + λ·p.
                        @inline(__always) func decayed(_ i: Int) -> Double { decay != 0 ? gradient[i] + decay * p[i] : gradient[i] }
                        switch s.kind {
                        case .sgd:
                            for i in 0..<count { p[i] += -lr * decayed(i) }
                        case .momentum, .nesterov:
                            let nesterov = s.kind == .nesterov
                            for i in 0..<count {
                                let g = decayed(i)
                                let buffer = first ? g : s.momentum * a[i] + g
                                a[i] = buffer
                                p[i] += -lr * (nesterov ? g + s.momentum * buffer : buffer)
                            }
                        case .adagrad:
                            for i in 0..<count {
                                let g = decayed(i)
                                a[i] += g * g
                                p[i] += -lr * (g / (a[i].squareRoot() + s.epsilon))
                            }
                        case .rmsprop:
                            for i in 0..<count {
                                let g = decayed(i)
                                a[i] = a[i] * s.beta2 + (1 - s.beta2) * (g * g)
                                p[i] += -lr * (g / (a[i].squareRoot() + s.epsilon))
                            }
                        case .adam:
                            let t = Double(steps)
                            let stepSize = lr / (1 - Foundation.pow(s.beta1, t))
                            let correction2 = (1 - Foundation.pow(s.beta2, t)).squareRoot()
                            for i in 0..<count {
                                let g = decayed(i)
                                // torch: exp_avg.lerp_(g, 1 − β₁); exp_avg_sq.mul_(β₂).addcmul_(g, g, 1 − β₂)
                                let m = a[i] + (1 - s.beta1) * (g - a[i])
                                let v = b[i] * s.beta2 + (1 - s.beta2) * (g * g)
                                a[i] = m
                                b[i] = v
                                p[i] += -stepSize * (m / (v.squareRoot() / correction2 + s.epsilon))
                            }
                        }
                    }
                }
            }
        }
    }
}
