import Foundation
import Testing

/// `chainrule train` on the worker pool: any thread count trains to the same bits.
@Suite struct ParallelTrainingTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-threads-\(UUID().uuidString)")

    /// Runs the built `chainrule` with `CHAINRULE_THREADS` set to `threads` (nil: unset, the machine's cores).
    func train(_ arguments: [String], threads: String?) throws -> (status: Int32, stdout: String, stderr: String) {
        try chainrule(["train"] + arguments, environment: threads.map { ["CHAINRULE_THREADS": $0] } ?? [:])
    }

    @Test func theDigitsCNNTrainsToTheSameCheckpointOnOneThreadTheMachinesCoresAndThree() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let runs: [(name: String, threads: String?, options: [String])] = [
            ("one", "1", []), ("default", nil, []), ("three", nil, ["--threads", "3"]),
        ]
        var checkpoints: [Data] = [], outputs: [String] = []
        for run in runs {
            let checkpoint = folder.appendingPathComponent("\(run.name).safetensors").path
            let result = try train(["samples/digits-cnn.grad", "--data", "digits-images", "--val", "0.8", "--epochs", "1",
                                    "--optimizer", "adam", "--lr", "0.003", "--checkpoint", checkpoint] + run.options,
                                   threads: run.threads)
            #expect(result.status == 0, "\(run.name): \(result.stderr)")
            checkpoints.append(try Data(contentsOf: URL(fileURLWithPath: checkpoint)))
            outputs.append(result.stdout.replacingOccurrences(of: "\(run.name).safetensors", with: "CHECKPOINT"))
        }
        #expect(checkpoints[1] == checkpoints[0] && checkpoints[2] == checkpoints[0])
        #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0])
    }

    @Test func aThreadCountThatIsNotAPositiveIntegerExitsTwo() throws {
        let zero = try train(["samples/moons-mlp.grad", "--data", "moons", "--threads", "0"], threads: nil)
        #expect(zero.status == 2 && zero.stderr.contains("--threads must be at least 1, got 0"), "\(zero.stderr)")
        let word = try train(["samples/moons-mlp.grad", "--data", "moons"], threads: "many")
        #expect(word.status == 2 && word.stderr.contains("CHAINRULE_THREADS must be a positive integer (a thread count), got 'many'"), "\(word.stderr)")
    }
}
