#!/usr/bin/env python3
"""The torch side of `chainrule-bench training`: one epoch of the same two models with Adam in float64 on
the CPU, the same batches in the same order, and the time per iteration (best of 3 epochs).

    /work/venv-torch/bin/python scripts/bench-training-torch.py     # torch with numpy
"""
import os
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
digits_x = np.load(os.path.join(HERE, "..", "samples", "digits", "digits-X.npy")).astype(np.float64) / 16
digits_y = np.load(os.path.join(HERE, "..", "samples", "digits", "digits-y.npy")).astype(np.int64)


def epoch(model, x, y, batch):
    optimizer = torch.optim.Adam(model.parameters())
    start = time.perf_counter()
    iterations = 0
    for i in range(0, len(x), batch):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[i:i + batch]), y[i:i + batch])
        loss.backward()
        optimizer.step()
        iterations += 1
    return time.perf_counter() - start, iterations


def bench(name, make, x, y, batch):
    best, iterations = min(epoch(make(), x, y, batch) for _ in range(3))
    print(f"{name:38s}  {iterations:10d}   {best / iterations * 1e3:12.2f}   {len(x) / best:10.0f}")


print(f"torch {torch.__version__}, float64, {torch.get_num_threads()} threads")
print("model                                  iterations   ms/iteration   examples/s")
fcn = lambda: torch.nn.Sequential(torch.nn.Linear(64, 500), torch.nn.ReLU(), torch.nn.Linear(500, 10))
bench("digits FCN 64→500→10, batch 100", fcn, torch.from_numpy(digits_x), torch.from_numpy(digits_y), 100)
images = torch.rand(256, 3, 32, 32)
labels = torch.arange(256) % 10
cnn = lambda: torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(8 * 16 * 16, 10))
bench("CNN 3×32×32, 256 images, batch 64", cnn, images, labels, 64)
