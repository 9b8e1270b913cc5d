import Foundation
import Testing

/// Runs the built `chainrule` (beside this test bundle) in the repository's folder, with
/// `environment` added to the test's own.
func chainrule(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    var folder = Bundle.main.bundleURL
    while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("chainrule").path), folder.path != "/" {
        folder.deleteLastPathComponent()
    }
    let process = Process()
    process.executableURL = folder.appendingPathComponent("chainrule")
    process.arguments = arguments
    process.currentDirectoryURL = repository
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

@Suite struct TrainCommandTests {
    /// A folder of its own for each test (they run in parallel).
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-train-\(UUID().uuidString)")

    @Test func trainPrintsTheEpochArithmeticAndLogsEveryIteration() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("run.csv").path
        let run = try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons:250", "--val", "0.2", "--batch", "64",
                                 "--epochs", "2", "--optimizer", "adam", "--lr", "0.01", "--log", log])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("1 epoch = 200 examples / batch 64 = 4 iterations; 2 epochs = 8 iterations, 50 held out for validation\n"))
        #expect(run.stderr.contains("epoch 2/2  iterations 8  lr 0.01  loss "))
        let rows = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "epoch,iteration,lr,loss,accuracy,val_loss,val_accuracy")
        #expect(rows.count == 9)
        // The validation columns are filled on the last iteration of each epoch only.
        #expect(rows[3].hasSuffix(",,") && !rows[4].hasSuffix(",,") && !rows[8].hasSuffix(",,"))
    }

    @Test func aMismatchedResumeExitsTwoListingTheDifferences() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("moons.safetensors").path
        let first = try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "1", "--optimizer", "adam", "--checkpoint", checkpoint])
        #expect(first.status == 0, "\(first.stderr)")
        let other = try chainrule(["train", "samples/spirals-mlp.grad", "--data", "moons", "--epochs", "2", "--optimizer", "sgd", "--resume", checkpoint])
        #expect(other.status == 2)
        #expect(other.stderr.contains("cannot resume from \(checkpoint): it does not match this run:"))
        #expect(other.stderr.contains("h1.W: in the checkpoint, not in the program"))
        #expect(other.stderr.contains("optimizer: adam in the checkpoint, sgd in this run"))
        let same = try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "2", "--optimizer", "adam", "--resume", checkpoint])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stderr.contains("resuming \(checkpoint) at epoch 1 (iteration 2) of 2"))
    }

    @Test func badInputExitsTwoWithItsReason() throws {
        let unknown = try chainrule(["train", "samples/moons-mlp.grad", "--data", "mooons"])
        #expect(unknown.status == 2 && unknown.stderr.contains("--data mooons: not a data set; give one of moons, spirals"))
        let shape = try chainrule(["train", "samples/digits-fcn.grad", "--data", "moons", "--epochs", "1"])
        #expect(shape.status == 2 && shape.stderr.contains("data(64) declares examples of shape 64, but those of the first batch of moons"))
        let schedule = try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons", "--decay", "linear"])
        #expect(schedule.status == 2 && schedule.stderr.contains("unknown schedule 'linear'"))
    }

    @Test func evalBindsDataToTheFirstBatchOrASeededRandomOneAndSaysSo() throws {
        let random = try chainrule(["eval", "samples/digits-fcn.grad"])
        #expect(random.status == 0)
        #expect(random.stderr.contains("note: x = data(64) and y = labels() are bound to a seeded random batch of 8 examples (normal features, labels 0–9); give --data to use a data set"))
        let digits = try chainrule(["eval", "samples/digits-fcn.grad", "--data", "digits", "--batch", "20"])
        #expect(digits.status == 0)
        #expect(digits.stderr.contains("are bound to the first batch of digits (20 of 1,797 examples)"))
    }
}
