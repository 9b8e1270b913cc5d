"""An affine layer whose dw is transposed: a classic slip that the shapes do not catch
when w is square. `chainrule check --python` names w and the element."""
import numpy as np

import chainrule


def affine_forward(x, w, b):
    return x @ w + b


def affine_backward(x, w, b, out, dout):
    dx = dout @ w.T
    dw = dout.T @ x  # should be x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


if __name__ == "__main__":
    chainrule.serve(affine_forward, affine_backward, inputs={"x": (4, 3), "w": (3, 3), "b": (3,)}, seed=0)
