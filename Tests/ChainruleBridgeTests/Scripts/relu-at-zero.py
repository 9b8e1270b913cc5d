"""ReLU at a point with an element exactly at its kink; `branches` declares the kink."""
import numpy as np

import chainrule


def relu(x):
    return np.maximum(x, 0)


def relu_backward(x, out, grad):
    return grad * (x > 0)


chainrule.serve(relu, relu_backward, inputs={"x": np.array([-1.0, 0.0, 2.0])}, branches=lambda x: x > 0)
