"""Writes the ONNX test fixtures of Tests/ChainruleONNXTests/Fixtures.

For each small model: NAME.onnx (torch.onnx.export's TorchScript exporter, float32
weights, the exporter's own node names), and from the same weights in float64 torch: NAME.input.npy (the
input), NAME.output.npy (the model's output) and NAME.input-grad.npy (the gradient
of the summed output with respect to the input). Run with the torch venv:

    /work/venv-torch/bin/python scripts/onnx/make-fixtures.py

LeNet is also exported by the torch.export-based exporter (torch ≥ 2.9's default) as
lenet-dynamo.onnx, with a static batch of 2: it has the same weights, so lenet's
references apply to it. The float32 weights are read back into float64 as they are stored, so Chainrule and
torch compute in float64 from bit-identical weights.
"""
import copy
import os
import sys

import numpy as np
import torch
from torch import nn

def f32(value):
    """A float attribute as ONNX stores it (float32), so torch's float64 reference uses the same number."""
    return float(np.float32(value))


OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ChainruleONNXTests", "Fixtures")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return torch.log_softmax(self.fc2(self.act(self.fc1(x))), dim=-1)


class LeNet(nn.Module):
    """LeNet-5 on 1×16×16 digits: conv, pool, conv, pool, three linear layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv1", nn.Conv2d(1, 4, 3, padding=1))
        self.features.add_module("relu1", nn.ReLU())
        self.features.add_module("pool1", nn.MaxPool2d(2))
        self.features.add_module("conv2", nn.Conv2d(4, 6, 3))
        self.features.add_module("relu2", nn.ReLU())
        self.features.add_module("pool2", nn.AvgPool2d(2))
        self.classifier = nn.Sequential()
        self.classifier.add_module("fc1", nn.Linear(6 * 3 * 3, 16))
        self.classifier.add_module("sigmoid", nn.Sigmoid())
        self.classifier.add_module("fc2", nn.Linear(16, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class SmallCNN(nn.Module):
    """Conv, leaky relu, batch norm (inference), conv, elu, batch norm, global average pool,
    linear, softmax, and the expected score under it (softmax alone sums to 1, so the
    gradient of its sum would be 0). Each batch norm follows its activation: after a conv
    the exporter would fold it into the conv's weights."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(4, eps=f32(1e-5))
        self.act1 = nn.LeakyReLU(f32(0.1))
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(6, eps=f32(1e-5))
        self.act2 = nn.ELU(f32(0.7))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5)
        self.scores = nn.Parameter(torch.linspace(-1.0, 2.0, 5))

    def forward(self, x):
        x = self.bn1(self.act1(self.conv1(x)))
        x = self.bn2(self.act2(self.conv2(x)))
        return torch.softmax(self.fc(torch.flatten(self.pool(x), 1)), dim=1) @ self.scores


class ViewNet(nn.Module):
    """x.view(x.size(0), -1): the Shape → Gather → Unsqueeze → Concat → Reshape chain;
    also Softplus, Transpose, MatMul, Concat of two branches, and elementwise arithmetic."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.head = nn.Linear(2 * 3 * 4 * 4, 6)
        self.mix = nn.Parameter(torch.randn(6, 6))

    def forward(self, x):
        h = self.conv(x)
        h = torch.cat([nn.functional.softplus(h), torch.sqrt(h * h + 1.0) - 0.5], dim=1)
        h = h.view(h.size(0), -1)
        y = self.head(h)
        y = (y @ self.mix.t()) / 3.0
        return torch.exp(-y * y) + torch.pow(y, 2.0)


def reference(model, example, name):
    model = model.eval()
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, (example,), path, input_names=["input"], output_names=["output"],
                      dynamo=False, opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    double = model.double()
    x = example.double().clone().requires_grad_(True)
    y = double(x)
    y.sum().backward()
    np.save(os.path.join(OUT, name + ".input.npy"), x.detach().numpy())
    np.save(os.path.join(OUT, name + ".output.npy"), y.detach().numpy())
    np.save(os.path.join(OUT, name + ".input-grad.npy"), x.grad.numpy())
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    reference(MLP(), torch.randn(2, 4), "mlp")
    lenet = LeNet()
    float_lenet = copy.deepcopy(lenet).eval()
    reference(lenet, torch.randn(2, 1, 16, 16), "lenet")
    cnn = SmallCNN()
    with torch.no_grad():  # running statistics that are not the identity
        for bn in (cnn.bn1, cnn.bn2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
    reference(cnn, torch.randn(2, 3, 8, 8), "small-cnn")
    reference(ViewNet(), torch.randn(2, 2, 6, 6), "view-net")
    path = os.path.join(OUT, "lenet-dynamo.onnx")
    torch.onnx.export(float_lenet, (torch.zeros(2, 1, 16, 16),), path, input_names=["input"],
                      output_names=["output"], dynamo=True, opset_version=18)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
