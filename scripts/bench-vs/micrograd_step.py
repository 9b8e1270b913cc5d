#!/usr/bin/env python3
"""Issue 14, item 2: micrograd's demo step as a scalar `.grad` program.

micrograd's demo (README, demo.ipynb): an MLP(2, [16, 16, 1]) on 100 points of
the two moons, the SVM max-margin loss (1 - y·score)+ averaged, plus 1e-4 times
the sum of squared parameters. One training step is: build that graph of
scalar Values and call backward() on the loss.

This file writes the same graph as a `.grad` program, one binding per micrograd
operation (the same weights and points), and times both sides in one
interleaved run:
  - micrograd: build the graph and backward(), with Python's garbage collector
    off and on (in-process, after warm-up);
  - chainrule: `chainrule eval PROGRAM` as a whole process (start-up,
    compile, forward, backward, printing).

    python micrograd_step.py CHAINRULE [--rounds N]
"""
import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def moons(n, noise, rng):
    """The two moons, as scikit-learn's make_moons draws them, with Python's random."""
    import math
    half = n // 2
    points = []
    for i in range(half):
        t = math.pi * i / (half - 1)
        points.append((math.cos(t), math.sin(t), -1))
    for i in range(n - half):
        t = math.pi * i / (n - half - 1)
        points.append((1 - math.cos(t), 1 - math.sin(t) - 0.5, 1))
    return [(x + rng.gauss(0, noise), y + rng.gauss(0, noise), label) for x, y, label in points]


def model_weights(rng, sizes=(2, 16, 16, 1)):
    """One (weights, bias) list per layer, drawn like micrograd's Neuron: uniform(-1, 1), bias 0."""
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers.append([([rng.uniform(-1, 1) for _ in range(fan_in)], 0.0) for _ in range(fan_out)])
    return layers


def grad_program(points, layers, alpha=1e-4):
    """The demo step as `.grad` text, one binding per micrograd Value operation."""
    lines = ["# micrograd's demo step: MLP(2, [16, 16, 1]) on 100 moons, SVM loss + L2 (generated)"]
    counter = [0]

    def bind(expr):
        counter[0] += 1
        name = f"t{counter[0]}"
        lines.append(f"{name} = {expr}")
        return name

    params = []
    named_layers = []
    for li, layer in enumerate(layers):
        named = []
        for ni, (weights, bias) in enumerate(layer):
            wnames = []
            for wi, w in enumerate(weights):
                name = f"w{li}_{ni}_{wi}"
                lines.append(f"{name} = {w!r}")
                wnames.append(name)
            bname = f"b{li}_{ni}"
            lines.append(f"{bname} = {bias!r}")
            named.append((wnames, bname))
            params.extend(wnames + [bname])
        named_layers.append(named)

    losses = []
    for pi, (x, y, label) in enumerate(points):
        inputs = []
        for ci, value in enumerate((x, y)):
            name = f"x{pi}_{ci}"
            lines.append(f"{name} = {value!r}")
            inputs.append(name)
        for li, named in enumerate(named_layers):
            outputs = []
            for wnames, bname in named:
                act = bname
                for w, xi in zip(wnames, inputs):
                    act = bind(f"{act} + {bind(f'{w} * {xi}')}")
                outputs.append(bind(f"relu({act})") if li != len(named_layers) - 1 else act)
            inputs = outputs
        score = inputs[0]
        margin = bind(f"{score} * {-label}")
        losses.append(bind(f"relu({bind(f'{margin} + 1')})"))
    total = losses[0]
    for loss in losses[1:]:
        total = bind(f"{total} + {loss}")
    data_loss = bind(f"{total} * {1.0 / len(losses)!r}")
    squares = [bind(f"{p} * {p}") for p in params]
    reg = squares[0]
    for sq in squares[1:]:
        reg = bind(f"{reg} + {sq}")
    reg_loss = bind(f"{reg} * {alpha!r}")
    lines.append(f"loss = {data_loss} + {reg_loss}")
    return "\n".join(lines) + "\n"


def micrograd_step(points, layers, alpha=1e-4):
    """Build micrograd's graph for the same weights and points and run backward()."""
    from micrograd.engine import Value
    params = []
    model = []
    for layer in layers:
        neurons = []
        for weights, bias in layer:
            ws = [Value(w) for w in weights]
            b = Value(bias)
            params.extend(ws + [b])
            neurons.append((ws, b))
        model.append(neurons)
    losses = []
    for x, y, label in points:
        inputs = [Value(x), Value(y)]
        for li, neurons in enumerate(model):
            outs = []
            for ws, b in neurons:
                act = sum((wi * xi for wi, xi in zip(ws, inputs)), b)
                outs.append(act.relu() if li != len(model) - 1 else act)
            inputs = outs
        losses.append((1 + -label * inputs[0]).relu())
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in params)
    total = data_loss + reg_loss
    total.backward()
    return total.data


def time_process(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_micrograd(points, layers, gc_on):
    gc.collect()
    (gc.enable if gc_on else gc.disable)()
    try:
        start = time.perf_counter()
        micrograd_step(points, layers)
        return time.perf_counter() - start
    finally:
        gc.enable()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("chainrule")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(1337)
    points = moons(100, 0.1, rng)
    layers = model_weights(rng)
    text = grad_program(points, layers)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "micrograd-step.grad")
        with open(path, "w") as f:
            f.write(text)
        bindings = sum(1 for line in text.splitlines() if "=" in line)
        # The same loss on both sides, or the comparison means nothing.
        ours = subprocess.run([args.chainrule, "eval", path, "--json"], check=True, capture_output=True, text=True).stdout
        import json
        our_loss = json.loads(ours)["value"]["data"][0]
        their_loss = micrograd_step(points, layers)
        if abs(our_loss - their_loss) > 1e-9 * max(1, abs(their_loss)):
            sys.exit(f"the two losses differ: chainrule {our_loss}, micrograd {their_loss}")
        time_micrograd(points, layers, False)
        rows = {"chainrule eval (process)": [], "micrograd, gc off": [], "micrograd, gc on": []}
        for _ in range(args.rounds):
            rows["chainrule eval (process)"].append(time_process([args.chainrule, "eval", path]))
            rows["micrograd, gc off"].append(time_micrograd(points, layers, False))
            rows["micrograd, gc on"].append(time_micrograd(points, layers, True))
    ours = statistics.median(rows["chainrule eval (process)"])
    print(f"micrograd demo step: {bindings:,} bindings, loss {their_loss:.6f} on both sides")
    for name, times in rows.items():
        median = statistics.median(times)
        ratio = "" if name.startswith("chainrule") else f"   micrograd / chainrule = {median / ours:5.1f}×"
        print(f"  {name:28s} {median * 1e3:8.1f} ms{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
