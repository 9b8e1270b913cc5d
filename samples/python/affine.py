"""CS231n's affine layer (assignment 2, layers.py): out = x.reshape(N, D) @ w + b."""
import numpy as np

import chainrule


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def affine_backward(x, w, b, out, dout):
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


if __name__ == "__main__":
    chainrule.serve(affine_forward, affine_backward, inputs={"x": (2, 4, 5), "w": (20, 3), "b": (3,)}, seed=0)
