"""CS231n's naive max-pool (assignment 2, layers.py). `branches` says which cell of
each window is the max, so a step that changes the winner is reported as a kink."""
import numpy as np

import chainrule

POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


def windows(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    for n in range(N):
        for c in range(C):
            for i in range(1 + (H - ph) // s):
                for j in range(1 + (W - pw) // s):
                    yield n, c, i, j, (n, c, slice(i * s, i * s + ph), slice(j * s, j * s + pw))


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // s, 1 + (W - pw) // s))
    for n, c, i, j, window in windows(x, pool_param):
        out[n, c, i, j] = np.max(x[window])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    dx = np.zeros_like(x)
    for n, c, i, j, window in windows(x, pool_param):
        cells = x[window]
        winner = np.unravel_index(np.argmax(cells), cells.shape)
        dx[window][winner] += dout[n, c, i, j]
    return dx


def forward(x):
    return max_pool_forward_naive(x, POOL_PARAM)[0]


def backward(x, out, dout):
    return max_pool_backward_naive(dout, (x, POOL_PARAM))


def branches(x):
    return [np.argmax(x[window]) for *_, window in windows(x, POOL_PARAM)]


if __name__ == "__main__":
    chainrule.serve(forward, backward, inputs={"x": (2, 3, 4, 4)}, branches=branches, seed=0,
                    name="max_pool_forward_naive")
