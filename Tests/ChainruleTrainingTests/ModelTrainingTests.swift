import ChainruleCore
import ChainruleLanguage
import ChainruleTraining
import Foundation
import Testing

/// `train` of an imported ONNX model, and `--init-from` on models and programs.
@Suite struct ModelTrainingTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-model-train-\(UUID().uuidString)")
    let model = "samples/digits/digits-mlp.onnx"

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @Test func anONNXModelTakesTorchsSGDStepOnTheDigits() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // One full-batch step: the weights after it are those torch computes in float64 from the same float32 weights.
        let run = try chainrule(["train", model, "--loss", "cross_entropy", "--data", "digits", "--batch", "1797", "--epochs", "1",
                                 "--optimizer", "sgd", "--lr", "0.5", "--checkpoint", path("step.safetensors")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("1 epoch = 1,797 examples / batch 1797 = 1 iteration; 1 epoch = 1 iterations\n"))
        #expect(run.stderr.contains("note: input takes the batches of digits; the loss is cross_entropy("))
        let checkpoint = try SafeTensors.read(path: path("step.safetensors"))
        #expect(checkpoint.tensors.map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        for (name, tensor) in checkpoint.tensors {
            let torch = try Npy.load(path: repository.appendingPathComponent("Tests/ChainruleONNXTests/Fixtures/digits-mlp-step.\(name).npy").path)
            #expect(tensor.shape == torch.shape)
            let worst = zip(tensor.data, torch.data).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
            #expect(worst < 1e-10, "\(name) differs from torch's step by \(worst) relative")
        }
    }

    @Test func initFromLoadsAModelsCheckpointAndRefusesOnesThatDoNotFit() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let trained = path("digits.safetensors")
        let first = try chainrule(["train", model, "--loss", "cross_entropy", "--data", "digits", "--epochs", "2", "--optimizer", "adam",
                                   "--lr", "0.01", "--checkpoint", trained])
        #expect(first.status == 0, "\(first.stderr)")

        // eval draws on the trained weights, named as in PyTorch's state_dict.
        let eval = try chainrule(["eval", model, "--init-from", trained])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stderr.contains("note: --init-from \(trained): loaded fc1.weight, fc1.bias, fc2.weight, fc2.bias"))

        // Transfer learning: fc1 loaded and frozen, fc2 trained on.
        let head = path("head.safetensors")
        let transfer = try chainrule(["train", model, "--loss", "cross_entropy", "--data", "digits", "--epochs", "1", "--optimizer", "adam",
                                      "--init-from", trained, "--freeze", "fc1", "--checkpoint", head])
        #expect(transfer.status == 0, "\(transfer.stderr)")
        #expect(transfer.stderr.contains("note: frozen (no update): fc1.weight, fc1.bias"))
        let before = try SafeTensors.read(path: trained), after = try SafeTensors.read(path: head)
        #expect(after.tensor(named: "fc1.weight") == before.tensor(named: "fc1.weight"))
        #expect(after.tensor(named: "fc2.weight") != before.tensor(named: "fc2.weight"))

        // The same names with other shapes (the 4 → 8 → 3 MLP fixture): exit 2, listing each difference; nothing written.
        let page = path("mlp.html")
        let shapes = try chainrule(["render", "Tests/ChainruleONNXTests/Fixtures/mlp.onnx", "--init-from", trained, "-o", page])
        #expect(shapes.status == 2)
        #expect(shapes.stderr.contains("error: cannot initialise from \(trained):\n  fc1.weight: shape 32×64 in the checkpoint, 8×4 in the program"))
        #expect(shapes.stderr.contains("  fc2.bias: shape 10 in the checkpoint, 3 in the program"))
        #expect(!FileManager.default.fileExists(atPath: page))

        // A .grad program's checkpoint on the model: no name in common, exit 2 with both lists.
        let moons = path("moons.safetensors")
        #expect(try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "1", "--checkpoint", moons]).status == 0)
        let names = try chainrule(["check", model, "--init-from", moons])
        #expect(names.status == 2)
        #expect(names.stderr.contains("cannot initialise from \(moons): none of its tensors is named as a parameter of the program"))
        #expect(names.stderr.contains("in the checkpoint: h1.W, h1.b, h2.W, h2.b, s.W, s.b"))
        // The model's input is a leaf a checkpoint may set too.
        #expect(names.stderr.contains("in the program: input, fc1.weight, fc1.bias, fc2.weight, fc2.bias"))
    }

    @Test func aResumedModelRunEndsBitIdenticalToAnUninterruptedOne() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = ["train", model, "--loss", "cross_entropy", "--data", "digits", "--batch", "600", "--optimizer", "adam", "--shuffle"]
        #expect(try chainrule(run + ["--epochs", "1", "--checkpoint", path("resumed.safetensors")]).status == 0)
        let resumed = try chainrule(run + ["--epochs", "2", "--checkpoint", path("resumed.safetensors"), "--resume", path("resumed.safetensors")])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try chainrule(run + ["--epochs", "2", "--checkpoint", path("straight.safetensors")]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("resumed.safetensors"))) == Data(contentsOf: URL(fileURLWithPath: path("straight.safetensors"))))
    }

    @Test func thePagesSnapshotsLeaveTheRunAsItWas() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = ["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "3", "--optimizer", "adam", "--shuffle", "--val", "0.2"]
        let paged = try chainrule(run + ["--checkpoint", path("paged.safetensors"), "--html", path("run.html")])
        #expect(paged.status == 0, "\(paged.stderr)")
        #expect(paged.stdout.hasSuffix("page: \(path("run.html")) (4 snapshots, epochs 0–3)\n"))
        #expect(try chainrule(run + ["--checkpoint", path("plain.safetensors")]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("paged.safetensors"))) == Data(contentsOf: URL(fileURLWithPath: path("plain.safetensors"))))
    }

    @Test func initFromOnAGradProgramLoadsItsLayersAndRefusesAMismatch() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let moons = path("moons.safetensors")
        #expect(try chainrule(["train", "samples/moons-mlp.grad", "--data", "moons", "--epochs", "2", "--optimizer", "adam", "--checkpoint", moons]).status == 0)
        let eval = try chainrule(["eval", "samples/moons-mlp.grad", "--data", "moons", "--init-from", moons])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stderr.contains("loaded h1.W, h1.b, h2.W, h2.b, s.W, s.b"))

        // spirals-mlp.grad names its layers h and s: s.W is there with another shape.
        let checkpoint = path("out.safetensors"), page = path("out.html")
        let shapes = try chainrule(["train", "samples/spirals-mlp.grad", "--data", "spirals", "--init-from", moons, "--checkpoint", checkpoint, "--html", page])
        #expect(shapes.status == 2)
        #expect(shapes.stderr.contains("cannot initialise from \(moons):\n  s.W: shape 2×16 in the checkpoint, 3×100 in the program"))
        #expect(!FileManager.default.fileExists(atPath: checkpoint) && !FileManager.default.fileExists(atPath: page))

        // LeNet (c1, c3, f5, f6, scores) shares no name with it.
        let names = try chainrule(["eval", "samples/lenet.grad", "--init-from", moons])
        #expect(names.status == 2)
        #expect(names.stderr.contains("none of its tensors is named as a parameter of the program\n  in the checkpoint: h1.W, h1.b, h2.W, h2.b, s.W, s.b\n  in the program: c1.W"))
    }
}
