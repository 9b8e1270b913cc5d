import ArgumentParser
import ChainruleCore
import ChainruleFigures
import ChainruleLanguage
import ChainruleONNX
import ChainruleTraining
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", _superCommandName: Chainrule.toolName,
        abstract: "Train a .grad program's (or an .onnx model's) parameters on a data set: mini-batches, epochs, six optimizers, schedules, checkpoints, plots, an interactive page.",
        discussion: """
            The program declares its batch as x = data(64) (one example's shape; the batch axis is added in front) \
            and y = labels(); every leaf that is not const is trained. A program without data() trains full-batch \
            on its own loss: one iteration is one epoch (--steps N is --epochs N). An .onnx model trains on --data with \
            a --loss (cross_entropy, hinge, binary_cross_entropy_with_logits): its only input takes the batches, its output \
            the labels; every weight is trained.
            Examples:
              chainrule train samples/moons-mlp.grad --data moons --optimizer adam --lr 0.01 --epochs 100
              chainrule train samples/digits-fcn.grad --data digits --val 0.2 --batch 100 --epochs 10 --optimizer adam --plots out/
              chainrule train samples/digits-fcn.grad --data digits --val 0.2 --epochs 10 --checkpoint fcn.safetensors --every 2
              chainrule train samples/digits-fcn.grad --data digits --val 0.2 --epochs 20 --resume fcn.safetensors
              chainrule train samples/moons-mlp.grad --data moons --compare sgd,momentum,adagrad,adam --plots out/
              chainrule train samples/moons-mlp.grad --data moons --optimizer adam --lr 0.01 --epochs 30 --html run.html
              chainrule train samples/digits/digits-mlp.onnx --loss cross_entropy --data digits --val 0.2 --epochs 10 --optimizer adam
            Optimizers (PyTorch's equations and defaults, docs/training.md): \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).
            Bad input (an unknown option value, a data set that does not fit the program, a checkpoint that does not match) exits 2.
            """)

    @OptionGroup var program: ProgramInput

    @Option(parsing: .unconditional, help: "Epochs in total (a resumed run continues to this count).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "The same as --epochs, for a program without data() (one step an epoch).")
    var steps: Int?

    @Option(help: "sgd, momentum, nesterov, adagrad, rmsprop or adam.")
    var optimizer: OptimizerKind = .sgd

    @Option(parsing: .unconditional, help: "Learning rate (default: PyTorch's for the optimizer: 0.001, or 0.01 for adagrad and rmsprop).", transform: OptionNumber.read)
    var lr: Double?

    @Option(parsing: .unconditional, help: "μ of momentum and nesterov (default: \(OptionNumber.shown(Self.defaultMomentum))).", transform: OptionNumber.read)
    var momentum: Double = Self.defaultMomentum
    static let defaultMomentum = 0.9

    @Option(parsing: .unconditional, help: "β₁ of adam (default: \(OptionNumber.shown(Self.defaultBeta1))).", transform: OptionNumber.read)
    var beta1: Double = Self.defaultBeta1
    static let defaultBeta1 = 0.9

    @Option(parsing: .unconditional, help: "β₂ of adam (default 0.999), α of rmsprop (default 0.99).", transform: OptionNumber.read)
    var beta2: Double?

    @Option(parsing: .unconditional, help: "ε (default 1e-8, adagrad 1e-10).", transform: OptionNumber.read)
    var eps: Double?

    @Option(parsing: .unconditional, help: "L2 weight decay λ as torch adds it: g ← g + λ·p (default: 0).", transform: OptionNumber.read)
    var weightDecay: Double = 0.0

    @Option(help: "Learning-rate schedule per epoch: step:N:γ, exp:γ, cosine or none.")
    var decay = "none"

    @Option(parsing: .unconditional, help: "Fraction of the data held out for validation (seeded), as 0.2 (default: 0).", transform: OptionNumber.read)
    var val: Double = 0.0

    @Flag(help: "A new seeded order of the examples every epoch.")
    var shuffle = false

    @Option(parsing: .unconditional, help: "Seeds the generated data, the validation split and the shuffles.")
    var seed: UInt64 = 0

    @Option(help: "Write one CSV row per iteration: epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy.")
    var log: String?

    @Option(help: "Save the run to this .safetensors file after the last epoch (and every --every epochs).")
    var checkpoint: String?

    @Option(parsing: .unconditional, help: "Save the checkpoint every N epochs.")
    var every: Int?

    @Option(help: "Continue the run saved in this checkpoint (names, shapes and settings must match).")
    var resume: String?

    @Option(help: "With --init-from: layers (or leaves) kept as loaded, comma-separated, as c1,c3.")
    var freeze: String?

    @Option(help: "Write the training plots into this folder (created if needed).")
    var plots: String?

    @Option(help: "Train once with each optimizer of this list (same program, data and seed) and plot their curves.")
    var compare: String?

    @Option(help: "default, or colorblind (Okabe–Ito colours), for the plots.")
    var palette: Palette = .default

    @OptionGroup var page: PageOption

    @Option(help: "Write the interactive page of the trained graph here (.html), with an epoch slider over snapshots of its values and gradients and the loss curve.")
    var html: String?

    @Option(parsing: .unconditional, help: "Threads for the big products (convolutions, matrix products, max-pooling); default CHAINRULE_THREADS, else the machine's cores. Any count gives the same bits.")
    var threads: Int?

    @Option(help: "For an .onnx model: the loss put on its output against the labels of --data (cross_entropy and hinge take it as N×C scores, binary_cross_entropy_with_logits as one logit per example).")
    var loss: ONNXLossKind?

    func validate() throws {
        if !program.isGiven { throw ValidationError("give one program: a FILE, - for standard input, or -e EXPR") }
        if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both (they are the same count)") }
        if let total = epochs ?? steps, total < 1 { throw ValidationError("--epochs must be at least 1, got \(total)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let every, every < 1 { throw ValidationError("--every must be at least 1 epoch, got \(every)") }
        if every != nil && checkpoint == nil { throw ValidationError("--every needs --checkpoint FILE.safetensors") }
        if freeze != nil && program.initFrom == nil { throw ValidationError("--freeze keeps layers as loaded: give --init-from CHECKPOINT too") }
        if resume != nil && program.initFrom != nil { throw ValidationError("give --resume (continue a run) or --init-from (start from its weights), not both") }
        if compare != nil && (resume != nil || checkpoint != nil || html != nil) { throw ValidationError("--compare trains several runs: it takes no --checkpoint, --resume or --html") }
        if loss != nil && !program.isONNX { throw ValidationError("--loss applies to an .onnx model; a .grad program writes its loss itself") }
        if program.isONNX && loss == nil { throw ValidationError("an .onnx model has no loss: give --loss cross_entropy, hinge or binary_cross_entropy_with_logits (its output against the labels of --data)") }
        if program.isONNX && program.data == nil { throw ValidationError("an .onnx model trains on examples: give --data (moons, spirals, circles, blobs, xor, digits, digits-images, FILE.csv or X.npy,Y.npy)") }
        if let html, !html.lowercased().hasSuffix(".html") { throw ValidationError("--html writes an interactive page: give a FILE.html, got '\(html)'") }
        if weightDecay < 0 || !weightDecay.isFinite { throw ValidationError("--weight-decay must be 0 or more, got \(weightDecay)") }
        for (name, value) in [("--momentum", momentum), ("--beta1", beta1), ("--beta2", beta2 ?? 0.5)] where !(value >= 0 && value < 1) {
            throw ValidationError("\(name) must be in [0, 1), got \(value)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let eps, !(eps > 0 && eps.isFinite) { throw ValidationError("--eps must be a positive number, got \(eps)") }
        do { _ = try LearningRateSchedule(parsing: decay) } catch { throw ValidationError("--decay: \(error.description)") }
        if let compare { _ = try comparedOptimizers(compare) }
        // Refused now, not after the last epoch.
        for (option, path) in [("--checkpoint", checkpoint), ("--html", html), ("--log", log)] {
            guard let path else { continue }
            do { try OutputFiles.checkFile(path) } catch { throw ValidationError("\(option) \(path): \(error.reason)") }
        }
        if let plots {
            do { try OutputFiles.checkFolder(plots) } catch { throw ValidationError("--plots \(plots): \(error.reason)") }
        }
    }

    func comparedOptimizers(_ text: String) throws -> [OptimizerKind] {
        let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        var kinds: [OptimizerKind] = []
        for name in names {
            guard let kind = OptimizerKind(rawValue: name) else {
                throw ValidationError("--compare: unknown optimizer '\(name)'; the optimizers are \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard kinds.count >= 2 else { throw ValidationError("--compare takes two or more optimizers, as sgd,momentum,adagrad,adam") }
        return kinds
    }

    func settings(_ kind: OptimizerKind) -> OptimizerSettings {
        OptimizerSettings(kind, learningRate: lr, momentum: momentum, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: weightDecay)
    }

    func run() throws {
        do {
            try train()
        } catch let error as TrainingError {
            throw ProgramError(description: "error: \(error.description)")
        } catch let error as DataError {
            throw ProgramError(description: "error: \(error.description)")
        }
    }

    private func train() throws {
        if let threads { WorkerPool.threads = threads }
        let schedule = try LearningRateSchedule(parsing: decay)
        let total = epochs ?? steps ?? 10
        var train: Dataset?, validation: Dataset?
        if let data = program.data {
            (train, validation) = try DataLoading.dataset(data, seed: seed).split(validation: val, seed: seed)
        } else if val > 0 {
            throw ValidationError("--val holds out part of --data: give --data too")
        }
        if let compare {
            try compareOptimizers(try comparedOptimizers(compare), train: train, validation: validation, epochs: total, schedule: schedule)
            return
        }
        let plan = TrainingPlan(epochs: total, batch: program.batch, shuffle: shuffle, seed: seed, optimizer: settings(optimizer), schedule: schedule)
        let setup = try makeTraining(plan: plan, train: train, validation: validation)
        let training = setup.training
        training.measuresDeadUnits = plots != nil  // only dead-relu.png reads them; a quarter of a CNN epoch
        let context = runContext(train: train, validation: validation)
        if let resume {
            let file = try SafeTensors.read(path: resume)
            try TrainingCheckpoint.resume(training, from: file, path: resume, context: context)
            StandardStreams.error("note: resuming \(resume) at epoch \(training.epochsDone) (iteration \(training.iterationsDone)) of \(total)\n")
        }
        print(epochLine(training))
        let logFile = try log.map { path throws(TrainingError) in try TrainingLog(path: path, appending: resume != nil) }
        var iterations: [IterationRecord] = [], records: [EpochRecord] = [], checkpointIterations: [Int] = []
        let progress = Progress(epochs: total, iterationsPerEpoch: training.iterationsPerEpoch, startEpoch: training.epochsDone)
        let recorder = try html.map { _ in try SnapshotRecorder(setup, total: total) }
        if let note = recorder?.spacingNote { StandardStreams.error("note: \(note)\n") }
        while training.epochsDone < total {
            let record = try training.runEpoch { iteration in
                iterations.append(iteration)
                logFile?.record(iteration)
                progress.iteration(iteration)
            }
            try logFile?.finish(record)
            records.append(record)
            progress.epoch(record, learningRate: plan.learningRate(epoch: record.epoch - 1))
            if let checkpoint, record.epoch == total || (every.map { record.epoch % $0 == 0 } ?? false) {
                try TrainingCheckpoint.make(training, context: context).write(to: checkpoint)
                checkpointIterations.append(training.iterationsDone)
            }
            try recorder?.epochEnded(setup)
        }
        progress.end()
        if let last = records.last { print(summary(last, training: training)) }
        if let checkpoint { print("checkpoint: \(checkpoint) (epoch \(training.epochsDone), \(training.model.allParameters.count) parameters)") }
        if let plots { try writePlots(to: plots, training: training, iterations: iterations, epochs: records, checkpoints: checkpointIterations) }
        if let html, let recorder { try writePage(to: html, setup: setup, snapshots: recorder.snapshots) }
    }

    /// Compiles the program (or imports the model) with the first training
    /// batch bound, and applies `--init-from` and `--freeze`.
    private func makeTraining(plan: TrainingPlan, train: Dataset?, validation: Dataset?) throws -> TrainingSetup {
        let first = train.map { set in set.subset(set.order(epoch: 0, shuffle: plan.shuffle, seed: plan.seed), name: set.name).firstBatch(plan.batch) }
        let graph: TrainedGraph
        if program.isONNX, let first, let loss {
            graph = try importModel(batch: first, dataName: program.data ?? "the data", loss: loss)
        } else {
            let compiled = try program.compile(batch: first)
            if train != nil && compiled.dataInputs.data == nil {
                throw ProgramError(description: "error: --data is given but the program declares no data(…) input; bind the batch with x = data(\(train!.exampleShape.map(String.init).joined(separator: ", "))) and y = labels()")
            }
            if train == nil && compiled.dataInputs.data != nil {
                throw ProgramError(description: "error: the program declares data(…): give --data (moons, spirals, circles, blobs, xor, digits, digits-images, FILE.csv or X.npy,Y.npy)")
            }
            graph = TrainedGraph(graph: compiled.graph, loss: compiled.output, data: compiled.dataInputs.data?.node,
                                 labels: compiled.dataInputs.labels, source: PageSource(compiled))
        }
        let freezing = freeze?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } ?? []
        let model = try Model(graph: graph.graph, loss: graph.loss, data: graph.data, labels: graph.labels, freeze: freezing)
        if let initFrom = program.initFrom {
            for note in try TrainingCheckpoint.initialise(model, from: try SafeTensors.read(path: initFrom), path: initFrom) {
                StandardStreams.error("note: \(note)\n")
            }
        }
        if !model.frozen.isEmpty { StandardStreams.error("note: frozen (no update): \(model.frozen.map(\.name).joined(separator: ", "))\n") }
        guard !model.parameters.isEmpty else {
            throw TrainingError("nothing to train: every leaf of the program is const\(model.frozen.isEmpty ? "" : " or frozen")")
        }
        return TrainingSetup(training: try Training(model: model, plan: plan, train: train, validation: validation), graph: graph, firstBatch: first)
    }

    /// The ONNX model with `batch` on its only input (a constant: the data)
    /// and `--loss` against the batch's labels on its output.
    private func importModel(batch: DataBatch, dataName: String, loss: ONNXLossKind) throws -> TrainedGraph {
        guard let path = program.file else { throw ValidationError("give the .onnx model's file") }
        var limits = ONNXLimits(maxElements: program.maxElements, maxMemory: CompileOptions().maxMemory)
        if let text = program.maxMemory, let bytes = ByteCount.parse(text) { limits.maxMemory = bytes }
        let options = ONNXImportOptions(limits: limits, inputs: ["": batch.features], loss: ONNXLoss(loss, labels: batch.labels.data.map { Int($0) }),
                                        inputOrigin: .dataset(dataName))
        let model: ONNXModel
        do {
            model = try ONNXImporter.read(path: path, options: options)
        } catch {
            throw ProgramError(description: "error: \(error.message)")
        }
        let input = model.inputs[0].node
        model.graph.setRole(.constant, of: input)
        StandardStreams.error("note: \(model.inputs[0].name) takes the batches of \(dataName); the loss is \(loss.rawValue)(\(model.graph[model.output].inputs.first.map { model.graph[$0].displayName } ?? "output"), labels)\n")
        return TrainedGraph(graph: model.graph, loss: model.output, data: input, labels: model.labels, source: PageSource(file: path))
    }

    /// What a checkpoint must agree on besides the plan: the data and its split.
    private func runContext(train: Dataset?, validation: Dataset?) -> [String: String] {
        guard let train else { return ["data": "none (full batch)"] }
        return ["data": "\(program.data ?? "") (\(train.count) training examples)", "val": "\(val) (\(validation?.count ?? 0) examples)"]
    }

    /// `1 epoch = 1,438 examples / batch 100 = 15 iterations; 10 epochs = 150 iterations`.
    private func epochLine(_ training: Training) -> String {
        let total = training.plan.epochs, perEpoch = training.iterationsPerEpoch
        let tail = "\(grouped(total)) epoch\(total == 1 ? "" : "s") = \(grouped(total * perEpoch)) iterations"
        guard let train = training.train else { return "full batch: 1 epoch = 1 iteration; \(tail)" }
        let held = training.validation.map { ", \(grouped($0.count)) held out for validation" } ?? ""
        return "1 epoch = \(grouped(train.count)) examples / batch \(training.plan.batch) = \(grouped(perEpoch)) iteration\(perEpoch == 1 ? "" : "s"); \(tail)\(held)"
    }

    private func summary(_ last: EpochRecord, training: Training) -> String {
        var parts = ["after \(grouped(training.epochsDone)) epoch\(training.epochsDone == 1 ? "" : "s") (\(grouped(training.iterationsDone)) iteration\(training.iterationsDone == 1 ? "" : "s")): loss \(formatNumber(last.loss, significant: 4))"]
        if let accuracy = last.accuracy { parts.append("accuracy \(percent(accuracy))") }
        if let loss = last.validationLoss { parts.append("val_loss \(formatNumber(loss, significant: 4))") }
        if let accuracy = last.validationAccuracy { parts.append("val_accuracy \(percent(accuracy))") }
        return parts.joined(separator: ", ")
    }

    private func compareOptimizers(_ kinds: [OptimizerKind], train: Dataset?, validation: Dataset?, epochs: Int, schedule: LearningRateSchedule) throws {
        var runs: [(name: String, iterations: [IterationRecord], epochs: [EpochRecord])] = []
        for kind in kinds {
            let plan = TrainingPlan(epochs: epochs, batch: program.batch, shuffle: shuffle, seed: seed, optimizer: settings(kind), schedule: schedule)
            let training = try makeTraining(plan: plan, train: train, validation: validation).training
            training.measuresDeadUnits = false  // the comparison plots losses and accuracies only
            if runs.isEmpty { print(epochLine(training)) }
            var iterations: [IterationRecord] = [], records: [EpochRecord] = []
            while training.epochsDone < epochs {
                records.append(try training.runEpoch { iterations.append($0) })
            }
            let name = "\(kind.rawValue), lr \(formatNumber(plan.optimizer.learningRate))"
            print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(summary(records.last!, training: training))")
            runs.append((name, iterations, records))
        }
        guard let plots else { return }
        try makeFolder(plots)
        let path = URL(fileURLWithPath: plots).appendingPathComponent("compare.png").path
        try FigureFailure.wording { try TrainingPlots.comparison(runs, palette: palette, fit: try page.page).write(to: path) }
        print("plot: \(path)")
    }

    private func writePlots(to folder: String, training: Training, iterations: [IterationRecord], epochs: [EpochRecord], checkpoints: [Int]) throws {
        try makeFolder(folder)
        let fit = try page.page
        var figures: [(String, PlotFigure)] = [
            ("loss.png", TrainingPlots.loss(iterations, checkpoints: checkpoints, palette: palette, fit: fit)),
            ("epochs.png", TrainingPlots.epochs(epochs, palette: palette, fit: fit)),
            ("lr.png", TrainingPlots.learningRate(iterations, palette: palette, fit: fit)),
        ]
        if let dead = TrainingPlots.deadUnits(epochs, palette: palette, fit: fit) { figures.append(("dead-relu.png", dead)) }
        if let train = training.train, train.exampleShape == [2], training.model.classifier != nil {
            figures.append(("boundary.png", try TrainingPlots.decisionBoundary(train, palette: palette, fit: fit) { try training.predictions($0) }))
        }
        for (name, figure) in figures {
            let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
            try FigureFailure.wording { try figure.write(to: path) }
            print("plot: \(path)")
        }
    }

    /// The trained graph at the first batch, forward and backward, as the
    /// interactive page with the snapshots for its epoch slider.
    private func writePage(to path: String, setup: TrainingSetup, snapshots: [TrainingSnapshot]) throws {
        let graph = setup.graph.graph, model = setup.training.model
        for parameter in model.allParameters { graph.setValue(model.value(of: parameter.node), of: parameter.node) }
        do {
            try graph.forward()
            try graph.backward(from: setup.graph.loss)
        } catch {
            throw ProgramError(description: "error: --html: the trained graph's passes failed: \(error)")
        }
        var options = FigureOptions()
        options.style = FigureOptions.defaultStyle(for: graph, stepByStep: false)
        options.direction = FigureOptions.defaultDirection(for: options.style)
        options.palette = palette
        let notes = try FigureFailure.wording {
            try InteractivePage.write(graph: graph, output: setup.graph.loss, options: options, source: setup.graph.source, snapshots: snapshots, to: path)
        }
        for note in notes { StandardStreams.error("note: \(note)\n") }
        let epochs = snapshots.map(\.epoch)
        print("page: \(path) (\(snapshots.count) snapshots, epochs \(epochs.first ?? 0)–\(epochs.last ?? 0))")
    }

    private func makeFolder(_ path: String) throws {
        do {
            try OutputFiles.makeFolders(path)
        } catch {
            throw ProgramError(description: "error: cannot make the folder \(path): \(error.reason)")
        }
    }
}

extension OptimizerKind: ExpressibleByArgument {}

/// 1,438: thousands grouped, as the seeds write counts.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, digit) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(digit)
    }
    return (value < 0 ? "-" : "") + out
}

func percent(_ fraction: Double) -> String { String(format: "%.1f%%", 100 * fraction) }

/// Progress on standard error: a bar redrawn in place on a terminal
/// (epoch, iteration, loss, accuracy, time left), one line per epoch otherwise.
final class Progress {
    let epochs: Int, iterationsPerEpoch: Int, startEpoch: Int
    let isTerminal = isatty(STDERR_FILENO) != 0
    let start = Date()
    private var lastDraw = Date.distantPast
    private var iterationsRun = 0

    init(epochs: Int, iterationsPerEpoch: Int, startEpoch: Int) {
        self.epochs = epochs
        self.iterationsPerEpoch = iterationsPerEpoch
        self.startEpoch = startEpoch
    }

    func iteration(_ record: IterationRecord) {
        iterationsRun += 1
        guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let done = Double((record.epoch - 1) * iterationsPerEpoch + (record.iteration - 1) % iterationsPerEpoch + 1)
        let all = Double(epochs * iterationsPerEpoch)
        let fraction = done / all, width = 24
        let filled = Int(fraction * Double(width))
        let elapsed = Date().timeIntervalSince(start)
        let left = elapsed / Double(iterationsRun) * (all - done)
        let accuracy = record.accuracy.map { " acc \(percent($0))" } ?? ""
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        StandardStreams.error("\r\u{1B}[2Kepoch \(record.epoch)/\(epochs) \(bar) iteration \(grouped(record.iteration)) loss \(formatNumber(record.loss, significant: 4))\(accuracy) · \(Int(left.rounded())) s left")
    }

    func epoch(_ record: EpochRecord, learningRate: Double) {
        guard !isTerminal else { return }
        var line = "epoch \(record.epoch)/\(epochs)  iterations \(grouped(record.epoch * iterationsPerEpoch))  lr \(formatNumber(learningRate))  loss \(formatNumber(record.loss, significant: 4))"
        if let accuracy = record.accuracy { line += "  accuracy \(percent(accuracy))" }
        if let loss = record.validationLoss { line += "  val_loss \(formatNumber(loss, significant: 4))" }
        if let accuracy = record.validationAccuracy { line += "  val_accuracy \(percent(accuracy))" }
        StandardStreams.error(line + "\n")
    }

    func end() {
        if isTerminal { StandardStreams.error("\r\u{1B}[2K") }
    }
}

/// Loading `--data` for the command line: the language's `.npy` reader
/// and the digits files found beside the binary or in the current folder.
enum DataLoading {
    static func dataset(_ text: String, seed: UInt64) throws -> Dataset {
        do {
            let source = try DataSource(parsing: text)
            return try source.load(seed: seed, digitsFolder: digitsFolder()) { path in try Npy.load(path: path) }
        } catch {
            throw ProgramError(description: "error: \(error.description)")
        }
    }

    /// `$CHAINRULE_SAMPLES/digits`, else the first `samples/digits` found in
    /// the folders above the executable (a build folder inside the
    /// repository), else `samples/digits` in the current folder.
    static func digitsFolder() -> String? {
        func holdsDigits(_ folder: URL) -> Bool {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("digits-X.npy").path)
        }
        if let samples = ProcessInfo.processInfo.environment["CHAINRULE_SAMPLES"] {
            let folder = URL(fileURLWithPath: samples).appendingPathComponent("digits")
            if holdsDigits(folder) { return folder.path }
        }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("samples/digits")
            if holdsDigits(candidate) { return candidate.path }
            folder.deleteLastPathComponent()
        }
        let local = URL(fileURLWithPath: "samples/digits")
        return holdsDigits(local) ? local.path : nil
    }
}

extension Dataset {
    /// The first `size` examples as the batch a program's `data(…)` is bound to.
    func firstBatch(_ size: Int) -> DataBatch {
        let examples = Swift.min(size, count)
        let batch = self.batch(0..<examples)
        return DataBatch(features: batch.features, labels: batch.labels,
                         origin: "the first batch of \(name) (\(grouped(examples)) of \(grouped(count)) examples)")
    }
}

/// The graph a run trains, where its batch goes in, and its program (for the page).
struct TrainedGraph {
    let graph: Graph
    let loss: NodeID
    let data: NodeID?
    let labels: NodeID?
    let source: PageSource
}

/// A run made ready: the training, the graph it was made from (the page
/// draws it, with the trained values), and the batch bound to that graph.
struct TrainingSetup {
    let training: Training
    let graph: TrainedGraph
    let firstBatch: DataBatch?
}

/// `--html`'s snapshots: when the run starts and after every `spacing`
/// epochs (and the last), every node's value and gradient on the graph's
/// batch (the first of the data), with the loss of those weights on the whole
/// training set (one forward pass over it, no update), so that the loss and
/// the values shown belong to the same weights.
final class SnapshotRecorder {
    private(set) var snapshots: [TrainingSnapshot] = []
    let start: Int, total: Int
    /// Epochs between two snapshots: 1, or more when the page could not hold one an epoch.
    let spacing: Int
    private(set) var spacingNote: String?
    /// The most tensor elements the snapshots keep in memory together (160 MB).
    static let elementBudget = 20_000_000

    init(_ setup: TrainingSetup, total: Int) throws {
        let training = setup.training
        start = training.epochsDone
        self.total = total
        let first = try Self.snapshot(setup, epoch: start)
        let bytes = InteractivePage.pageBytes(of: first)
        let elements = first.values.values.reduce(0) { $0 + $1.count } + first.gradients.values.reduce(0) { $0 + $1.count }
        let room = max(2, min(InteractivePage.maxSnapshots, InteractivePage.snapshotBudget / max(bytes, 1), Self.elementBudget / max(elements, 1)))
        let epochs = max(total - start, 1)
        spacing = max(1, (epochs + room - 2) / (room - 1))
        if spacing > 1 {
            spacingNote = "--html: a snapshot every \(spacing) epochs (each adds \(grouped(bytes / 1000)) KB to the page; it keeps at most \(InteractivePage.maxSnapshots) and \(grouped(InteractivePage.snapshotBudget / 1000)) KB of them)"
        }
        snapshots = [first]
    }

    func epochEnded(_ setup: TrainingSetup) throws {
        let epoch = setup.training.epochsDone
        guard (epoch - start) % spacing == 0 || epoch == total else { return }
        snapshots.append(try Self.snapshot(setup, epoch: epoch))
    }

    /// The values and gradients of every node that is not a constant, on the
    /// graph's batch, and the loss on the training set (full batch: that batch's).
    static func snapshot(_ setup: TrainingSetup, epoch: Int) throws -> TrainingSnapshot {
        let model = setup.training.model
        let loss = try setup.training.train.map { try setup.training.evaluate($0).loss }
        if let batch = setup.firstBatch { try model.bind(features: batch.features, labels: batch.labels) }
        let values = try model.forward()
        let gradients = Graph.gradients(nodes: model.nodes, values: values, output: model.loss, seed: Tensor(1))
        var recorded: [NodeID: Tensor] = [:], sent: [NodeID: Tensor] = [:]
        for node in model.nodes where node.role != .constant {
            recorded[node.id] = values[node.id.index]
            if let gradient = gradients[node.id.index] { sent[node.id] = gradient }
        }
        return TrainingSnapshot(epoch: epoch, loss: loss ?? values[model.loss.index].scalar, values: recorded, gradients: sent)
    }
}
