import ChainruleCore
import ChainruleLanguage
import ChainruleTraining
import Foundation
import Testing

/// The repository's top folder (for samples/).
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func sample(_ name: String) throws -> String {
    try String(contentsOf: repository.appendingPathComponent("samples/\(name)"), encoding: .utf8)
}

/// Compiles `source` with its data(…) bound to the first batch of `train`
/// and makes a training run of it, as `chainrule train` does.
func training(_ source: String, train: Dataset?, validation: Dataset? = nil, plan: TrainingPlan, freeze: [String] = [],
              initFrom: SafeTensors? = nil) throws -> Training {
    let first = train.map { set in
        let batch = set.batch(0..<min(plan.batch, set.count))
        return DataBatch(features: batch.features, labels: batch.labels, origin: set.name)
    }
    var options = CompileOptions()
    options.batch = first
    let program = try Compiler.compile(source: source, file: nil, options: options)
    let model = try Model(graph: program.graph, loss: program.output, data: program.dataInputs.data?.node,
                          labels: program.dataInputs.labels, freeze: freeze)
    if let initFrom { _ = try TrainingCheckpoint.initialise(model, from: initFrom, path: "checkpoint") }
    return try Training(model: model, plan: plan, train: train, validation: validation)
}

func digits(images: Bool = false) throws -> Dataset {
    try DataSource.digits(images: images).load(seed: 0, digitsFolder: repository.appendingPathComponent("samples/digits").path) {
        try Npy.load(path: $0)
    }
}

func parameterBits(_ run: Training) -> [String: [UInt64]] {
    Dictionary(uniqueKeysWithValues: run.model.allParameters.map { ($0.name, run.model.value(of: $0.node).data.map(\.bitPattern)) })
}

@Suite struct TrainingTests {
    @Test func moonsMLPWithHingeAndL2ReachesNinetyFivePercentIn100Iterations() throws {
        let moons = GeneratedData.moons.make(seed: 0)
        let plan = TrainingPlan(epochs: 100, batch: 200, optimizer: OptimizerSettings(.adam, learningRate: 0.01))
        let run = try training(try sample("moons-mlp.grad"), train: moons, plan: plan)
        #expect(run.iterationsPerEpoch == 1)
        var first: EpochRecord?
        while run.epochsDone < plan.epochs {
            let record = try run.runEpoch()
            if first == nil { first = record }
        }
        #expect(run.iterationsDone == 100)
        let (loss, accuracy) = try run.evaluate(moons)
        #expect(accuracy! >= 0.95)
        #expect(loss < first!.loss / 4)
    }

    @Test func digitsFCN64To500To10ReachesNinetyPercentValidationWithinTenEpochs() throws {
        let (train, validation) = try digits().split(validation: 0.2, seed: 0)
        #expect(train.count == 1438 && validation?.count == 359)
        let plan = TrainingPlan(epochs: 10, batch: 100, optimizer: OptimizerSettings(.adam))
        let run = try training(try sample("digits-fcn.grad"), train: train, validation: validation, plan: plan)
        #expect(run.iterationsPerEpoch == 15)
        var best = 0.0
        // Stops as soon as it is there: the test is about "within 10 epochs".
        while run.epochsDone < plan.epochs && best < 0.9 {
            best = max(best, try run.runEpoch().validationAccuracy!)
        }
        #expect(best >= 0.9, "validation accuracy \(best) after \(run.epochsDone) epochs")
    }

    @Test func checkpointWriteThenReadIsBitIdentical() throws {
        let plan = TrainingPlan(epochs: 2, batch: 50, shuffle: true, optimizer: OptimizerSettings(.adam, learningRate: 0.01))
        let run = try training(try sample("moons-mlp.grad"), train: GeneratedData.moons.make(seed: 1), plan: plan)
        _ = try run.runEpoch()
        let file = TrainingCheckpoint.make(run, context: ["data": "moons"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-roundtrip-\(getpid()).safetensors").path
        defer { unlink(path) }
        try file.write(to: path)
        let read = try SafeTensors.read(path: path)
        #expect(read == file)
        #expect(read.metadata["epoch"] == "1" && read.metadata["optimizer"] == "adam")
        #expect(read.tensor(named: "h1.W")!.data.map(\.bitPattern) == run.model.value(of: run.model.parameters[0].node).data.map(\.bitPattern))
        // The layout the format promises: an 8-byte little-endian length, then JSON padded to 8 bytes.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0 && bytes[8] == UInt8(ascii: "{"))
    }

    @Test func aResumedRunEndsBitIdenticalToAnUninterruptedOne() throws {
        let moons = GeneratedData.moons.make(seed: 2)
        let plan = TrainingPlan(epochs: 4, batch: 64, shuffle: true, seed: 7, optimizer: OptimizerSettings(.adam, learningRate: 0.01),
                                schedule: .step(every: 2, factor: 0.5))
        let source = try sample("moons-mlp.grad")
        let whole = try training(source, train: moons, plan: plan)
        while whole.epochsDone < 4 { _ = try whole.runEpoch() }

        let first = try training(source, train: moons, plan: plan)
        while first.epochsDone < 2 { _ = try first.runEpoch() }
        let saved = try SafeTensors.decode(TrainingCheckpoint.make(first).encoded(), path: "saved")
        let resumed = try training(source, train: moons, plan: plan)
        try TrainingCheckpoint.resume(resumed, from: saved, path: "saved")
        #expect(resumed.epochsDone == 2 && resumed.iterationsDone == 2 * resumed.iterationsPerEpoch)
        while resumed.epochsDone < 4 { _ = try resumed.runEpoch() }
        #expect(parameterBits(resumed) == parameterBits(whole))
        #expect(resumed.optimizer.steps == whole.optimizer.steps)
    }

    @Test func aResumeThatDoesNotMatchListsWhatDiffers() throws {
        let moons = GeneratedData.moons.make(seed: 0)
        let plan = TrainingPlan(epochs: 2, batch: 100, optimizer: OptimizerSettings(.adam))
        let run = try training(try sample("moons-mlp.grad"), train: moons, plan: plan)
        _ = try run.runEpoch()
        let saved = TrainingCheckpoint.make(run)
        let wider = try sample("moons-mlp.grad").replacingOccurrences(of: "Linear(h1, 16)", with: "Linear(h1, 32)")
        let other = try training(wider, train: moons, plan: TrainingPlan(epochs: 2, batch: 100, optimizer: OptimizerSettings(.sgd)))
        let error = #expect(throws: TrainingError.self) { try TrainingCheckpoint.resume(other, from: saved, path: "saved") }
        let message = error?.description ?? ""
        #expect(message.contains("h2.W: shape 16×16 in the checkpoint, 32×16 in the program"))
        #expect(message.contains("optimizer: adam in the checkpoint, sgd in this run"))
    }

    @Test func aFrozenLayerIsUnchangedAfterTraining() throws {
        let moons = GeneratedData.moons.make(seed: 0)
        let plan = TrainingPlan(epochs: 3, batch: 50, optimizer: OptimizerSettings(.momentum, learningRate: 0.05))
        let source = try sample("moons-mlp.grad")
        let pretrained = try training(source, train: moons, plan: plan)
        _ = try pretrained.runEpoch()
        let file = TrainingCheckpoint.make(pretrained)
        let run = try training(source, train: moons, plan: plan, freeze: ["h1"], initFrom: file)
        #expect(run.model.frozen.map(\.name) == ["h1.W", "h1.b"])
        let before = parameterBits(run)
        while run.epochsDone < 3 { _ = try run.runEpoch() }
        let after = parameterBits(run)
        #expect(after["h1.W"] == file.tensor(named: "h1.W")!.data.map(\.bitPattern))
        #expect(after["h1.b"] == before["h1.b"])
        #expect(after["h2.W"] != before["h2.W"])
    }

    @Test func freezingALayerThatIsNotThereNamesTheOnesThatAre() throws {
        let plan = TrainingPlan(epochs: 1, batch: 100, optimizer: OptimizerSettings(.sgd))
        let error = #expect(throws: TrainingError.self) {
            _ = try training(try sample("moons-mlp.grad"), train: GeneratedData.moons.make(), plan: plan, freeze: ["c1"])
        }
        #expect(error?.description == "--freeze c1: the program has no layer or parameter c1; it has h1, h2, s")
    }

    @Test func aProgramWithoutDataTrainsFullBatchOnItsOwnLoss() throws {
        let plan = TrainingPlan(epochs: 50, optimizer: OptimizerSettings(.sgd, learningRate: 0.1))
        let run = try training("a = 3\nloss = (a - 1)^2", train: nil, plan: plan)
        while run.epochsDone < plan.epochs { _ = try run.runEpoch() }
        #expect(run.iterationsDone == 50)
        // a ← a − 0.1·2(a − 1): the distance to 1 shrinks by 0.8 a step.
        #expect(abs(run.model.value(of: run.model.parameters[0].node).scalar - (1 + 2 * pow(0.8, 50))) < 1e-12)
    }

    @Test func theLastBatchOfAnEpochHoldsWhatIsLeft() throws {
        let moons = GeneratedData.moons.make(count: 250, seed: 0)
        let plan = TrainingPlan(epochs: 1, batch: 100, optimizer: OptimizerSettings(.sgd))
        let run = try training(try sample("moons-mlp.grad"), train: moons, plan: plan)
        var sizes: [Int] = []
        _ = try run.runEpoch { _ in sizes.append(run.model.value(of: run.model.data!).shape[0]) }
        #expect(sizes == [100, 100, 50])
    }
}

@Suite struct SafeTensorsInteropTests {
    /// NumPy reads the file as the format describes it: the header length,
    /// the JSON header, then each tensor's little-endian float64 bytes.
    @Test func numpyReadsTheCheckpointAsTheFormatDescribesIt() throws {
        let file = SafeTensors(tensors: [("h.W", Tensor([[1.5, -2], [0.25, 1e-300]])), ("a", Tensor(3))], metadata: ["epoch": "4"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-numpy-\(UUID().uuidString).safetensors").path
        defer { unlink(path) }
        try file.write(to: path)
        let script = """
            import json, struct, sys, numpy as np
            data = open(sys.argv[1], 'rb').read()
            (n,) = struct.unpack('<Q', data[:8])
            header = json.loads(data[8:8 + n])
            for name in ('h.W', 'a'):
                entry = header[name]
                begin, end = entry['data_offsets']
                values = np.frombuffer(data[8 + n + begin:8 + n + end], dtype='<f8').reshape(entry['shape'])
                print(name, entry['dtype'], values.tolist())
            print(header['__metadata__'])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text == "h.W F64 [[1.5, -2.0], [0.25, 1e-300]]\na F64 3.0\n{'epoch': '4'}\n")
    }

    @Test("A checkpoint whose shape or offsets would overflow is refused, not a trap")
    func overflowingCheckpointIsRefused() {
        for entry in [#"{"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 8]}}"#,
                      #"{"w": {"dtype": "F64", "shape": [1], "data_offsets": [9223372036854775799, 9223372036854775807]}}"#] {
            let header = Array(entry.utf8)
            let bytes = (0..<8).map { UInt8((header.count >> (8 * $0)) & 0xff) } + header + [UInt8](repeating: 0, count: 8)
            var message = ""
            do { _ = try SafeTensors.decode(bytes, path: "hostile") } catch { message = error.description }
            #expect(message.hasPrefix("hostile is not a safetensors checkpoint: the data of w"), "\(message)")
        }
    }
}
