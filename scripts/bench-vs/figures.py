#!/usr/bin/env python3
"""Issue 14, items 3 and 5: how long a small figure takes, against torchviz.

Item 3: the small CNN (conv 3→6 5×5, ReLU, max-pool 2, linear 1176→10,
cross-entropy) drawn to SVG: `chainrule render` as a whole process against
torchviz's make_dot(...).pipe("svg") in-process (graph walk and Graphviz's dot).
Item 5: a 2,000-node chain that reads one shared weight at every step, to SVG
(no anchor: Graphviz's dot itself crashes on it).

    python figures.py CHAINRULE [--rounds N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CNN = """# The small CNN of issue 14 (conv 3→6 5×5, ReLU, max-pool 2, linear → 10, CE)
x = const(randn(1, 3, 32, 32, seed: 1))
c = Conv2D(x, filters: 6, kernel: 5)
a = relu(c)
p = maxpool2d(a, 2)
s = Linear(flatten(p), 10)
loss = cross_entropy(s, [3])
"""


def shared_weight_chain(nodes=2000):
    """x_{k+1} = tanh(w * x_k): 2 op nodes a step, every step reading w."""
    lines = ["w = 0.9", "x0 = 0.5"]
    for k in range(nodes // 2):
        lines.append(f"x{k + 1} = tanh(w * x{k})")
    return "\n".join(lines) + "\n"


def time_process(argv, check=True):
    """Seconds the command took; with check=False, (seconds, the error it printed or None)."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if check:
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed: {done.stderr}")
        return seconds
    return seconds, (done.stderr.strip() if done.returncode != 0 else None)


def torchviz_cnn():
    import torch
    from torchviz import make_dot
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1176, 10)).double()
    x = torch.randn(1, 3, 32, 32, dtype=torch.float64)

    def draw():
        loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([3]))
        return make_dot(loss, params=dict(model.named_parameters())).pipe(format="svg")
    return draw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("chainrule")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    draw = torchviz_cnn()
    draw()
    with tempfile.TemporaryDirectory() as folder:
        cnn = os.path.join(folder, "cnn.grad")
        chain = os.path.join(folder, "shared-chain.grad")
        with open(cnn, "w") as f:
            f.write(CNN)
        with open(chain, "w") as f:
            f.write(shared_weight_chain())
        ours = [args.chainrule, "render", cnn, "-o", os.path.join(folder, "cnn.svg")]
        big = [args.chainrule, "render", chain, "-o", os.path.join(folder, "chain.svg")]
        time_process(ours)
        rows = {"chainrule render (process)": [], "torchviz make_dot + dot (in-process)": [], "2,000-node shared weight": []}
        for round in range(args.rounds):
            rows["chainrule render (process)"].append(time_process(ours))
            start = time.perf_counter()
            draw()
            rows["torchviz make_dot + dot (in-process)"].append(time.perf_counter() - start)
            if round < 3:
                rows["2,000-node shared weight"].append(time_process(big, check=False))
    ours = statistics.median(rows["chainrule render (process)"])
    theirs = statistics.median(rows["torchviz make_dot + dot (in-process)"])
    print("small CNN to SVG:")
    print(f"  chainrule render (process)           {ours * 1e3:8.1f} ms")
    print(f"  torchviz make_dot + dot (in-process) {theirs * 1e3:8.1f} ms   torchviz / chainrule = {theirs / ours:5.2f}×")
    runs = rows["2,000-node shared weight"]
    refusal = next((error for _, error in runs if error), None)
    seconds = statistics.median(t for t, _ in runs)
    if refusal:
        print(f"2,000-node chain with one shared weight, to SVG: refused in {seconds:.2f} s: {refusal}")
    else:
        print(f"2,000-node chain with one shared weight, to SVG: {seconds:.2f} s (median of 3; aim ≤ 5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
