import chainrule


def square(x):
    return x**2


def square_backward(x, out, grad):
    return grad * x  # the factor 2 is missing


chainrule.serve(square, square_backward, inputs={"x": (2, 3)}, seed=1)
