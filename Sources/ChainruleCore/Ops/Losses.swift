import Foundation

// Losses: each returns a scalar. Classification losses average over the
// batch and take integer class labels as a tensor input that gets no
// gradient; `validate` refuses a label that is not a class index.

/// The shape rule of the classification losses: scores [N, C] and labels [N].
func classificationShapes(_ op: String, _ shapes: [[Int]], scores: String) throws(ShapeError) {
    try requireInputs(op, shapes, [scores, "labels"])
    guard shapes[0].count == 2 else {
        throw ShapeError(op: op, shapes: shapes, "\(scores) must be [N, C] (one row of class scores per example), got \(describeShape(shapes[0]))")
    }
    let batch = shapes[0][0], classes = shapes[0][1]
    guard shapes[1] == [batch] else {
        throw ShapeError(
            op: op, shapes: shapes,
            "labels must be [N] = [\(batch)], one class index per row of \(scores) \(describeShape(shapes[0])), got \(describeShape(shapes[1]))")
    }
    guard classes > 0 else { throw ShapeError(op: op, shapes: shapes, "needs at least one class") }
}

/// Refuses labels that are not integers in 0..<classes, naming the first bad one.
func validateLabels(_ op: String, _ labels: Tensor, classes: Int) throws(ValueError) {
    for (i, label) in labels.data.enumerated() where label.rounded() != label || label < 0 || label >= Double(classes) {
        throw ValueError(
            op: op,
            "label \(i) is \(formatNumber(label)); labels are class indices, whole numbers from 0 to \(classes - 1) for \(classes) classes")
    }
}

/// `cross_entropy(logits, labels)` = −(1/N) Σₙ log softmax(logitsₙ)[yₙ].
///
/// logits [N, C], labels [N] (class indices). The log-softmax subtracts each
/// row's maximum first, so large logits do not overflow. Backward:
/// d/dlogits = (softmax − onehot(y)) / N.
public struct CrossEntropy: Operation {
    public init() {}
    public var name: String { "cross_entropy" }
    public var symbol: String { "CE" }
    public func isDifferentiable(input index: Int) -> Bool { index == 0 }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try classificationShapes(name, shapes, scores: "logits")
        return []
    }

    public func validate(_ inputs: [Tensor]) throws(ValueError) {
        try validateLabels(name, inputs[1], classes: inputs[0].shape[1])
    }

    /// −mean over the rows of log softmax(logits)[label], from `LogSoftmax`'s
    /// stable row-wise log-probabilities.
    public func forward(_ inputs: [Tensor]) -> Tensor {
        let logProbabilities = LogSoftmax().forward([inputs[0]])
        let n = inputs[0].shape[0], c = inputs[0].shape[1]
        var total = 0.0
        for row in 0..<n { total -= logProbabilities.data[row * c + Int(inputs[1].data[row])] }
        return Tensor(n == 0 ? 0 : total / Double(n))
    }

    /// ∂L/∂logits = (softmax(logits) − onehot(label)) / N, the softmax being e^(log-probabilities).
    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let n = inputs[0].shape[0], c = inputs[0].shape[1]
        var d = LogSoftmax().forward([inputs[0]]).data.map { Foundation.exp($0) }
        for row in 0..<n { d[row * c + Int(inputs[1].data[row])] -= 1 }
        let scale = gradient.scalar / Double(n)
        for i in d.indices { d[i] *= scale }
        return [Tensor(shape: inputs[0].shape, data: d), nil]
    }
}

/// `hinge(scores, labels)`: CS231n's multiclass SVM loss,
/// (1/N) Σₙ Σ_{j≠yₙ} max(0, sₙⱼ − sₙ_yₙ + 1).
///
/// scores [N, C], labels [N]; margin 1, averaged over the batch (not divided
/// by the class count). Backward: each positive margin adds 1/N to its sⱼ and
/// takes 1/N from s_y. Not differentiable where a margin is exactly 0.
public struct Hinge: Operation {
    public init() {}
    public var name: String { "hinge" }
    public func isDifferentiable(input index: Int) -> Bool { index == 0 }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try classificationShapes(name, shapes, scores: "scores")
        return []
    }

    public func validate(_ inputs: [Tensor]) throws(ValueError) {
        try validateLabels(name, inputs[1], classes: inputs[0].shape[1])
    }

    /// sⱼ − s_y + 1 for every element (0 at the label's own column, which does not count).
    func margins(_ scores: Tensor, _ labels: Tensor) -> [Double] {
        let n = scores.shape[0], c = scores.shape[1]
        var margins = [Double](repeating: 0, count: scores.count)
        for row in 0..<n {
            let y = Int(labels.data[row])
            let correct = scores.data[row * c + y]
            for j in 0..<c where j != y { margins[row * c + j] = scores.data[row * c + j] - correct + 1 }
        }
        return margins
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let n = inputs[0].shape[0]
        let total = margins(inputs[0], inputs[1]).reduce(0) { $0 + Swift.max($1, 0) }
        return Tensor(n == 0 ? 0 : total / Double(n))
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let n = inputs[0].shape[0], c = inputs[0].shape[1]
        let m = margins(inputs[0], inputs[1])
        let share = gradient.scalar / Double(n)
        var d = [Double](repeating: 0, count: m.count)
        for row in 0..<n {
            let y = row * c + Int(inputs[1].data[row])
            for j in (row * c)..<(row * c + c) where m[j] > 0 {
                d[j] += share
                d[y] -= share
            }
        }
        return [Tensor(shape: inputs[0].shape, data: d), nil]
    }

    /// Whether each margin is positive (counts) or not.
    public func branches(_ inputs: [Tensor]) -> [Int] {
        margins(inputs[0], inputs[1]).map { $0 > 0 ? 1 : 0 }
    }
}

/// The shape rule of losses comparing two tensors of the same shape.
func sameShapePair(_ op: String, _ shapes: [[Int]], _ first: String, _ second: String) throws(ShapeError) {
    try requireInputs(op, shapes, [first, second])
    guard shapes[0] == shapes[1] else {
        throw ShapeError(
            op: op, shapes: shapes,
            "\(first) \(describeShape(shapes[0])) and \(second) \(describeShape(shapes[1])) must have the same shape (no broadcasting in a loss)")
    }
}

/// `mse(pred, target)` = mean over all elements of (pred − target)², as
/// PyTorch's `mse_loss`. Backward: ±2(pred − target)/count. The mean of no
/// elements is NaN, as NumPy's and PyTorch's are.
public struct MeanSquaredError: Operation {
    public init() {}
    public var name: String { "mse" }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try sameShapePair(name, shapes, "pred", "target")
        return []
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let p = inputs[0].data, t = inputs[1].data
        var total = 0.0
        for i in p.indices { total += (p[i] - t[i]) * (p[i] - t[i]) }
        return Tensor(total / Double(p.count))
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let p = inputs[0].data, t = inputs[1].data
        let scale = 2 * gradient.scalar / Double(Swift.max(p.count, 1))
        var dp = [Double](repeating: 0, count: p.count)
        for i in p.indices { dp[i] = scale * (p[i] - t[i]) }
        return [Tensor(shape: inputs[0].shape, data: dp), Tensor(shape: inputs[1].shape, data: dp.map { -$0 })]
    }
}

/// `l2(W, lambda:)` = ½·λ·ΣW², the weight-decay penalty (CS231n's ½λ
/// convention, so that the gradient is simply λ·W).
public struct L2Penalty: Operation {
    public let lambda: Double
    public init(lambda: Double) { self.lambda = lambda }
    public var name: String { "l2" }
    public var attributes: [String: AttributeValue] { ["lambda": .double(lambda)] }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try requireInputs(name, shapes, ["W"])
        return []
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        var total = 0.0
        for w in inputs[0].data { total += w * w }
        return Tensor(0.5 * lambda * total)
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let scale = lambda * gradient.scalar
        return [inputs[0].map { scale * $0 }]
    }
}

/// `binary_cross_entropy_with_logits(logits, targets)` (NaN for no elements, as mse): the mean over all
/// elements of −[t·log σ(z) + (1 − t)·log(1 − σ(z))], computed as
/// max(z, 0) − z·t + log(1 + e^−|z|) so that no logit overflows.
///
/// Targets are probabilities in [0, 1] of the same shape (hard 0/1 labels or
/// soft ones). Backward: (σ(z) − t)/count for the logits, −z/count for the targets.
public struct BinaryCrossEntropyWithLogits: Operation {
    public init() {}
    public var name: String { "binary_cross_entropy_with_logits" }
    public var symbol: String { "BCE" }

    public func outputShape(_ shapes: [[Int]]) throws(ShapeError) -> [Int] {
        try sameShapePair(name, shapes, "logits", "targets")
        return []
    }

    public func validate(_ inputs: [Tensor]) throws(ValueError) {
        for (i, t) in inputs[1].data.enumerated() where !(t >= 0 && t <= 1) {
            throw ValueError(op: name, "target \(i) is \(formatNumber(t)); targets are probabilities from 0 to 1")
        }
    }

    public func forward(_ inputs: [Tensor]) -> Tensor {
        let z = inputs[0].data, t = inputs[1].data
        var total = 0.0
        // −[t·log σ(z) + (1 − t)·log(1 − σ(z))] = softplus(z) − t·z
        for i in z.indices { total += stableSoftplus(z[i]) - z[i] * t[i] }
        return Tensor(total / Double(z.count))
    }

    public func backward(_ inputs: [Tensor], output: Tensor, gradient: Tensor) -> [Tensor?] {
        let z = inputs[0].data, t = inputs[1].data
        let scale = gradient.scalar / Double(Swift.max(z.count, 1))
        var dz = [Double](repeating: 0, count: z.count)
        var dt = [Double](repeating: 0, count: z.count)
        for i in z.indices {
            dz[i] = scale * (stableSigmoid(z[i]) - t[i])
            dt[i] = -scale * z[i]
        }
        return [Tensor(shape: inputs[0].shape, data: dz), Tensor(shape: inputs[1].shape, data: dt)]
    }
}

// MARK: - difference rules

extension CrossEntropy {
    /// −(1/N) Σₙ (Δ[n, yₙ] − Lₙ), Lₙ = log1p(Σₖ softmax(x)ₙₖ·expm1(Δₙₖ)) (see `logSumExpDifferences`).
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let d = deltas[0] else { return Tensor(0) }
        let n = inputs[0].shape[0], c = inputs[0].shape[1]
        let probabilities = LogSoftmax().forward([inputs[0]]).data.map { Foundation.exp($0) }
        let shifts = logSumExpDifferences(probabilities: probabilities, deltas: d.data, rowLength: c)
        var total = 0.0
        for row in 0..<n { total -= d.data[row * c + Int(inputs[1].data[row])] - shifts[row] }
        return Tensor(n == 0 ? 0 : total / Double(n))
    }
}

extension Hinge {
    /// Each margin's change Δsⱼ − Δs_y, on the branch the margin takes at the perturbed scores.
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        guard let d = deltas[0] else { return Tensor(0) }
        let n = inputs[0].shape[0], c = inputs[0].shape[1]
        let m = margins(inputs[0], inputs[1]), moved = margins(inputs[0].zipMap(d, +), inputs[1])
        var total = 0.0
        for row in 0..<n {
            let y = row * c + Int(inputs[1].data[row])
            for j in (row * c)..<(row * c + c) where j != y {
                total += hingeDifference(m[j], d.data[j] - d.data[y], moved: moved[j])
            }
        }
        return Tensor(n == 0 ? 0 : total / Double(n))
    }
}

extension MeanSquaredError {
    /// The mean of Δe·(2e + Δe), e = pred − target.
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        let p = inputs[0].data, t = inputs[1].data
        let dp = delta(deltas, 0, like: inputs[0]).data, dt = delta(deltas, 1, like: inputs[1]).data
        var total = 0.0
        for i in p.indices {
            let e = p[i] - t[i], de = dp[i] - dt[i]
            total += de * (2 * e + de)
        }
        return Tensor(total / Double(p.count))
    }
}

extension L2Penalty {
    /// ½λ Σ ΔW·(2W + ΔW).
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        let w = inputs[0].data, dw = delta(deltas, 0, like: inputs[0]).data
        var total = 0.0
        for i in w.indices { total += dw[i] * (2 * w[i] + dw[i]) }
        return Tensor(0.5 * lambda * total)
    }
}

extension BinaryCrossEntropyWithLogits {
    /// The mean of Δsoftplus(z) − (Δz·t + (z + Δz)·Δt), Δsoftplus as `Activation.softplus`'s.
    public func difference(_ inputs: [Tensor], output: Tensor, deltas: [Tensor?]) -> Tensor? {
        let z = inputs[0].data, t = inputs[1].data
        let dz = delta(deltas, 0, like: inputs[0]).data, dt = delta(deltas, 1, like: inputs[1]).data
        var total = 0.0
        for i in z.indices {
            let softplus = Foundation.log1p(stableSigmoid(z[i]) * Foundation.expm1(dz[i]))
            total += softplus - (dz[i] * t[i] + (z[i] + dz[i]) * dt[i])
        }
        return Tensor(total / Double(z.count))
    }
}

enum LossOps {
    static let family = "losses"

    /// Labels as a tensor of class indices.
    static func labels(_ values: [Int]) -> Tensor { Tensor(values.map(Double.init)) }

    static let specs: [OpSpec] = [
        OpSpec(
            name: "cross_entropy", family: family,
            doc: "−mean over the batch of log softmax(logits)[label]; logits [N, C], labels [N] class indices",
            parameters: [OpParameter("logits", .tensor), OpParameter("labels", .labels)],
            build: { _ in CrossEntropy() },
            samples: [
                OpSample("3 examples, 4 classes", op: CrossEntropy(),
                         inputs: [Tensor.randn([3, 4], seed: 501), labels([2, 0, 3])]),
                OpSample("large logits (stability)", op: CrossEntropy(),
                         inputs: [Tensor([[800, 801, 799]]), labels([1])]),
            ]),
        OpSpec(
            name: "hinge", family: family,
            doc: "multiclass SVM: mean over the batch of Σ_{j≠y} max(0, s_j − s_y + 1); scores [N, C], labels [N]",
            parameters: [OpParameter("scores", .tensor), OpParameter("labels", .labels)],
            kinks: "a margin s_j − s_y + 1 = 0",
            build: { _ in Hinge() },
            samples: [
                OpSample("CS231n's three examples", op: Hinge(),
                         inputs: [Tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]), labels([0, 1, 2])]),
                OpSample("2 examples, 4 classes", op: Hinge(),
                         inputs: [Tensor([[0.5, 1.2, -0.3, 0.9], [2.0, -1.0, 0.4, 1.7]]), labels([3, 0])]),
            ]),
        OpSpec(
            name: "mse", family: family,
            doc: "mean over all elements of (pred − target)², as PyTorch's mse_loss",
            parameters: [OpParameter("pred", .tensor), OpParameter("target", .tensor)],
            build: { _ in MeanSquaredError() },
            samples: [
                OpSample("2×3", op: MeanSquaredError(),
                         inputs: [Tensor.randn([2, 3], seed: 502), Tensor.randn([2, 3], seed: 503)]),
                OpSample("scalar", op: MeanSquaredError(), inputs: [Tensor(1.5), Tensor(-0.5)]),
            ]),
        OpSpec(
            name: "l2", family: family,
            doc: "½·λ·ΣW², weight decay (gradient λ·W)",
            parameters: [OpParameter("W", .tensor), OpParameter("lambda", .double)],
            build: { args throws(ValueError) in L2Penalty(lambda: try args.double("lambda", of: "l2")) },
            samples: [
                OpSample("3×2, λ = 0.1", op: L2Penalty(lambda: 0.1), inputs: [Tensor.randn([3, 2], seed: 504)]),
            ]),
        OpSpec(
            name: "binary_cross_entropy_with_logits", family: family,
            doc: "mean over all elements of −[t·log σ(z) + (1 − t)·log(1 − σ(z))], without overflow; targets in [0, 1]",
            parameters: [OpParameter("logits", .tensor), OpParameter("targets", .tensor)],
            build: { _ in BinaryCrossEntropyWithLogits() },
            samples: [
                // Targets stay inside (0, 1) so that a checker's target ± h is still a probability.
                OpSample("4 logits, nearly hard targets", op: BinaryCrossEntropyWithLogits(),
                         inputs: [Tensor([-2.5, -0.4, 0.7, 3.1]), Tensor([0.02, 0.97, 0.9, 0.05])]),
                OpSample("2×2, soft targets", op: BinaryCrossEntropyWithLogits(),
                         inputs: [Tensor.randn([2, 2], seed: 505), Tensor([[0.2, 0.9], [0.5, 0.1]])]),
            ]),
    ]
}

// MARK: - builder API

/// Mean cross-entropy of logits [N, C] against class labels [N].
public func crossEntropy(_ logits: Var, _ labels: Var) -> Var { logits.graph.build(CrossEntropy(), [logits, labels]) }

/// Mean cross-entropy against class indices given as integers (a constant `labels` leaf).
public func crossEntropy(_ logits: Var, labels: [Int]) -> Var {
    crossEntropy(logits, logits.graph.constant(LossOps.labels(labels), name: "labels"))
}

/// CS231n's multiclass SVM loss of scores [N, C] against class labels [N].
public func hinge(_ scores: Var, _ labels: Var) -> Var { scores.graph.build(Hinge(), [scores, labels]) }

/// CS231n's multiclass SVM loss against class indices given as integers.
public func hinge(_ scores: Var, labels: [Int]) -> Var {
    hinge(scores, scores.graph.constant(LossOps.labels(labels), name: "labels"))
}

/// Mean over all elements of (pred − target)².
public func mse(_ pred: Var, _ target: Var) -> Var { pred.graph.build(MeanSquaredError(), [pred, target]) }

/// ½·λ·ΣW².
public func l2(_ W: Var, lambda: Double) -> Var { W.graph.build(L2Penalty(lambda: lambda), [W]) }

/// Mean binary cross-entropy of logits against targets in [0, 1].
public func binaryCrossEntropyWithLogits(_ logits: Var, _ targets: Var) -> Var {
    logits.graph.build(BinaryCrossEntropyWithLogits(), [logits, targets])
}
