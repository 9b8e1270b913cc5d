"""A torch.autograd.Function whose backward forgets the 1/2 of d sqrt(x)."""
import torch

import chainrule


class Sqrt(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.sqrt()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / out  # should be grad / (2 * out)


chainrule.serve_torch(Sqrt, inputs={"x": torch.rand(3, 2, dtype=torch.float64).numpy() + 0.5})
