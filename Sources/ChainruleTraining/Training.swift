import ChainruleCore
#if canImport(Glibc)
import Glibc
#endif

/// How a run trains: epochs, batches, order, optimizer and schedule.
public struct TrainingPlan: Sendable, Equatable {
    /// The total: a resumed run continues from its checkpoint's count to this.
    public var epochs: Int
    /// Examples per iteration (the last batch of an epoch holds what is left).
    public var batch: Int
    /// A new seeded order every epoch; otherwise the data set's order.
    public var shuffle: Bool
    /// Seeds the shuffles (and the validation split, outside the plan).
    public var seed: UInt64
    public var optimizer: OptimizerSettings
    public var schedule: LearningRateSchedule

    public init(epochs: Int, batch: Int = 100, shuffle: Bool = false, seed: UInt64 = 0,
                optimizer: OptimizerSettings, schedule: LearningRateSchedule = .constant) {
        self.epochs = epochs
        self.batch = batch
        self.shuffle = shuffle
        self.seed = seed
        self.optimizer = optimizer
        self.schedule = schedule
    }

    /// The learning rate of epoch `epoch` (from 0).
    public func learningRate(epoch: Int) -> Double {
        schedule.learningRate(optimizer.learningRate, epoch: epoch, of: epochs)
    }
}

/// One iteration: the loss and accuracy on its batch, before the update.
public struct IterationRecord: Sendable, Equatable {
    /// From 1.
    public var epoch: Int
    /// From 1, counted over the whole run.
    public var iteration: Int
    public var learningRate: Double
    public var loss: Double
    /// Nil without a classification loss.
    public var accuracy: Double?
}

/// One epoch: means over its iterations (weighted by batch size) and the
/// validation set's loss and accuracy after its last update.
public struct EpochRecord: Sendable {
    /// From 1.
    public var epoch: Int
    public var iterations: Int
    public var loss: Double
    public var accuracy: Double?
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// Per ReLU node, the fraction of its units dead on the first
    /// `deadUnitSample` training examples after the epoch.
    public var deadUnits: [(name: String, fraction: Double)]
}

/// A training run: a model, its data, an optimizer and where it is.
public final class Training {
    public let model: Model
    public let plan: TrainingPlan
    /// Nil for a program without `data(…)`: it trains full-batch on its own
    /// loss, one iteration an epoch.
    public let train: Dataset?
    public let validation: Dataset?
    public private(set) var optimizer: Optimizer
    public private(set) var epochsDone = 0
    public private(set) var iterationsDone = 0
    /// Optimizer steps taken by this object (a resumed run starts again from 0).
    private var updatesMade = 0

    /// Training examples the dead-unit fraction looks at: 256.
    public static let deadUnitSample = 256
    /// Whether each epoch ends with the dead-unit fraction of every ReLU (for the plots): one
    /// forward pass of `deadUnitSample` examples an epoch (on 256 images, as many as the
    /// epoch's own forward passes). Default true; off, `EpochRecord.deadUnits` stays empty.
    public var measuresDeadUnits = true

    public init(model: Model, plan: TrainingPlan, train: Dataset?, validation: Dataset? = nil) throws(TrainingError) {
        Self.reuseFreedMemory
        guard model.data == nil || train != nil else { throw TrainingError("the program declares data(…): give --data") }
        guard train == nil || model.data != nil else {
            throw TrainingError("--data is given but the program declares no data(…) input; bind the batch with x = data(\(train!.exampleShape.map(String.init).joined(separator: ", "))) and y = labels()")
        }
        let iterations = train?.iterationsPerEpoch(batch: plan.batch) ?? 1
        guard !plan.epochs.multipliedReportingOverflow(by: iterations).overflow else {
            throw TrainingError("\(plan.epochs) epochs of \(iterations) iterations are more iterations than can be counted (\(Int.max)); give fewer --epochs")
        }
        self.model = model
        self.plan = plan
        self.train = train
        self.validation = validation
        optimizer = Optimizer(plan.optimizer, parameterSizes: model.parameters.map { Tensor.elementCount($0.shape) })
    }

    /// Keeps memory a step frees for the next step, once per process. glibc's malloc serves
    /// blocks of 128 KiB or more with fresh pages from the kernel (mmap) and gives the free
    /// top of its heap back: a step, which allocates and frees the same megabytes of
    /// activations and gradients every iteration, then spends as long in page faults as in
    /// arithmetic (68,000 faults and 40% system time for the bench's CNN). Blocks up to
    /// 32 MiB come from the heap instead, and the heap is trimmed only above 256 MiB free.
    /// `mallopt` is found with `dlsym`, as Swift does not import malloc.h; elsewhere a no-op.
    private static let reuseFreedMemory: Void = {
        #if canImport(Glibc)
        // malloc.h: M_TRIM_THRESHOLD −1, M_MMAP_THRESHOLD −3.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallocOption.self)
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
        #endif
    }()

    /// Iterations in one epoch: ⌈examples / batch⌉, or 1 full-batch.
    public var iterationsPerEpoch: Int { train?.iterationsPerEpoch(batch: plan.batch) ?? 1 }

    /// Continues from a checkpoint's place and optimizer state (its
    /// parameters are set on the model by the caller).
    public func restore(epochsDone: Int, iterationsDone: Int, optimizer: Optimizer) {
        self.epochsDone = epochsDone
        self.iterationsDone = iterationsDone
        self.optimizer = optimizer
    }

    /// One forward and backward pass on the bound batch and one optimizer step.
    private func step(learningRate: Double) throws(TrainingError) -> (loss: Double, correct: (Int, Int)?) {
        var values = try model.forward()
        let loss = values[model.loss.index].scalar
        guard loss.isFinite else { throw divergence(loss: loss, values: values) }
        let correct = model.correct(values)
        let gradients = model.gradients(values)
        // Drop the pass's copies first, so the updates write in place.
        values = []
        optimizer.beginStep()
        for (k, parameter) in model.parameters.enumerated() {
            guard let gradient = gradients[k] else { continue }
            model.updateValue(of: parameter.node) { optimizer.update(k, parameter: &$0, gradient: gradient.data, learningRate: learningRate) }
        }
        return (loss, correct.map { ($0.correct, $0.examples) })
    }

    /// Data whose largest magnitude is above this are named as the likely cause
    /// of a loss that is not finite: 10⁶, far above features scaled as networks
    /// expect them (to [0, 1], or to mean 0 and variance 1).
    public static let unscaledDataMagnitude = 1e6

    /// Why the loss is `loss` (inf or NaN), in the person's terms: the first
    /// node (in the order of the graph) whose value is not finite, its op and
    /// line, and the advice that fits. Before any update the learning rate
    /// cannot be the cause: the program overflows at its starting values —
    /// with data above `unscaledDataMagnitude`, the data overflow, named with
    /// the set and the input bound to it. After updates, a parameter that grew
    /// without bound asks for a smaller learning rate (and unscaled data are
    /// named too: they make the gradients huge).
    func divergence(loss: Double, values: [Tensor]) -> TrainingError {
        let nodes = model.nodes
        let place = "the loss is \(formatNumber(loss)) at iteration \(iterationsDone + 1) (epoch \(epochsDone + 1))"
        func describe(_ node: Node) -> String {
            let op = node.op.map { " (\($0.name)" + (node.location.map { ", line \($0.line)" } ?? "") + ")" } ?? ""
            return "'\(node.displayName)'\(op)"
        }
        let first = nodes.first { !values[$0.id.index].data.allSatisfy(\.isFinite) }
        let firstText = first.map { "; the first value that is not finite is \(describe($0))" } ?? ""
        var unscaled: String?
        if let data = model.data {
            let largest = values[data.index].data.reduce(0) { Swift.max($0, Swift.abs($1)) }
            if largest > Self.unscaledDataMagnitude {
                unscaled = "the data (\(train?.name ?? "the batch"), bound to \(nodes[data.index].displayName)) reach \(formatNumber(largest))"
            }
        }
        let scaling = "scale them to [0, 1], or to mean 0 and variance 1"
        guard updatesMade > 0 else {
            if let unscaled {
                return TrainingError("\(place), before any update: the data overflow — \(unscaled)\(firstText); \(scaling) (a smaller --lr cannot help)")
            }
            return TrainingError("\(place), before any update, so not because of the learning rate: the program's loss is not finite at its starting values\(firstText)")
        }
        if let unscaled {
            return TrainingError("\(place): \(unscaled)\(firstText); \(scaling), or try a smaller --lr")
        }
        let grown = first.flatMap { node in node.op == nil ? " (a parameter the updates drove to infinity)" : nil } ?? ""
        return TrainingError("\(place) after \(updatesMade) update\(updatesMade == 1 ? "" : "s")\(firstText)\(grown); the steps diverged: try a smaller --lr")
    }

    /// Trains one epoch; `onIteration` hears of every iteration as it ends.
    public func runEpoch(onIteration: (IterationRecord) -> Void = { _ in }) throws(TrainingError) -> EpochRecord {
        let epoch = epochsDone
        let lr = plan.learningRate(epoch: epoch)
        var lossSum = 0.0, examples = 0, correct = 0, scored = 0
        let iterations = iterationsPerEpoch
        let order = train?.order(epoch: epoch, shuffle: plan.shuffle, seed: plan.seed)
        for k in 0..<iterations {
            var size = 1
            if let train, let order {
                let slice = order[(k * plan.batch)..<Swift.min((k + 1) * plan.batch, order.count)]
                let batch = train.batch(slice)
                try model.bind(features: batch.features, labels: batch.labels)
                size = slice.count
            }
            let result = try step(learningRate: lr)
            iterationsDone += 1
            updatesMade += 1
            lossSum += result.loss * Double(size)
            examples += size
            if let (c, n) = result.correct { correct += c; scored += n }
            onIteration(IterationRecord(epoch: epoch + 1, iteration: iterationsDone, learningRate: lr, loss: result.loss,
                                        accuracy: result.correct.map { Double($0.0) / Double(Swift.max($0.1, 1)) }))
        }
        epochsDone += 1
        var record = EpochRecord(epoch: epoch + 1, iterations: iterations, loss: lossSum / Double(examples),
                                 accuracy: model.classifier == nil ? nil : Double(correct) / Double(Swift.max(scored, 1)), deadUnits: [])
        if let validation {
            let measured = try evaluate(validation)
            record.validationLoss = measured.loss
            record.validationAccuracy = measured.accuracy
        }
        if measuresDeadUnits { record.deadUnits = try deadUnits() }
        return record
    }

    /// The mean loss and the accuracy on `dataset`, in batches of the
    /// plan's size, without updating anything.
    public func evaluate(_ dataset: Dataset) throws(TrainingError) -> (loss: Double, accuracy: Double?) {
        var lossSum = 0.0, correct = 0, scored = 0
        for start in stride(from: 0, to: dataset.count, by: plan.batch) {
            let batch = dataset.batch(start..<Swift.min(start + plan.batch, dataset.count))
            try model.bind(features: batch.features, labels: batch.labels)
            let values = try model.forward()
            lossSum += values[model.loss.index].scalar * Double(batch.labels.count)
            if let (c, n) = model.correct(values) { correct += c; scored += n }
        }
        return (lossSum / Double(dataset.count), model.classifier == nil ? nil : Double(correct) / Double(Swift.max(scored, 1)))
    }

    /// The class each example of `features` (`[N, example…]`) is given: the
    /// arg-max of its scores, in batches of at most 1,000.
    public func predictions(_ features: Tensor) throws(TrainingError) -> [Int] {
        guard let classifier = model.classifier else { throw TrainingError("the loss has no class scores (cross_entropy or hinge) to predict from") }
        let examples = features.shape[0], size = features.count / Swift.max(examples, 1)
        var classes: [Int] = []
        for start in stride(from: 0, to: examples, by: 1000) {
            let end = Swift.min(start + 1000, examples)
            let chunk = Tensor(shape: [end - start] + features.shape.dropFirst(), data: Array(features.data[(start * size)..<(end * size)]))
            try model.bind(features: chunk, labels: Tensor.zeros([end - start]))
            classes += Model.predictedClasses(try model.forward()[classifier.scores.index])
        }
        return classes
    }

    /// The dead-unit fraction of each ReLU on the first training examples.
    private func deadUnits() throws(TrainingError) -> [(name: String, fraction: Double)] {
        guard !model.rectifiers.isEmpty else { return [] }
        if let train {
            let batch = train.batch(0..<Swift.min(Self.deadUnitSample, train.count))
            try model.bind(features: batch.features, labels: batch.labels)
        }
        return model.deadFractions(try model.forward())
    }
}
