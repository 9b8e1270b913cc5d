"""Writes samples/digits/digits-mlp.onnx: an untrained PyTorch MLP for the 8×8 digits, 64 → 32 → 10
(fc1, ReLU, fc2: logits), exported by torch.onnx.export with a dynamic batch axis, for
`chainrule train samples/digits/digits-mlp.onnx --loss cross_entropy --data digits` (docs/onnx.md).

Also the test reference of training it: from the same weights in float64, one full-batch step of
SGD (lr 0.5) on cross-entropy over all 1,797 digits (pixels / 16), as torch takes it; the weights
after it go to Tests/ChainruleONNXTests/Fixtures/digits-mlp-step.NAME.npy. Run with the torch venv:

    /work/venv-torch/bin/python samples/digits/make-onnx.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "ChainruleONNXTests", "Fixtures")


class DigitsMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


def main():
    torch.manual_seed(0)
    model = DigitsMLP().eval()
    path = os.path.join(HERE, "digits-mlp.onnx")
    torch.onnx.export(model, (torch.zeros(2, 64),), path, input_names=["input"], output_names=["logits"],
                      dynamo=False, opset_version=17, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")

    double = model.double()
    x = torch.from_numpy(np.load(os.path.join(HERE, "digits-X.npy")).astype(np.float64) / 16)
    y = torch.from_numpy(np.load(os.path.join(HERE, "digits-y.npy")).astype(np.int64))
    nn.functional.cross_entropy(double(x), y).backward()
    os.makedirs(FIXTURES, exist_ok=True)
    with torch.no_grad():
        for name, parameter in double.named_parameters():
            np.save(os.path.join(FIXTURES, f"digits-mlp-step.{name}.npy"), (parameter - 0.5 * parameter.grad).numpy())
    print(f"wrote the weights after one SGD step into {os.path.normpath(FIXTURES)}")


if __name__ == "__main__":
    main()
