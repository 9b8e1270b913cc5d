"""CS231n's max-pool with a backward that sends the gradient to every cell of the window."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "samples", "python"))
import maxpool

import chainrule


def backward(x, out, dout):
    dx = np.zeros_like(x)
    for n, c, i, j, window in maxpool.windows(x, maxpool.POOL_PARAM):
        dx[window] += dout[n, c, i, j]
    return dx


chainrule.serve(maxpool.forward, backward, inputs={"x": (1, 2, 4, 4)}, branches=maxpool.branches,
                name="max_pool_forward_naive")
