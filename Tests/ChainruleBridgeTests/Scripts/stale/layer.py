import chainrule


def forward(x):
    return x


def backward(x, out, grad):
    return grad


chainrule.serve(forward, backward, inputs={"x": (2,)})
