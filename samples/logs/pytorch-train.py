"""Writes pytorch-train.csv, the training log `chainrule figure loss-curve --log` draws in the docs.

A PyTorch MLP 10 -> 32 -> 2 on 512 random points labelled by x0 + x1 > 0: 15 epochs of SGD
(batch 64, lr 0.1 halved every 5 epochs), one row per iteration, validation loss and accuracy
on the last 64 points at the end of each epoch (empty cells elsewhere), as a training loop logs.
Run: /work/venv-torch/bin/python samples/logs/pytorch-train.py
"""
import csv
import os

import torch

torch.manual_seed(0)
X = torch.randn(512, 10)
y = (X[:, 0] + X[:, 1] > 0).long()
model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
schedule = torch.optim.lr_scheduler.StepLR(optimizer, 5, 0.5)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch-train.csv")
with open(path, "w", newline="") as file:
    log = csv.writer(file, lineterminator="\n")
    log.writerow(["epoch", "iteration", "lr", "loss", "accuracy", "val_loss", "val_accuracy"])
    iteration = 0
    for epoch in range(15):
        for start in range(0, 448, 64):
            xb, yb = X[start:start + 64], y[start:start + 64]
            out = model(xb)
            loss = torch.nn.functional.cross_entropy(out, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            iteration += 1
            accuracy = (out.argmax(1) == yb).float().mean().item()
            row = [epoch, iteration, optimizer.param_groups[0]["lr"], round(loss.item(), 5), round(accuracy, 4), "", ""]
            if start + 64 >= 448:
                with torch.no_grad():
                    val = model(X[448:])
                row[5] = round(torch.nn.functional.cross_entropy(val, y[448:]).item(), 5)
                row[6] = round((val.argmax(1) == y[448:]).float().mean().item(), 4)
            log.writerow(row)
        schedule.step()
