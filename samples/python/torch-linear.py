"""A linear layer as a torch.autograd.Function, checked in float64 through
chainrule.serve_torch: its own backward against finite differences of its forward."""
import torch

import chainrule


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w.T + b

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad @ w, grad.T @ x, grad.sum(0)


if __name__ == "__main__":
    chainrule.serve_torch(Linear, inputs={"x": (4, 3), "w": (2, 3), "b": (2,)}, seed=0)
