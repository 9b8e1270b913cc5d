import chainrule


def forward(x, w):
    return x @ w


def backward(x, w, out, grad):
    return grad @ w.T, grad.T @ x  # dw transposed: shape (2, 3), w is (3, 2)


chainrule.serve(forward, backward, inputs={"x": (4, 3), "w": (3, 2)})
