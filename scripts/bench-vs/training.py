#!/usr/bin/env python3
"""Issue 11's speed aim: a training iteration against torch's float64 CPU step on the same models.

`chainrule-bench training` (Sources/chainrule-bench/TrainingBench.swift) and
scripts/bench-training-torch.py time one epoch of the same two models, batches
and optimizer (the digits FCN 64→500→10, batch 100, Adam; a small CNN on 256
random 3×32×32 images, batch 64, Adam), each the best of 3 epochs. This runs
them in turn, round after round, each side with 1 thread (CHAINRULE_THREADS=1,
OMP_NUM_THREADS=1) and with its default threads (the machine's cores), and
prints each side's median ms/iteration and the ratios, 1 thread against 1
thread and all against all.

    python training.py CHAINRULE_BENCH [--rounds N]
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_SIDE = os.path.join(HERE, "..", "bench-training-torch.py")


def times(command, env=None):
    """ms/iteration per model from a table of `name  iterations  ms/iteration  examples/s` rows."""
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    rows = {}
    for line in out.splitlines():
        parts = line.rsplit(None, 3)
        if len(parts) == 4 and parts[1].isdigit():
            rows[parts[0].strip()] = float(parts[2])
    return rows


def verdict(ours, theirs):
    ratio = ours / theirs
    return f"{1 / ratio:.2f}× faster" if ratio < 1 else f"{ratio:.2f}× slower"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench", help="the chainrule-bench binary (release)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cores = os.cpu_count()
    one_thread = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", CHAINRULE_THREADS="1")
    all_threads = {name: value for name, value in os.environ.items() if name != "CHAINRULE_THREADS"}
    sides = {
        "chainrule, 1 thread": lambda: times([args.bench, "training"], env=one_thread),
        f"chainrule, {cores} threads": lambda: times([args.bench, "training"], env=all_threads),
        "torch, 1 thread": lambda: times([sys.executable, TORCH_SIDE], env=one_thread),
        f"torch, {cores} threads": lambda: times([sys.executable, TORCH_SIDE], env=all_threads),
    }
    samples = {side: {} for side in sides}
    for _ in range(args.rounds):
        for side, run in sides.items():
            for model, ms in run().items():
                samples[side].setdefault(model, []).append(ms)
    print(f"\n## training step: ms/iteration, median of {args.rounds} interleaved rounds (each the best of 3 epochs)")
    names = list(sides)
    print(f"{'model':38s}" + "".join(f"  {name:>20s}" for name in names) + "  1 thread vs 1 thread; all vs all")
    for model in samples[names[0]]:
        ours1, oursN, torch1, torchN = (statistics.median(samples[side].get(model, [float("nan")])) for side in names)
        print(f"{model:38s}" + "".join(f"  {m:20.2f}" for m in (ours1, oursN, torch1, torchN))
              + f"  {verdict(ours1, torch1)}; {verdict(oursN, torchN)}")


if __name__ == "__main__":
    main()
