import numpy as np

import chainrule


def forward(x):
    return np.tanh(x) / undefined_scale


def backward(x, out, grad):
    return grad * (1 - out**2)


chainrule.serve(forward, backward, inputs={"x": (3,)})
