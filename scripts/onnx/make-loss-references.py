"""Writes torch's references for training ONNX models on the losses other than cross-entropy.

From the float32 weights of samples/digits/digits-mlp.onnx read into float64: one full-batch step of SGD
(lr 0.5) over all 1,797 digits (pixels / 16) on CS231n's multiclass hinge loss, the mean over the examples of
sum_{j != y} max(0, s_j - s_y + 1) (torch's multi_margin_loss divides that sum by the class count, so it is
multiplied back). The weights after the step go to
Tests/ChainruleONNXTests/Fixtures/digits-mlp-hinge-step.NAME.npy.

And a binary classifier, one logit per example: binary-mlp.onnx (2 -> 8 -> 1, torch.onnx.export with a dynamic
batch axis), 40 seeded points binary.X.npy with labels 0 or 1 binary.y.npy, and the weights after one full-batch
SGD step (lr 0.5) on binary_cross_entropy_with_logits in float64, binary-mlp-bce-step.NAME.npy. Run with the torch venv:

    /work/venv-torch/bin/python scripts/onnx/make-loss-references.py
"""
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIGITS = os.path.join(ROOT, "samples", "digits")
FIXTURES = os.path.join(ROOT, "Tests", "ChainruleONNXTests", "Fixtures")


def main():
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(DIGITS, "digits-mlp.onnx")).graph.initializer}
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(64, 32))
    model.add_module("relu", nn.ReLU())
    model.add_module("fc2", nn.Linear(32, 10))
    model = model.double()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.from_numpy(weights[name].astype(np.float64)))
    x = torch.from_numpy(np.load(os.path.join(DIGITS, "digits-X.npy")).astype(np.float64) / 16)
    y = torch.from_numpy(np.load(os.path.join(DIGITS, "digits-y.npy")).astype(np.int64))
    scores = model(x)
    (scores.shape[1] * nn.functional.multi_margin_loss(scores, y)).backward()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            np.save(os.path.join(FIXTURES, f"digits-mlp-hinge-step.{name}.npy"), (parameter - 0.5 * parameter.grad).numpy())
    print(f"wrote the weights after one SGD step on the hinge loss into {os.path.normpath(FIXTURES)}")


def binary():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(2, 8))
    model.add_module("tanh", nn.Tanh())
    model.add_module("fc2", nn.Linear(8, 1))
    model.eval()
    path = os.path.join(FIXTURES, "binary-mlp.onnx")
    torch.onnx.export(model, (torch.zeros(2, 2),), path, input_names=["input"], output_names=["logit"],
                      dynamo=False, opset_version=17, dynamic_axes={"input": {0: "batch"}, "logit": {0: "batch"}})
    generator = np.random.default_rng(0)
    x = generator.normal(size=(40, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    np.save(os.path.join(FIXTURES, "binary.X.npy"), x)
    np.save(os.path.join(FIXTURES, "binary.y.npy"), y)
    model = model.double()
    # The float32 weights as the file stores them, in float64.
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.from_numpy(weights[name].astype(np.float64)))
    logits = model(torch.from_numpy(x))
    nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).double().reshape(-1, 1)).backward()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            np.save(os.path.join(FIXTURES, f"binary-mlp-bce-step.{name}.npy"), (parameter - 0.5 * parameter.grad).numpy())
    print(f"wrote {path} and the weights after one SGD step on binary cross-entropy into {os.path.normpath(FIXTURES)}")


if __name__ == "__main__":
    main()
    binary()
