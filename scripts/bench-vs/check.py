#!/usr/bin/env python3
"""Full finite-difference checks: `chainrule check` against `torch.autograd.gradcheck`.

The same network at several sizes: x [4, IN] (constant) -> Linear(HIDDEN) -> tanh -> Linear(10)
-> cross-entropy on 4 labels, float64. Chainrule checks it as a .grad program with
`chainrule check FILE --every-element --json` (node-local and end-to-end, every parameter
element) and with `--end-to-end-only`; torch checks d loss / d every parameter with
gradcheck(eps=1e-6, atol=1e-5, rtol=1e-3), the same central difference and tolerances.
Each round runs every size on both sides in turn (interleaved), and the table gives medians
over the rounds: Chainrule's own check time (the report's "seconds", in-process like torch's),
torch's, and torch ÷ Chainrule. With `--baseline OTHER`, a second chainrule binary (an earlier
build) runs the full check in the same rounds, so before and after share the machine's load.

    /work/venv-torch/bin/python scripts/bench-vs/check.py --chainrule .build/release/chainrule \
        [--rounds 3] [--sizes 10k,30k,100k,300k] [--baseline OLD/chainrule]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# (input width, hidden width) for about 10k, 30k, 100k and 300k parameters.
SIZES = {"10k": (64, 128), "30k": (128, 200), "100k": (256, 350), "300k": (512, 550)}
BATCH, CLASSES, LABELS = 4, 10, [3, 1, 7, 0]


def parameter_count(inputs, hidden):
    return inputs * hidden + hidden + hidden * CLASSES + CLASSES


def program(inputs, hidden):
    return (
        f"x = const(randn({BATCH}, {inputs}, seed: 1))\n"
        f"h = tanh(Linear(x, {hidden}))\n"
        f"s = Linear(h, {CLASSES})\n"
        f"loss = cross_entropy(s, {LABELS})\n"
    )


def chainrule_seconds(binary, path, *flags):
    result = subprocess.run(
        [binary, "check", path, "--every-element", "--json", *flags], capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"chainrule check failed ({result.returncode}): {result.stderr}")
    report = json.loads(result.stdout)
    if not report["passed"]:
        sys.exit(f"chainrule check of {path} did not pass")
    return report["seconds"]


def torch_seconds(torch, inputs, hidden):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, inputs, dtype=torch.float64, generator=generator)
    labels = torch.tensor(LABELS)
    w1 = (torch.randn(hidden, inputs, dtype=torch.float64, generator=generator) / inputs ** 0.5).requires_grad_()
    b1 = torch.zeros(hidden, dtype=torch.float64, requires_grad=True)
    w2 = (torch.randn(CLASSES, hidden, dtype=torch.float64, generator=generator) / hidden ** 0.5).requires_grad_()
    b2 = torch.zeros(CLASSES, dtype=torch.float64, requires_grad=True)

    def loss(w1, b1, w2, b2):
        scores = torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, w1, b1)), w2, b2)
        return torch.nn.functional.cross_entropy(scores, labels)

    start = time.perf_counter()
    ok = torch.autograd.gradcheck(loss, (w1, b1, w2, b2), eps=1e-6, atol=1e-5, rtol=1e-3)
    seconds = time.perf_counter() - start
    if not ok:
        sys.exit("torch gradcheck did not pass")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chainrule", default=".build/release/chainrule")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="10k,30k,100k")
    parser.add_argument("--baseline", help="another chainrule binary whose full check runs in the same rounds")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    sizes = args.sizes.split(",")
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        sys.exit(f"unknown sizes {unknown}: choose from {list(SIZES)}")
    times = {s: {"full": [], "end-to-end": [], "torch": [], "baseline": []} for s in sizes}
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for s in sizes:
            paths[s] = os.path.join(directory, f"mlp-{s}.grad")
            with open(paths[s], "w") as f:
                f.write(program(*SIZES[s]))
        for _ in range(args.rounds):
            for s in sizes:
                times[s]["full"].append(chainrule_seconds(args.chainrule, paths[s]))
                times[s]["end-to-end"].append(chainrule_seconds(args.chainrule, paths[s], "--end-to-end-only"))
                times[s]["torch"].append(torch_seconds(torch, *SIZES[s]))
                if args.baseline:
                    times[s]["baseline"].append(chainrule_seconds(args.baseline, paths[s]))
    load = os.getloadavg()
    print(f"full finite-difference check, medians of {args.rounds} interleaved rounds "
          f"(load {load[0]:.1f} now, {load[2]:.1f} over 15 min; torch {torch.__version__}, 1 thread)")
    baseline = f"  {'baseline full':>13}  {'ratio':>6}" if args.baseline else ""
    print(f"{'params':>8}  {'chainrule full':>14}  {'end-to-end':>10}  {'torch gradcheck':>15}  {'ratio full':>10}  {'ratio e2e':>9}{baseline}")
    for s in sizes:
        m = {k: statistics.median(v) for k, v in times[s].items() if v}
        row = (f"{parameter_count(*SIZES[s]):>8}  {m['full']:>13.3f}s  {m['end-to-end']:>9.3f}s  {m['torch']:>14.3f}s"
               f"  {m['torch'] / m['full']:>9.1f}×  {m['torch'] / m['end-to-end']:>8.1f}×")
        if args.baseline:
            row += f"  {m['baseline']:>12.3f}s  {m['torch'] / m['baseline']:>5.1f}×"
        print(row, flush=True)


if __name__ == "__main__":
    main()
