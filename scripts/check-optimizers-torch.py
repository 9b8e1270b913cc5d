#!/usr/bin/env python3
"""Prints the parameters after two steps of each torch optimizer on p = [1, -2] with the gradients
[0.5, -1] then [0.25, 2], lr 0.1, weight decay 0 and 0.1, in float64: the numbers
Tests/ChainruleTrainingTests/OptimizerTests.swift checks (momentum 0.9 for momentum and Nesterov).

    /work/venv-torch/bin/python scripts/check-optimizers-torch.py
"""
import torch
torch.set_default_dtype(torch.float64)
grads = [torch.tensor([0.5, -1.0]), torch.tensor([0.25, 2.0])]
configs = {
 "sgd": lambda p, wd: torch.optim.SGD([p], lr=0.1, weight_decay=wd),
 "momentum": lambda p, wd: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=wd),
 "nesterov": lambda p, wd: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=wd),
 "adagrad": lambda p, wd: torch.optim.Adagrad([p], lr=0.1, weight_decay=wd),
 "rmsprop": lambda p, wd: torch.optim.RMSprop([p], lr=0.1, weight_decay=wd),
 "adam": lambda p, wd: torch.optim.Adam([p], lr=0.1, weight_decay=wd),
}
for name, make in configs.items():
    for wd in [0.0, 0.1]:
        p = torch.tensor([1.0, -2.0], requires_grad=True)
        opt = make(p, wd)
        out = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            out.append([float(v) for v in p.detach()])
        print(name, wd, [[repr(v) for v in s] for s in out])
