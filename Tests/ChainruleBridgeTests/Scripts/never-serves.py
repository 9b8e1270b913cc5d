import chainrule


def forward(x):
    return x
