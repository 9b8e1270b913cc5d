"""CS231n's naive convolution (assignment 2, layers.py), checked as written: the
functions keep CS231n's (out, cache) and (dout, cache) signatures; `forward` and
`backward` below adapt them to chainrule.serve."""
import numpy as np

import chainrule

CONV_PARAM = {"stride": 1, "pad": 1}


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, F, H_out, W_out = dout.shape
    _, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, db


def forward(x, w, b):
    return conv_forward_naive(x, w, b, CONV_PARAM)[0]


def backward(x, w, b, out, dout):
    _, cache = conv_forward_naive(x, w, b, CONV_PARAM)
    return conv_backward_naive(dout, cache)


if __name__ == "__main__":
    chainrule.serve(forward, backward, inputs={"x": (2, 3, 5, 5), "w": (4, 3, 3, 3), "b": (4,)}, seed=0,
                    name="conv_forward_naive")
