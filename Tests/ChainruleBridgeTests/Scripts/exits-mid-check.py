import os

import chainrule

calls = 0


def forward(x):
    global calls
    calls += 1
    if calls > 3:
        os._exit(7)
    return 2 * x


def backward(x, out, grad):
    return 2 * grad


chainrule.serve(forward, backward, inputs={"x": (3,)})
