// Regularization ops that act on activations. (The weight penalty `l2` is a
// loss term and lives with the losses.)

/// `dropout(x, p:, seed:)`: inverted dropout with a mask drawn from a seed.
///
/// Each element is kept with probability 1 − p and scaled by 1/(1 − p), so
/// the expected output equals x and nothing changes at test time; the
/// others become 0. The mask comes from `SeededGenerator(seed:)`, one
/// uniform draw per element in row-major order (kept when the draw is ≥ p),
/// so the same seed gives the same mask: the op is deterministic, hence
/// checkable. Backward multiplies the gradient by the same mask.
public struct Dropout: Operation {
    public let p: Double
    public let seed: UInt64

    /// Throws a `ValueError` unless 0 ≤ p < 1 (p = 1 would drop everything and divide by 0).
    public init(p: Double = 0.5, seed: UInt64 = 0) throws(ValueError) {
        guard p >= 0 && p < 1 else {
            throw ValueError(op: "dropout", "p is the probability of dropping an element and must be in [0, 1), got \(formatNumber(p))")
        }
        self.p = p
        self.seed = seed
    }

    public var name: String { "dropout" }
    public var attributes: [String: AttributeValue] { ["p": .double(p), "seed": .int(Int(truncatingIfNeeded: seed))] }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] { try sameShapeRule(name, shapes) }

    /// The multiplier of each element: 1/(1 − p) where kept, 0 where dropped.
    public func mask(count: Int) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let keep = 1 / (1 - p)
        return (0..<count).map { _ in generator.nextUnit() >= p ? keep : 0 }
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        inputs[0].zipMap(Tensor(shape: inputs[0].shape, data: mask(count: inputs[0].count)), *)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        [gradient.zipMap(Tensor(shape: gradient.shape, data: mask(count: gradient.count)), *)]
    }
}

extension Dropout {
    /// Linear (a fixed mask): the deltas masked.
    public func difference(_ x: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? { linearDifference(self, x, deltas) }
}

enum RegularizationOps {
    static let family = "regularization"
    static let specs: [OpSpec] = [
        OpSpec(
            name: "dropout", family: family,
            doc: "inverted dropout: drops each element with probability p, scales the rest by 1/(1 − p); the mask comes from seed",
            parameters: [
                OpParameter("x", .tensor), OpParameter("p", .double, default: .double(0.5)),
                OpParameter("seed", .int, default: .int(0)),
            ],
            build: { args throws(ValueError) in
                let seed = try args.optionalInt("seed", of: "dropout") ?? 0
                guard seed >= 0 else { throw ValueError(op: "dropout", "seed must be 0 or more, got \(seed)") }
                return try Dropout(p: args.double("p", of: "dropout", default: 0.5), seed: UInt64(seed))
            },
            samples: [
                OpSample("3×4, p = 0.5, seed 7", op: try! Dropout(p: 0.5, seed: 7), inputs: [Tensor.randn([3, 4], seed: 601)]),
                OpSample("vector, p = 0.2", op: try! Dropout(p: 0.2, seed: 3), inputs: [Tensor.randn([6], seed: 602)]),
            ]),
    ]
}

// MARK: - builder API

/// Inverted dropout with the mask drawn from `seed`; see `Dropout`.
public func dropout(_ x: Var, p: Double = 0.5, seed: UInt64 = 0) -> Var {
    x.graph.build(makeOp { () throws(ValueError) in try Dropout(p: p, seed: seed) }, [x])
}
