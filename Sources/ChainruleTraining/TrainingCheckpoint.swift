import ChainruleCore

/// A training run saved to a safetensors file: every parameter under its
/// program name (`a`, `h.W`, `h.b`), the optimizer's buffers as
/// `optimizer/<buffer>/<parameter>` (`optimizer/exp_avg/h.W`, torch's state
/// names), and in the metadata the place (epoch, iteration, optimizer step)
/// and everything the run's numbers depend on, so `--resume` continues
/// exactly or says what differs.
public enum TrainingCheckpoint {
    /// The metadata keys that must agree for a resumed run to continue the
    /// same run: the optimizer's settings, the plan's and the caller's.
    static func runFields(_ training: Training, context: [String: String]) -> [String: String] {
        var fields = context
        for (key, value) in training.plan.optimizer.fields { fields[key] = value }
        fields["schedule"] = training.plan.schedule.description
        if training.plan.schedule == .cosine { fields["epochs"] = "\(training.plan.epochs)" }
        fields["batch"] = "\(training.plan.batch)"
        fields["shuffle"] = "\(training.plan.shuffle)"
        fields["seed"] = "\(training.plan.seed)"
        fields["frozen"] = training.model.frozen.map(\.name).joined(separator: ",")
        return fields
    }

    /// The file for `training` where it is now. `context` adds what the
    /// caller knows the run depends on (the data set, the validation split).
    public static func make(_ training: Training, context: [String: String] = [:]) -> SafeTensors {
        var tensors: [(name: String, tensor: Tensor)] = training.model.allParameters.map { ($0.name, training.model.value(of: $0.node)) }
        let kind = training.optimizer.settings.kind
        for (k, parameter) in training.model.parameters.enumerated() {
            for (b, buffer) in kind.stateNames.enumerated() {
                tensors.append(("optimizer/\(buffer)/\(parameter.name)", Tensor(shape: parameter.shape, data: training.optimizer.buffers[k][b])))
            }
        }
        var metadata = runFields(training, context: context)
        metadata["format"] = "chainrule-checkpoint-1"
        metadata["epoch"] = "\(training.epochsDone)"
        metadata["iteration"] = "\(training.iterationsDone)"
        metadata["optimizer_step"] = "\(training.optimizer.steps)"
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// What differs between `file`'s parameters and the model's: names
    /// missing on either side and shapes that disagree.
    public static func parameterDifferences(_ file: SafeTensors, _ model: Model, checkingExtra: Bool) -> [String] {
        var differences: [String] = []
        let names = Set(file.tensors.map(\.name).filter { !$0.hasPrefix("optimizer/") })
        for parameter in model.allParameters {
            guard let tensor = file.tensor(named: parameter.name) else {
                if checkingExtra { differences.append("\(parameter.name): in the program (\(describeShape(parameter.shape))), not in the checkpoint") }
                continue
            }
            if tensor.shape != parameter.shape {
                differences.append("\(parameter.name): shape \(describeShape(tensor.shape)) in the checkpoint, \(describeShape(parameter.shape)) in the program")
            }
        }
        if checkingExtra {
            let known = Set(model.allParameters.map(\.name))
            for name in names.subtracting(known).sorted() { differences.append("\(name): in the checkpoint, not in the program") }
        }
        return differences
    }

    /// Continues `training` from `file`: parameters, optimizer state and
    /// place. Every difference in names, shapes or run settings is refused
    /// with the full list — never silently.
    public static func resume(_ training: Training, from file: SafeTensors, path: String, context: [String: String] = [:]) throws(TrainingError) {
        var differences = parameterDifferences(file, training.model, checkingExtra: true)
        let expected = runFields(training, context: context)
        for key in Set(expected.keys).union(file.metadata.keys.filter { expected[$0] == nil && !placeKeys.contains($0) }).sorted() {
            let saved = file.metadata[key] ?? "(not set)", now = expected[key] ?? "(not set)"
            if saved != now { differences.append("\(key): \(saved) in the checkpoint, \(now) in this run") }
        }
        guard file.metadata["format"] == "chainrule-checkpoint-1",
              let epoch = file.metadata["epoch"].flatMap(Int.init), let iteration = file.metadata["iteration"].flatMap(Int.init),
              let step = file.metadata["optimizer_step"].flatMap(Int.init) else {
            throw TrainingError("cannot resume from \(path): it has no training state (epoch, iteration, optimizer_step in its metadata); to start from its weights, use --init-from")
        }
        if epoch > training.plan.epochs { differences.append("epoch: the checkpoint is at epoch \(epoch), past --epochs \(training.plan.epochs)") }
        // A checkpoint is written at the end of an epoch, after one optimizer step an iteration:
        // any other place is a damaged file, and training from it would count from nonsense.
        let perEpoch = training.iterationsPerEpoch
        let (reached, overflow) = epoch.multipliedReportingOverflow(by: perEpoch)
        if epoch < 0 {
            differences.append("epoch: \(epoch) in the checkpoint; an epoch count is at least 0")
        } else if overflow || iteration != reached {
            differences.append("iteration: \(iteration) in the checkpoint; at the end of epoch \(epoch) of \(perEpoch) iterations each it is \(overflow ? "past \(Int.max)" : String(reached))")
        }
        if step < 0 || step > iteration {
            differences.append("optimizer_step: \(step) in the checkpoint; the optimizer takes one step an iteration, so it is between 0 and the iteration (\(iteration))")
        }
        var buffers: [[[Double]]] = []
        let kind = training.plan.optimizer.kind
        for parameter in training.model.parameters {
            var own: [[Double]] = []
            for buffer in kind.stateNames {
                let name = "optimizer/\(buffer)/\(parameter.name)"
                guard let tensor = file.tensor(named: name), tensor.shape == parameter.shape else {
                    differences.append("\(name): missing from the checkpoint or of another shape")
                    continue
                }
                own.append(tensor.data)
            }
            buffers.append(own)
        }
        guard differences.isEmpty else {
            throw TrainingError("cannot resume from \(path): it does not match this run:\n" + differences.map { "  " + $0 }.joined(separator: "\n"))
        }
        let read = training.model.allParameters.map(\.name) + training.model.parameters.flatMap { parameter in kind.stateNames.map { "optimizer/\($0)/\(parameter.name)" } }
        if let problem = nonFinite(file, read) { throw TrainingError("cannot resume from \(path): \(problem)") }
        for parameter in training.model.allParameters {
            training.model.setValue(file.tensor(named: parameter.name)!, of: parameter.node)
        }
        training.restore(epochsDone: epoch, iterationsDone: iteration, optimizer: Optimizer(training.plan.optimizer, steps: step, buffers: buffers))
    }

    static let placeKeys: Set<String> = ["format", "epoch", "iteration", "optimizer_step"]

    /// The first of the tensors `names` of `file` that holds a NaN or an infinity, said
    /// with the element: training stops at the first loss that is not finite, so a run's
    /// checkpoint holds finite numbers, and a damaged one would be blamed later on the
    /// program's "starting values" or the learning rate.
    static func nonFinite(_ file: SafeTensors, _ names: [String]) -> String? {
        for name in names {
            guard let tensor = file.tensor(named: name), let index = tensor.data.firstIndex(where: { !$0.isFinite }) else { continue }
            let place = tensor.shape.isEmpty ? "" : " at element \(index) of its \(describeShape(tensor.shape))"
            return "\(name) holds \(formatNumber(tensor.data[index]))\(place); a checkpoint holds finite numbers (this one is damaged, or was written by another tool)"
        }
        return nil
    }

    /// Sets the model's parameters that `file` holds (`--init-from`): a
    /// shape that differs is refused; the notes returned say what was loaded
    /// and what keeps its initial value. Frozen parameters must come from the file.
    public static func initialise(_ model: Model, from file: SafeTensors, path: String) throws(TrainingError) -> [String] {
        let missingFrozen = model.frozen.filter { file.tensor(named: $0.name) == nil }.map(\.name)
        guard missingFrozen.isEmpty else {
            throw TrainingError("--freeze keeps \(missingFrozen.joined(separator: ", ")) as loaded, but \(path) does not hold \(missingFrozen.count == 1 ? "it" : "them")")
        }
        return try load(model.allParameters, from: file, path: path, set: model.setValue)
    }

    /// `--init-from` for a graph that is not trained (`eval`, `check`,
    /// `render`): its input and param leaves that `file` holds take the
    /// file's values. Run `forward()` after.
    public static func initialise(_ graph: Graph, from file: SafeTensors, path: String) throws(TrainingError) -> [String] {
        let leaves = graph.nodes.filter { $0.role == .input || $0.role == .param }
            .map { ModelParameter(name: $0.displayName, node: $0.id, shape: $0.shape) }
        return try load(leaves, from: file, path: path, set: graph.setValue)
    }

    private static func load(_ parameters: [ModelParameter], from file: SafeTensors, path: String,
                             set: (Tensor, NodeID) -> Void) throws(TrainingError) -> [String] {
        var differences: [String] = []
        var loaded: [String] = [], fresh: [String] = []
        for parameter in parameters {
            guard let tensor = file.tensor(named: parameter.name) else {
                fresh.append(parameter.name)
                continue
            }
            if tensor.shape != parameter.shape {
                differences.append("\(parameter.name): shape \(describeShape(tensor.shape)) in the checkpoint, \(describeShape(parameter.shape)) in the program")
            }
            loaded.append(parameter.name)
        }
        guard differences.isEmpty else {
            throw TrainingError("cannot initialise from \(path):\n" + differences.map { "  " + $0 }.joined(separator: "\n"))
        }
        if let problem = nonFinite(file, loaded) { throw TrainingError("cannot initialise from \(path): \(problem)") }
        guard !loaded.isEmpty || parameters.isEmpty else {
            throw TrainingError("cannot initialise from \(path): none of its tensors is named as a parameter of the program\n  in the checkpoint: \(file.tensors.map(\.name).filter { !$0.hasPrefix("optimizer/") }.joined(separator: ", "))\n  in the program: \(parameters.map(\.name).joined(separator: ", "))")
        }
        for parameter in parameters { if let tensor = file.tensor(named: parameter.name) { set(tensor, parameter.node) } }
        var notes = ["--init-from \(path): loaded \(loaded.isEmpty ? "nothing: the program has no parameters" : loaded.joined(separator: ", "))"]
        if !fresh.isEmpty { notes.append("\(fresh.joined(separator: ", ")) keep\(fresh.count == 1 ? "s" : "") the program's initial values") }
        return notes
    }
}
