#!/usr/bin/env python3
"""How long `chainrule check --python` takes on CS231n's naive convolution with 1,022
inputs (x 2×4×10×10, w 6×4×3×3, b 6; out 2×6×10×10), against torch.autograd.gradcheck
on the same NumPy functions (wrapped in a torch.autograd.Function) from inside Python.

    /path/to/python-with-torch-and-numpy scripts/bench-python.py [CHAINRULE]

CHAINRULE is the binary (default: $CHAINRULE, else .build/release/chainrule, else
chainrule on PATH). Both checks use central differences, h = 1e-6, atol = 1e-5,
rtol = 1e-3, and the same input values; chainrule's time is the whole command
(starting Python included). This file is also the layer chainrule runs.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "samples", "python"))

SHAPES = {"x": (2, 4, 10, 10), "w": (6, 4, 3, 3), "b": (6,)}


def layer():
    import conv

    def forward(x, w, b):
        return conv.conv_forward_naive(x, w, b, conv.CONV_PARAM)[0]

    def backward(x, w, b, out, dout):
        return conv.conv_backward_naive(dout, conv.conv_forward_naive(x, w, b, conv.CONV_PARAM)[1])

    return forward, backward


def chainrule_binary():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for candidate in (os.environ.get("CHAINRULE"), os.path.join(HERE, "..", ".build", "release", "chainrule")):
        if candidate and os.path.isfile(candidate):
            return candidate
    return shutil.which("chainrule") or sys.exit("bench-python: no chainrule binary: build it (swift build -c release) or pass its path")


def time_chainrule(binary, *flags):
    start = time.perf_counter()
    run = subprocess.run([binary, "check", "--python", os.path.abspath(__file__), "--python-interpreter", sys.executable,
                          "--json", *flags], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1):
        sys.exit(f"bench-python: chainrule exited {run.returncode}:\n{run.stderr}")
    report = json.loads(run.stdout)
    return seconds, report["passed"], report["forwardEvaluations"], report["nodes"][0]["method"]


def time_gradcheck(fast_mode):
    import numpy as np
    import torch

    forward, backward = layer()

    class Conv(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w, b)
            return torch.from_numpy(forward(x.numpy(), w.numpy(), b.numpy()))

        @staticmethod
        def backward(ctx, grad):
            x, w, b = (t.detach().numpy() for t in ctx.saved_tensors)
            return tuple(torch.from_numpy(g) for g in backward(x, w, b, None, grad.numpy()))

    rng = np.random.default_rng(0)
    inputs = tuple(torch.tensor(rng.standard_normal(shape), dtype=torch.float64, requires_grad=True)
                   for shape in SHAPES.values())
    start = time.perf_counter()
    passed = torch.autograd.gradcheck(Conv.apply, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=fast_mode)
    return time.perf_counter() - start, passed


def main():
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        sys.exit(f"bench-python: {error}: run it with a Python that has torch and NumPy (pip install torch numpy)")
    binary = chainrule_binary()
    module = tempfile.mkdtemp(prefix="bench-python-")
    try:
        subprocess.run([binary, "python-module", module], check=True, capture_output=True)
        sys.path.insert(0, module)
        count = sum(math.prod(shape) for shape in SHAPES.values())
        print(f"CS231n conv_forward_naive / conv_backward_naive, {count} inputs, with {sys.executable}")
        chainrule_seconds, passed, evaluations, method = time_chainrule(binary)
        print(f"  chainrule check --python             {chainrule_seconds:7.2f} s  passed={passed}  "
              f"{evaluations} forward evaluations ({method})")
        fast_chainrule, fast_passed, fast_evaluations, fast_method = time_chainrule(binary, "--fast")
        print(f"  chainrule check --python --fast      {fast_chainrule:7.2f} s  passed={fast_passed}  "
              f"{fast_evaluations} forward evaluations ({fast_method})")
        torch_seconds, torch_passed = time_gradcheck(fast_mode=False)
        print(f"  torch.autograd.gradcheck             {torch_seconds:7.2f} s  passed={torch_passed}")
        torch_fast, torch_fast_passed = time_gradcheck(fast_mode=True)
        print(f"  gradcheck(fast_mode=True)            {torch_fast:7.2f} s  passed={torch_fast_passed}")
        print(f"  ratio check / gradcheck              {chainrule_seconds / torch_seconds:7.2f}  (aim: at most 3)")
        print(f"  ratio --fast / gradcheck(fast_mode)  {fast_chainrule / torch_fast:7.2f}")
    finally:
        shutil.rmtree(module, ignore_errors=True)


if __name__ == "__main__":
    if os.environ.get("CHAINRULE_BRIDGE_FDS"):
        import chainrule

        forward, backward = layer()
        chainrule.serve(forward, backward, inputs=SHAPES, seed=0, name="conv_forward_naive")
    else:
        main()
