import ChainruleCore
import ChainruleLanguage
import ChainruleTraining
import Foundation
import Testing

/// `train model.onnx --loss L` with the losses besides cross-entropy, against torch.
@Suite struct ONNXLossTrainingTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-onnx-loss-\(UUID().uuidString)")

    @Test func anONNXModelTakesTorchsSGDStepOnTheHingeLoss() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("hinge.safetensors").path
        // One full-batch step of the 64 → 32 → 10 MLP: the weights after it are torch's, from
        // scripts/onnx/make-loss-references.py (CS231n's hinge: the sum over wrong classes, not their mean).
        let run = try chainrule(["train", "samples/digits/digits-mlp.onnx", "--loss", "hinge", "--data", "digits", "--batch", "1797",
                                 "--epochs", "1", "--optimizer", "sgd", "--lr", "0.5", "--checkpoint", checkpoint])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("note: input takes the batches of digits; the loss is hinge(fc2.Gemm, labels)"))
        // hinge reads class labels, so the run reports an accuracy as cross-entropy's does.
        #expect(run.stdout.contains("accuracy "))
        for (name, tensor) in try SafeTensors.read(path: checkpoint).tensors {
            let torch = try Npy.load(path: repository.appendingPathComponent("Tests/ChainruleONNXTests/Fixtures/digits-mlp-hinge-step.\(name).npy").path)
            #expect(tensor.shape == torch.shape)
            let worst = zip(tensor.data, torch.data).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
            #expect(worst < 1e-10, "\(name) differs from torch's step by \(worst) relative")
        }
    }

    @Test func aBinaryClassifierTakesTorchsSGDStepOnBinaryCrossEntropy() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixtures = "Tests/ChainruleONNXTests/Fixtures"
        let checkpoint = folder.appendingPathComponent("bce.safetensors").path
        // A 2 → 8 → 1 MLP with one logit per example, labels 0 or 1: torch's step from make-loss-references.py.
        let run = try chainrule(["train", "\(fixtures)/binary-mlp.onnx", "--loss", "binary_cross_entropy_with_logits",
                                 "--data", "\(fixtures)/binary.X.npy,\(fixtures)/binary.y.npy", "--batch", "40", "--epochs", "1",
                                 "--optimizer", "sgd", "--lr", "0.5", "--checkpoint", checkpoint])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("the loss is binary_cross_entropy_with_logits(fc2.Gemm, labels)"))
        let tensors = try SafeTensors.read(path: checkpoint).tensors
        #expect(tensors.map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        for (name, tensor) in tensors {
            let torch = try Npy.load(path: repository.appendingPathComponent("\(fixtures)/binary-mlp-bce-step.\(name).npy").path)
            #expect(tensor.shape == torch.shape)
            let worst = zip(tensor.data, torch.data).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
            #expect(worst < 1e-10, "\(name) differs from torch's step by \(worst) relative")
        }
    }

    @Test func binaryCrossEntropyRefusesAModelWithManyLogitsPerExample() throws {
        let wide = try chainrule(["train", "samples/digits/digits-mlp.onnx", "--loss", "binary_cross_entropy_with_logits", "--data", "digits"])
        #expect(wide.status == 2)
        #expect(wide.stderr.contains("binary_cross_entropy_with_logits takes the output as one logit per example (N or N×1): for a batch of 100 examples of digits the output is 100×10"))
    }
}
