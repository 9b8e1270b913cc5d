import ChainruleCore
import ChainruleLanguage
import ChainruleTraining
import Foundation
import Testing

/// A loss that is not finite says why in the person's terms (the data, the
/// program at its start, or the steps), and data files that are not files,
/// or not text, are refused with the reason.
@Suite struct RedTeam20TrainingTests {
    static let mlp = """
        x = data(2)
        y = labels()
        h = Linear(x, 8)
        a = relu(h)
        s = Linear(a, 2)
        loss = cross_entropy(s, y)
        """

    static func points(scale: Double, count: Int = 40) throws -> Dataset {
        let features: [Double] = (0..<(2 * count)).map { k in
            let sign: Double = k % 3 == 0 ? 1 : -0.5
            return scale * (sign * Double(k % 7 + 1) / 7)
        }
        return try Dataset(name: "points.npy", features: Tensor(shape: [count, 2], data: features), labels: (0..<count).map { $0 % 2 })
    }

    static func failure(_ run: Training, epochs: Int) -> String? {
        do {
            for _ in 0..<epochs { _ = try run.runEpoch() }
            return nil
        } catch {
            return error.description
        }
    }

    /// Data of 1e308 overflow in the first product, before any update: the
    /// learning rate is not the cause, and the message names the data.
    @Test func dataThatOverflowAreNamedNotTheLearningRate() throws {
        let data = try Self.points(scale: 1e308)
        let plan = TrainingPlan(epochs: 1, batch: 100, optimizer: OptimizerSettings(.sgd, learningRate: 0.001))
        let message = try #require(Self.failure(try training(Self.mlp, train: data, plan: plan), epochs: 1))
        #expect(message.hasPrefix("the loss is "))
        #expect(message.contains("at iteration 1 (epoch 1), before any update: the data overflow — the data (points.npy, bound to x) reach 1e+308"), "\(message)")
        #expect(message.contains("the first value that is not finite is 'h' (linear, line 3)"), "\(message)")
        #expect(message.contains("scale them to [0, 1], or to mean 0 and variance 1 (a smaller --lr cannot help)"), "\(message)")
    }

    /// Data of 1e200 give a finite first loss, then steps that blow up: both causes are named.
    @Test func unscaledDataThatDivergeLaterAreNamedWithTheLearningRate() throws {
        let data = try Self.points(scale: 1e200)
        let plan = TrainingPlan(epochs: 3, batch: 100, optimizer: OptimizerSettings(.sgd, learningRate: 0.001))
        let message = try #require(Self.failure(try training(Self.mlp, train: data, plan: plan), epochs: 3))
        #expect(!message.contains("before any update"), "\(message)")
        #expect(message.contains("the data (points.npy, bound to x) reach 1e+200"), "\(message)")
        #expect(message.hasSuffix("scale them to [0, 1], or to mean 0 and variance 1, or try a smaller --lr"), "\(message)")
    }

    /// Well-scaled data and a huge learning rate: the steps diverge, and only the rate is blamed.
    @Test func aHugeLearningRateIsBlamedAfterUpdates() throws {
        let data = try Self.points(scale: 1)
        let plan = TrainingPlan(epochs: 200, batch: 100, optimizer: OptimizerSettings(.sgd, learningRate: 1e150))
        let message = try #require(Self.failure(try training(Self.mlp, train: data, plan: plan), epochs: 200))
        #expect(message.contains(" after "), "\(message)")
        #expect(message.hasSuffix("the steps diverged: try a smaller --lr"), "\(message)")
        #expect(!message.contains("the data"), "\(message)")
    }

    /// A program whose loss is not finite at its starting values (log of a negative
    /// number) is not told to lower the learning rate.
    @Test func aLossThatStartsInfiniteIsTheProgramsNotTheLearningRates() throws {
        let source = "w = 0.5\nloss = -log(w - 1) * 0 + exp(w * 1e4)\n"
        let plan = TrainingPlan(epochs: 1, batch: 1, optimizer: OptimizerSettings(.sgd, learningRate: 0.001))
        let message = try #require(Self.failure(try training(source, train: nil, plan: plan), epochs: 1))
        #expect(message.contains("before any update, so not because of the learning rate: the program's loss is not finite at its starting values"), "\(message)")
        #expect(!message.contains("smaller --lr"), "\(message)")
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-redteam20-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func csvDataThatAreNotRegularTextFilesAreRefusedWithTheReason() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder + "/zero.csv", withDestinationPath: "/dev/zero")
        #expect(mkfifo(folder + "/pipe.csv", 0o644) == 0)
        try FileManager.default.createDirectory(atPath: folder + "/folder.csv", withIntermediateDirectories: false)
        try Data([0xff, 0xfe, 0x31, 0x2c, 0x30, 0x0a]).write(to: URL(fileURLWithPath: folder + "/utf16.csv"))
        for (name, reason) in [("zero.csv", "it is a device, not a CSV file"), ("pipe.csv", "it is a pipe, not a CSV file"),
                               ("folder.csv", "it is a folder, not a CSV file"), ("missing.csv", "no such file"),
                               ("utf16.csv", "it is not UTF-8 text; a CSV file holds numbers separated by commas, the label last")] {
            let path = folder + "/" + name
            #expect(thrownMessage { _ = try DataSource.csv(path) } == "cannot read \(path): \(reason)")
        }
    }

    /// 1e18 is a whole number from 0: the refusal says what is really wrong with it.
    @Test func aHugeLabelIsRefusedAsTooLargeNotAsAFraction() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "1,2,1e18\n3,4,0\n".write(toFile: folder + "/big.csv", atomically: false, encoding: .utf8)
        try "1,2,0.5\n3,4,0\n".write(toFile: folder + "/half.csv", atomically: false, encoding: .utf8)
        #expect(thrownMessage { _ = try DataSource.csv(folder + "/big.csv") } == "\(folder)/big.csv:1: the label (last column) is 1e18; too large for a class index (labels are below 10^9, one class per index); is the last column really the label?")
        #expect(thrownMessage { _ = try DataSource.csv(folder + "/half.csv") } == "\(folder)/half.csv:1: the label (last column) is 0.5; labels are class indices, whole numbers from 0")
    }

    @Test func aCheckpointThatIsADeviceIsRefusedBeforeReading() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder + "/zero.safetensors", withDestinationPath: "/dev/zero")
        #expect(thrownMessage { _ = try SafeTensors.read(path: folder + "/zero.safetensors") } == "cannot read the checkpoint \(folder)/zero.safetensors: it is a device, not a checkpoint")
    }

    /// Written through checked writes: a full disk is an error naming the path, and the
    /// device stays a device.
    @Test func aCheckpointOnAFullDiskIsAnError() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder + "/full.safetensors", withDestinationPath: "/dev/full")
        let file = SafeTensors(tensors: [("w", Tensor([1, 2, 3]))], metadata: [:])
        #expect(thrownMessage { try file.write(to: folder + "/full.safetensors") } == "cannot write the checkpoint \(folder)/full.safetensors: no space left on device")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["full.safetensors"])
    }
}
